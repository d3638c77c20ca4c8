"""The lines of checked files, read back for ``--format full``'s snippets.

The report holds no file contents (a run may check 100,000 files), so the few files that
have findings are read again when the report is rendered. A file that cannot be read, or
that is not a file (standard input, a source given in memory), has no snippet.
"""

from __future__ import annotations

from pathlib import Path

#: Larger files are not read back: their findings print without a snippet.
MAX_BYTES = 8 * 1024 * 1024


class SourceLines:
    """Line ``n`` of file ``name``, each file read at most once."""

    def __init__(self) -> None:
        self._files: dict[str, list[str] | None] = {}

    def line(self, name: str, number: int) -> str | None:
        if name not in self._files:
            self._files[name] = _read(name)
        lines = self._files[name]
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]


def _read(name: str) -> list[str] | None:
    path = Path(name)
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except OSError:
        return None
    # Split only at \n (and \r\n): YAML's line numbers count those, not \x0b or \u2028.
    return [line.rstrip("\r") for line in data.decode("utf-8", "replace").split("\n")]
