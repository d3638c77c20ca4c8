"""Country plugin: Philippines (a kpo-rules plugin, loaded through the `kpo_rules` entry point)."""
