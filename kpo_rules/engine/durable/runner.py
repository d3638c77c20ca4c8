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
from collections.abc import Mapping, Sequence
from typing import Any

from kpo_rules.engine.durable import _engine as _dre
from kpo_rules.engine.durable.plan import RulesetPlan
from kpo_rules.engine.durable.results import SessionResult
from kpo_rules.engine.durable.ruleset import _create_ruleset
from kpo_rules.engine.durable.session import _Run


class DurableRunner:
    """A durable-rules rule set, evaluated per engagement in a fresh session.

    Built from a :class:`~.plan.RulesetPlan` (:func:`~.plan.compile_plan`, perhaps cached
    and compiled in another process), whose rule set it registers with durable. A rule
    with a recipe derives a fact, which other rules may match; every other rule's matches
    are the :class:`SessionResult`. Negation over derived facts is evaluated in strata
    (:func:`~.strata._stages`) in one pass; when a negation depends on its own derivation
    (:attr:`negation_cycle`), in rounds until the derived facts settle.

    Call :meth:`close` (or use ``with``) to free the rule set early; otherwise it is freed
    when the runner is garbage-collected.
    """

    def __init__(self, plan: RulesetPlan) -> None:
        if not isinstance(plan, RulesetPlan):
            raise TypeError(f"plan must be a RulesetPlan, not {type(plan).__name__}")
        self._plan = plan
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
                "thread"
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

