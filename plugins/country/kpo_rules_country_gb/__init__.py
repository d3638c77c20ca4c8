"""Country plugin: United Kingdom (a kpo-rules plugin, loaded through the `kpo_rules` entry point)."""
