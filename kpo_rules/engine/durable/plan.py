"""A rule set compiled for durable-rules but not yet registered.

Compiling the caller's rule bodies (validation, variants, strata, the durable text of
every rule) is most of the time it takes to build a runner, and its result depends on
the rule bodies alone. :class:`RulesetPlan` holds that result as plain data, so it can
be kept on disk as JSON (:mod:`kpo_rules.engine.plan_cache`): a cold start then only
registers the text with durable (:meth:`~kpo_rules.engine.durable.runner.DurableRunner.from_plan`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kpo_rules.engine.durable.derive import Derive, _check
from kpo_rules.engine.durable.rules import _compile_rule
from kpo_rules.engine.durable.ruleset import _layout
from kpo_rules.engine.durable.strata import _declared, _negation_cycle, _stages


@dataclass(frozen=True, slots=True)
class RulesetPlan:
    """Everything a runner needs besides ``on_fire`` and durable's handle."""

    name: str
    rule_names: tuple[str, ...]
    texts: Mapping[str, str]  # durable rule name -> its text in the rule set
    owners: Mapping[str, str]  # durable rule name -> caller rule name
    groups: int  # sentinel groups (stages of negation, split by size)
    stratified: bool
    negation_cycle: tuple[str, ...]
    negation: bool  # some rule has a $not
    declared: Mapping[str, frozenset[str] | None]  # fact types each rule may derive
    recipes: Mapping[str, Derive]


def compile_plan(
    name: str,
    rules: Mapping[str, Mapping[str, Any]],
    *,
    derives: Mapping[str, Iterable[str]] | None = None,
    recipes: Mapping[str, Derive] | None = None,
) -> RulesetPlan:
    """Validate and compile ``rules`` (see :class:`DurableRunner` for the arguments);
    raises ValueError or TypeError naming what is wrong."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"the rule set name must be a non-empty string, not {name!r}")
    if not isinstance(rules, Mapping):
        raise TypeError(f"rules must be a mapping, not {type(rules).__name__}")
    infos = {rule: _compile_rule(rule, body) for rule, body in rules.items()}
    checked = _recipes(rules, derives, recipes)
    declares = derives
    if checked:
        declares = {**(derives or {}), **{r: (d.fact_type,) for r, d in checked.items()}}
    declared = _declared(rules, declares)
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
    return RulesetPlan(
        name=name,
        rule_names=tuple(rules),
        texts=texts,
        owners=owners,
        groups=groups,
        stratified=stratified,
        negation_cycle=cycle if declares is not None else (),
        negation=negation,
        declared=declared,
        recipes=checked,
    )


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
