"""Country plugin: United States (a kpo-rules plugin, loaded through the `kpo_rules` entry point)."""
