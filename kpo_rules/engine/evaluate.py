"""Run the compiled rules over one engagement and turn firings into findings.

One :class:`Evaluator` per rule book and process: durable-rules cannot forget
a ruleset once registered (research note 3.6), so rulesets are compiled once
and reused for every engagement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from kpo_rules.catalogue import Catalogue
from kpo_rules.engagement import Engagement
from kpo_rules.engine.durable_compile import (
    derivation_body,
    field_name,
    from_engine,
    rule_body,
    to_engine,
)
from kpo_rules.engine.durable_runner import DurableRunner, Firing
from kpo_rules.engine.facts import build_facts
from kpo_rules.engine.model import Derivation, Ref, Rule, RuleBook
from kpo_rules.engine.template import fill
from kpo_rules.model import Finding, Severity, Subject

ENGINE_ERROR = "KPO-ENG-001"


def _lookup(value: Any, bindings: Mapping[str, Mapping[str, Any]]) -> Any:
    if isinstance(value, Ref):
        return bindings.get(value.alias, {}).get(field_name(value.name))
    return value


class Evaluator:
    """Evaluates a :class:`RuleBook` engagement by engagement."""

    def __init__(self, book: RuleBook, name: str) -> None:
        self.book = book
        self._rules = {r.id: r for r in book.rules}
        self._derivations = {d.id: d for d in book.derivations}
        bodies: dict[str, Any] = {r.id: rule_body(r) for r in book.rules}
        bodies |= {d.id: derivation_body(d) for d in book.derivations}
        self._runner = DurableRunner(name, bodies, self._on_fire) if bodies else None

    def _on_fire(self, firing: Firing) -> Iterable[Mapping[str, Any]]:
        derivation = self._derivations.get(firing.rule)
        if derivation is None:
            return ()
        bindings = {alias: from_engine(fact) for alias, fact in firing.bindings.items()}
        return (to_engine(self._derived(derivation, bindings)),)

    @staticmethod
    def _derived(
        derivation: Derivation, bindings: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, Any]:
        first = bindings.get(derivation.when[0].alias, {})
        fact: dict[str, Any] = {"t": derivation.fact, "pointer": first.get("pointer", "")}
        for name, value in derivation.fields.items():
            resolved = _lookup(value, bindings)
            if resolved is not None:
                fact[field_name(name)] = resolved
        return fact

    def evaluate(self, engagement: Engagement, catalogue: Catalogue) -> list[Finding]:
        """Findings of every rule for one engagement; engine failures become findings."""
        if self._runner is None:
            return []
        try:
            result = self._runner.run([to_engine(f) for f in build_facts(engagement, catalogue)])
        except (ValueError, RuntimeError) as exc:
            # The engine refused the session as a whole (a durable-rules limit): the
            # engagement is unjudged, which must show as an error, never as a pass.
            line, column = engagement.document.locate("/metadata/id")
            return [Finding(
                rule=ENGINE_ERROR, severity=Severity.ERROR, category="engine-error",
                message=f"the rule engine could not check this engagement: {exc}",
                file=engagement.file, line=line, column=column, engagement=engagement.id,
                path="/metadata/id",
                remediation="Report this to the kpo-rules maintainers with the file.",
            )]
        findings = [
            self._finding(self._rules[f.rule],
                          {alias: from_engine(fact) for alias, fact in f.bindings.items()},
                          engagement)
            for f in result.firings
            if f.rule in self._rules
        ]
        for failure in result.failures:
            owner = self._rules.get(failure.rule) or self._derivations.get(failure.rule)
            plugin = owner.plugin if owner else "?"
            line, column = engagement.document.locate("/metadata/id")
            findings.append(Finding(
                rule=ENGINE_ERROR, severity=Severity.ERROR, category="engine-error",
                message=f"rule {failure.rule} of plugin '{plugin}' failed while checking this "
                        f"engagement: {failure.error}",
                file=engagement.file, line=line, column=column, engagement=engagement.id,
                path="/metadata/id", plugin=plugin,
                remediation="Report this to the plugin's authors; the other rules still ran.",
            ))
        return findings

    @staticmethod
    def _finding(rule: Rule, bindings: Mapping[str, Mapping[str, Any]],
                 engagement: Engagement) -> Finding:
        pointer = str(bindings.get(rule.at, {}).get("pointer", ""))
        line, column = engagement.document.locate(pointer)
        service = _lookup(rule.subject.get("service"), bindings)
        staff = _lookup(rule.subject.get("staff"), bindings)
        return Finding(
            rule=rule.id, severity=rule.severity, category=rule.category,
            message=fill(rule.message, bindings), file=engagement.file, line=line,
            column=column, engagement=engagement.id,
            subject=Subject(service=service if isinstance(service, str) else None,
                            staff=staff if isinstance(staff, str) else None),
            path=pointer, remediation=rule.remediation, references=rule.references,
            plugin=rule.plugin,
        )


_EVALUATORS: dict[str, Evaluator] = {}


def evaluator_for(book: RuleBook) -> Evaluator:
    """The process-wide evaluator of ``book``: durable rulesets are registered once per process.

    Keyed by the book's full text, so the same rules loaded twice (as tests do) share one
    registered ruleset, and a changed rule gets its own.
    """
    key = hashlib.sha256(repr(book).encode()).hexdigest()
    found = _EVALUATORS.get(key)
    if found is None:
        found = _EVALUATORS[key] = Evaluator(book, f"kpo_{key[:24]}")
    return found
