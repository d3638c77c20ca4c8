"""The kpo-rules common plugin, loaded through the `kpo_rules` entry point."""
