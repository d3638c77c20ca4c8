"""``checked 1200/20000 files`` on standard error while a long run works.

Only for a person watching: standard error must be a terminal, and not one that
pre-commit (``PRE_COMMIT``) or a CI system (``CI``) captures to replay later. Nothing is
drawn during the first second, so short runs never flicker, and the line is redrawn at
most ten times a second and erased before the report is printed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TextIO

#: Seconds before the first line; then between redraws.
DELAY, INTERVAL = 1.0, 0.1


def wanted(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("CI") or env.get("PRE_COMMIT") or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    """A ``progress(done, total)`` callback for :func:`kpo_rules.check`."""

    def __init__(self, stream: TextIO, *, delay: float = DELAY,
                 label: str = "checked {done}/{total} files") -> None:
        self._stream = stream
        self._label = label
        self._start = time.monotonic()
        self._delay = delay
        self._drawn_at = 0.0
        self._width = 0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._start < self._delay or (now - self._drawn_at < INTERVAL
                                               and done < total):
            return
        self._drawn_at = now
        text = self._label.format(done=done, total=total)
        self._stream.write("\r" + text.ljust(self._width))
        self._stream.flush()
        self._width = len(text)

    def clear(self) -> None:
        """Erase the line (with spaces: no escape sequence a terminal may not know)."""
        if self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0
