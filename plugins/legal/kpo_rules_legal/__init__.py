"""Legal tasks, credentials and rules (a kpo-rules plugin, loaded through the `kpo_rules` entry point)."""
