"""Why a rule fired or not for one engagement: the facts, and the condition that stopped it.

``kpo-rules explain`` shows the facts of an engagement (those built from the file and
those derivations asserted) and, per rule, whether it fired and, if not, which condition
or ``unless`` pattern stopped it.

No rule semantics are re-implemented here, so an explanation cannot disagree with a
check. Each question is put to the engine itself, as a *variant* of the rule: a
:class:`~kpo_rules.engine.rule_model.Rule` value with a prefix of the rule's ``when``
(conditions added one at a time: first "a fact of this type", then each condition in the
order the file gives them, then the ``any`` alternatives), or with the whole ``when`` and
one ``unless`` pattern. Variants go through the compiler a check uses
(:func:`~kpo_rules.engine.durable_compile.rule_body`) into one durable rule set with
every derivation of the book (with the recipes a check uses) and are run by the same
:class:`~kpo_rules.engine.durable.DurableRunner` on the engine facts a check gives it
(:meth:`Evaluator.engine_facts`). The first variant with no match names the step that
stops the rule; when the whole ``when`` matches, the matches each ``unless`` pattern
removes say which one blocks. Derived facts are read back by one *probe* per derived
fact type: a pattern with no condition on that type. Python only counts matches.

Whether a rule fired, and its findings, come from the evaluator itself.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kpo_rules.catalogue import Catalogue
from kpo_rules.engagement import Engagement
from kpo_rules.engine.durable import DurableRunner, compile_plan
from kpo_rules.engine.durable_compile import (
    ID_FIELD,
    TYPE_FIELD,
    from_engine,
    pattern_expression,
    rule_body,
)
from kpo_rules.engine.evaluate import Evaluator, plan_parts
from kpo_rules.engine.facts import build_facts
from kpo_rules.engine.rule_model import Condition, Derivation, Pattern, Ref, Rule, RuleBook
from kpo_rules.model import Finding

PERIOD_ALIAS = "_period"  # the alias rulefile gives the effective-date pattern of its own
_PROBE = "explain:probe:"
_names = itertools.count(1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One step of a rule's ``when``: what it adds, where the file says it, how many
    matches the ``when`` had up to and including it."""

    label: str  # what the step asks for: "'as' (com_assignee) with hours_overlap > 0"
    missing: str  # the same, when nothing matches: "'as': no com_assignee fact with ..."
    line: int
    matches: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Blocker:
    """One ``unless`` pattern and how many of the ``when`` matches it removes."""

    label: str
    line: int
    blocks: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleTrace:
    """A rule's outcome for one engagement."""

    rule: Rule
    findings: tuple[Finding, ...]
    steps: tuple[Step, ...] = ()  # empty when the rule fired
    unless: tuple[Blocker, ...] = ()
    matches: int = 0  # matches of the whole ``when``

    @property
    def fired(self) -> bool:
        return bool(self.findings)

    @property
    def stopped_by(self) -> str:
        """What stopped the rule, in words; empty when it fired."""
        if self.fired:
            return ""
        stop = next((s for s in self.steps if not s.matches), None)
        if stop is not None:
            return f"stopped at {stop.missing} (line {stop.line})"
        if not self.unless:  # the engine matched but reported nothing
            return "the rule matched but reported no finding (see KPO-ENG-001 findings)"
        blocking = [b for b in self.unless if b.blocks == self.matches]
        if blocking:
            shown = "; ".join(f"{b.label} (line {b.line})" for b in blocking)
            return f"every match of 'when' ({self.matches}) is blocked by unless {shown}"
        shown = "; ".join(f"{b.label} blocks {b.blocks}" for b in self.unless if b.blocks)
        return f"the unless patterns together block every match of 'when' ({shown})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    """What the engine saw for one engagement and what each rule made of it."""

    engagement: Engagement
    facts: tuple[Mapping[str, Any], ...]
    derived: tuple[Mapping[str, Any], ...]
    derived_by: Mapping[str, tuple[str, ...]]  # derived fact type -> derivation ids
    rules: tuple[RuleTrace, ...]


def explain(engagement: Engagement, catalogue: Catalogue, book: RuleBook,
            evaluator: Evaluator, rule_ids: Sequence[str] | None = None) -> Explanation:
    """The facts of ``engagement`` and the trace of each rule (those of ``rule_ids``)."""
    findings = evaluator.evaluate(engagement, catalogue)
    wanted = [r for r in book.rules if rule_ids is None or r.id in rule_ids]
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    silent = [r for r in wanted if r.id not in by_rule]
    derived_by: dict[str, list[str]] = {}
    for derivation in book.derivations:
        derived_by.setdefault(derivation.fact, []).append(derivation.id)
    probes = {f"{_PROBE}{fact}": fact for fact in derived_by}
    # One session per rule: all the variants of every rule at once would make durable run
    # a fact through more conditions than its evaluation stack holds (error 303).
    counts, derived = _run(book, evaluator, engagement, catalogue, {}, probes)
    for rule in silent:
        found, _ = _run(_needed_by(book, rule), evaluator, engagement, catalogue,
                        dict(_variants(rule)), {})
        counts |= found
    traces = [_trace(rule, tuple(by_rule.get(rule.id, ())), counts) for rule in wanted]
    return Explanation(
        engagement=engagement, facts=tuple(build_facts(engagement, catalogue)),
        derived=tuple(derived), derived_by={k: tuple(v) for k, v in derived_by.items()},
        rules=tuple(traces))


def _run(book: RuleBook, evaluator: Evaluator, engagement: Engagement, catalogue: Catalogue,
         variants: Mapping[str, Rule], probes: Mapping[str, str]
         ) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Matches per variant, and the derived facts, from one engine session."""
    bodies, recipes = plan_parts(replace(book, rules=()))
    bodies |= {name: rule_body(rule) for name, rule in variants.items()}
    bodies |= {name: {"all": [{"fact": pattern_expression(Pattern(alias="fact", fact=fact),
                                                          {})}]}
               for name, fact in probes.items()}
    plan = compile_plan(f"kpo_explain_{next(_names)}", bodies, recipes=recipes)
    given, _ = evaluator.engine_facts(engagement, catalogue)
    with DurableRunner(plan) as runner:
        result = runner.run(given)
    counts: dict[str, int] = {}
    derived = []
    for firing in result.firings:
        counts[firing.rule] = counts.get(firing.rule, 0) + 1
        if firing.rule.startswith(_PROBE):
            derived.append(from_engine(firing.bindings["fact"]))
    return counts, derived


