"""Cross-domain rules every domain uses (a kpo-rules plugin, loaded through the `kpo_rules` entry point)."""
