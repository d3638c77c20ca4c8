"""Hook implementations of the finance domain plugin."""

from __future__ import annotations

from kpo_rules import PluginMeta, hookimpl


@hookimpl
def kpo_plugin_meta() -> PluginMeta:
    return PluginMeta(
        api_version=1, rule_prefixes=("FIN",), description="Finance tasks, credentials and rules"
    )
