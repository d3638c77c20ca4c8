"""Evaluate durable-rules rule bodies one engagement at a time, with its pitfalls fenced off.

This is the only module that talks to durable-rules 2.0.28. It drives the C extension
``durable_rules_engine`` directly and deliberately does not use ``durable.engine``
(``Host``/``Ruleset``/``Closure``): that layer starts two ``threading.Timer`` chains per
``Host``, swallows action exceptions into ``state["exception"]``, mutates the rule dicts
it registers, raises ``MessageNotHandledException`` for a whole batch, and silently stops
running the remaining actions of a session when one action takes longer than 10 seconds
of wall-clock time (``Closure._has_completed``; measured). Without it no thread is ever
started and every action runs synchronously inside :meth:`DurableRunner.run`.

What :class:`DurableRunner` guarantees (the numbers refer to
``research/durable_rules.md``):

* **Negation independent of fact order** (section 2). Every rule gets a first pattern on a
  sentinel fact (type ``$end``) that is asserted after all facts of the engagement, so a
  ``$not`` is decided on complete data. Rules are split into groups of
  :data:`_RULES_PER_SENTINEL`, one sentinel fact per group, because durable rejects a
  rule set in which more than 256 rules share one pattern (error code 108).
* **Forward chaining with negation over derived facts.** ``on_fire`` returns facts, which
  are asserted into the session at once so other rules can match them. durable never
  withdraws an activation whose ``$not`` a later fact would block, so when the rule set
  contains a ``$not`` and facts were derived, the engagement is evaluated again in a
  fresh session that receives the derived facts before the sentinels, until a round
  derives nothing new and nothing stale (a fixed point); the result is that round, whose
  firings all saw the same, complete facts. A rule set without ``$not`` needs one round.
  ``on_fire`` may therefore be called more than once for the same firing and must be a
  pure function of it.
* **Sessions are always cleaned up** (section 3.2). Each session gets a fresh id from the
  runner's counter and is deleted in ``finally``, so live sessions never approach
  durable's limit of 1,024 per rule set. ``delete_state`` crashes the interpreter for a
  session in which no action ever started, so every session begins with an internal
  no-op rule on a ``$begin`` fact whose action is run before any caller fact is
  asserted; from then on deleting the session is safe, whatever fails later. The rule
  set itself is freed (``delete_ruleset``) by :meth:`DurableRunner.close` or when the
  runner is garbage-collected.
* **Explicit, unique fact ids** (section 3.3). A fact without ``id`` gets ``$f<index>``;
  a derived fact without ``id`` gets ``$d<n>`` keyed by its content, so identical
  derived facts are one fact. Two input facts with the same ``id`` raise
  :class:`ValueError` naming it: the caller assigns ids, and durable would silently
  drop the second fact (``5`` and ``"5"`` count as the same id, as in durable).
* **Errors are Python errors naming what is wrong.** Rule bodies are checked before
  registration and durable's numeric codes are translated (:data:`_ERROR_CODES`) into a
  :class:`ValueError` naming the rule. An exception raised by ``on_fire`` becomes an
  :class:`ActionFailure`; the other rules still fire.
* **Conditions that read other facts are evaluated correctly** (measured beyond the
  research note; see :func:`_pattern`). durable evaluates such a pattern's conditions as
  one sequence that skips everything after a nested $and/$or group and reads past its
  end when the last condition is false (that crashed the interpreter). The runner orders
  the conditions (plain local ones, joins, local ones with groups) and appends an
  always-true padding group; a join condition inside ``$or``, and ``$or`` inside
  ``$iany``/``$iall`` (also evaluated wrongly), are refused with a ValueError. A
  condition mapping with several keys (durable silently uses one) is refused too.
* **Joins on missing fields.** A comparison other than equality with a field the other
  fact lacks makes durable abort the whole session (error 311). The runner makes it
  false instead, as durable does for missing fields elsewhere: the field is required on
  the other fact's pattern, and a rule whose ``$not`` pattern reads such a field is
  split into a variant with the field and one without it (:func:`_variants`).

Reserved names: fact fields ``sid`` (the session) and ``kpo$g`` (read by the padding),
``t`` values ``$end``/``$begin`` (the sentinels); ids and rule names starting with
``$``; the aliases ``end$`` and ``begin$``.

Threads and processes: a runner must be used from one thread at a time (the C core has no
locks and durable's handle table is process-global); a concurrent or re-entrant call of
:meth:`~DurableRunner.run` raises :class:`RuntimeError`. For parallelism use a process
pool: forked workers inherit registered rule sets copy-on-write and, since no thread
exists, fork is safe.
"""

