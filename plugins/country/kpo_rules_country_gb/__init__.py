"""Country plugin: United Kingdom; a kpo-rules plugin loaded through an entry point."""
