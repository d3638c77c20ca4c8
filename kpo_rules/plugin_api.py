"""The small set of types a plugin module touches."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pluggy

from kpo_rules.hookspecs import PROJECT

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:
    from importlib.abc import Traversable

#: Decorator for hook implementations: ``@kpo_rules.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT)

#: A file a plugin ships: a path, or a resource inside its package
#: (``importlib.resources.files(__package__) / "rules.yaml"``).
DataFile = Path | Traversable


@dataclass(frozen=True, slots=True, kw_only=True)
class PluginMeta:
    """What a plugin says about itself."""

    api_version: int
    rule_prefixes: tuple[str, ...] = ()
    facts_as_of: str | None = None
    description: str = ""


def data_files(package: str, folder: str) -> list[DataFile]:
    """The ``*.yaml`` files of ``folder`` inside ``package``, sorted by name.

    The usual body of ``kpo_rule_files``/``kpo_catalogue_files``::

        return data_files(__package__, "rules")
    """
    from importlib.resources import files  # noqa: PLC0415 - only plugins that ship data

    root = files(package) / folder
    if not root.is_dir():
        return []
    found: list[DataFile] = [f for f in root.iterdir() if f.name.endswith((".yaml", ".yml"))]
    return sorted(found, key=lambda f: f.name)
