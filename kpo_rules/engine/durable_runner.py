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
  are asserted into the same session at once so other rules can match them. durable
  never withdraws an activation whose ``$not`` a later fact would block, so when the
  rule set contains a ``$not`` the session is evaluated in rounds: at the end of a round
  the sentinels are retracted, derived facts no firing produced any more are retracted,
  and fresh sentinels are asserted. The result is the first round in which the derived
  facts did not change (a fixed point); its firings all saw the same, complete facts.
  A rule set without ``$not`` needs one round. ``on_fire`` may therefore be called more
  than once for the same firing and must be a pure function of it.
* **Sessions are always cleaned up** (section 3.2). Each :meth:`~DurableRunner.run` uses
  a fresh session id from a counter and deletes the session in ``finally``, so live
  sessions never approach durable's limit of 1,024 per rule set. ``delete_state``
  crashes the interpreter for a session in which no action ever started, so every
  session begins with an internal no-op rule on a ``$begin`` fact whose action is run
  before any caller fact is asserted; from then on deleting the session is safe,
  whatever fails later.
* **Explicit, unique fact ids** (section 3.3). A fact without ``id`` gets ``$f<index>``;
  a derived fact without ``id`` gets ``$d<n>`` keyed by its content, so identical
  derived facts are one fact. Two input facts with the same ``id`` raise
  :class:`ValueError` naming it: the caller assigns ids, and durable would silently
  drop the second fact (``5`` and ``"5"`` count as the same id, as in durable).
* **Errors are Python errors naming what is wrong.** Rule bodies are checked before
  registration and durable's numeric codes are translated (:data:`_ERROR_CODES`) into a
  :class:`ValueError` naming the rule. An exception raised by ``on_fire`` becomes an
  :class:`ActionFailure`; the other rules still fire.

Reserved names: fact fields ``sid`` (the session) and ``t`` values ``$end``/``$begin``
(the sentinels); ids and rule names starting with ``$``; the aliases ``end$`` and
``begin$``.

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
from dataclasses import dataclass
from typing import Any, Final

import durable_rules_engine as _dre

