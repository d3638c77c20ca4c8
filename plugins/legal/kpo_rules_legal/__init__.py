"""The kpo-rules legal plugin, loaded through the `kpo_rules` entry point."""
