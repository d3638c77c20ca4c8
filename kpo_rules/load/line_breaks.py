"""U+0085, U+2028 and U+2029: ordinary characters in YAML 1.2, line breaks to libyaml.

libyaml follows YAML 1.1 here, so outside quotes such a character silently changes the
structure (a comment ends at it, a value is cut in two) or gives an error about a line
the user cannot see in the editor. It is refused with its name and position instead.
Inside quotes libyaml keeps U+2028 and U+2029, which is what YAML 1.2 means; it folds
U+0085 into a space, so that one is refused everywhere.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from typing import Any

import yaml
from yaml.events import ScalarEvent, StreamEndEvent

from kpo_rules.errors import YamlSyntaxError

__all__ = ["NAMES", "refuse_yaml11_breaks"]

NAMES = {"\x85": "NEXT LINE", "\u2028": "LINE SEPARATOR", "\u2029": "PARAGRAPH SEPARATOR"}
_FOUND = re.compile("[\x85\u2028\u2029]")
# Lines as an editor (and YAML 1.2) counts them, for the position of the character itself.
_BREAK = re.compile("\r\n|[\r\n]")
_QUOTES = ("'", '"')


def refuse_yaml11_breaks(text: str, events: Callable[[str], Callable[[], Any]]) -> None:
    """Raise for the first such character libyaml would misread; ``events`` gives a parser.

    Only called for the rare text that holds one: it costs a second pass over the events,
    to learn where the quoted strings are.
    """
    starts, ends, stop = _quoted_spans(events(text))
    for found in _FOUND.finditer(text):
        at = found.start()
        if at > stop:
            return  # beyond where libyaml stopped: its own error is the one to report
        span = bisect.bisect_right(starts, at) - 1
        quoted = span >= 0 and at < ends[span]
        if quoted and text[at] != "\x85":
            continue
        raise _refused(text, at, quoted=quoted)


def _quoted_spans(get_event: Callable[[], Any]) -> tuple[list[int], list[int], int]:
    """Start and end offsets of the quoted scalars, and how far the parse got."""
    starts: list[int] = []
    ends: list[int] = []
    try:
        while True:
            event = get_event()
            cls = type(event)
            if cls is ScalarEvent and event.style in _QUOTES:
                starts.append(event.start_mark.index)
                ends.append(event.end_mark.index)
            elif cls is StreamEndEvent:
                return starts, ends, event.end_mark.index
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return starts, ends, mark.index if mark is not None else 0
    except yaml.YAMLError:
        return starts, ends, 0


def _refused(text: str, at: int, *, quoted: bool) -> YamlSyntaxError:
    line, start = 1, 0
    for brk in _BREAK.finditer(text, 0, at):
        line, start = line + 1, brk.end()
    column = at - start + 1
    char = text[at]
    code = f"U+{ord(char):04X}"
    where = "inside quotes" if quoted else "outside quotes"
    misread = "folds it into a space" if quoted else "reads it as a line break"
    message = (
        f"character {code} ({NAMES[char]}) at line {line}, column {column}, {where}: YAML 1.2 "
        f"keeps it as text, but the parser kpo-rules uses {misread}; delete it, or write it "
        f'as "\\u{ord(char):04x}" inside a double-quoted string'
    )
    if char == "\x85":
        message += " (U+0085 often stands where a Windows-1252 file had '\u2026')"
    return YamlSyntaxError(message, line, column)
