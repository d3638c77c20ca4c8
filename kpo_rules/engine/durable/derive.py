"""Derivations the runner performs itself, from a declarative recipe.

A derivation's fact is a copy of fields of the facts it matched (plus constants): the
runner builds it straight from the match, without a
:class:`~kpo_rules.engine.durable.results.Firing` or bindings. The recipe is checked once,
when the plan is compiled; the facts it builds need no check at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kpo_rules.engine.durable.codec import _encode
from kpo_rules.engine.durable.reserved import _RESERVED_PREFIX, _RESERVED_TYPES, _TYPE_FIELD


@dataclass(frozen=True, slots=True)
class Copy:
    """Field ``field`` of the derived fact is field ``source`` of the fact bound to
    ``alias``; when that fact lacks it (or the alias is unbound, in an ``$any``), the
    field is ``default``, or left out when ``default`` is None. Copying ``id`` copies
    the id the fact was given with (none for a fact without one)."""

    field: str
    alias: str
    source: str
    default: Any = None


@dataclass(frozen=True, slots=True)
class Derive:
    """A derived fact of type ``fact_type`` with ``fields``: constants and copies."""

    fact_type: str
    constants: Mapping[str, Any]
    copies: tuple[Copy, ...]


def _check(rule: str, recipe: object) -> Derive:
    """The recipe, or ValueError/TypeError naming what is wrong with it."""
    if not isinstance(recipe, Derive):
        raise TypeError(f"derive[{rule!r}] must be a Derive, not {type(recipe).__name__}")
    where = f"derive[{rule!r}]"
    if not isinstance(recipe.fact_type, str) or not recipe.fact_type:
        raise ValueError(f"{where}: the fact type must be a non-empty string")
    if recipe.fact_type in _RESERVED_TYPES:
        raise ValueError(f"{where}: the fact type {recipe.fact_type!r} is reserved")
    names = [*recipe.constants, *(copy.field for copy in recipe.copies)]
    for name in names:
        if not isinstance(name, str) or name in ("id", "sid", _TYPE_FIELD):
            raise ValueError(f"{where}: the field name {name!r} is not allowed")
        if name.startswith(_RESERVED_PREFIX):
            raise ValueError(f"{where}: the field {name!r} is reserved for the runner")
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: a field is given twice")
    for copy in recipe.copies:
        if not isinstance(copy.source, str) or copy.source == "sid" or (
            copy.source.startswith(_RESERVED_PREFIX)
        ):
            raise ValueError(f"{where}: field {copy.field!r} cannot copy {copy.source!r}")
    try:
        _encode(dict(recipe.constants))
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"{where}: the constants are not JSON: {exc}") from None
    return recipe


def _build(recipe: Derive, match: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The derived fact of one match (the matched facts by alias, as the caller gave
    them: a fact given without an id has none to copy)."""
    fact: dict[str, Any] = {_TYPE_FIELD: recipe.fact_type, **recipe.constants}
    empty: Mapping[str, Any] = {}
    for copy in recipe.copies:
        value = match.get(copy.alias, empty).get(copy.source, copy.default)
        if value is not None:
            fact[copy.field] = value
    return fact
