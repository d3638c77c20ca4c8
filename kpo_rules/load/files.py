"""Turn the paths a user names into the files a run reads."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kpo_rules.errors import UsageError
from kpo_rules.load import reading
from kpo_rules.load.reading import read_at_most, read_regular_file, too_large

YAML_SUFFIXES = (".yaml", ".yml")
STDIN = "-"
STDIN_NAME = "<stdin>"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceFile:
    """A file to check: the name findings show and, lazily, its bytes."""

    name: str
    path: Path | None = None
    content: bytes | None = None
    #: Standard input held more than the size limit; nothing of it was kept.
    over_limit: bool = False

    def read(self) -> bytes:
        """The bytes to parse; :class:`~kpo_rules.errors.FileReadError` if they cannot be read."""
        if self.over_limit:
            raise too_large(f"more than {reading.MAX_FILE_BYTES:,} bytes")
        if self.content is not None:
            return self.content
        assert self.path is not None
        return read_regular_file(self.path)

    def size(self) -> int:
        """Its size in bytes (0 if it cannot be read): to share files out by work."""
        if self.content is not None:
            return len(self.content)
        try:
            return self.path.stat().st_size if self.path is not None else 0
        except OSError:
            return 0


def read_stdin(name: str = STDIN_NAME, stream: BinaryIO | None = None) -> SourceFile:
    """Standard input (or ``stream``) as a file named ``name``, read now and at most the
    size limit of it: ``- < /dev/zero`` ends with a finding, not out of memory."""
    content = read_at_most(stream if stream is not None else sys.stdin.buffer)
    if content is None:
        return SourceFile(name=name, over_limit=True)
    return SourceFile(name=name, content=content)


def collect(paths: Iterable[str | Path]) -> list[SourceFile]:
    """Files named directly, ``*.yaml``/``*.yml`` under directories, ``-`` for stdin.

    Directories are walked in sorted order so output never depends on the file
    system's listing order. A path that does not exist is a usage error: a CI
    job pointed at the wrong folder must not pass silently.
    """
    out: list[SourceFile] = []
    seen: set[str] = set()
    for raw in paths:
        for source in _expand(raw):
            if source.name not in seen:
                seen.add(source.name)
                out.append(source)
    return out


def _expand(raw: str | Path) -> Iterator[SourceFile]:
    if str(raw) == STDIN:
        yield read_stdin()
        return
    path = Path(raw)
    if path.is_dir():
        for found in sorted(path.rglob("*")):
            if found.suffix in YAML_SUFFIXES and found.is_file():
                yield SourceFile(name=found.as_posix(), path=found)
    elif path.exists():
        yield SourceFile(name=path.as_posix(), path=path)
    else:
        raise UsageError(f"{raw}: no such file or directory")
