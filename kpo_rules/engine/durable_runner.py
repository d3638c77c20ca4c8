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

* **Negation independent of fact order** (section 2). Every rule with a ``$not`` gets a
  first pattern on a sentinel fact (type ``$end``) that is asserted only once every fact
  its negation reads is in the session, so a ``$not`` is decided on complete data. Such
  rules are split into groups of :data:`_RULES_PER_SENTINEL`, one sentinel fact per
  group, because durable rejects a rule set in which more than 256 rules share one
  pattern (error code 108). Rules without ``$not`` need no sentinel: positive matching
  does not depend on the order facts arrive in.
* **Forward chaining with negation over derived facts, in strata.** ``on_fire`` returns
  facts, which are asserted into the session at once so other rules can match them.
  durable never withdraws an activation whose ``$not`` a later fact would block, so a
  ``$not`` over a derived fact type must wait until every rule that can derive that type
  has fired. With ``derives`` (the fact types each rule's ``on_fire`` may return), the
  runner orders the rules into stages like stratified negation in Datalog
  (:func:`_stages`): a rule with a ``$not`` waits for the sentinel of a stage after every
  stage that can still add a fact it negates, and each stage's sentinel is asserted once
  the session has no pending action left. One session, one pass, still independent of
  fact order. Without ``derives``, when negation depends on its own derivations (a cycle
  through negation: :attr:`DurableRunner.negation_cycle`), or when ``on_fire`` returns a
  fact type its rule did not declare, the engagement is evaluated in rounds instead: a
  fresh session per round receives the previous round's derived facts before the
  sentinels, until a round derives nothing new and nothing stale (a fixed point); the
  result is that round, whose firings all saw the same, complete facts. ``on_fire`` may
  therefore be called more than once for the same firing and must be a pure function of
  it.
* **Facts in one batch, fact types in O(1).** The input facts go to durable in one
  ``assert_facts`` call, ended by an internal ``$last`` fact whose firing proves durable
  read the whole batch (it silently stops a batch at a fact it cannot read; the runner
  then asserts the facts one by one to name it). An internal rule takes every fact, so
  the batch's status code can only mean an id-hash collision, which is named. A pattern's
  ``{"t": X}`` becomes a test for a marker field ``kpo$t$X`` that every fact of type X
  carries: durable's alpha network compares ``t`` with every type of the rule set for
  every fact, but looks at a field only in the facts that have it.
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

Reserved names: fact fields ``sid`` (the session) and every field starting with ``kpo$``
(``kpo$g`` is read by the padding, ``kpo$t$<type>`` marks the type); ``t`` values
``$end``, ``$begin``, ``$last`` and ``$never`` (the runner's own facts); ids and rule names
starting with ``$``; the aliases ``end$`` and ``begin$``.

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

    ``bindings`` maps each positive alias of the rule to the fact it matched: a plain
    dict equal to the fact as the caller (or ``on_fire``) gave it, copied (shallowly) for
    each run, so firings of one run share it. The sentinel is left out, and so are the
    runner's own fields and ids. Treat them as read-only: ``on_fire`` receives the same
    objects.
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
    failures are in ``failures``. Both are sorted: firings by rule, then by the facts
    bound to each alias in alias order (by id; by their JSON for facts without an id, which
    come after those with one); failures by rule, then error.
    """

    firings: tuple[Firing, ...]
    failures: tuple[ActionFailure, ...]


#: Called once per distinct firing (and evaluation round); returns derived facts to assert.
OnFire = Callable[[Firing], Iterable[Mapping[str, Any]]]

_TYPE_FIELD: Final = "t"
_END_TYPE: Final = "$end"
_BEGIN_TYPE: Final = "$begin"
_END_ALIAS: Final = "end$"
_BEGIN_ALIAS: Final = "begin$"
_BEGIN_RULE: Final = "$begin"
_NEVER_TYPE: Final = "$never"
_LAST_TYPE: Final = "$last"
_RESERVED_TYPES: Final = frozenset({_END_TYPE, _BEGIN_TYPE, _NEVER_TYPE, _LAST_TYPE})
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
#: Fields starting with this are the runner's own (the guard and the type markers).
_RESERVED_PREFIX: Final = "kpo$"
#: Hidden field of every asserted fact, compared by the always-true padding condition.
_GUARD_FIELD: Final = "kpo$g"


def _padding(alias: str) -> dict[str, Any]:
    """An always-true group that compares the guard field with that of an earlier alias."""
    guard = {"$gte": {_GUARD_FIELD: {alias: _GUARD_FIELD}}}
    return {"$and": [guard, guard]}


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


#: Prefix of the hidden field that marks a fact's type (``kpo$t$service: 1``).
_MARK: Final = "kpo$t$"


def _marker(fact_type: Any) -> str | None:
    """The marker field of a fact type, if it can have one (a dotted name would be read
    as a path into a nested object)."""
    found = _MARKERS.get(fact_type) if type(fact_type) is str else None
    if found is not None:
        return found
    if isinstance(fact_type, str) and fact_type and "." not in fact_type:
        found = _MARK + str(fact_type)
        if len(_MARKERS) < _MAX_MARKERS:
            _MARKERS[str(fact_type)] = found
        return found
    return None


_MARKERS: dict[str, str] = {}
_MAX_MARKERS: Final = 4096  # the cache of markers stays this small


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


def _negates(patterns: list[_Pattern]) -> bool:
    return any(p.negated or (p.group is not None and _negates(p.group)) for p in patterns)


def _union(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """Union of two sets of fact types, where ``None`` means any type."""
    return None if a is None or b is None else a | b


def _read_types(
    patterns: list[_Pattern],
) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """Fact types the positive and the negated patterns read (``None``: any type)."""
    positive: frozenset[str] | None = frozenset()
    negative: frozenset[str] | None = frozenset()
    for p in patterns:
        if p.group is not None:
            inner_positive, inner_negative = _read_types(p.group)
            positive = _union(positive, inner_positive)
            negative = _union(negative, inner_negative)
            continue
        read = None if p.fact_type is None else frozenset({p.fact_type})
        if p.negated:
            negative = _union(negative, read)
        else:
            positive = _union(positive, read)
    return positive, negative


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


@dataclass(frozen=True, slots=True)
class _RuleInfo:
    """A validated caller rule: its durable variants and the fact types it reads."""

    variants: list[dict[str, Any]]  # without the sentinel
    negates: bool  # some pattern is a $not
    positive: frozenset[str] | None  # types its positive patterns read (None: any)
    negative: frozenset[str] | None  # types its $not patterns read (None: any)


def _compile_rule(rule: Any, body: Any) -> _RuleInfo:
    """Validated variants of one caller rule body (without the sentinel), with the fact
    types the rule reads."""
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
    positive, negative = _read_types(patterns)
    return _RuleInfo(
        variants=variants, negates=_negates(patterns), positive=positive, negative=negative
    )


def _declared(
    rules: Mapping[str, Any], derives: Mapping[str, Iterable[str]] | None
) -> dict[str, frozenset[str] | None]:
    """Fact types each rule's ``on_fire`` may return (``None``: any); rules left out of
    ``derives`` derive nothing. Without ``derives`` every rule may derive anything."""
    if derives is None:
        return dict.fromkeys(rules)
    if not isinstance(derives, Mapping):
        raise TypeError(f"derives must be a mapping, not {type(derives).__name__}")
    out: dict[str, frozenset[str] | None] = {}
    for rule, types in derives.items():
        if rule not in rules:
            raise ValueError(f"derives names {rule!r}, which is not a rule of the set")
        if isinstance(types, (str, bytes)) or not isinstance(types, Iterable):
            raise ValueError(f"derives[{rule!r}] must be a collection of fact types")
        declared = frozenset(types)
        if not all(isinstance(t, str) for t in declared):
            raise ValueError(f"derives[{rule!r}] must hold fact types (strings)")
        if declared:
            out[rule] = declared
    return out


def _producers(
    declared: Mapping[str, frozenset[str] | None],
) -> Callable[[frozenset[str] | None], list[str]]:
    """A function giving the rules that may derive facts of some types (``None``: any)."""
    by_type: dict[str, list[str]] = {}
    anything: list[str] = []  # rules that may derive any type
    for rule, types in declared.items():
        if types is None:
            anything.append(rule)
        else:
            for fact_type in types:
                by_type.setdefault(fact_type, []).append(rule)

    def producers(types: frozenset[str] | None) -> list[str]:
        if types is None:
            return list(declared)
        return [*anything, *(r for t in sorted(types) for r in by_type.get(t, ()))]

    return producers


def _negation_cycle(
    infos: Mapping[str, _RuleInfo], declared: Mapping[str, frozenset[str] | None]
) -> tuple[str, ...]:
    """The deriving rules whose negation depends, directly or through other derivations,
    on their own derived facts (strongly connected with a ``$not`` inside: no stage can be
    late enough for them)."""
    producers = _producers(declared)
    reads: dict[str, list[tuple[str, bool]]] = {}  # rule -> (rule it reads, through $not)
    for rule in declared:
        info = infos[rule]
        edges = [(p, False) for p in producers(info.positive)]
        if info.negates:
            edges += [(p, True) for p in producers(info.negative)]
        reads[rule] = edges
    # Tarjan's strongly connected components, iteratively.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycle: set[str] = set()
    for root in reads:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            edges = reads[node]
            if position < len(edges):
                work.append((node, position + 1))
                target = edges[position][0]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                members = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.add(member)
                    if member == node:
                        break
                if any(
                    negated and target in members
                    for member in members
                    for target, negated in reads[member]
                ):
                    cycle |= members
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return tuple(sorted(cycle))


def _stages(
    infos: Mapping[str, _RuleInfo], declared: Mapping[str, frozenset[str] | None]
) -> dict[str, int]:
    """Stratified negation: the evaluation stage of every rule with a ``$not``.

    Stage ``s`` begins once every fact of the stages before it is in the session; a rule
    with a ``$not`` waits for its stage's sentinel, so it is placed after every stage that
    can still produce a fact type it negates. A derivation's facts are complete at the end
    of the latest of its own stage and the stages its positive inputs complete in; base
    facts are complete before stage 0. Call it only without a :func:`_negation_cycle`.
    """
    producers = _producers(declared)
    done = dict.fromkeys(declared, 0)  # stage at whose end the rule's facts are complete

    def complete(types: frozenset[str] | None) -> int:
        """Stage at whose end every fact of ``types`` is in (-1: base facts only)."""
        return max((done[r] for r in producers(types)), default=-1)

    stage: dict[str, int] = {}
    for _ in range(len(declared) + 2):  # a longest path, one step per pass at least
        changed = False
        for rule, info in infos.items():
            own = 0
            if info.negates:
                own = stage[rule] = complete(info.negative) + 1
            if rule in declared:
                finished = max(own, complete(info.positive), 0)
                if finished != done[rule]:
                    done[rule] = finished
                    changed = True
        if not changed:
            return stage
    raise AssertionError("stages do not settle without a cycle")  # pragma: no cover


def _sentinel_pattern(group: int) -> dict[str, Any]:
    return {_END_ALIAS: {"$and": [{"$ex": {_MARK + _END_TYPE: 1}}, {"g": group}]}}


_BEGIN_BODY: Final = {"all": [{_BEGIN_ALIAS: {"$ex": {_MARK + _BEGIN_TYPE: 1}}}]}
#: Every asserted fact reaches the second pattern of this rule, which never fires: durable
#: then reports "not handled" for no fact, so a batch's status code can only mean an id
#: collision (code 2).
_ALL_RULE: Final = "$all"
_ALL_BODY: Final = {
    "all": [{"never$": {"$ex": {_MARK + _NEVER_TYPE: 1}}}, {"every$": {_GUARD_FIELD: 0}}]
}


#: The last fact of every batch: its firing shows that durable read the whole batch
#: (durable silently stops a batch at a fact it cannot read, such as one with more than
#: 254 fields).
_LAST_RULE: Final = "$last"
_LAST_BODY: Final = {"all": [{"last$": {"$ex": {_MARK + _LAST_TYPE: 1}}}]}


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
    begin = f"{_dumps(_BEGIN_RULE)}: {_dumps(_BEGIN_BODY)}"
    every = f"{_dumps(_ALL_RULE)}: {_dumps(_ALL_BODY)}"
    last = f"{_dumps(_LAST_RULE)}: {_dumps(_LAST_BODY)}"
    return "{" + ", ".join([begin, every, last, *rule_texts]) + "}"


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


def _error_of(what: str, exc: BaseException) -> str:
    return f"durable-rules could not assert {what} ({_describe(exc)})"


def _fnv1a(text: str) -> int:
    """durable's 32-bit FNV-1a hash of a message id (``fnv1Hash32``, signed chars)."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ (byte | 0xFFFFFF00 if byte > 0x7F else byte)) * 0x01000193) & 0xFFFFFFFF
    return value


class _Fact:
    """A fact of the run, as the caller (or ``on_fire``) gave it."""

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


class _Unstratified(Exception):
    """A derivation returned a fact type it did not declare: evaluate in rounds instead."""


_FiringKey = tuple[str, tuple[tuple[str, tuple[int, str]], ...]]


@dataclass(slots=True)
class _Round:
    firings: dict[_FiringKey, Firing]
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


class _Run:
    """One :meth:`DurableRunner.run`.

    Stratified (the usual case): one session receives the input facts in one batch, then
    the sentinel of each stage; derived facts are asserted as they are derived. Otherwise
    (a cycle through negation, or derivations that did not declare their fact types) one
    session per round until the derived facts settle: each round receives the input
    facts, then the derived facts of the previous round, then the sentinels. Sessions are
    deleted when they end, whatever happens. Nothing is ever retracted: durable reads
    uninitialised memory when it deletes a fact from a partial match
    (``deleteMessageFromFrame``, found with valgrind).
    """

    def __init__(self, runner: DurableRunner) -> None:
        self._runner = runner
        self._handle = runner._handle
        self._on_fire = runner._on_fire
        self._owners = runner._owners
        self._declared = runner._declared
        self._base: list[dict[str, Any]] = []  # each input fact as asserted (sid per round)
        self._given: dict[str, Mapping[str, Any]] = {}  # str(durable id) -> input fact
        self._facts: dict[str, _Fact] = {}  # str(durable id) -> bound or derived fact
        self._derived: dict[str, str] = {}  # content key -> its JSON after the sid
        self._derived_ids: dict[str, str] = {}  # str(id) -> content key, explicit ids
        self._current = _Round(firings={}, failures=set(), produced={}, present=set())
        # With negation in strata, a derived fact must have a type its rule declared.
        self._check_types = runner.stratified and runner._negation
        self._head = ""  # '{"sid": "N"' of the current session
        self._sid = ""  # id of the next session
        self._batch: str | None = None  # its input facts, encoded
        self._complete = False  # the $last fact of the batch fired

    def prepare(self, facts: Sequence[Mapping[str, Any]]) -> None:
        """Validate the input facts; raises ValueError naming a bad one."""
        given: object = facts  # callers without type checking pass anything
        if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
            raise ValueError(f"facts must be a sequence of mappings, not {type(given).__name__}")
        known = self._given
        base = self._base
        markers = _MARKERS
        for index, fact in enumerate(facts):
            problem = _fact_problem(fact)
            if problem is not None:
                raise ValueError(f"fact {index} {problem}")
            fid = fact.get("id")
            if fid is None:
                fid = f"$f{index}"
            key = fid if type(fid) is str else str(fid)
            if key in known:
                first = next(i for i, b in enumerate(base) if str(b["id"]) == key)
                raise ValueError(
                    f"facts {first} and {index} have the same id {fid!r}; "
                    "every fact needs its own id"
                )
            known[key] = fact
            body = {**fact, "id": fid, _GUARD_FIELD: 0, "sid": ""}
            kind = fact.get(_TYPE_FIELD)
            marker = markers.get(kind) if type(kind) is str else None
            if marker is None:
                marker = _marker(kind)
            if marker is not None:
                body[marker] = 1
            base.append(body)
        try:
            self._batch = self._encode_batch(self._next_sid())
        except (TypeError, ValueError, RecursionError):
            for index, body in enumerate(base):
                try:
                    _encode(body)
                except (TypeError, ValueError, RecursionError) as exc:
                    raise ValueError(f"{self._describe(index)} is not JSON: {exc}") from exc
            raise  # pragma: no cover - the list fails only through one of its facts

    def _next_sid(self) -> str:
        self._sid = str(next(self._runner._sids))
        return self._sid

    def _encode_batch(self, sid: str) -> str:
        """The input facts of session ``sid`` as one JSON array, ended by the $last fact."""
        for body in self._base:
            body["sid"] = sid
        last = {"sid": sid, _TYPE_FIELD: _LAST_TYPE, _MARK + _LAST_TYPE: 1, "id": "$last"}
        return _encode([*self._base, last])

    def _describe(self, index: int) -> str:
        return f"fact {index} (id {self._base[index]['id']!r})"

    def evaluate(self) -> SessionResult:
        if self._runner.stratified:
            try:
                return self._round({}).result()
            except _Unstratified:
                self._check_types = False  # a derivation returned an undeclared type
        derived: dict[str, str] = {}  # content key -> rule, asserted before the sentinels
        for round_no in range(_MAX_ROUNDS):
            current = self._round(derived)
            settled = not current.changed and derived.keys() <= current.produced.keys()
            if settled:
                return current.result()
            if round_no + 1 < _MAX_ROUNDS:
                derived = current.produced
        return current.result(unsettled=derived)

    def _round(self, derived: Mapping[str, str]) -> _Round:
        runner = self._runner
        sid = self._sid  # the first round's session id comes from prepare()
        if self._batch is None:
            sid = self._next_sid()
            self._batch = self._encode_batch(sid)
        runner._last_sid = sid
        self._head = f'{{"sid": {_encode(sid)}'
        current = self._current = _Round(
            firings={}, failures=set(), produced={}, present=set(derived)
        )
        for record in self._facts.values():
            record.binding = None  # each round's firings get fresh bindings
        deletable = False  # an action has started: delete_state cannot crash any more
        try:
            state = self._begin(sid)
            deletable = True
            self._assert_base(sid, self._batch)
            self._batch = None  # the next round is another session
            for key in derived:
                self._assert(self._head + self._derived[key], "a derived fact", RuntimeError)
            self._drain(state)
            if not self._complete:
                self._name_refused()
                raise RuntimeError("durable-rules did not read every fact")  # pragma: no cover
            for group in range(runner._groups):
                sentinel = {
                    "sid": sid,
                    _TYPE_FIELD: _END_TYPE,
                    _MARK + _END_TYPE: 1,
                    "g": group,
                    "id": f"$end{group}",
                    _GUARD_FIELD: 0,
                }
                self._assert(_encode(sentinel), "a sentinel", RuntimeError)
                self._drain(state)
            return current
        except _dre.error as exc:
            raise RuntimeError(
                f"durable-rules failed during the session ({_describe(exc)})"
            ) from None
        finally:
            if deletable:
                _dre.delete_state(self._handle, sid)

    def _begin(self, sid: str) -> int:
        """Start and finish the $begin action; returns the session's state handle."""
        begin = _encode(
            {_TYPE_FIELD: _BEGIN_TYPE, _MARK + _BEGIN_TYPE: 1, "id": "$begin", "sid": sid}
        )
        _, state = _dre.assert_fact(self._handle, begin)
        if _dre.start_action_for_state(self._handle, state) is None:  # pragma: no cover
            raise RuntimeError("durable-rules started no action for the session")
        while _dre.complete_and_start_action(self._handle, state) is not None:
            pass  # pragma: no cover - only the $begin rule can match here
        return int(state)

    def _assert_base(self, sid: str, batch: str) -> None:
        """Assert the input facts in one batch (see :meth:`_encode_batch`)."""
        self._complete = False
        try:
            code, _ = _dre.assert_facts(self._handle, batch)
        except _dre.error:
            self._name_refused()
            raise
        if code != 0:  # only an id whose 32-bit hash another fact's id has (see _ALL_BODY)
            raise RuntimeError(self._collision(sid))

    def _collision(self, sid: str) -> str:
        """Which input fact's id durable took for an earlier one (same 32-bit hash)."""
        seen = {_fnv1a(f"sid-{sid}"): "", _fnv1a("$begin"): ""}  # the session's own ids
        for index, body in enumerate(self._base):
            digest = _fnv1a(str(body["id"]))
            what = self._describe(index)
            if digest in seen:
                return f"durable-rules took {what} for an earlier fact; change its id"
            seen[digest] = what
        clash = seen.get(_fnv1a("$last"))
        if clash:  # the batch's own last fact was dropped
            return f"the id of {clash} clashes with the runner's own; change its id"
        return "durable-rules refused the facts (an id collision)"  # pragma: no cover

    def _name_refused(self) -> None:
        """Raise ValueError naming the input fact durable refuses.

        durable stops a batch at that fact, so the facts are asserted again one by one
        (the ones already in the session are merely "observed" again).
        """
        for index, body in enumerate(self._base):
            try:
                _dre.assert_fact(self._handle, _encode(body))
            except _dre.error as exc:
                raise ValueError(_error_of(self._describe(index), exc)) from None

    def _assert(self, text: str, what: str, error: type[Exception]) -> None:
        """Assert one fact. ``error`` reports a refusal."""
        try:
            code, _ = _dre.assert_fact(self._handle, text)
        except _dre.error as exc:
            raise error(_error_of(what, exc)) from None
        if code == 2:  # a 32-bit id hash collision: durable dropped the fact
            raise RuntimeError(f"durable-rules took {what} for an earlier fact; change its id")

    def _drain(self, state: int) -> None:
        """Run every pending action of the session (each firing may assert more facts)."""
        handle = self._handle
        owners = self._owners
        result = _dre.start_action_for_state(handle, state)
        messages = None if result is None else result[1]
        while messages is not None:
            for internal, match in _loads(messages).items():
                if internal == _LAST_RULE:
                    self._complete = True
                else:
                    self._fire(owners[internal], match)
            messages = _dre.complete_and_start_action(handle, state)

    def _record(self, key: str) -> _Fact:
        """The fact a match bound, by its durable id (input facts are recorded lazily)."""
        source = self._given[key]
        record = self._facts[key] = _Fact(source, (0, key) if "id" in source else None)
        return record

    def _fire(self, rule: str, match: dict[str, Any]) -> None:
        current = self._current
        facts = self._facts
        match.pop(_END_ALIAS, None)
        bound: list[tuple[str, _Fact]] = []
        for alias, fact in match.items():
            key = fact["id"]
            if type(key) is not str:
                key = str(key)
            record = facts.get(key)
            bound.append((alias, self._record(key) if record is None else record))
        if len(bound) > 1:
            bound.sort(key=_first)
        firing_key = (
            rule,
            tuple([(alias, record.key or record.order()) for alias, record in bound]),
        )
        if firing_key in current.firings:
            return  # identical facts under different ids: one firing, one on_fire call
        bindings = {}
        for alias, record in bound:
            binding = record.binding
            if binding is None:
                binding = record.binding = dict(record.source)
            bindings[alias] = binding
        firing = Firing(rule=rule, bindings=bindings)
        current.firings[firing_key] = firing
        try:
            returned = self._on_fire(firing)
            derived = self._validated(rule, returned)
        except _Unstratified:
            raise
        except Exception as exc:  # noqa: BLE001 - any error of the callback is reported
            current.failures.add((rule, _failure_text(exc)))
            return
        for content in derived:
            current.produced.setdefault(content, rule)
            if content in current.present:
                continue
            current.present.add(content)
            try:
                code, _ = _dre.assert_fact(self._handle, self._head + self._derived[content])
            except _dre.error as exc:
                current.failures.add((rule, f"ValueError: {_error_of('a derived fact', exc)}"))
                continue
            if code == 2:
                raise RuntimeError("durable-rules took a derived fact for an earlier fact")
            current.changed = True

    def _validated(self, rule: str, returned: object) -> list[str]:
        """Content keys of the derived facts; raises for the firing's failure."""
        if returned is None or (type(returned) is tuple and not returned):
            return []
        if type(returned) not in (tuple, list) and (
            isinstance(returned, (str, bytes, Mapping)) or not isinstance(returned, Iterable)
        ):
            raise TypeError(
                f"on_fire must return an iterable of facts, not {type(returned).__name__}"
            )
        out = []
        facts: Iterable[Any] = returned  # type: ignore[assignment]
        for number, fact in enumerate(facts):
            problem = _fact_problem(fact)
            if problem is not None:
                raise ValueError(f"derived fact {number} {problem}")
            if self._check_types:
                types = self._declared.get(rule, frozenset())
                if types is not None:
                    fact_type = fact.get(_TYPE_FIELD)
                    if not isinstance(fact_type, str) or fact_type not in types:
                        raise _Unstratified
            try:
                content = _encode_sorted(fact)
            except (TypeError, ValueError, RecursionError) as exc:
                raise ValueError(f"derived fact {number} is not JSON: {exc}") from exc
            if content not in self._derived:
                self._register(number, fact, content)
            out.append(content)
        return out

    def _register(self, number: int, fact: Mapping[str, Any], content: str) -> None:
        """Record a new distinct derived fact; raises for an id that clashes."""
        fid = fact.get("id")
        rest = f", {content[1:]}" if content != "{}" else "}"
        marker = _marker(fact.get(_TYPE_FIELD))
        if marker is not None:
            rest = f', "{marker}": 1{rest}'

        if fid is not None:
            key = str(fid)
            if key in self._given:
                raise ValueError(f"derived fact {number} reuses the id {fid!r} of an input fact")
            if self._derived_ids.setdefault(key, content) != content:
                raise ValueError(
                    f"derived fact {number} reuses the id {fid!r} of a different derived fact"
                )
            tail = f', "{_GUARD_FIELD}": 0{rest}'
            record = _Fact(fact, (0, key))
        else:
            key = f"$d{len(self._derived)}"
            tail = f', "{_GUARD_FIELD}": 0, "id": "{key}"{rest}'
            record = _Fact(fact, (1, content))
        self._facts[key] = record
        self._derived[content] = tail


def _first(pair: tuple[str, _Fact]) -> str:
    return pair[0]


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


# --------------------------------------------------------------------------- the runner


class DurableRunner:
    """A durable-rules rule set, evaluated per engagement in a fresh session.

    ``rules`` maps rule names to durable JSON bodies ``{"all": [{alias: EXPR}, ...],
    "pri": int}`` (``pri`` optional) without ``run`` and without the sentinel; the runner
    adds both. The bodies are validated and registered once, in ``__init__``; the caller's
    dicts are never modified. ``on_fire`` is called for each firing and returns derived
    facts to assert (or nothing).

    ``derives`` declares the fact types (``t``) each rule's ``on_fire`` may return; rules
    it leaves out derive nothing. With it, negation over derived facts is evaluated in
    strata (see :func:`_stages`) in one pass; without it, or when a negation depends on
    its own derivation (:attr:`negation_cycle`), the runner evaluates in rounds until the
    derived facts settle. A rule set without ``$not`` is always one pass.

    Call :meth:`close` (or use ``with``) to free the rule set early; otherwise it is freed
    when the runner is garbage-collected.
    """

    def __init__(
        self,
        name: str,
        rules: Mapping[str, Mapping[str, Any]],
        on_fire: OnFire,
        *,
        derives: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"the rule set name must be a non-empty string, not {name!r}")
        if not callable(on_fire):
            raise TypeError("on_fire must be callable")
        if not isinstance(rules, Mapping):
            raise TypeError(f"rules must be a mapping, not {type(rules).__name__}")
        infos = {rule: _compile_rule(rule, body) for rule, body in rules.items()}
        declared = _declared(rules, derives)
        negation = any(info.negates for info in infos.values())
        stages: dict[str, int] = {}
        cycle: tuple[str, ...] = ()
        stratified = True
        if negation:
            cycle = _negation_cycle(infos, declared)
            stratified = not cycle
            if cycle:  # evaluated in rounds: every rule with a $not after all facts
                stages = {rule: 0 for rule, info in infos.items() if info.negates}
            else:
                stages = _stages(infos, declared)
        texts, owners, groups = _layout(name, infos, stages)
        self.name: Final = name
        self.rule_names: Final = tuple(rules)
        #: Whether negation over derived facts is evaluated in one stratified pass.
        self.stratified: Final = stratified
        #: Rules whose negation depends on their own derived facts (then: rounds).
        self.negation_cycle: Final = cycle if derives is not None else ()
        self._on_fire = on_fire
        self._negation = negation
        self._declared = declared
        self._owners = owners
        self._groups = groups
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
