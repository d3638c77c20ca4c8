"""Country plugin: Germany; a kpo-rules plugin loaded through an entry point."""
