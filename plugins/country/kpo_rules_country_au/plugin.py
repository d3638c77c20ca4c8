"""Hook implementations: this plugin contributes data and rule files only."""

from __future__ import annotations

from kpo_rules import DataFile, PluginMeta, data_files, hookimpl


@hookimpl
def kpo_plugin_meta() -> PluginMeta:
    return PluginMeta(
        api_version=1,
        rule_prefixes=("AU",),
        facts_as_of="2026-11-27",
        description="Country plugin: Australia",
    )


@hookimpl
def kpo_catalogue_files() -> list[DataFile]:
    return data_files(__package__, "catalogue")


@hookimpl
def kpo_rule_files() -> list[DataFile]:
    return data_files(__package__, "rules")
