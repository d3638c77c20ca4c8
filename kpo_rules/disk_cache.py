"""Where kpo-rules keeps its caches, and how an entry is written and read back safely.

An entry is a header line with the SHA-256 of the rest, the entry's key (a JSON string)
and its value as JSON (:mod:`kpo_rules.cache_codec`: data only, nothing that can run). It
is a hit only when the hash matches and the stored key equals the caller's exactly, so a
damaged, truncated or stale entry is a miss, never a wrong value or a crash.

The directory (default ``$XDG_CACHE_HOME/kpo-rules``, else ``~/.cache/kpo-rules``;
``KPO_RULES_CACHE_DIR`` moves it, ``KPO_RULES_NO_CACHE=1`` turns caching off; relative
paths are ignored, as the XDG specification asks) is created 0700 and used only when it
is a directory (not a symlink) owned by the user and not writable by group or others, as
is every folder on its path that kpo-rules creates. Entries are opened relative to that
checked directory, never following a symlink; they are written to a new file created
exclusively, then renamed over the entry, so a reader never sees half an entry and a
planted link is replaced, not written through. A cache that cannot be used is skipped:
silently when it is absent or read-only, with one note on stderr when it is unsafe.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from kpo_rules.cache_codec import Codec

_MAGIC = b"kpo-rules-cache 1 "
#: Entries are a few hundred kilobytes; anything far larger is not ours.
MAX_ENTRY_BYTES = 32 * 1024 * 1024
_OPEN_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
#: Opening relative to a checked directory is what makes this safe; without it, no cache.
_SUPPORTED = (hasattr(os, "geteuid") and bool(getattr(os, "O_NOFOLLOW", 0))
              and {os.open, os.rename, os.unlink} <= os.supports_dir_fd)
_noted: set[str] = set()


def cache_dir() -> Path | None:
    """The configured cache directory (absolute), or None when caching is off."""
    if os.environ.get("KPO_RULES_NO_CACHE") or not _SUPPORTED:
        return None
    explicit = os.environ.get("KPO_RULES_CACHE_DIR", "")
    if os.path.isabs(explicit):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):  # no home directory: run without a cache
            return None
    return Path(base) / "kpo-rules" if os.path.isabs(base) else None


def stamp(path: Any) -> tuple[str, int, int]:
    """(path, modification time in ns, size) of a file a cache entry is made from; -1s
    for one that cannot be read."""
    try:
        info = os.stat(os.fspath(path))
    except (OSError, TypeError):
        return (str(path), -1, -1)
    return (str(path), info.st_mtime_ns, info.st_size)


def read(name: str, key: str, codec: Codec) -> Any | None:
    """The value stored in entry ``name`` with exactly ``key``, else None."""
    with _folder(create=False) as folder:
        if folder is None:
            return None
        body = _read_entry(folder, name)
        stored_key, _, value = (body or b"").partition(b"\n")
        if body is None or stored_key != _key_line(key):
            return None
        try:
            return codec.loads(value)
        except (ValueError, TypeError, RecursionError):  # not what was written: a miss
            return None


def write(name: str, key: str, value: object, codec: Codec) -> None:
    """Store ``value`` under ``key`` in entry ``name`` once ``key`` has missed before; the
    first miss only leaves a note of the key (quietly nothing if it cannot).

    A fresh CI machine checks once and is thrown away: encoding and writing the entry
    there would cost a tenth of its run for nothing, so only a second miss pays for it.
    """
    with _folder(create=True) as folder:
        if folder is None:
            return
        seen = f"{name}.seen"
        if _read_entry(folder, seen) != _key_line(key):
            _put(folder, seen, _key_line(key))
            return
        try:
            body = _key_line(key) + b"\n" + codec.dumps(value)
        except (TypeError, ValueError, RecursionError):  # holds what JSON cannot keep
            return
        _put(folder, name, body)


def _put(folder: int, name: str, body: bytes) -> None:
    """Write entry ``name`` through a new file created exclusively, then renamed over it."""
    partial = f".{name}.{os.urandom(8).hex()}.tmp"
    try:
        handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600,
                         dir_fd=folder)
        try:
            with open(handle, "wb", closefd=False) as out:
                out.write(_MAGIC + _digest(body) + b"\n" + body)
        finally:
            os.close(handle)
        os.rename(partial, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError:  # a full disk or a read-only cache must not break a check
        with suppress(OSError):
            os.unlink(partial, dir_fd=folder)


def _key_line(key: str) -> bytes:
    return json.dumps(key).encode()  # one line: JSON escapes line breaks


def _digest(body: bytes) -> bytes:
    import hashlib  # noqa: PLC0415 - OpenSSL's start-up: only when a cache is used

    return hashlib.sha256(body).hexdigest().encode()


def _read_entry(folder: int, name: str) -> bytes | None:
    """The body of entry ``name`` if its hash matches, else None (absent, unreadable, a
    symlink - never followed - or anything but a regular file of a sane size)."""
    try:
        handle = os.open(name, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW, dir_fd=folder)
    except OSError:
        return None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
            return None
        with open(handle, "rb", closefd=False) as entry:
            data = entry.read(MAX_ENTRY_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(handle)
    header, _, body = data.partition(b"\n")
    if header != _MAGIC + _digest(body):
        return None
    return body


@contextmanager
def _folder(*, create: bool) -> Iterator[int | None]:
    """A descriptor of the checked cache directory, or None when it cannot be used."""
    path = cache_dir()
    handle = _open_checked(path, create=create) if path is not None else None
    try:
        yield handle
    finally:
        if handle is not None:
            os.close(handle)


def _open_checked(path: Path, *, create: bool) -> int | None:
    if create:
        try:
            made = _make_dirs(path)
        except OSError:  # read-only, or no such parent: no cache, and nothing to say
            return None
        for folder in made:
            if not _safe(folder, os.lstat(folder)):
                return None
    try:
        handle = os.open(path, _OPEN_DIR)
    except OSError as exc:
        if os.path.islink(path):
            _note(path, "it is a symbolic link")
        elif create and not isinstance(exc, (FileNotFoundError, PermissionError)):
            _note(path, f"it cannot be opened ({exc.strerror})")
        return None
    if not _safe(path, os.fstat(handle)):
        os.close(handle)
        return None
    return handle


def _make_dirs(path: Path) -> list[Path]:
    """Create what is missing of ``path``, each folder 0700; the folders it created."""
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if os.path.lexists(folder):
            break
        missing.append(folder)
    made: list[Path] = []
    for folder in reversed(missing):
        with suppress(FileExistsError):  # made meanwhile by someone else: checked the same
            os.mkdir(folder, 0o700)
        made.append(folder)
    return made


def _safe(path: Path, info: os.stat_result) -> bool:
    """A directory of this user that nobody else may write to (else one note)."""
    if not stat.S_ISDIR(info.st_mode):
        _note(path, "it is not a directory")
    elif info.st_uid != os.geteuid():
        _note(path, "it belongs to another user")
    elif info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        _note(path, f"others may write to it (chmod 700 {path})")
    else:
        return True
    return False


def _note(path: Path, why: str) -> None:
    """Say once per process why a cache directory is not used: the run goes on without."""
    if str(path) not in _noted:
        _noted.add(str(path))
        sys.stderr.write(f"kpo-rules: not using the cache in {path}: {why}\n")
