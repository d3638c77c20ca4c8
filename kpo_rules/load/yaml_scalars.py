"""Scalars of the YAML 1.2 core schema: which plain text is null, a boolean, a number.

Plain scalars are resolved here, not by PyYAML's resolver, which follows YAML 1.1 (where
``no``, ``on`` and ``0777`` are not what a YAML 1.2 file means). Tags are limited to the
core ones; a value that does not fit its tag is a syntax error at its position.
"""

from __future__ import annotations

import math
import re
from typing import Any

from kpo_rules.errors import YamlSyntaxError

Pos = tuple[int, int]

_CORE = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_CORE + t for t in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ = _CORE + "map", _CORE + "seq"

# Plain scalars whose first character is not here are strings: most values skip the regex.
_TYPED_FIRST = "0123456789+-.~nNtTfF"
_NULLS = ("", "~", "null", "Null", "NULL")
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INFINITIES = (".inf", ".Inf", ".INF")
_CONSTANTS: dict[str, Any] = {
    **dict.fromkeys(_NULLS),
    **_BOOLS,
    **{sign + word: math.inf for word in _INFINITIES for sign in ("", "+")},
    **{"-" + word: -math.inf for word in _INFINITIES},
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
}
#: Digits an integer may have in any base. Python refuses to convert decimal text of more
#: than 4,300 digits (640 at the lowest setting) but converts hex and octal of any length,
#: and a number too long to print back breaks every message and report that shows it.
#: No field of an engagement holds a number of more than a few digits.
MAX_INT_DIGITS = 100
_BASES = {"int": 10, "oct": 8, "hex": 16}
_NUMBER = re.compile(
    r"(?P<int>[-+]?[0-9]+)"
    r"|0o(?P<oct>[0-7]+)"
    r"|0x(?P<hex>[0-9a-fA-F]+)"
    r"|(?P<float>[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)"
)


def _resolve_plain(text: str, pos: Pos) -> Any:
    """YAML 1.2 core schema for an untagged plain scalar; anything unmatched is a string."""
    if text in _CONSTANTS:
        return _CONSTANTS[text]
    match = _NUMBER.fullmatch(text)
    if match is None:
        return text
    kind = match.lastgroup or "int"
    if kind == "float":
        return float(text)
    digits = match[kind]
    if kind == "int":
        digits = digits.lstrip("+-")
    if len(digits) > MAX_INT_DIGITS:
        raise YamlSyntaxError(
            f"integer with {len(digits):,} digits is too long (the limit is {MAX_INT_DIGITS}); "
            "put it in quotes if it is text",
            *pos,
        )
    return int(digits, _BASES[kind]) * (-1 if text[0] == "-" else 1)


def _resolve_tagged(tag: str, text: str, pos: Pos) -> Any:
    """Honour the standard scalar tags; a value that does not fit its tag is an error."""
    if tag in ("!", _STR):
        return text
    value = _resolve_plain(text, pos)
    if tag == _NULL:
        ok = value is None
    elif tag == _BOOL:
        ok = isinstance(value, bool)
    elif tag == _INT:
        ok = type(value) is int
    elif tag == _FLOAT:
        ok = type(value) in (int, float)
        value = float(value) if ok else value
    else:
        raise _bad_tag(tag, "a scalar", pos)
    if not ok:
        raise YamlSyntaxError(f"{text!r} is not a valid {_short(tag)} value", *pos)
    return value


def _check_collection_tag(tag: str, is_map: bool, pos: Pos) -> None:
    if tag not in ("!", _MAP if is_map else _SEQ):
        raise _bad_tag(tag, "a mapping" if is_map else "a sequence", pos)


def _bad_tag(tag: str, node: str, pos: Pos) -> YamlSyntaxError:
    if tag in (_STR, _INT, _FLOAT, _BOOL, _NULL, _MAP, _SEQ):
        return YamlSyntaxError(f"tag {_short(tag)} cannot be used on {node}", *pos)
    return YamlSyntaxError(
        f"unsupported tag {_short(tag)}: only the YAML 1.2 core tags "
        "!!str, !!int, !!float, !!bool, !!null, !!map and !!seq are allowed",
        *pos,
    )


def _short(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag
