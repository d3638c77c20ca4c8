"""Every hook a kpo-rules plugin can implement, in one module.

Plugins contribute *data*, not engine code: rule files and catalogue files
(task catalogues, country profiles, credential and framework catalogues,
shared regime data). The core validates each file against its published
schema and compiles the rules. All hooks are plain collection hooks: every
implementation is called and the results are concatenated. None is
``firstresult`` or ``historic``.

Hook implementations must not declare default argument values (a pluggy
pitfall: defaults are not passed through).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kpo_rules.plugin_api import DataFile, PluginMeta

#: Version of this hook API. A plugin states the version it was written for in
#: :class:`~kpo_rules.plugin_api.PluginMeta`; the core refuses versions it does not know.
HOOK_API_VERSION = 1
SUPPORTED_HOOK_API_VERSIONS = frozenset({1})

PROJECT = "kpo_rules"
hookspec = pluggy.HookspecMarker(PROJECT)

# --------------------------------------------------------------------------------------
# identity
# --------------------------------------------------------------------------------------


@hookspec
def kpo_plugin_meta() -> PluginMeta:
    """Describe the plugin: hook API version, rule-id prefixes it owns, facts "as of" date.

    Called once per run; shown by ``kpo-rules plugins``.
    """


# --------------------------------------------------------------------------------------
# declarative content
# --------------------------------------------------------------------------------------


@hookspec
def kpo_rule_files() -> Iterable[DataFile]:
    """Return the plugin's rule files (YAML, validated by ``schemas/rule.schema.json``)."""


@hookspec
def kpo_catalogue_files() -> Iterable[DataFile]:
    """Return the plugin's catalogue files (YAML documents with ``kind``).

    Kinds: ``TaskCatalogue``, ``CountryProfile``, ``CredentialCatalogue``,
    ``FrameworkCatalogue``, ``Regime``; each is validated against its schema
    (``kpo-rules schema tasks|country``).
    """