def _needed_by(book: RuleBook, rule: Rule) -> RuleBook:
    """``book`` with only the derivations ``rule`` depends on (directly or through other
    derivations): the others cannot change whether it matches, and leaving them out keeps
    each session small."""
    read = {p.fact for p in (*rule.when, *rule.unless)}
    kept: dict[str, Derivation] = {}
    while True:
        more = {d.id: d for d in book.derivations if d.fact in read and d.id not in kept}
        if not more:
            break
        kept |= more
        read |= {p.fact for d in more.values() for p in (*d.when, *d.unless)}
    return replace(book, rules=(), derivations=tuple(
        d for d in book.derivations if d.id in kept))


def _variants(rule: Rule) -> Iterator[tuple[str, Rule]]:
    """``(name, rule)`` of every variant of a rule: its steps, then its unless patterns."""
    for index, (when, *_) in enumerate(_steps(rule)):
        yield f"{rule.id}:when:{index}", replace(rule, when=when, unless=())
    for index, pattern in enumerate(rule.unless):
        yield f"{rule.id}:unless:{index}", replace(rule, unless=(pattern,))


_Step = tuple[tuple[Pattern, ...], str, str, int]  # when, label, missing, line


def _steps(rule: Rule) -> Iterator[_Step]:
    """Each prefix of the rule's ``when``, one condition more each time, with its words."""
    done: list[Pattern] = []
    for pattern in rule.when:
        bare = replace(pattern, conditions=(), any_of=())
        who = ("the engagement (the rule's effective dates)" if pattern.alias == PERIOD_ALIAS
               else f"'{pattern.alias}'")
        article = "an" if pattern.fact[0] in "aeiou" else "a"
        yield ((*done, bare), f"{who}: {article} {pattern.fact} fact",
               f"{who}: no {pattern.fact} fact", pattern.line)
        added: list[Condition] = []
        for condition in pattern.conditions:
            added.append(condition)
            what = _condition_label(rule, pattern, condition)
            yield ((*done, replace(bare, conditions=tuple(added))), f"{who} with {what}",
                   f"{who}: no {pattern.fact} fact with {what}", pattern.line)
        if pattern.any_of:
            what = "any of " + " or ".join(
                "(" + ", ".join(map(condition_text, group)) + ")" for group in pattern.any_of)
            yield ((*done, pattern), f"{who} with {what}",
                   f"{who}: no {pattern.fact} fact with {what}", pattern.line)
        done.append(pattern)


