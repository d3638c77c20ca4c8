"""Country plugin: Poland; a kpo-rules plugin loaded through an entry point."""
