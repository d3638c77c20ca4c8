"""Country plugin: Canada; a kpo-rules plugin loaded through an entry point."""
