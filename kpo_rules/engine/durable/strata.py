"""Stratification: in which stage each rule with a ``$not`` is evaluated.

* **Forward chaining with negation over derived facts, in strata.** A rule with a recipe
  derives a fact, which is asserted into the session at once so other rules can match it.
  durable never withdraws an activation whose ``$not`` a later fact would block, so a
  ``$not`` over a derived fact type must wait until every rule that can derive that type
  has fired. The runner orders the rules into stages like stratified negation in Datalog
  (:func:`_stages`): a rule with a ``$not`` waits for the sentinel of a stage after every
  stage that can still add a fact it negates, and each stage's sentinel is asserted once
  the session has no pending action left. One session, one pass, still independent of
  fact order. When negation depends on its own derivations (a cycle through negation:
  :attr:`DurableRunner.negation_cycle`), the engagement is evaluated in rounds instead: a
  fresh session per round receives the previous round's derived facts before the
  sentinels, until a round derives nothing new and nothing stale (a fixed point); the
  result is that round, whose firings all saw the same, complete facts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpo_rules.engine.durable.rules import _RuleInfo


def _producers(
    declared: Mapping[str, frozenset[str]],
) -> Callable[[frozenset[str] | None], list[str]]:
    """A function giving the rules that may derive facts of some types (``None``: any)."""
    by_type: dict[str, list[str]] = {}
    for rule, types in declared.items():
        for fact_type in types:
            by_type.setdefault(fact_type, []).append(rule)

    def producers(types: frozenset[str] | None) -> list[str]:
        if types is None:
            return list(declared)
        return [r for t in sorted(types) for r in by_type.get(t, ())]

    return producers


def _negation_cycle(
    infos: Mapping[str, _RuleInfo], declared: Mapping[str, frozenset[str]]
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
    infos: Mapping[str, _RuleInfo], declared: Mapping[str, frozenset[str]]
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
