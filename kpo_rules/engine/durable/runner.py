"""The runner: a durable-rules rule set evaluated per engagement in a fresh session.

Threads and processes: a runner must be used from one thread at a time (the C core has no
locks and durable's handle table is process-global); a concurrent or re-entrant call of
:meth:`~DurableRunner.run` raises :class:`RuntimeError`. For parallelism use a process
pool: forked workers inherit registered rule sets copy-on-write and, since no thread
exists, fork is safe.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kpo_rules.engine.durable import _engine as _dre
from kpo_rules.engine.durable.derive import Derive
from kpo_rules.engine.durable.plan import RulesetPlan, compile_plan
from kpo_rules.engine.durable.results import ActionFailure, Firing, OnFire, SessionResult
from kpo_rules.engine.durable.ruleset import _create_ruleset
from kpo_rules.engine.durable.session import _Run

__all__ = ["ActionFailure", "Derive", "DurableRunner", "Firing", "OnFire", "SessionResult"]


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

    ``recipes`` names rules whose derived fact the runner builds itself from a
    :class:`~kpo_rules.engine.durable.derive.Derive` (copies of matched fields and
    constants) instead of calling ``on_fire``: the fast path, and its fact type counts as
    declared. Firings of those rules are not in the :class:`SessionResult`.

    The compiled form can be made apart (:func:`~.plan.compile_plan`), cached, and
    registered later with :meth:`from_plan`.

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
        recipes: Mapping[str, Derive] | None = None,
    ) -> None:
        if not callable(on_fire):
            raise TypeError("on_fire must be callable")
        self._start(compile_plan(name, rules, derives=derives, recipes=recipes), on_fire)

    @classmethod
    def from_plan(cls, plan: RulesetPlan, on_fire: OnFire) -> DurableRunner:
        """A runner of a rule set compiled earlier (perhaps in another process)."""
        if not isinstance(plan, RulesetPlan):
            raise TypeError(f"plan must be a RulesetPlan, not {type(plan).__name__}")
        if not callable(on_fire):
            raise TypeError("on_fire must be callable")
        runner = cls.__new__(cls)
        runner._start(plan, on_fire)
        return runner

    def _start(self, plan: RulesetPlan, on_fire: OnFire) -> None:
        """Register the plan's rule set with durable."""
        self._plan = plan
        self._on_fire = on_fire
        self._handle = _create_ruleset(plan.name, plan.texts, plan.owners)
        self._free = weakref.finalize(self, _dre.delete_ruleset, self._handle)
        self._sids = itertools.count(1)
        self._busy = False
        self._last_sid: str | None = None  # for tests: the session of the latest run

    @property
    def name(self) -> str:
        return self._plan.name

    @property
    def rule_names(self) -> tuple[str, ...]:
        return self._plan.rule_names

    @property
    def stratified(self) -> bool:
        """Whether negation over derived facts is evaluated in one stratified pass."""
        return self._plan.stratified

    @property
    def negation_cycle(self) -> tuple[str, ...]:
        """Rules whose negation depends on their own derived facts (then: rounds)."""
        return self._plan.negation_cycle

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

