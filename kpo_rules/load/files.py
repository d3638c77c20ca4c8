"""The files a run reads (:mod:`kpo_rules.load.discovery` decides which)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kpo_rules.load import reading
from kpo_rules.load.reading import read_at_most, read_regular_file, too_large

STDIN = "-"
STDIN_NAME = "<stdin>"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceFile:
    """A file to check: the name findings show and, lazily, its bytes."""

    name: str
    #: Where to read it (a str for a walked file: a Path per file of a big portfolio is
    #: memory a run holds to its end).
    path: str | Path | None = None
    content: bytes | None = None
    #: Found by a directory walk (or named under ``--force-exclude``): checked only if it
    #: declares a kpo-rules document, else skipped as not ours.
    only_ours: bool = False
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
            return os.stat(self.path).st_size if self.path is not None else 0
        except OSError:
            return 0


def read_stdin(name: str = STDIN_NAME, stream: BinaryIO | None = None) -> SourceFile:
    """Standard input (or ``stream``) as a file named ``name``, read now and at most the
    size limit of it: ``- < /dev/zero`` ends with a finding, not out of memory."""
    content = read_at_most(stream if stream is not None else sys.stdin.buffer)
    if content is None:
        return SourceFile(name=name, over_limit=True)
    return SourceFile(name=name, content=content)

