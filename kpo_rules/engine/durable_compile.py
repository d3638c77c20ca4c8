"""Engine-neutral rules -> durable-rules JSON rule bodies.

The only module that knows durable's condition dialect. Every shape it emits
is one durable accepts (see ``research/durable_rules.md`` section 2); shapes
durable would reject with a numeric code are refused earlier, in
:mod:`.rulefile`, with the rule file's line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kpo_rules.engine.model import Condition, Derivation, Pattern, Ref, Rule

#: Fact field that carries the fact type; ``id`` and ``sid`` belong to durable.
TYPE_FIELD = "t"
#: Domain ids (staff ``s-001``) live under this name because durable owns ``id``.
ID_FIELD = "_id"

_RELATIONAL = {"ne": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}


def field_name(name: str) -> str:
    """The fact field that holds rule-file field ``name``."""
    return ID_FIELD if name == "id" else name


def _rvalue(value: Any) -> Any:
    if isinstance(value, Ref):
        return {value.alias: field_name(value.name)}
    return value


def _condition(cond: Condition) -> dict[str, Any]:
    name = field_name(cond.name)
    if cond.op == "eq":
        return {name: _rvalue(cond.value)}
    if cond.op in _RELATIONAL:
        return {_RELATIONAL[cond.op]: {name: _rvalue(cond.value)}}
    if cond.op == "exists":
        return {"$ex" if cond.value else "$nex": {name: 1}}
    if cond.op == "contains":
        return {"$iany": {name: {"$i": cond.value}}}
    if cond.op == "in":
        return {"$or": [{name: v} for v in cond.value]}
    if cond.op == "not_in":
        return {"$and": [{"$neq": {name: v}} for v in cond.value]}
    raise ValueError(f"unknown operator {cond.op!r}")  # the rule schema prevents this


def _all(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {"$and": list(parts)}


def pattern_expression(pattern: Pattern) -> dict[str, Any]:
    """The durable expression matching one fact of ``pattern``."""
    parts: list[dict[str, Any]] = [{TYPE_FIELD: pattern.fact}]
    parts += [_condition(c) for c in pattern.conditions]
    if pattern.any_of:
        parts.append({"$or": [_all([_condition(c) for c in alt]) for alt in pattern.any_of]})
    return _all(parts)


def _body(when: Iterable[Pattern], unless: Iterable[Pattern]) -> dict[str, Any]:
    patterns: list[dict[str, Any]] = [{p.alias: pattern_expression(p)} for p in when]
    patterns += [{f"{p.alias}$not": pattern_expression(p)} for p in unless]
    return {"all": patterns}


def rule_body(rule: Rule) -> dict[str, Any]:
    return _body(rule.when, rule.unless)


def derivation_body(derivation: Derivation) -> dict[str, Any]:
    # Derivations run before the rules that read their facts: lower pri fires first.
    body = _body(derivation.when, derivation.unless)
    body["pri"] = 1
    return body