from __future__ import annotations

import itertools
import json
import re
import reprlib
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import durable_rules_engine as _dre

__all__ = ["ActionFailure", "DurableRunner", "Firing", "OnFire", "SessionResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Firing:
    """One activation of a rule.

    ``bindings`` maps each positive alias of the rule to the fact it matched: a fresh
    plain dict per firing, equal to the fact as the caller (or ``on_fire``) gave it.
    The sentinel is left out, and so are the ``sid`` and ``kpo$g`` fields and the ids the
    runner assigned. Treat them as read-only: ``on_fire`` receives the same objects.
    """

    rule: str
    bindings: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionFailure:
    """``on_fire`` (or the handling of what it returned) failed for a firing of ``rule``."""

    rule: str
    error: str  # "ExcType: message"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionResult:
    """Everything one engagement produced, deduplicated and in a deterministic order.

    ``firings`` holds every rule match, including those whose ``on_fire`` failed; those
    failures are in ``failures``. Both are sorted (firings by rule, then by the JSON of
    their bindings; failures by rule, then error).
    """

    firings: tuple[Firing, ...]
    failures: tuple[ActionFailure, ...]


#: Called once per distinct firing and evaluation round; returns derived facts to assert.
OnFire = Callable[[Firing], Iterable[Mapping[str, Any]]]

_TYPE_FIELD: Final = "t"
_END_TYPE: Final = "$end"
_BEGIN_TYPE: Final = "$begin"
_END_ALIAS: Final = "end$"
_BEGIN_ALIAS: Final = "begin$"
_BEGIN_RULE: Final = "$begin"
_RESERVED_TYPES: Final = frozenset({_END_TYPE, _BEGIN_TYPE})
_RESERVED_ALIASES: Final = frozenset({_END_ALIAS, _BEGIN_ALIAS})
#: durable fails with code 108 once more than 256 rules share one pattern (measured).
_RULES_PER_SENTINEL: Final = 128
#: Above about 512 rules durable's create_ruleset can loop forever (measured: 513 rules
#: testing one field for 513 different values never return), so bigger sets are refused.
_MAX_RULES: Final = 512
#: Evaluation rounds before a derivation that never settles is reported.
_MAX_ROUNDS: Final = 32
#: Variants one rule may be split into (see :func:`_variants`).
_MAX_VARIANTS: Final = 8

#: durable-rules status codes (src/rules/rules.h and json.h of jruizgit/rules), with the
#: causes measured for the ones a rule body or a fact can trigger.
_ERROR_CODES: Final[Mapping[int, str]] = {
    1: "event not handled",
    2: "event already observed (duplicate fact id)",
    3: "event deferred",
    100: "unexpected end of an object or array (an empty expression, or a pattern "
    "that is not an object)",
    101: "out of memory",
    102: "unexpected type (e.g. a list literal, a non-string regex, '$and'/'$or' "
    "without a list, or an array item '$i' compared with another fact's field)",
    103: "identifier too long",
    104: "unexpected value",
    105: "unexpected name (an unknown key in the rule, such as metadata)",
    106: "too many rules",
    107: "too many existence ($not) nodes",
    108: "too many rules share one pattern (durable allows 256)",
    109: "rule without 'all' or 'any'",
    110: "setting not found",
    111: "invalid handle",
    112: "too many rule sets in this process",
    113: "expression too long",
    201: "malformed JSON value",
    202: "malformed JSON string (often an unknown $-operator, or an object used as a "
    "literal value)",
    203: "malformed JSON number",
    204: "malformed JSON object (e.g. 'all' is not a list of objects)",
    205: "malformed JSON array",
    302: "too many properties in one fact",
    303: "evaluation stack exhausted (a fact passes through too many conditions)",
    304: "too many facts in one match",
    305: "message not found",
    306: "location not found",
    307: "node deleted",
    308: "node dispatching",
    309: "session not found",
    310: "no action available",
    311: "property not found",
    312: "operation not supported",
    501: "invalid regular expression",
    502: "regular expression has too many transitions",
    503: "regular expression has too many states",
    504: "regular expression queue full",
    505: "regular expression list full",
    506: "regular expression set full",
    507: "regular expression conflict",
}

_CODE_RE: Final = re.compile(r"error code: (\d+)")
_GROUPS: Final = frozenset({"$and", "$or"})
_ITEM_OPERATORS: Final = frozenset({"$iany", "$iall"})
_COMPARISONS: Final = frozenset({"$lt", "$lte", "$gt", "$gte", "$neq", "$eq"})
_FIELD_OPERATORS: Final = frozenset({"$mt", "$imt", "$ex", "$nex"})
#: Hidden field of every asserted fact, compared by the always-true padding condition.
_GUARD_FIELD: Final = "kpo$g"
_GUARD: Final = {"$gte": {_GUARD_FIELD: {_END_ALIAS: _GUARD_FIELD}}}
_PADDING: Final = {"$and": [_GUARD, _GUARD]}
_ARITHMETIC: Final = frozenset({"$add", "$sub", "$mul", "$div"})


def _describe(exc: BaseException) -> str:
    """``"error code N: meaning"`` for a durable error, else the exception text."""
    found = _CODE_RE.search(str(exc))
    if found is None:
        return str(exc)
    code = int(found.group(1))
    return f"error code {code}: {_ERROR_CODES.get(code, 'undocumented code')}"


def _failure_text(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# durable compares raw UTF-8: with ensure_ascii a non-ASCII literal never matches.
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
_SORTED_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True)


def _dumps(value: Any, *, sort_keys: bool = False) -> str:
    return (_SORTED_ENCODER if sort_keys else _ENCODER).encode(value)


# --------------------------------------------------------------------------- rule checks


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
        parts = [*self.leaves, *more, *self.joins, *self.grouped, _PADDING]
        return {self.alias: {"$and": parts}}


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
    if not any(_references(compiled)):
        return _Pattern(alias=alias, negated=negated, literal=compiled)
    result = _Pattern(alias=alias, negated=negated)
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


def _negates(patterns: list[_Pattern]) -> bool:
    return any(p.negated or (p.group is not None and _negates(p.group)) for p in patterns)


def _variants(rule: str, patterns: list[_Pattern]) -> list[list[dict[str, Any]]]:
    """The rule's patterns, once per combination of missing fields that needs a variant.

    A non-equality join reading ``alias.field`` aborts the session when that fact lacks
    the field. For a positive pattern, requiring the field on the alias's own pattern
    changes nothing (the rule cannot fire without it). A negated pattern that reads a
    missing field cannot match, so the rule is split: one variant requires the field,
    the other requires its absence and drops that negated pattern.
    """
    visible = {p.name for p in patterns if p.group is None and not p.negated}
    positive = set().union(*(p.needs for p in patterns if not p.negated))
    extra: dict[str, list[Any]] = {}
    for alias, name in sorted(positive):
        if alias in visible:
            extra.setdefault(alias, []).append({"$ex": {name: 1}})
    pending = sorted(
        {pair for p in patterns if p.negated for pair in p.needs if pair[0] in visible} - positive
    )
    out: list[list[dict[str, Any]]] = []

    def split(
        active: list[_Pattern], extra: dict[str, list[Any]], pending: list[tuple[str, str]]
    ) -> None:
        if not pending:
            out.append([p.assemble(extra) for p in active])
            return
        (alias, name), rest = pending[0], pending[1:]
        present = {**extra, alias: [*extra.get(alias, []), {"$ex": {name: 1}}]}
        split(active, present, rest)
        kept = [p for p in active if not (p.negated and (alias, name) in p.needs)]
        absent = {**extra, alias: [*extra.get(alias, []), {"$nex": {name: 1}}]}
        split(kept, absent, [x for x in rest if any(x in p.needs for p in kept if p.negated)])

    split(patterns, extra, pending)
    if len(out) > _MAX_VARIANTS:
        raise ValueError(
            f"rule {rule}: its $not patterns read {len(pending)} fields of other facts with "
            "comparisons other than equality; that needs more variants than the runner makes"
        )
    return out


def _compile_rule(rule: Any, body: Any) -> tuple[list[dict[str, Any]], bool]:
    """Validated variants of one caller rule body (without the sentinel); and whether the
    rule has a ``$not``."""
    if not isinstance(rule, str) or not rule:
        raise ValueError(f"rule names must be non-empty strings, not {rule!r}")
    if rule.startswith("$"):
        raise ValueError(f"rule {rule}: names starting with '$' are reserved by the runner")
    if not isinstance(body, Mapping):
        raise ValueError(f"rule {rule}: the body must be a mapping, not {type(body).__name__}")
    unknown = sorted(str(key) for key in body if key not in ("all", "pri"))
    if unknown:
        raise ValueError(
            f"rule {rule}: unsupported key(s) {', '.join(unknown)}; a body has 'all' and "
            "an optional 'pri' (the runner supplies the action; metadata stays outside)"
        )
    if "all" not in body:
        raise ValueError(f"rule {rule}: the body has no 'all' list")
    pri: dict[str, Any] = {}
    if "pri" in body:
        if isinstance(body["pri"], bool) or not isinstance(body["pri"], int):
            raise ValueError(f"rule {rule}: 'pri' must be an integer, not {body['pri']!r}")
        pri["pri"] = body["pri"]
    patterns = _compile_patterns(rule, body["all"], "'all'", set())
    variants = [{"all": all_, **pri} for all_ in _variants(rule, patterns)]
    return variants, _negates(patterns)


def _sentinel_pattern(group: int) -> dict[str, Any]:
    return {_END_ALIAS: {"$and": [{_TYPE_FIELD: _END_TYPE}, {"g": group}]}}


_BEGIN_BODY: Final = {"all": [{_BEGIN_ALIAS: {_TYPE_FIELD: _BEGIN_TYPE}}]}


def _rule_text(rule: str, internal: str, compiled: Mapping[str, Any], group: int) -> str:
    """``"internal": {...}`` with the sentinel pattern first."""
    body = {**compiled, "all": [_sentinel_pattern(group), *compiled["all"]]}
    try:
        return f"{_dumps(internal)}: {_dumps(body)}"
    except (TypeError, ValueError) as exc:
        raise ValueError(f"rule {rule}: the body is not JSON: {exc}") from exc


def _ruleset_text(rule_texts: Iterable[str]) -> str:
    begin = f"{_dumps(_BEGIN_RULE)}: {_dumps(_BEGIN_BODY)}"
    return "{" + ", ".join([begin, *rule_texts]) + "}"


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


# --------------------------------------------------------------------------- facts


def _check_fact(fact: Any, what: str) -> Any:
    """Validate a fact; returns its ``id`` (``None`` if it has none)."""
    if not isinstance(fact, Mapping):
        raise ValueError(f"{what} must be a mapping, not {type(fact).__name__}")
    for key in fact:
        if not isinstance(key, str):
            raise ValueError(f"{what} has a non-string field name {key!r}")
    for reserved in ("sid", _GUARD_FIELD):
        if reserved in fact:
            raise ValueError(f"{what} has a {reserved!r} field, which the runner reserves")
    if fact.get(_TYPE_FIELD) in _RESERVED_TYPES:
        raise ValueError(f"{what} has the reserved type {fact[_TYPE_FIELD]!r}")
    if "id" not in fact:
        return None
    fid = fact["id"]
    if isinstance(fid, bool) or not isinstance(fid, (str, int)):
        raise ValueError(f"{what} has an id of type {type(fid).__name__}; use a string")
    if isinstance(fid, str) and (not fid or fid.startswith("$")):
        raise ValueError(f"{what} has the id {fid!r}; ids must not be empty or start with '$'")
    return fid


def _is_runner_id(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$")


def _binding(fact: dict[str, Any]) -> dict[str, Any]:
    fact.pop("sid", None)
    fact.pop(_GUARD_FIELD, None)
    if _is_runner_id(fact.get("id")):
        del fact["id"]
    return fact


def _error_of(what: str, exc: BaseException) -> str:
    return f"durable-rules could not assert {what} ({_describe(exc)})"


@dataclass(slots=True)
class _Round:
    firings: dict[tuple[str, str], Firing]
    failures: set[tuple[str, str]]
    produced: dict[str, str]  # content key of each derived fact -> rule that produced it
    present: set[str]  # content keys of the derived facts in the session
    changed: bool = False  # a new derived fact was asserted during the round

    def result(self, *, unsettled: Mapping[str, str] | None = None) -> SessionResult:
        """The round's outcome; ``unsettled`` is the previous round's ``produced`` if the
        derived facts never reached a fixed point."""
        failures = set(self.failures)
        if unsettled is not None:
            moving = {self.produced[k] for k in self.produced.keys() - unsettled.keys()}
            moving |= {unsettled[k] for k in unsettled.keys() - self.produced.keys()}
            moving = moving or {*self.produced.values(), *unsettled.values()}
            failures |= {
                (
                    rule,
                    f"RuntimeError: derived facts did not settle after {_MAX_ROUNDS} "
                    "rounds; derivations contradict each other through a negation",
                )
                for rule in moving
            }
        return SessionResult(
            firings=tuple(self.firings[key] for key in sorted(self.firings)),
            failures=tuple(ActionFailure(rule=r, error=e) for r, e in sorted(failures)),
        )


def _with_sid(body: str, sid: str) -> str:
    """A fact's JSON (``body``, serialised once) with the session id spliced in."""
    return f'{{"sid": "{sid}", {body[1:]}'


class _Run:
    """One :meth:`DurableRunner.run`: one session per round until derived facts settle.

    Each round is a fresh durable session (its own sid from the runner's counter) that
    receives the input facts, then the derived facts of the previous round, then the
    sentinels; it is deleted when the round ends, whatever happens. Rounds never retract
    anything: durable reads uninitialised memory when it deletes a fact from a partial
    match (``deleteMessageFromFrame``, found with valgrind).
    """

    def __init__(self, runner: DurableRunner) -> None:
        self._runner = runner
        self._handle = runner._handle
        self._on_fire = runner._on_fire
        self._owners = runner._owners
        self._base: list[tuple[str, str]] = []  # (description, body) of each input fact
        self._base_ids: set[str] = set()
        self._bodies: dict[str, str] = {}  # content key -> body of each derived fact
        self._id_content: dict[str, str] = {}  # str(id) -> content key, explicit derived ids

    def prepare(self, facts: Sequence[Mapping[str, Any]]) -> None:
        """Validate and serialise the input facts; raises ValueError naming a bad one."""
        given: object = facts  # callers without type checking pass anything
        if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
            raise ValueError(f"facts must be a sequence of mappings, not {type(given).__name__}")
        first: dict[str, int] = {}
        for index, fact in enumerate(facts):
            fid = _check_fact(fact, f"fact {index}")
            if fid is None:
                fid = f"$f{index}"
            elif str(fid) in first:
                raise ValueError(
                    f"facts {first[str(fid)]} and {index} have the same id {fid!r}; "
                    "every fact needs its own id"
                )
            first[str(fid)] = index
            what = f"fact {index} (id {fid!r})"
            try:
                self._base.append((what, _dumps({**fact, "id": fid, _GUARD_FIELD: 0})))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{what} is not JSON: {exc}") from exc
        self._base_ids = set(first)

    def evaluate(self) -> SessionResult:
        derived: dict[str, str] = {}  # content key -> rule, asserted before the sentinels
        for round_no in range(_MAX_ROUNDS):
            current = self._round(derived)
            settled = not current.changed and derived.keys() <= current.produced.keys()
            if not self._runner._negation or settled:
                return current.result()
            if round_no + 1 < _MAX_ROUNDS:
                derived = current.produced
        return current.result(unsettled=derived)

    def _round(self, derived: Mapping[str, str]) -> _Round:
        sid = str(next(self._runner._sids))
        self._runner._last_sid = sid
        deletable = False  # an action has started: delete_state cannot crash any more
        try:
            deletable = self._begin(sid)
            for what, body in self._base:
                self._assert(_with_sid(body, sid), what, ValueError)
            for key in derived:
                self._assert(_with_sid(self._bodies[key], sid), "a derived fact", RuntimeError)
            current = _Round(firings={}, failures=set(), produced={}, present=set(derived))
            for group in range(self._runner._groups):
                sentinel = {
                    _TYPE_FIELD: _END_TYPE,
                    "g": group,
                    "id": f"$end{group}",
                    _GUARD_FIELD: 0,
                }
                state = self._assert(_with_sid(_dumps(sentinel), sid), "a sentinel", RuntimeError)
                result = _dre.start_action_for_state(self._handle, state)
                messages = None if result is None else result[1]
                while messages is not None:
                    for internal, match in json.loads(messages).items():
                        self._fire(current, sid, self._owners[internal], match)
                    messages = _dre.complete_and_start_action(self._handle, state)
            return current
        except _dre.error as exc:
            raise RuntimeError(
                f"durable-rules failed during the session ({_describe(exc)})"
            ) from None
        finally:
            if deletable:
                _dre.delete_state(self._handle, sid)

    def _begin(self, sid: str) -> bool:
        """Start and finish the $begin action; True once an action has started."""
        begin = _dumps({_TYPE_FIELD: _BEGIN_TYPE, "id": "$begin", "sid": sid})
        _, state = _dre.assert_fact(self._handle, begin)
        if _dre.start_action_for_state(self._handle, state) is None:
            return False  # pragma: no cover - the $begin rule always matches
        while _dre.complete_and_start_action(self._handle, state) is not None:
            pass  # pragma: no cover - only the $begin rule can match here
        return True

    def _assert(self, text: str, what: str, error: type[Exception]) -> int:
        """Assert one fact; returns durable's state handle. ``error`` reports a refusal."""
        try:
            code, state = _dre.assert_fact(self._handle, text)
        except _dre.error as exc:
            raise error(_error_of(what, exc)) from None
        if code == 2:  # a 32-bit id hash collision: durable dropped the fact
            raise RuntimeError(f"durable-rules took {what} for an earlier fact; change its id")
        return int(state)

    def _fire(self, current: _Round, sid: str, rule: str, match: dict[str, Any]) -> None:
        match.pop(_END_ALIAS, None)
        bindings = {alias: _binding(fact) for alias, fact in match.items()}
        key = (rule, _dumps(bindings, sort_keys=True))
        if key in current.firings:
            return  # identical facts under different ids: one firing, one on_fire call
        firing = Firing(rule=rule, bindings=bindings)
        current.firings[key] = firing
        try:
            derived = self._validated(self._on_fire(firing))
        except Exception as exc:  # noqa: BLE001 - any error of the callback is reported
            current.failures.add((rule, _failure_text(exc)))
            return
        for content in derived:
            current.produced.setdefault(content, rule)
            if content in current.present:
                continue
            current.present.add(content)
            try:
                code, _ = _dre.assert_fact(self._handle, _with_sid(self._bodies[content], sid))
            except _dre.error as exc:
                current.failures.add((rule, f"ValueError: {_error_of('a derived fact', exc)}"))
                continue
            if code == 2:
                raise RuntimeError("durable-rules took a derived fact for an earlier fact")
            # code 1: no pattern (not even a $not) takes the fact, so it changes nothing
            current.changed |= code == 0

    def _validated(self, returned: object) -> list[str]:
        """Content keys of the derived facts; raises for the firing's failure."""
        if returned is None:
            return []
        if isinstance(returned, (str, bytes, Mapping)) or not isinstance(returned, Iterable):
            raise TypeError(
                f"on_fire must return an iterable of facts, not {type(returned).__name__}"
            )
        out = []
        for number, fact in enumerate(returned):
            what = f"derived fact {number}"
            fid = _check_fact(fact, what)
            try:
                content = _dumps(fact, sort_keys=True)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{what} is not JSON: {exc}") from exc
            if fid is not None:
                if str(fid) in self._base_ids:
                    raise ValueError(f"{what} reuses the id {fid!r} of an input fact")
                if self._id_content.setdefault(str(fid), content) != content:
                    raise ValueError(f"{what} reuses the id {fid!r} of a different derived fact")
            if content not in self._bodies:
                assigned = f"$d{len(self._bodies)}" if fid is None else fid
                self._bodies[content] = _dumps({**fact, "id": assigned, _GUARD_FIELD: 0})
            out.append(content)
        return out


# --------------------------------------------------------------------------- the runner


class DurableRunner:
    """A durable-rules rule set, evaluated per engagement in a fresh session.

    ``rules`` maps rule names to durable JSON bodies ``{"all": [{alias: EXPR}, ...],
    "pri": int}`` (``pri`` optional) without ``run`` and without the sentinel; the runner
    adds both. The bodies are validated and registered once, in ``__init__``; the caller's
    dicts are never modified. ``on_fire`` is called for each firing and returns derived
    facts to assert (or nothing). Call :meth:`close` (or use ``with``) to free the
    rule set early; otherwise it is freed when the runner is garbage-collected.
    """

    def __init__(self, name: str, rules: Mapping[str, Mapping[str, Any]], on_fire: OnFire) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"the rule set name must be a non-empty string, not {name!r}")
        if not callable(on_fire):
            raise TypeError("on_fire must be callable")
        if not isinstance(rules, Mapping):
            raise TypeError(f"rules must be a mapping, not {type(rules).__name__}")
        negation = False
        texts: dict[str, str] = {}
        owners: dict[str, str] = {}  # durable rule name -> caller rule name
        for rule, body in rules.items():
            variants, negates = _compile_rule(rule, body)
            negation |= negates
            for number, compiled in enumerate(variants):
                internal = rule if len(variants) == 1 else f"$v{number}:{rule}"
                owners[internal] = rule
                group = len(texts) // _RULES_PER_SENTINEL
                texts[internal] = _rule_text(rule, internal, compiled, group)
        if len(texts) > _MAX_RULES:
            raise ValueError(
                f"rule set {name!r} has {len(texts)} rules (after splitting); durable-rules "
                f"handles at most {_MAX_RULES} in one rule set, so split them over several "
                "runners"
            )
        self.name: Final = name
        self.rule_names: Final = tuple(rules)
        self._on_fire = on_fire
        self._negation = negation
        self._owners = owners
        self._groups = max(1, -(-len(texts) // _RULES_PER_SENTINEL))
        self._handle = _create_ruleset(name, texts, owners)
        self._free = weakref.finalize(self, _dre.delete_ruleset, self._handle)
        self._sids = itertools.count(1)
        self._busy = False
        self._last_sid: str | None = None  # for tests: the session of the latest run

    def run(self, facts: Sequence[Mapping[str, Any]]) -> SessionResult:
        """Evaluate one engagement in fresh sessions, all deleted before returning.

        Raises ValueError for facts the runner or durable refuses (naming the fact), and
        RuntimeError for a closed runner, a concurrent or re-entrant call, or a durable
        failure during evaluation (such as error 303, too many conditions for one fact).
        """
        if not self._free.alive:
            raise RuntimeError(f"runner {self.name!r} is closed")
        if self._busy:
            raise RuntimeError(
                f"runner {self.name!r} is already running a session; a runner serves one "
                "thread and on_fire must not call run()"
            )
        self._busy = True
        try:
            run = _Run(self)
            run.prepare(facts)
            return run.evaluate()
        finally:
            self._busy = False

    def close(self) -> None:
        """Free the durable rule set; later calls of :meth:`run` raise RuntimeError."""
        self._free()

    def __enter__(self) -> DurableRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DurableRunner({self.name!r}, {len(self.rule_names)} rules)"
