"""Read a file's bytes without ever blocking on it or reading without end.

A path named on the command line may be a FIFO (no writer: ``open`` blocks forever), a
device (``/dev/zero`` never ends) or a socket, and a file may be swapped for one between
discovery and reading. So the path is stat-ed first, opened non-blocking, checked again
on the open descriptor (what is read is what was checked), and read at most one byte
beyond the size limit. Every failure is a :class:`~kpo_rules.errors.FileReadError`, which
becomes a finding on that file while the other files are checked.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from kpo_rules.errors import FileReadError

__all__ = ["MAX_FILE_BYTES", "read_at_most", "read_regular_file", "too_large"]

#: Larger files are refused: a roster of 20,000 staff is ~10 MiB, an engagement a few KiB.
MAX_FILE_BYTES = 64 * 1024 * 1024

_CHUNK = 1024 * 1024
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
# Non-blocking, so that opening a FIFO without a writer returns at once; never a
# controlling terminal; not inherited by the workers a run forks.
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def read_regular_file(path: str | Path, limit: int | None = None) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` (:data:`MAX_FILE_BYTES`).

    :raises FileReadError: not a regular file, larger than ``limit``, or unreadable.
    """
    limit = MAX_FILE_BYTES if limit is None else limit
    try:
        _require_regular(os.stat(path).st_mode)
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise _os_error(exc) from exc
    try:
        info = os.fstat(fd)
        _require_regular(info.st_mode)
        if info.st_size > limit:
            raise too_large(f"{info.st_size:,} bytes", limit)
        return _read_fd(fd, limit, info.st_size)
    except OSError as exc:
        raise _os_error(exc) from exc
    finally:
        os.close(fd)


def read_at_most(stream: BinaryIO, limit: int | None = None) -> bytes | None:
    """At most ``limit`` (:data:`MAX_FILE_BYTES`) bytes of ``stream``; None if it holds more.

    Reads in chunks, so a stream that never ends (``- < /dev/zero``) costs ``limit`` bytes
    of reading and one chunk of memory beyond what is kept.
    """
    limit = MAX_FILE_BYTES if limit is None else limit
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = stream.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    return None


def too_large(size: str, limit: int | None = None) -> FileReadError:
    """The finding for a file (or standard input) over ``limit`` (:data:`MAX_FILE_BYTES`)."""
    return FileReadError(
        f"file too large: {size}; the limit is {_mib(limit or MAX_FILE_BYTES)} "
        "(split a roster that big into several files)"
    )


def _read_fd(fd: int, limit: int, size_hint: int) -> bytes:
    # One read of the stated size plus one byte usually reaches the end; the loop covers a
    # file that grows while read, or reports a wrong size (/proc), within the limit.
    chunks: list[bytes] = []
    total = 0
    want = size_hint + 1
    while total <= limit:
        chunk = os.read(fd, min(want, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        want = _CHUNK
    raise too_large(f"more than {limit:,} bytes", limit)


def _mib(size: int) -> str:
    return f"{size // 2**20} MiB" if size >= 2**20 else f"{size:,} bytes"


def _require_regular(mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "a special file")
    raise FileReadError(
        f"not a regular file: this is {kind}; kpo-rules reads only regular files "
        "(use '-' to read standard input)"
    )


def _os_error(exc: OSError) -> FileReadError:
    return FileReadError(f"cannot read the file: {exc.strerror or exc}")
