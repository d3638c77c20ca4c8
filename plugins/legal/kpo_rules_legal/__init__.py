"""Legal tasks, credentials and rules; a kpo-rules plugin loaded through an entry point."""
