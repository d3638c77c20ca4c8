"""The durable rule set: internal rules, sentinel groups and registration.

* **Negation independent of fact order** (section 2). Every rule with a ``$not`` gets a
  first pattern on a sentinel fact (type ``$end``) that is asserted only once every fact
  its negation reads is in the session, so a ``$not`` is decided on complete data. Such
  rules are split into groups of :data:`_RULES_PER_SENTINEL`, one sentinel fact per
  group, because durable rejects a rule set in which more than 256 rules share one
  pattern (error code 108). Rules without ``$not`` need no sentinel: positive matching
  does not depend on the order facts arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from kpo_rules.engine.durable import _engine as _dre
from kpo_rules.engine.durable.codec import _dumps
from kpo_rules.engine.durable.reserved import (
    _END_ALIAS,
    _END_TYPE,
    _GUARD_FIELD,
    _MARK,
    _NEVER_TYPE,
)
from kpo_rules.engine.durable.status_codes import _describe

if TYPE_CHECKING:  # compiling rules is not needed to run a plan (a shipped one, say)
    from kpo_rules.engine.durable.rules import _RuleInfo

#: durable fails with code 108 once more than 256 rules share one pattern (measured).
_RULES_PER_SENTINEL: Final = 128
#: Above about 512 rules durable's create_ruleset can loop forever (measured: 513 rules
#: testing one field for 513 different values never return), so bigger sets are refused.
_MAX_RULES: Final = 512


def _sentinel_pattern(group: int) -> dict[str, Any]:
    return {_END_ALIAS: {"$and": [{"$ex": {_MARK + _END_TYPE: 1}}, {"g": group}]}}


#: Every asserted fact reaches the second pattern of this rule, which never fires: durable
#: then reports "not handled" for no fact, so a batch's status code can only mean an id
#: collision (code 2).
_ALL_RULE: Final = "$all"
_ALL_BODY: Final = {
    "all": [{"never$": {"$ex": {_MARK + _NEVER_TYPE: 1}}}, {"every$": {_GUARD_FIELD: 0}}]
}


def _rule_text(rule: str, internal: str, compiled: Mapping[str, Any], group: int | None) -> str:
    """``"internal": {...}``, with the sentinel pattern of ``group`` first (if any)."""
    body = compiled
    if group is not None:
        body = {**compiled, "all": [_sentinel_pattern(group), *compiled["all"]]}
    try:
        return f"{_dumps(internal)}: {_dumps(body)}"
    except (TypeError, ValueError) as exc:
        raise ValueError(f"rule {rule}: the body is not JSON: {exc}") from exc


def _ruleset_text(rule_texts: Iterable[str]) -> str:
    every = f"{_dumps(_ALL_RULE)}: {_dumps(_ALL_BODY)}"
    return "{" + ", ".join([every, *rule_texts]) + "}"


def _create_ruleset(name: str, rule_texts: Mapping[str, str], owners: Mapping[str, str]) -> int:
    """Register the rule set; a durable error becomes a ValueError naming the rule."""
    try:
        return int(_dre.create_ruleset(name, _ruleset_text(rule_texts.values())))
    except _dre.error as exc:
        whole = exc
    # Compile each rule alone to find the one durable rejects.
    for rule, text in rule_texts.items():
        try:
            handle = _dre.create_ruleset(f"{name}:check", _ruleset_text([text]))
        except _dre.error as exc:
            raise ValueError(
                f"rule {owners[rule]}: durable-rules rejected the condition ({_describe(exc)})"
            ) from None
        _dre.delete_ruleset(handle)
    raise ValueError(
        f"rule set {name!r}: durable-rules rejected the rules together ({_describe(whole)})"
    ) from None


def _layout(
    name: str, infos: Mapping[str, _RuleInfo], stages: Mapping[str, int]
) -> tuple[dict[str, str], dict[str, str], int]:
    """The durable text of every rule variant, the caller rule of each, and the number of
    sentinel groups. Variants with a $not wait for the sentinel of their rule's stage, at
    most _RULES_PER_SENTINEL of them per sentinel; the others need none."""
    waiting: dict[int, list[tuple[str, str, dict[str, Any]]]] = {}
    free: list[tuple[str, str, dict[str, Any]]] = []
    owners: dict[str, str] = {}  # durable rule name -> caller rule name
    for rule, info in infos.items():
        for number, compiled in enumerate(info.variants):
            internal = rule if len(info.variants) == 1 else f"$v{number}:{rule}"
            owners[internal] = rule
            entry = (rule, internal, compiled)
            if _negates_body(compiled["all"]):
                waiting.setdefault(stages[rule], []).append(entry)
            else:
                free.append(entry)
    if len(owners) > _MAX_RULES:
        raise ValueError(
            f"rule set {name!r} has {len(owners)} rules (after splitting); durable-rules "
            f"handles at most {_MAX_RULES} in one rule set, so split them over several "
            "runners"
        )
    texts: dict[str, str] = {}
    groups = 0
    for stage in sorted(waiting):
        entries = waiting[stage]
        for start in range(0, len(entries), _RULES_PER_SENTINEL):
            for rule, internal, compiled in entries[start : start + _RULES_PER_SENTINEL]:
                texts[internal] = _rule_text(rule, internal, compiled, groups)
            groups += 1
    for rule, internal, compiled in free:
        texts[internal] = _rule_text(rule, internal, compiled, None)
    return texts, owners, groups


def _negates_body(patterns: Iterable[Mapping[str, Any]]) -> bool:
    """Whether assembled durable patterns contain a ``$not`` (also inside groups)."""
    for pattern in patterns:
        for alias, expr in pattern.items():
            operator = alias.partition("$")[2]
            if operator == "not":
                return True
            if operator in ("all", "any") and _negates_body(expr):
                return True
    return False
