"""Load a plugin from a source directory, for ``kpo-rules test PATH`` and plugin checks.

A plugin author runs the examples of the plugin they are editing without
installing it; the directory is either a project (``pyproject.toml`` with a
``kpo_rules`` entry point) or the plugin package itself (it has ``plugin.py``).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from kpo_rules.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


def _entry_point(project: Path) -> tuple[str, str]:
    with (project / "pyproject.toml").open("rb") as handle:
        data = tomllib.load(handle)
    entries = data.get("project", {}).get("entry-points", {}).get("kpo_rules", {})
    if len(entries) != 1:
        raise UsageError(
            f"{project / 'pyproject.toml'}: expected exactly one [project.entry-points.kpo_rules] "
            f"entry, found {len(entries)}"
        )
    ((name, target),) = entries.items()
    return name, str(target).split(":", maxsplit=1)[0]


def _import_fresh(module: str, root: Path) -> ModuleType:
    """Import ``module`` from ``root`` even when an installed copy has the same name."""
    top = module.split(".", maxsplit=1)[0]
    for loaded in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
        del sys.modules[loaded]
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(module)
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}"
        raise UsageError(f"cannot import {module} from {root}: {why}") from exc


def load_local_plugin(path: Path) -> tuple[str, ModuleType]:
    """``(plugin name, plugin module)`` for the plugin project or package at ``path``."""
    path = path.resolve()
    if (path / "pyproject.toml").is_file():
        name, module = _entry_point(path)
        root = path / "src" if (path / "src" / module.split(".")[0]).is_dir() else path
        return name, _import_fresh(module, root)
    if (path / "plugin.py").is_file():
        return path.name, _import_fresh(f"{path.name}.plugin", path.parent)
    raise UsageError(f"{path}: not a plugin project (no pyproject.toml) or package (no plugin.py)")