def _condition_label(rule: Rule, pattern: Pattern, condition: Condition) -> str:
    effective = {("period_end", "gte"): rule.effective_from,
                 ("period_start", "lte"): rule.effective_until}.get(
        (condition.name, condition.op))
    if pattern.fact == "engagement" and effective is not None and \
            condition.value == effective.toordinal():
        edge = "ends on or after" if condition.op == "gte" else "starts on or before"
        return f"a period that {edge} {effective.isoformat()}"
    return condition_text(condition)


_OPERATORS = {"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">=",
              "in": "in", "not_in": "not in", "contains": "contains",
              "not_contains": "does not contain"}


def condition_text(condition: Condition) -> str:
    """A condition as an explanation writes it: ``rank >= $task.language_rank``."""
    value = condition.value
    if condition.op == "exists":
        return f"{condition.name} {'present' if value else 'absent'}"
    if isinstance(value, Ref):
        shown = str(value)
    elif isinstance(value, list):
        shown = "[" + ", ".join(map(_literal, value)) + "]"
    else:
        shown = _literal(value)
    return f"{condition.name} {_OPERATORS[condition.op]} {shown}"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


def pattern_text(pattern: Pattern) -> str:
    """``'spoken' (a language fact with staff = $as.staff, ...)``."""
    conditions = ", ".join(map(condition_text, pattern.conditions))
    return f"'{pattern.alias}' ({pattern.fact}{' with ' + conditions if conditions else ''})"


def _trace(rule: Rule, findings: tuple[Finding, ...], counts: Mapping[str, int]) -> RuleTrace:
    if findings:
        return RuleTrace(rule=rule, findings=findings)
    steps = tuple(Step(label=label, missing=missing, line=line,
                       matches=counts.get(f"{rule.id}:when:{i}", 0))
                  for i, (_, label, missing, line) in enumerate(_steps(rule)))
    matches = steps[-1].matches if steps else 0
    blockers = tuple(
        Blocker(label=pattern_text(p), line=p.line,
                blocks=matches - counts.get(f"{rule.id}:unless:{i}", 0))
        for i, p in enumerate(rule.unless)) if matches else ()
    return RuleTrace(rule=rule, findings=(), steps=steps, unless=blockers, matches=matches)


def fact_id(fact: Mapping[str, Any]) -> Any:
    """The ``id`` rules match: the domain id (staff, service...) or the generated one."""
    return fact.get(ID_FIELD, fact.get("id"))


def shown_fields(fact: Mapping[str, Any]) -> dict[str, Any]:
    """A fact's fields as an explanation shows them: without the engine's own keys."""
    return {k: v for k, v in fact.items()
            if k not in (TYPE_FIELD, ID_FIELD, "id", "pointer") and not k.startswith("kpo$")}
