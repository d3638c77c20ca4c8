"""The kpo-rules finance plugin, loaded through the `kpo_rules` entry point."""
