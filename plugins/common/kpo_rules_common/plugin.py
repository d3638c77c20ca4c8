"""Hook implementations of the cross-domain rules (education, language, regulation, ...)."""

from __future__ import annotations

from kpo_rules import PluginMeta, hookimpl


@hookimpl
def kpo_plugin_meta() -> PluginMeta:
    return PluginMeta(
        api_version=1, rule_prefixes=("COM",), description="Cross-domain rules every domain uses"
    )
