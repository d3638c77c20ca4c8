"""The small set of types a plugin module touches.

Every plugin imports this module on every run, so it stays off :mod:`importlib.resources`
(with tempfile, zipfile, shutil: 5 ms of a cold start, measured) unless a plugin's package
does not live in a plain folder.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib.machinery import SourceFileLoader, SourcelessFileLoader
from pathlib import Path
from typing import TYPE_CHECKING, Union

import pluggy

from kpo_rules.hookspecs import PROJECT

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

#: Decorator for hook implementations: ``@kpo_rules.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT)

#: A file a plugin ships: a path, or a resource inside its package
#: (``importlib.resources.files(__package__) / "rules.yaml"``).
DataFile = Union[Path, "Traversable"]  # a string: Traversable is not imported at run time


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
    folder_path = _package_folder(package)
    if folder_path is not None:
        here: DataFile = folder_path / folder
    else:
        from importlib.resources import files  # noqa: PLC0415 - zip or namespace packages

        here = files(package) / folder
    if not here.is_dir():
        return []
    found: list[DataFile] = [f for f in here.iterdir() if f.name.endswith((".yaml", ".yml"))]
    return sorted(found, key=lambda f: f.name)


def _package_folder(package: str) -> Path | None:
    """What ``importlib.resources.files`` returns for a package in a plain folder (its
    FileReader's path), or None for any other package."""
    module = sys.modules.get(package)
    spec = getattr(module, "__spec__", None)
    loader = getattr(spec, "loader", None)
    if spec is None or spec.submodule_search_locations is None or not isinstance(
            loader, (SourceFileLoader, SourcelessFileLoader)):
        return None
    return Path(loader.path).parent
