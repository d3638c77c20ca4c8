"""The modification time and size of every module of kpo-rules, for the on-disk caches.

A cache entry made by other code must never be served: the version number covers
releases, but in an editable checkout the code changes under the same version. Stat'ing
the package's ~80 modules costs about a millisecond, once per process.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def source_stamp() -> tuple[tuple[str, int, int], ...]:
    """(path relative to the package, mtime in ns, size) of every ``.py`` file of it."""
    stamps: list[tuple[str, int, int]] = []
    folders = [str(_PACKAGE)]
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".py"):
                try:
                    info = entry.stat()
                except OSError:
                    continue
                stamps.append((os.path.relpath(entry.path, _PACKAGE), info.st_mtime_ns,
                               info.st_size))
            elif entry.is_dir() and entry.name != "__pycache__":
                folders.append(entry.path)
    return tuple(sorted(stamps))
