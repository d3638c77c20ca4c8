"""Country plugin: Australia; a kpo-rules plugin loaded through an entry point."""
