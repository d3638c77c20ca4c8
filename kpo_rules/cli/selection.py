"""Which plugins a run loads, and refusing a rule selector that names no rule of theirs
before any file is read (a typo in --select would otherwise check nothing and pass)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from kpo_rules.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from kpo_rules.config import Config
    from kpo_rules.plugins import PluginSet


def run_plugins(config: Config, *, flags: Mapping[str, bool]) -> PluginSet:
    """The run's plugins, with their rules loaded so that a selector naming no rule is
    refused before any file is read (unless a plugin failed: its rules are unknown)."""
    from kpo_rules.config import unknown_selector  # noqa: PLC0415
    from kpo_rules.content import load_content  # noqa: PLC0415
    from kpo_rules.core_rules import rule_catalogue  # noqa: PLC0415
    from kpo_rules.plugins import create_plugin_set  # noqa: PLC0415

    plugins = create_plugin_set(blocked=config.disable_plugins)
    content = load_content(plugins)
    if plugins.failures or content.failures:
        return plugins
    known = list(rule_catalogue(content.rules.rules))
    disabled = sorted(plugins.blocked)
    for key, selectors in (("select", config.select), ("ignore", config.ignore),
                           ("severity", tuple(config.severity))):
        for selector in selectors:
            problem = unknown_selector(selector, known)
            if problem is None:
                continue
            if disabled:
                problem += f" (plugins disabled in this run: {', '.join(disabled)})"
            if flags.get(key) or config.file is None:
                raise UsageError(f"--{key}: {problem}")
            raise ConfigError(config.file, key, problem)
    return plugins
