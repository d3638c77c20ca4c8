"""Text that is safe to print: control characters from engagement files shown, not obeyed.

A value in a YAML file (a staff name, a file name) ends up in a message. Printed as is, an
ESC sequence could clear the screen or recolour the output, a newline or carriage return
could forge a finding or a "0 errors" summary line, and a bidi override could make a line
read differently from what it holds. :func:`printable` writes each such character as its
escape (``\\x1b``, ``\\n``, ``\\u202e``), the way Python's ``repr`` does.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls (NEL included), the bidi embeddings, overrides, isolates
# and marks, and the Unicode line and paragraph separators some terminals break lines at.
_UNSAFE = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_PATTERN = re.compile(f"[{_UNSAFE}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control, bidi and line-separator character escaped."""
    return _PATTERN.sub(_escape, text)


def printable_except_newlines(text: str) -> str:
    """Like :func:`printable` but keeps ``\\n`` and ``\\r`` (for formats that escape them)."""
    return _PATTERN.sub(lambda m: m.group() if m.group() in "\n\r" else _escape(m), text)


#: ANSI styles, applied only when colour is on.
BOLD, DIM, RESET = "\033[1m", "\033[2m", "\033[0m"
SEVERITY_COLORS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}


def style(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{RESET}" if color else text
