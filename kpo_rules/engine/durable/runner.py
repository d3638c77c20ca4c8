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
from typing import Any, Final

import durable_rules_engine as _dre

from kpo_rules.engine.durable.derive import Derive, _check
from kpo_rules.engine.durable.results import ActionFailure, Firing, OnFire, SessionResult
from kpo_rules.engine.durable.rules import _compile_rule
from kpo_rules.engine.durable.ruleset import _create_ruleset, _layout
from kpo_rules.engine.durable.session import _Run
from kpo_rules.engine.durable.strata import _declared, _negation_cycle, _stages

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
        if not isinstance(name, str) or not name:
            raise ValueError(f"the rule set name must be a non-empty string, not {name!r}")
        if not callable(on_fire):
            raise TypeError("on_fire must be callable")
        if not isinstance(rules, Mapping):
            raise TypeError(f"rules must be a mapping, not {type(rules).__name__}")
        infos = {rule: _compile_rule(rule, body) for rule, body in rules.items()}
        checked = _recipes(rules, derives, recipes)
        if checked:
            derives = {**(derives or {}), **{r: (d.fact_type,) for r, d in checked.items()}}
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
        self._recipes = checked
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


def _recipes(
    rules: Mapping[str, Any],
    derives: Mapping[str, Iterable[str]] | None,
    recipes: Mapping[str, Derive] | None,
) -> dict[str, Derive]:
    """The checked recipes; each must name a rule of the set not also in ``derives``."""
    if recipes is None:
        return {}
    if not isinstance(recipes, Mapping):
        raise TypeError(f"recipes must be a mapping, not {type(recipes).__name__}")
    for rule in recipes:
        if rule not in rules:
            raise ValueError(f"recipes names {rule!r}, which is not a rule of the set")
        if derives is not None and rule in derives:
            raise ValueError(f"rule {rule!r} has a recipe and is in derives: give one")
    return {rule: _check(rule, recipe) for rule, recipe in recipes.items()}
