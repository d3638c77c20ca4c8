"""One engagement's run: batch assert, sentinels, rounds and firings.

* **Facts in one batch, fact types in O(1).** The input facts go to durable in one
  ``assert_facts`` call; when durable cannot read one of them (such as a fact with more
  than 254 fields) the runner asserts the facts one by one to name it. An internal rule
  takes every fact, so the batch's status code can only mean an id-hash collision, which
  is named. A pattern's ``{"t": X}`` becomes a test for a marker field ``kpo$t$X`` that
  every fact of type X carries: durable's alpha network compares ``t`` with every type of
  the rule set for every fact, but looks at a field only in the facts that have it.

* **Sessions are always cleaned up**. Each session gets a fresh id from the runner's
  counter and is deleted in ``finally``, whatever failed. (Stock durable-rules crashed
  deleting a session in which no action had started and held at most 1,024 live sessions
  per rule set; the vendored engine fixes both: ``vendor/durable_rules/CHANGES.md``.) The
  rule set itself is freed (``delete_ruleset``) by :meth:`DurableRunner.close` or when
  the runner is garbage-collected.
* **Explicit, unique fact ids** (section 3.3). A fact without ``id`` gets ``$f<index>``;
  a derived fact without ``id`` gets ``$d<n>`` keyed by its content, so identical
  derived facts are one fact. Two input facts with the same ``id`` raise
  :class:`ValueError` naming it: the caller assigns ids, and durable would silently
  drop the second fact (``5`` and ``"5"`` count as the same id, as in durable).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from kpo_rules.engine.durable import _engine as _dre
from kpo_rules.engine.durable.codec import _encode, _encode_sorted, _loads
from kpo_rules.engine.durable.derive import Derive, _build
from kpo_rules.engine.durable.derived import _DerivedFacts
from kpo_rules.engine.durable.fact_records import _Fact, _fact_problem, _fnv1a
from kpo_rules.engine.durable.reserved import (
    _END_ALIAS,
    _END_TYPE,
    _GUARD_FIELD,
    _MARK,
    _MARKERS,
    _TYPE_FIELD,
    _marker,
)
from kpo_rules.engine.durable.results import Firing, SessionResult
from kpo_rules.engine.durable.rounds import _Round
from kpo_rules.engine.durable.status_codes import _describe, _error_of, _failure_text

if TYPE_CHECKING:
    from kpo_rules.engine.durable.runner import DurableRunner


#: Evaluation rounds before a derivation that never settles is reported.
_MAX_ROUNDS: Final = 32


class _Run:
    """One :meth:`DurableRunner.run`.

    Stratified (the usual case): one session receives the input facts in one batch, then
    the sentinel of each stage; derived facts are asserted as they are derived. Otherwise
    (a cycle through negation) one session per round until the derived facts settle: each
    round receives the input facts, then the derived facts of the previous round, then the
    sentinels. Sessions are deleted when they end, whatever happens. Nothing is ever
    retracted: durable reads uninitialised memory when it deletes a fact from a partial
    match (``deleteMessageFromFrame``, found with valgrind).
    """

    def __init__(self, runner: DurableRunner) -> None:
        self._runner = runner
        self._handle = runner._handle
        plan = runner._plan
        self._plan = plan
        self._owners = plan.owners  # read for every match: kept at hand
        self._recipes = plan.recipes
        self._base: list[dict[str, Any]] = []  # each input fact as asserted (sid per round)
        self._given: dict[str, Mapping[str, Any]] = {}  # str(durable id) -> input fact
        self._facts: dict[str, _Fact] = {}  # str(durable id) -> bound or derived fact
        self._derived = _DerivedFacts(self._facts)
        self._current = _Round(firings={}, failures=set(), produced={}, present=set())
        self._head = ""  # '{"sid": "N"' of the current session

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
            body = {**fact, "id": fid, _GUARD_FIELD: 0}
            kind = fact.get(_TYPE_FIELD)
            marker = markers.get(kind) if type(kind) is str else None
            if marker is None:
                marker = _marker(kind)
            if marker is not None:
                body[marker] = 1
            base.append(body)

    def _describe(self, index: int) -> str:
        return f"fact {index} (id {self._base[index]['id']!r})"

    def evaluate(self) -> SessionResult:
        if self._plan.stratified:
            return self._round({}).result()
        derived: dict[str, str] = {}  # content key -> rule, asserted before the sentinels
        for round_no in range(_MAX_ROUNDS):
            current = self._round(derived)
            settled = not current.changed and derived.keys() <= current.produced.keys()
            if settled:
                return current.result()
            if round_no + 1 < _MAX_ROUNDS:
                derived = current.produced
        return current.result(unsettled=derived, rounds=_MAX_ROUNDS)

    def _round(self, derived: Mapping[str, str]) -> _Round:
        runner = self._runner
        sid = str(next(runner._sids))
        runner._last_sid = sid
        self._head = f'{{"sid": {_encode(sid)}'
        current = self._current = _Round(
            firings={}, failures=set(), produced={}, present=set(derived)
        )
        for record in self._facts.values():
            record.binding = None  # each round's firings get fresh bindings
        try:
            state = self._assert_base(sid)
            for key in derived:
                text = self._derived.known(key)
                self._assert(self._head + text, "a derived fact", RuntimeError)
            self._drain(state)
            for group in range(self._plan.groups):
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
            # Raises only when durable refused the first fact: then there is no session.
            with contextlib.suppress(_dre.error):
                _dre.delete_state(self._handle, sid)

    def _assert_base(self, sid: str) -> int:
        """Assert the input facts in one batch; returns the session's state handle.

        The engine writes the facts' JSON itself (``assert_facts_of``), before it asserts
        any of them."""
        try:
            code, state = _dre.assert_facts_of(self._handle, sid, self._base)
        except _dre.error:
            self._name_refused(sid)
            raise
        except (TypeError, ValueError, RecursionError) as exc:
            raise ValueError(self._not_json(exc)) from exc
        if code != 0:  # only an id whose 32-bit hash another fact's id has (see _ALL_BODY)
            raise RuntimeError(self._collision(sid))
        return int(state)

    def _collision(self, sid: str) -> str:
        """Which input fact's id durable took for an earlier one (same 32-bit hash)."""
        seen = {_fnv1a(f"sid-{sid}"): ""}  # the session's own id
        for index, body in enumerate(self._base):
            digest = _fnv1a(str(body["id"]))
            what = self._describe(index)
            if digest in seen:
                return f"durable-rules took {what} for an earlier fact; change its id"
            seen[digest] = what
        return "durable-rules refused the facts (an id collision)"  # pragma: no cover

    def _not_json(self, error: BaseException) -> str:
        """What names the input fact JSON cannot hold."""
        for index, body in enumerate(self._base):
            try:
                _encode(body)
            except (TypeError, ValueError, RecursionError) as exc:
                return f"{self._describe(index)} is not JSON: {exc}"
        return f"the facts are not JSON: {error}"  # pragma: no cover - json agrees

    def _name_refused(self, sid: str) -> None:
        """Raise ValueError naming the input fact durable refuses.

        durable stops a batch at that fact, so the facts are asserted again one by one
        (the ones already in the session are merely "observed" again).
        """
        for index, body in enumerate(self._base):
            try:
                _dre.assert_fact(self._handle, _encode({"sid": sid, **body}))
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
        recipes = self._recipes
        result = _dre.start_action_for_state(handle, state)
        messages = None if result is None else result[1]
        while messages is not None:
            for internal, match in _loads(messages).items():
                rule = owners[internal]
                recipe = recipes.get(rule)
                if recipe is None:
                    self._fire(rule, match)
                else:
                    self._derive(rule, recipe, match)
            messages = _dre.complete_and_start_action(handle, state)

    def _record(self, key: str) -> _Fact:
        """The fact a match bound, by its durable id (input facts are recorded lazily)."""
        source = self._given[key]
        record = self._facts[key] = _Fact(source, (0, key) if "id" in source else None)
        return record

    def _fire(self, rule: str, match: dict[str, str]) -> None:
        """A firing of a rule without a recipe: recorded once per distinct set of facts."""
        current = self._current
        facts = self._facts
        match.pop(_END_ALIAS, None)
        bound: list[tuple[str, _Fact]] = []
        for alias, key in match.items():
            record = facts.get(key)
            bound.append((alias, self._record(key) if record is None else record))
        if len(bound) > 1:
            bound.sort(key=_first)
        firing_key = (
            rule,
            tuple([(alias, record.key or record.order()) for alias, record in bound]),
        )
        if firing_key in current.firings:
            return  # identical facts under different ids: one firing
        bindings = {}
        for alias, record in bound:
            binding = record.binding
            if binding is None:
                binding = record.binding = dict(record.source)
            bindings[alias] = binding
        current.firings[firing_key] = Firing(rule=rule, bindings=bindings)

    def _derive(self, rule: str, recipe: Derive, match: dict[str, str]) -> None:
        """A firing of a rule with a recipe: build its derived fact and assert it.

        The fact is built from the matched facts as the caller gave them (found by id),
        like a firing's bindings, not from durable's copies: values then share the
        caller's objects, and nothing parsed from the match outlives it (holding on to
        those made the process's memory creep, measured)."""
        match.pop(_END_ALIAS, None)
        facts = self._facts
        sources = {}
        for alias, key in match.items():
            record = facts.get(key)
            sources[alias] = (self._record(key) if record is None else record).source
        try:
            fact = _build(recipe, sources)
            content = _encode_sorted(fact)
        except Exception as exc:  # noqa: BLE001 - reported, the other rules still fire
            self._current.failures.add((rule, _failure_text(exc)))
            return
        self._add_derived(rule, content, fact)

    def _add_derived(self, rule: str, content: str, fact: Mapping[str, Any]) -> None:
        """Assert the derived fact ``fact``, whose content key is ``content`` (once per
        round)."""
        current = self._current
        current.produced.setdefault(content, rule)
        if content in current.present:
            return
        current.present.add(content)
        text = self._derived.text(content, fact)
        try:
            code, _ = _dre.assert_fact(self._handle, self._head + text)
        except _dre.error as exc:
            current.failures.add((rule, f"ValueError: {_error_of('a derived fact', exc)}"))
            return
        if code == 2:
            raise RuntimeError("durable-rules took a derived fact for an earlier fact")
        current.changed = True

def _first(pair: tuple[str, _Fact]) -> str:
    return pair[0]
