"""Engine-neutral rules -> durable-rules JSON rule bodies.

The only module that knows durable's condition dialect. Every shape it emits
is one durable accepts (see ``research/durable_rules.md`` section 2); shapes
durable would reject with a numeric code are refused earlier, in
:mod:`.rulefile`, with the rule file's line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kpo_rules.engine.rule_model import Condition, Derivation, Pattern, Ref, Rule

#: Fact field that carries the fact type; ``id`` and ``sid`` belong to durable.
TYPE_FIELD = "t"
#: Domain ids (staff ``s-001``) live under this name because durable owns ``id``.
ID_FIELD = "_id"

_RELATIONAL = {"ne": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}


def field_name(name: str) -> str:
    """The fact field that holds rule-file field ``name``."""
    return ID_FIELD if name == "id" else name


def engine_field(fact: str, name: str) -> str:
    """The property a field of a ``fact``-type fact has inside durable-rules.

    durable's alpha network dispatches on property names before it tests the fact type,
    and every condition reached that way waits on a stack of 64 entries (error 303
    beyond it). Prefixing each property with its fact type means a fact only ever
    reaches the conditions written for its own type.
    """
    return f"{fact}__{field_name(name)}"


def to_engine(fact: Mapping[str, Any]) -> dict[str, Any]:
    """A fact as durable sees it: type-prefixed properties, ``t`` and ``id`` unchanged."""
    kind = fact[TYPE_FIELD]
    out = {TYPE_FIELD: kind}
    for key, value in fact.items():
        if key == "id":
            out["id"] = value
        elif key != TYPE_FIELD:
            out[f"{kind}__{key}"] = value
    return out


def from_engine(fact: Mapping[str, Any]) -> dict[str, Any]:
    """Undo :func:`to_engine` on a fact durable hands back."""
    prefix = f"{fact.get(TYPE_FIELD)}__"
    return {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in fact.items()}


def _rvalue(value: Any, types: Mapping[str, str]) -> Any:
    if isinstance(value, Ref):
        return {value.alias: engine_field(types[value.alias], value.name)}
    return value


def _condition(cond: Condition, fact: str, types: Mapping[str, str]) -> dict[str, Any]:
    name = engine_field(fact, cond.name)
    if cond.op == "eq":
        return {name: _rvalue(cond.value, types)}
    if cond.op in _RELATIONAL:
        return {_RELATIONAL[cond.op]: {name: _rvalue(cond.value, types)}}
    if cond.op == "exists":
        return {"$ex" if cond.value else "$nex": {name: 1}}
    if cond.op == "contains":
        return {"$iany": {name: {"$i": cond.value}}}
    if cond.op == "not_contains":
        # Facts never carry empty lists (absent instead), so "$iall ... $neq" never meets
        # the empty list it would wrongly reject (research note, section 2 (b)).
        return {"$or": [{"$nex": {name: 1}}, {"$iall": {name: {"$neq": {"$i": cond.value}}}}]}
    if cond.op == "in":
        return {"$or": [{name: v} for v in cond.value]}
    if cond.op == "not_in":
        return {"$and": [{"$neq": {name: v}} for v in cond.value]}
    raise ValueError(f"unknown operator {cond.op!r}")  # the rule schema prevents this


def _all(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {"$and": list(parts)}


def pattern_expression(pattern: Pattern, types: Mapping[str, str]) -> dict[str, Any]:
    """The durable expression matching one fact of ``pattern``.

    :param types: fact type of every alias bound earlier, for references.
    """
    fact = pattern.fact
    parts: list[dict[str, Any]] = [{TYPE_FIELD: fact}]
    parts += [_condition(c, fact, types) for c in pattern.conditions]
    if pattern.any_of:
        parts.append({"$or": [_all([_condition(c, fact, types) for c in alt])
                              for alt in pattern.any_of]})
    return _all(parts)


def _body(when: Sequence[Pattern], unless: Iterable[Pattern]) -> dict[str, Any]:
    types = {p.alias: p.fact for p in when}
    patterns: list[dict[str, Any]] = [{p.alias: pattern_expression(p, types)} for p in when]
    patterns += [{f"{p.alias}$not": pattern_expression(p, types)} for p in unless]
    return {"all": patterns}


def rule_body(rule: Rule) -> dict[str, Any]:
    return _body(rule.when, rule.unless)


def derivation_body(derivation: Derivation) -> dict[str, Any]:
    # Derivations run before the rules that read their facts: lower pri fires first.
    body = _body(derivation.when, derivation.unless)
    body["pri"] = 1
    return body
