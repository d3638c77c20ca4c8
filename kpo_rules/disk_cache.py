"""Where kpo-rules keeps its caches, and how an entry is written and read back.

An entry is one pickle file holding ``(key, value)``; it is a hit only when the stored key
equals the caller's key exactly (the file name merely spreads keys over files), so no
hash has to be trusted. Files are written under a temporary name and renamed into
place, so a reader never sees half an entry. ``KPO_RULES_NO_CACHE=1`` turns every cache
off; ``KPO_RULES_CACHE_DIR`` moves them (default: ``$XDG_CACHE_HOME/kpo-rules``). A cache
that cannot be read or written is a miss, never an error.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from pathlib import Path
from typing import Any


def cache_dir() -> Path | None:
    if os.environ.get("KPO_RULES_NO_CACHE"):
        return None
    explicit = os.environ.get("KPO_RULES_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):  # no home directory: run without a cache
            return None
    return Path(base) / "kpo-rules"


def stamp(path: Any) -> tuple[str, int, int]:
    """(path, modification time in ns, size) of a file a cache entry is made from; -1s
    for one that cannot be read."""
    try:
        info = os.stat(os.fspath(path))
    except (OSError, TypeError):
        return (str(path), -1, -1)
    return (str(path), info.st_mtime_ns, info.st_size)


def read(name: str, key: object) -> Any | None:
    """The value stored in entry ``name`` with exactly ``key``, else None."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        with (folder / name).open("rb") as handle:
            stored, value = pickle.load(handle)
    except Exception:  # noqa: BLE001 - a missing or bad entry is a miss, never an error
        return None
    return value if stored == key else None


def write(name: str, key: object, value: object) -> None:
    """Store ``value`` under ``key`` in entry ``name`` (quietly nothing if it cannot)."""
    folder = cache_dir()
    if folder is None:
        return
    path = folder / name
    partial = path.with_name(f"{name}.{os.getpid()}.tmp")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as handle:
            pickle.dump((key, value), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
    except Exception:  # noqa: BLE001 - a read-only home must not break a check
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
