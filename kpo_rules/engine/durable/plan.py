"""A rule set compiled for durable-rules but not yet registered.

Compiling the caller's rule bodies (validation, variants, strata, the durable text of
every rule) is most of the time it takes to build a runner, and its result depends on
the rule bodies alone. :class:`RulesetPlan` holds that result as plain data, so it can
be kept on disk as JSON (:mod:`kpo_rules.engine.plan_cache`): a cold start then only
registers the text with durable (:class:`~kpo_rules.engine.durable.runner.DurableRunner`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kpo_rules.engine.durable.derive import Derive, _check


@dataclass(frozen=True, slots=True)
class RulesetPlan:
    """Everything a runner needs to register the rule set with durable and run it."""

    name: str
    rule_names: tuple[str, ...]
    texts: Mapping[str, str]  # durable rule name -> its text in the rule set
    owners: Mapping[str, str]  # durable rule name -> caller rule name
    groups: int  # sentinel groups (stages of negation, split by size)
    stratified: bool  # False: a negation_cycle, evaluated in rounds
    negation_cycle: tuple[str, ...]
    recipes: Mapping[str, Derive]


def compile_plan(
    name: str,
    rules: Mapping[str, Mapping[str, Any]],
    *,
    recipes: Mapping[str, Derive] | None = None,
) -> RulesetPlan:
    """Validate and compile ``rules`` into a plan; raises ValueError or TypeError naming
    what is wrong.

    ``rules`` maps rule names to durable JSON bodies ``{"all": [{alias: EXPR}, ...],
    "pri": int}`` (``pri`` optional), without ``run`` and without the runner's sentinels;
    the caller's dicts are never modified. ``recipes`` names the rules that derive a fact
    (:class:`~kpo_rules.engine.durable.derive.Derive`); the other rules derive nothing.
    """
    # Only compiling needs these; running a compiled (cached or shipped) plan does not.
    from kpo_rules.engine.durable.rules import _compile_rule  # noqa: PLC0415
    from kpo_rules.engine.durable.ruleset import _layout  # noqa: PLC0415
    from kpo_rules.engine.durable.strata import _negation_cycle, _stages  # noqa: PLC0415

    if not isinstance(name, str) or not name:
        raise ValueError(f"the rule set name must be a non-empty string, not {name!r}")
    if not isinstance(rules, Mapping):
        raise TypeError(f"rules must be a mapping, not {type(rules).__name__}")
    infos = {rule: _compile_rule(rule, body) for rule, body in rules.items()}
    checked = _recipes(rules, recipes)
    declared = {rule: frozenset({recipe.fact_type}) for rule, recipe in checked.items()}
    negation = any(info.negates for info in infos.values())
    stages: dict[str, int] = {}
    cycle: tuple[str, ...] = ()
    if negation:
        cycle = _negation_cycle(infos, declared)
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
        stratified=not cycle,
        negation_cycle=cycle,
        recipes=checked,
    )


def _recipes(rules: Mapping[str, Any], recipes: Mapping[str, Derive] | None) -> dict[str, Derive]:
    """The checked recipes; each must name a rule of the set."""
    if recipes is None:
        return {}
    if not isinstance(recipes, Mapping):
        raise TypeError(f"recipes must be a mapping, not {type(recipes).__name__}")
    for rule in recipes:
        if rule not in rules:
            raise ValueError(f"recipes names {rule!r}, which is not a rule of the set")
    return {rule: _check(rule, recipe) for rule, recipe in recipes.items()}
