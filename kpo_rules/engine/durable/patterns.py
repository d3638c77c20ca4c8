"""Validation, reordering and guards of the patterns of a rule body.

* **Conditions that read other facts are evaluated correctly** (measured beyond the
  research note; see :func:`_pattern`). durable evaluates such a pattern's conditions as
  one sequence that skips everything after a nested $and/$or group and reads past its
  end when the last condition is false (that crashed the interpreter). The runner orders
  the conditions (plain local ones, joins, local ones with groups) and appends an
  always-true padding group; a join condition inside ``$or``, and ``$or`` inside
  ``$iany``/``$iall`` (also evaluated wrongly), are refused with a ValueError. A
  condition mapping with several keys (durable silently uses one) is refused too.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from kpo_rules.engine.durable.reserved import _GUARD_FIELD, _RESERVED_ALIASES, _TYPE_FIELD, _marker

_GROUPS: Final = frozenset({"$and", "$or"})
_ITEM_OPERATORS: Final = frozenset({"$iany", "$iall"})
_COMPARISONS: Final = frozenset({"$lt", "$lte", "$gt", "$gte", "$neq", "$eq"})
_FIELD_OPERATORS: Final = frozenset({"$mt", "$imt", "$ex", "$nex"})


def _padding(alias: str) -> dict[str, Any]:
    """An always-true group that compares the guard field with that of an earlier alias."""
    guard = {"$gte": {_GUARD_FIELD: {alias: _GUARD_FIELD}}}
    return {"$and": [guard, guard]}


_ARITHMETIC: Final = frozenset({"$add", "$sub", "$mul", "$div"})


def _ref_pairs(expr: Any) -> Iterator[tuple[str, str]]:
    """(alias, field) of each other fact an expression reads (``{"cl": "country"}``)."""
    if not isinstance(expr, Mapping):
        return
    for key, value in expr.items():
        if key in _GROUPS and isinstance(value, list):
            for item in value:
                yield from _ref_pairs(item)
        elif key in _COMPARISONS and isinstance(value, Mapping):
            for rvalue in value.values():
                yield from _rvalue_pairs(rvalue)
        elif isinstance(key, str) and not key.startswith("$"):
            yield from _rvalue_pairs(value)


def _rvalue_pairs(rvalue: Any) -> Iterator[tuple[str, str]]:
    if isinstance(rvalue, Mapping) and len(rvalue) == 1:
        ((key, inner),) = rvalue.items()
        if key in _ARITHMETIC and isinstance(inner, Mapping):
            for operand in inner.values():
                yield from _rvalue_pairs(operand)
        elif isinstance(key, str) and not key.startswith("$"):
            yield key, str(inner)


def _references(expr: Any) -> Iterator[str]:
    """Aliases an expression refers to."""
    return (alias for alias, _ in _ref_pairs(expr))


def _short(value: Any) -> str:
    return reprlib.repr(value)


def _single(rule: str, alias: str, mapping: Any, what: str) -> tuple[Any, Any]:
    """The one (key, value) of ``mapping``; durable silently uses one key of several."""
    if not isinstance(mapping, Mapping) or len(mapping) != 1:
        raise ValueError(
            f"rule {rule}: pattern {alias!r}: {what} must be a mapping with exactly one key, "
            f"not {_short(mapping)} (durable-rules would silently use only one key)"
        )
    ((key, value),) = mapping.items()
    return key, value


def _is_group(expr: Any) -> bool:
    return isinstance(expr, Mapping) and len(expr) == 1 and next(iter(expr)) in _GROUPS


def _conjuncts(expr: Any) -> list[Any]:
    """``expr`` as a flat list of conditions that must all hold (nested $and spliced)."""
    if isinstance(expr, Mapping) and list(expr) == ["$and"]:
        return [part for item in expr["$and"] for part in _conjuncts(item)]
    return [expr]


def _expression(rule: str, alias: str, expr: Any) -> Any:
    """A validated copy of one condition (the caller's dicts are never touched)."""
    key, value = _single(rule, alias, expr, "a condition")
    if key in _GROUPS:
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError(f"rule {rule}: pattern {alias!r}: {key!r} needs a non-empty list")
        return {key: [_expression(rule, alias, item) for item in value]}
    if key in _ITEM_OPERATORS:
        name, inner = _single(rule, alias, value, f"the value of {key!r}")
        parts = _conjuncts(_expression(rule, alias, inner))
        if any(_is_group(part) for part in parts):
            raise ValueError(
                f"rule {rule}: pattern {alias!r}: the item condition of {key} may only "
                "combine conditions with $and; durable-rules 2.0.28 evaluates $or inside "
                f"{key} wrongly"
            )
        return {key: {name: parts[0] if len(parts) == 1 else {"$and": parts}}}
    if key in _COMPARISONS or key in _FIELD_OPERATORS:
        name, rvalue = _single(rule, alias, value, f"the value of {key!r}")
        return {key: {name: rvalue}}
    return {key: value}


def _has_group(expr: Any) -> bool:
    """Whether ``expr`` contains an $and/$or anywhere (also inside $iany/$iall)."""
    if isinstance(expr, Mapping):
        return any(key in _GROUPS or _has_group(value) for key, value in expr.items())
    if isinstance(expr, (list, tuple)):
        return any(_has_group(item) for item in expr)
    return False


@dataclass(slots=True)
class _Pattern:
    """One compiled pattern; conditions may still be added before it is assembled."""

    alias: str
    negated: bool = False
    literal: Any = None  # the whole condition when it reads no other fact
    leaves: list[Any] = field(default_factory=list)  # local conditions without $and/$or
    joins: list[Any] = field(default_factory=list)  # conditions that read other facts
    grouped: list[Any] = field(default_factory=list)  # local conditions with $and/$or
    group: list[_Pattern] | None = None  # the patterns of an alias$all / alias$any group
    needs: frozenset[tuple[str, str]] = frozenset()  # (alias, field) read by a non-equality
    fact_type: str | None = None  # the literal ``t`` the pattern requires (None: any type)

    @property
    def name(self) -> str:
        return self.alias.partition("$")[0]

    def assemble(self, extra: Mapping[str, list[Any]]) -> dict[str, Any]:
        if self.group is not None:
            return {self.alias: [p.assemble(extra) for p in self.group]}
        more = extra.get(self.name, []) if not self.negated else []
        if not self.joins:
            literal = {"$and": [*_conjuncts(self.literal), *more]} if more else self.literal
            return {self.alias: literal}
        padding = _padding(next(_references(self.joins[0])))
        parts = [*self.leaves, *more, *self.joins, *self.grouped, padding]
        return {self.alias: {"$and": parts}}


def _fact_type(expr: Any) -> str | None:
    """The fact type a condition requires (a literal ``t`` in its top-level $and)."""
    for part in _conjuncts(expr):
        if isinstance(part, Mapping) and len(part) == 1:
            value = part.get(_TYPE_FIELD)
            if isinstance(value, str):
                return value
    return None


def _typed(expr: Any) -> Any:
    """``expr`` with each top-level ``{"t": X}`` replaced by a test for X's marker field.

    durable's alpha network tests every condition on a property a fact has, one after the
    other: ``t`` equal to each of the rule set's fact types costs every fact one comparison
    per type. A marker field is only looked at in facts that have it.
    """
    parts = _conjuncts(expr)
    out = []
    for part in parts:
        marker = None
        if isinstance(part, Mapping) and len(part) == 1 and _TYPE_FIELD in part:
            marker = _marker(part[_TYPE_FIELD])
        out.append(part if marker is None else {"$ex": {marker: 1}})
    return out[0] if len(out) == 1 else {"$and": out}


def _pattern(rule: str, alias: str, expr: Any) -> _Pattern:
    """The condition of one pattern, arranged into the order durable evaluates correctly.

    durable-rules 2.0.28 turns every condition into a node of the alpha network (in
    order, so local conditions such as the fact type must come first: a join condition
    first passes every fact and overflows durable's evaluation stack, error 303) and
    evaluates the conditions that read other facts, plus an $and/$or marker for every
    group, as one sequence (``reduceExpressionSequence``) with two measured defects:
    everything after a group is skipped, and when the last condition is false the scan
    for the end runs past the sequence (out-of-bounds reads; it crashed the interpreter).
    So the runner orders a join pattern as: local conditions without groups, join
    conditions, local conditions with groups, and an always-true padding group.
    """
    compiled = _expression(rule, alias, expr)
    negated = alias.partition("$")[2] == "not"
    fact_type = _fact_type(compiled)
    compiled = _typed(compiled)
    if not any(_references(compiled)):
        return _Pattern(alias=alias, negated=negated, literal=compiled, fact_type=fact_type)
    result = _Pattern(alias=alias, negated=negated, fact_type=fact_type)
    needs: set[tuple[str, str]] = set()
    for part in _conjuncts(compiled):
        if not any(_references(part)):
            (result.grouped if _has_group(part) else result.leaves).append(part)
            continue
        if _is_group(part):
            raise ValueError(
                f"rule {rule}: pattern {alias!r} puts a condition on another fact inside "
                "$or; durable-rules 2.0.28 evaluates such groups wrongly, so put join "
                "conditions directly in the pattern's $and (or split the rule)"
            )
        result.joins.append(part)
        ((key, rvalue),) = part.items()
        hashed = not key.startswith("$") and isinstance(rvalue, Mapping) and len(rvalue) == 1
        if not (hashed and not next(iter(rvalue)).startswith("$")):
            # Not a plain equality join (which durable hashes): evaluating it aborts the
            # whole session (error 311) when the other fact lacks the field.
            needs.update(_ref_pairs(part))
    result.needs = frozenset(needs)
    return result


def _compile_patterns(rule: str, patterns: Any, where: str, bound: set[str]) -> list[_Pattern]:
    """Validated, rearranged copies of a list of patterns (``bound``: aliases so far)."""
    if not isinstance(patterns, (list, tuple)) or not patterns:
        raise ValueError(f"rule {rule}: {where} must be a non-empty list of patterns")
    compiled: list[_Pattern] = []
    for position, pattern in enumerate(patterns):
        if not isinstance(pattern, Mapping) or len(pattern) != 1:
            raise ValueError(
                f"rule {rule}: pattern {position} of {where} must be a mapping with exactly "
                "one alias"
            )
        ((alias, expr),) = pattern.items()
        if not isinstance(alias, str) or not alias:
            raise ValueError(f"rule {rule}: pattern {position} of {where} has no alias")
        if alias in _RESERVED_ALIASES:
            raise ValueError(f"rule {rule}: alias {alias!r} is reserved by the runner")
        name, _, operator = alias.partition("$")
        if operator in ("all", "any"):
            group = _compile_patterns(rule, expr, f"group {alias!r}", bound)
            compiled.append(_Pattern(alias=alias, group=group))
            continue
        if not isinstance(expr, Mapping) or not expr:
            raise ValueError(
                f"rule {rule}: pattern {alias!r} must be a non-empty mapping (an expression)"
            )
        for ref in _references(expr):
            if ref not in bound:
                raise ValueError(
                    f"rule {rule}: pattern {alias!r} refers to {ref!r}, which is not an "
                    "earlier alias of the rule"
                )
        if operator != "not":
            if name in bound:
                raise ValueError(f"rule {rule}: alias {name!r} is used twice")
            bound.add(name)
        compiled.append(_pattern(rule, alias, expr))
    return compiled
