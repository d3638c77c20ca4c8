"""Country plugin: Ireland; a kpo-rules plugin loaded through an entry point."""
