"""Country plugin: France; a kpo-rules plugin loaded through an entry point."""
