"""The files a run reads (:mod:`kpo_rules.load.discovery` decides which)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

STDIN = "-"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceFile:
    """A file to check: the name findings show and, lazily, its bytes."""

    name: str
    path: Path | None = None
    content: bytes | None = None
    #: Found by a directory walk (or named under ``--force-exclude``): checked only if it
    #: declares a kpo-rules document, else skipped as not ours.
    only_ours: bool = False

    def read(self) -> bytes:
        if self.content is not None:
            return self.content
        assert self.path is not None
        return self.path.read_bytes()

    def size(self) -> int:
        """Its size in bytes (0 if it cannot be read): to share files out by work."""
        if self.content is not None:
            return len(self.content)
        try:
            return self.path.stat().st_size if self.path is not None else 0
        except OSError:
            return 0


def read_stdin(name: str) -> SourceFile:
    """Standard input as a file named ``name`` (``<stdin>`` or ``--stdin-filename``)."""
    return SourceFile(name=name, content=sys.stdin.buffer.read())
