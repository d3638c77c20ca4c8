"""Country plugin: Philippines; a kpo-rules plugin loaded through an entry point."""
