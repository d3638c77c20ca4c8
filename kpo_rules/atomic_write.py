"""Write an output file whole or not at all.

A report or baseline is written to a temporary file in the same directory and renamed over
the target, so a full disk or a killed run never leaves truncated JSON behind, nor destroys
the previous baseline. A target that exists and is not a regular file (``/dev/stdout``, a
pipe) is written in place: renaming over a device would replace the device.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from kpo_rules.errors import OutputError


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``; any failure is an :class:`OutputError`."""
    data = text.encode("utf-8")
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(str(path), exc.strerror or str(exc)) from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputError(str(path), "it is a directory")
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_in_place(path, data)
        return
    directory = path.parent
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.",
                                             suffix=".tmp")
    except OSError as exc:
        raise OutputError(str(path), exc.strerror or str(exc)) from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(info.st_mode) if info else _default_mode())
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise OutputError(str(path), exc.strerror or str(exc)) from None


def _write_in_place(path: Path, data: bytes) -> None:
    try:
        with path.open("wb") as out:
            out.write(data)
    except OSError as exc:
        raise OutputError(str(path), exc.strerror or str(exc)) from None


def _default_mode() -> int:
    """What ``open()`` would have given a new file: 0666 less the umask (mkstemp's is 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
