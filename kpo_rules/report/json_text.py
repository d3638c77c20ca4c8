"""``json.dumps(value, indent=2, ensure_ascii=False)``, about twice as fast.

The standard library writes indented JSON with its pure-Python encoder (the C encoder
does not indent), which made rendering a large report the slowest serial step of a
parallel run. This writes the same text, byte for byte, for the values a report holds:
dicts with string keys, lists and tuples, strings, ints, floats, booleans and None.
"""

from __future__ import annotations

import math
from json.encoder import encode_basestring
from typing import Any

_INDENT = "  "


def dumps_indented(value: Any) -> str:
    """The text ``json.dumps(value, indent=2, ensure_ascii=False)`` gives."""
    out: list[str] = []
    _write(value, "", out)
    return "".join(out)


def _write(value: Any, margin: str, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner = margin + _INDENT
        separator = "{\n" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(f"keys must be str, not {type(key).__name__}")
            if type(item) is str:  # most values: written here, without a call
                out.append(f"{separator}{encode_basestring(key)}: {encode_basestring(item)}")
            else:
                out.append(f"{separator}{encode_basestring(key)}: ")
                _write(item, inner, out)
            separator = ",\n" + inner
        out.append("\n" + margin + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = margin + _INDENT
        separator = "[\n" + inner
        for item in value:
            if type(item) is str:
                out.append(separator + encode_basestring(item))
            else:
                out.append(separator)
                _write(item, inner, out)
            separator = ",\n" + inner
        out.append("\n" + margin + "]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is float:
        if not math.isfinite(value):
            raise ValueError(f"out of range float values are not JSON: {value!r}")
        out.append(float.__repr__(value))
    else:
        raise TypeError(f"a {kind.__name__} is not JSON serializable")
