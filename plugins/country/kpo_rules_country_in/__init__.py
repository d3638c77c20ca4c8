"""Country plugin: India; a kpo-rules plugin loaded through an entry point."""
