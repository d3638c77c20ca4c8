"""Cross-domain rules every domain uses; a kpo-rules plugin loaded through an entry point."""
