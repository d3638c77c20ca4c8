"""JSON in and out of durable-rules, without the json module's per-call overhead."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

# durable compares raw UTF-8: with ensure_ascii a non-ASCII literal never matches.
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
_SORTED_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True)


def _dumps(value: Any, *, sort_keys: bool = False) -> str:
    return (_SORTED_ENCODER if sort_keys else _ENCODER).encode(value)


def _fast(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """``encoder.encode`` without its per-call set-up: the C encoder is made once, and
    without the check for circular references (a cycle raises RecursionError)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has the C encoder
        return encoder.encode
    chunks = make(
        None,
        encoder.default,
        json.encoder.encode_basestring,
        None,
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


_encode: Final = _fast(_ENCODER)
_encode_sorted: Final = _fast(_SORTED_ENCODER)


#: The C scanner of a JSON decoder (typeshed does not declare the attribute).
_scan: Final[Callable[[str, int], tuple[Any, int]]] = (
    json.JSONDecoder().scan_once  # type: ignore[attr-defined]
)


def _loads(text: str) -> Any:
    """``json.loads`` of durable's text of a match, without the wrapper's whitespace
    checks: durable writes the JSON with nothing before or after it."""
    try:
        value, _ = _scan(text, 0)
    except StopIteration as exc:  # pragma: no cover - durable writes valid JSON
        raise json.JSONDecodeError("Expecting value", text, exc.value) from None
    return value
