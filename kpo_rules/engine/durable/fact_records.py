"""Checks of caller facts, durable's id hash, and the record of a fact in a run."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Final

from kpo_rules.engine.durable.codec import _encode_sorted
from kpo_rules.engine.durable.reserved import _RESERVED_PREFIX, _RESERVED_TYPES, _TYPE_FIELD

#: Field-name tuples of dicts whose names were found acceptable (facts of one type
#: share them), so most facts skip the per-name checks; kept this small.
_GOOD_SHAPES: set[tuple[str, ...]] = set()
_MAX_SHAPES: Final = 4096


def _fact_problem(fact: Any) -> str | None:
    """What is wrong with a fact (to follow its description), or None."""
    if type(fact) is dict:
        shape = tuple(fact)
        if shape not in _GOOD_SHAPES:
            problem = _name_problem(fact)
            if problem is not None:
                return problem
            if len(_GOOD_SHAPES) < _MAX_SHAPES:
                _GOOD_SHAPES.add(shape)
    elif isinstance(fact, Mapping):
        problem = _name_problem(fact)
        if problem is not None:
            return problem
    else:
        return f"must be a mapping, not {type(fact).__name__}"
    fact_type = fact.get(_TYPE_FIELD)
    if isinstance(fact_type, str) and fact_type in _RESERVED_TYPES:
        return f"has the reserved type {fact[_TYPE_FIELD]!r}"
    if "id" not in fact:
        return None
    fid = fact["id"]
    if type(fid) is str:
        if not fid or fid[0] == "$":
            return f"has the id {fid!r}; ids must not be empty or start with '$'"
        return None
    if isinstance(fid, bool) or not isinstance(fid, (str, int)):
        return f"has an id of type {type(fid).__name__}; use a string"
    if isinstance(fid, str) and (not fid or fid.startswith("$")):
        return f"has the id {fid!r}; ids must not be empty or start with '$'"
    return None


def _name_problem(fact: Mapping[str, Any]) -> str | None:
    """What is wrong with a fact's field names, or None."""
    if not all(map(isinstance, fact, itertools.repeat(str))):
        key = next(k for k in fact if not isinstance(k, str))
        return f"has a non-string field name {key!r}"
    if "sid" in fact or any(map(str.startswith, fact, itertools.repeat(_RESERVED_PREFIX))):
        reserved = (
            "sid"
            if "sid" in fact
            else next(key for key in fact if key.startswith(_RESERVED_PREFIX))
        )
        return f"has a {reserved!r} field, which the runner reserves"
    return None


def _fnv1a(text: str) -> int:
    """durable's 32-bit FNV-1a hash of a message id (``fnv1Hash32``, signed chars)."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ (byte | 0xFFFFFF00 if byte > 0x7F else byte)) * 0x01000193) & 0xFFFFFFFF
    return value


class _Fact:
    """A fact of the run, as the caller gave it (or a recipe built it)."""

    __slots__ = ("binding", "key", "source")

    def __init__(self, source: Mapping[str, Any], key: tuple[int, str] | None) -> None:
        self.source = source
        #: Orders firings and tells identical firings apart: (0, str(id)) for a fact with
        #: an id of its own, (1, its JSON) for one without (computed when first needed).
        self.key = key
        self.binding: dict[str, Any] | None = None  # this round's copy, made when first bound

    def order(self) -> tuple[int, str]:
        if self.key is None:
            self.key = (1, _encode_sorted(dict(self.source)))
        return self.key
