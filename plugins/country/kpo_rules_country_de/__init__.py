"""Country plugin: Germany (a kpo-rules plugin, loaded through the `kpo_rules` entry point)."""
