"""Where reports go: refuse an output that would overwrite an input or a directory, and
write each one atomically (a full disk never leaves half a report or loses a baseline)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from kpo_rules.errors import UsageError
from kpo_rules.load.files import STDIN


def check_outputs(outputs: Sequence[Path], inputs: Iterable[str]) -> None:
    """Refuse an output that is a directory, an input of the run, or another output: writing
    it would lose the input (or one of the reports)."""
    read = [Path(name) for name in inputs if name != STDIN]
    seen: list[Path] = []
    for output in outputs:
        if output.is_dir():
            raise UsageError(f"{output}: is a directory; name a file to write the report to")
        for other in [*read, *seen]:
            if _same_file(output, other):
                what = "an input of this run" if other in read else "written twice"
                raise UsageError(f"{output}: is {what}; name another file for the output")
        seen.append(output)


def write(path: Path, text: str) -> None:
    from kpo_rules.atomic_write import write_text  # noqa: PLC0415 - imports tempfile

    write_text(path, text)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:  # one does not exist (yet): compare what they would be
        return os.path.abspath(a) == os.path.abspath(b)
