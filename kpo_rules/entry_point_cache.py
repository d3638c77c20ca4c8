"""An on-disk cache of the installed ``kpo_rules`` entry points, so a cold ``kpo-rules check``
need not import :mod:`importlib.metadata` (16 ms, measured) nor parse every distribution's
metadata (5 ms) just to learn the same dozen names as last time.

The cache is keyed by a fingerprint of everything importlib.metadata's discovery reads:
``sys.path`` (and the working directory, which its relative entries name), and in each entry
the name of every ``*.dist-info``/``*.egg-info`` with the modification time, size and inode
of its ``entry_points.txt``, ``METADATA`` and ``PKG-INFO`` (or of the entry itself when it is
a zip file). The stored fingerprint must equal the current one exactly, so an installed,
removed, upgraded or edited distribution is always scanned afresh. When a meta-path finder
other than the standard one can also find distributions, nothing is cached. The cache obeys
``KPO_RULES_NO_CACHE`` and ``KPO_RULES_CACHE_DIR`` like the content cache; one that cannot be
read or written is ignored, never an error.
"""

from __future__ import annotations

import os
import sys
import zlib
from importlib.machinery import PathFinder
from typing import Any, NamedTuple

from kpo_rules import disk_cache
from kpo_rules._version import __version__

_FORMAT = 1
_DIST_SUFFIXES = (".dist-info", ".egg-info")
_DIST_FILES = ("entry_points.txt", "METADATA", "PKG-INFO")

Fingerprint = tuple[Any, ...]


class EntryPoint(NamedTuple):
    """One entry point of the group, as importlib.metadata reported it."""

    name: str
    value: str
    distribution: str | None
    version: str | None


def _stat(path: str) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def _entry(root: str) -> tuple[Any, ...]:
    """What importlib.metadata would read from one ``sys.path`` entry, as stat results."""
    folder = root or "."
    try:
        children = os.listdir(folder)
    except OSError:  # a zip file, or nothing: its own stat covers its contents
        return (root, _stat(folder))
    egg = os.path.basename(root).lower().endswith(".egg")
    found = []
    for child in sorted(children):
        low = child.lower()
        if low.endswith(_DIST_SUFFIXES) or (egg and low == "egg-info"):
            where = os.path.join(folder, child)
            found.append((child, _stat(where),
                          *(_stat(os.path.join(where, name)) for name in _DIST_FILES)))
    return (root, tuple(found))


def fingerprint() -> Fingerprint | None:
    """The current fingerprint, or None when discovery cannot be fingerprinted."""
    for finder in sys.meta_path:
        if finder is not PathFinder and hasattr(finder, "find_distributions"):
            return None
    roots = tuple(root for root in sys.path if isinstance(root, str))
    # Relative entries ('' is the working directory) list a different folder elsewhere.
    try:
        cwd = os.getcwd() if any(not os.path.isabs(root) for root in roots) else None
    except OSError:  # the working directory was removed: scan, as importlib.metadata can
        return None
    return (_FORMAT, __version__, sys.version, cwd, roots, tuple(map(_entry, roots)))


def _name(fp: Fingerprint) -> str:
    # The name keeps environments apart (one file each); the stored fingerprint decides a hit.
    return f"entry-points-{zlib.crc32(repr(fp[:5]).encode()):08x}.pickle"


def load(fp: Fingerprint) -> list[EntryPoint] | None:
    """The entry points stored for exactly this fingerprint, else None."""
    entries = disk_cache.read(_name(fp), fp)
    if not isinstance(entries, list):
        return None
    return [EntryPoint(*entry) for entry in entries]


def store(fp: Fingerprint, entries: list[EntryPoint]) -> None:
    disk_cache.write(_name(fp), fp, [tuple(e) for e in entries])