__all__ = ["ActionFailure", "DurableRunner", "Firing", "OnFire", "SessionResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Firing:
    """One activation of a rule.

    ``bindings`` maps each positive alias of the rule to the fact it matched: a fresh
    plain dict per firing, equal to the fact as the caller (or ``on_fire``) gave it.
    The sentinel is left out, and so are the ``sid`` field and ids the runner assigned.
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


def _dumps(value: Any, *, sort_keys: bool = False) -> str:
    # durable compares raw UTF-8: with ensure_ascii a non-ASCII literal never matches.
    return json.dumps(value, ensure_ascii=False, allow_nan=False, sort_keys=sort_keys)


# --------------------------------------------------------------------------- rule checks


def _references(expr: Any) -> Iterator[str]:
    """Aliases an expression refers to (``{"$neq": {"country": {"cl": "country"}}}``)."""
    if not isinstance(expr, Mapping):
        return
    for key, value in expr.items():
        if key in ("$and", "$or") and isinstance(value, list):
            for item in value:
                yield from _references(item)
        elif key in _COMPARISONS and isinstance(value, Mapping):
            for rvalue in value.values():
                yield from _rvalue_references(rvalue)
        elif isinstance(key, str) and not key.startswith("$"):
            yield from _rvalue_references(value)


def _rvalue_references(rvalue: Any) -> Iterator[str]:
    if isinstance(rvalue, Mapping) and len(rvalue) == 1:
        ((key, inner),) = rvalue.items()
        if key in _ARITHMETIC and isinstance(inner, Mapping):
            for operand in inner.values():
                yield from _rvalue_references(operand)
        elif isinstance(key, str) and not key.startswith("$"):
            yield key


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
        field, inner = _single(rule, alias, value, f"the value of {key!r}")
        parts = _conjuncts(_expression(rule, alias, inner))
        if any(_is_group(part) for part in parts):
            raise ValueError(
                f"rule {rule}: pattern {alias!r}: the item condition of {key} may only "
                "combine conditions with $and; durable-rules 2.0.28 evaluates $or inside "
                f"{key} wrongly"
            )
        return {key: {field: parts[0] if len(parts) == 1 else {"$and": parts}}}
    if key in _COMPARISONS or key in _FIELD_OPERATORS:
        field, rvalue = _single(rule, alias, value, f"the value of {key!r}")
        return {key: {field: rvalue}}
    return {key: value}


def _pattern_expression(rule: str, alias: str, expr: Any) -> Any:
    """The condition of one pattern, rearranged into the shapes durable evaluates correctly.

    durable-rules 2.0.28 evaluates the conditions of a pattern that joins other facts as
    one sequence (``reduceExpressionSequence``) with three measured defects: a condition
    after a nested $and/$or group is never evaluated, literals inside such a group do
    not work, and when the last condition is false the scan for the end of the sequence
    runs past it (reads outside the allocation; it crashed the interpreter). So join
    conditions must sit directly in the pattern's $and; they are put first, the local
    conditions after them, and a padding group that is always true comes last.
    """
    compiled = _expression(rule, alias, expr)
    if not any(_references(compiled)):
        return compiled  # matched by the alpha network, which evaluates nesting correctly
    joins: list[Any] = []
    local: list[Any] = []
    for part in _conjuncts(compiled):
        if not any(_references(part)):
            local.append(part)
        elif _is_group(part):
            raise ValueError(
                f"rule {rule}: pattern {alias!r} puts a condition on another fact inside "
                "$or; durable-rules 2.0.28 evaluates such groups wrongly, so put join "
                "conditions directly in the pattern's $and (or split the rule)"
            )
        else:
            joins.append(part)
    return {"$and": [*joins, *local, _PADDING]}


def _compile_patterns(rule: str, patterns: Any, where: str, bound: set[str]) -> list[Any]:
    """Validated, rearranged copies of a list of patterns (``bound``: aliases so far)."""
    if not isinstance(patterns, (list, tuple)) or not patterns:
        raise ValueError(f"rule {rule}: {where} must be a non-empty list of patterns")
    compiled: list[Any] = []
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
            compiled.append({alias: _compile_patterns(rule, expr, f"group {alias!r}", bound)})
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
        compiled.append({alias: _pattern_expression(rule, alias, expr)})
    return compiled


def _negates(patterns: list[Any]) -> bool:
    for pattern in patterns:
        ((alias, expr),) = pattern.items()
        operator = alias.partition("$")[2]
        if operator == "not" or (operator in ("all", "any") and _negates(expr)):
            return True
    return False


def _compile_rule(rule: Any, body: Any) -> dict[str, Any]:
    """A validated copy of one caller rule body, without the sentinel."""
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
    compiled: dict[str, Any] = {"all": _compile_patterns(rule, body["all"], "'all'", set())}
    if "pri" in body:
        pri = body["pri"]
        if isinstance(pri, bool) or not isinstance(pri, int):
            raise ValueError(f"rule {rule}: 'pri' must be an integer, not {pri!r}")
        compiled["pri"] = pri
    return compiled


def _sentinel_pattern(group: int) -> dict[str, Any]:
    return {_END_ALIAS: {"$and": [{_TYPE_FIELD: _END_TYPE}, {"g": group}]}}


_BEGIN_BODY: Final = {"all": [{_BEGIN_ALIAS: {_TYPE_FIELD: _BEGIN_TYPE}}]}


def _rule_text(rule: str, compiled: Mapping[str, Any], group: int) -> str:
    """``"rule": {...}`` with the sentinel pattern first."""
    body = {**compiled, "all": [_sentinel_pattern(group), *compiled["all"]]}
    try:
        return f"{_dumps(rule)}: {_dumps(body)}"
    except (TypeError, ValueError) as exc:
        raise ValueError(f"rule {rule}: the body is not JSON: {exc}") from exc


def _ruleset_text(rule_texts: Iterable[str]) -> str:
    begin = f"{_dumps(_BEGIN_RULE)}: {_dumps(_BEGIN_BODY)}"
    return "{" + ", ".join([begin, *rule_texts]) + "}"


def _create_ruleset(name: str, rule_texts: Mapping[str, str]) -> int:
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
                f"rule {rule}: durable-rules rejected the condition ({_describe(exc)})"
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
    changed: bool = False  # a new derived fact was asserted during the round

    def result(self, *, unsettled: Mapping[str, str] | None = None) -> SessionResult:
        """The round's outcome; ``unsettled`` is the previous round's ``produced`` if the
        derived facts never reached a fixed point."""
        failures = set(self.failures)
        if unsettled is not None:
            moving = {self.produced[k] for k in self.produced.keys() - unsettled.keys()}
            moving |= {unsettled[k] for k in unsettled.keys() - self.produced.keys()}
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


class _Session:
    """One engagement: a durable session from its ``$begin`` fact to ``delete_state``."""

    def __init__(self, runner: DurableRunner, sid: str) -> None:
        self._handle = runner._handle
        self._on_fire = runner._on_fire
        self._groups = runner._groups
        self._negation = runner._negation
        self.sid = sid
        self.deletable = False  # an action has started: delete_state cannot crash any more
        self._base_ids: set[str] = set()
        self._derived: dict[str, str] = {}  # content key -> asserted JSON, in the session now
        self._derived_ids: dict[str, str] = {}  # content key -> id (kept for the whole run)
        self._owners: dict[str, str] = {}  # str(id) -> content key, for explicit derived ids

    def _text(self, fact: Mapping[str, Any], fid: Any) -> str:
        return _dumps({**fact, "id": fid, "sid": self.sid, _GUARD_FIELD: 0})

    def begin(self) -> None:
        begin = _dumps({_TYPE_FIELD: _BEGIN_TYPE, "id": "$begin", "sid": self.sid})
        _, state = _dre.assert_fact(self._handle, begin)
        if _dre.start_action_for_state(self._handle, state) is not None:
            self.deletable = True
            while _dre.complete_and_start_action(self._handle, state) is not None:
                pass  # pragma: no cover - only the $begin rule can match here

    def prepare(self, facts: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
        """(description, JSON) of every input fact, in order; raises ValueError."""
        given: object = facts  # callers without type checking pass anything
        if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
            raise ValueError(f"facts must be a sequence of mappings, not {type(given).__name__}")
        first: dict[str, int] = {}
        out: list[tuple[str, str]] = []
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
                out.append((what, self._text(fact, fid)))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{what} is not JSON: {exc}") from exc
        self._base_ids = set(first)
        return out

    def assert_base(self, facts: list[tuple[str, str]]) -> None:
        for what, text in facts:
            try:
                code, _ = _dre.assert_fact(self._handle, text)
            except _dre.error as exc:
                raise ValueError(_error_of(what, exc)) from None
            if code == 2:  # 32-bit id hash collision: durable dropped the fact
                raise RuntimeError(f"durable-rules took {what} for an earlier fact; change its id")

    def evaluate(self) -> SessionResult:
        try:
            return self._evaluate()
        except _dre.error as exc:
            raise RuntimeError(
                f"durable-rules failed during the session ({_describe(exc)})"
            ) from None

    def _evaluate(self) -> SessionResult:
        previous: dict[str, str] = {}
        round_no = 0
        while True:
            current = self._round(round_no)
            stale = self._derived.keys() - current.produced.keys()
            if not self._negation or (not current.changed and not stale):
                return current.result()
            if round_no + 1 == _MAX_ROUNDS:
                return current.result(unsettled=previous)
            self._next_round(round_no, stale)
            previous = current.produced
            round_no += 1

    def _sentinel(self, round_no: int, group: int) -> str:
        fact = {_TYPE_FIELD: _END_TYPE, "g": group, "id": f"$end{round_no}.{group}"}
        return _dumps({**fact, "sid": self.sid, _GUARD_FIELD: 0})

    def _next_round(self, round_no: int, stale: set[str]) -> None:
        for group in range(self._groups):
            _dre.retract_fact(self._handle, self._sentinel(round_no, group))
        for key in sorted(stale):
            _dre.retract_fact(self._handle, self._derived.pop(key))

    def _round(self, round_no: int) -> _Round:
        current = _Round(firings={}, failures=set(), produced={})
        for group in range(self._groups):
            _, state = _dre.assert_fact(self._handle, self._sentinel(round_no, group))
            result = _dre.start_action_for_state(self._handle, state)
            messages = None if result is None else result[1]
            while messages is not None:
                for rule, match in json.loads(messages).items():
                    self._fire(current, rule, match)
                messages = _dre.complete_and_start_action(self._handle, state)
        return current

    def _fire(self, current: _Round, rule: str, match: dict[str, Any]) -> None:
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
        for content, fact, fid in derived:
            current.produced.setdefault(content, rule)
            if content in self._derived:
                continue
            text = self._text(fact, fid)
            try:
                code, _ = _dre.assert_fact(self._handle, text)
            except _dre.error as exc:
                current.failures.add((rule, f"ValueError: {_error_of('a derived fact', exc)}"))
                continue
            if code == 2:
                raise RuntimeError(
                    f"durable-rules took the derived fact {fid!r} for an earlier fact"
                )
            if code == 0:  # 1: no pattern (not even a $not) takes it; durable dropped it
                self._derived[content] = text
                current.changed = True

    def _validated(self, returned: object) -> list[tuple[str, Mapping[str, Any], Any]]:
        """(content key, fact, id) of each derived fact; raises for the firing's failure."""
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
            if fid is None:
                fid = self._derived_ids.setdefault(content, f"$d{len(self._derived_ids)}")
            elif str(fid) in self._base_ids:
                raise ValueError(f"{what} reuses the id {fid!r} of an input fact")
            elif self._owners.setdefault(str(fid), content) != content:
                raise ValueError(f"{what} reuses the id {fid!r} of a different derived fact")
            out.append((content, fact, fid))
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
        if len(rules) > _MAX_RULES:
            raise ValueError(
                f"rule set {name!r} has {len(rules)} rules; durable-rules handles at most "
                f"{_MAX_RULES} in one rule set, so split them over several runners"
            )
        negation = False
        texts: dict[str, str] = {}
        for position, (rule, body) in enumerate(rules.items()):
            compiled = _compile_rule(rule, body)
            negation |= _negates(compiled["all"])
            texts[rule] = _rule_text(rule, compiled, position // _RULES_PER_SENTINEL)
        self.name: Final = name
        self.rule_names: Final = tuple(texts)
        self._on_fire = on_fire
        self._negation = negation
        self._groups = max(1, -(-len(texts) // _RULES_PER_SENTINEL))
        self._handle = _create_ruleset(name, texts)
        self._free = weakref.finalize(self, _dre.delete_ruleset, self._handle)
        self._sids = itertools.count(1)
        self._busy = False
        self._last_sid: str | None = None  # for tests: the session of the latest run

    def run(self, facts: Sequence[Mapping[str, Any]]) -> SessionResult:
        """Evaluate one engagement in its own session, which is deleted before returning.

        Raises ValueError for facts the runner or durable refuses (naming the fact) and
        RuntimeError for a closed runner or a concurrent or re-entrant call.
        """
        if not self._free.alive:
            raise RuntimeError(f"runner {self.name!r} is closed")
        if self._busy:
            raise RuntimeError(
                f"runner {self.name!r} is already running a session; a runner serves one "
                "thread and on_fire must not call run()"
            )
        self._busy = True
        session = _Session(self, str(next(self._sids)))
        self._last_sid = session.sid
        try:
            prepared = session.prepare(facts)
            session.begin()
            session.assert_base(prepared)
            return session.evaluate()
        finally:
            try:
                if session.deletable:
                    _dre.delete_state(self._handle, session.sid)
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
