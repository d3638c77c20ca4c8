"""Run every rule's examples (docs/plugins.md, "Testing a plugin"): a ``pass`` example
must not raise the rule, a ``fail`` example must. Used by ``kpo-rules test`` and
:mod:`kpo_rules.testing`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from kpo_rules.api import check
from kpo_rules.content import load_content
from kpo_rules.engine.rule_model import Example, Rule
from kpo_rules.model import Finding
from kpo_rules.plugins import PluginSet


@dataclass(frozen=True, slots=True, kw_only=True)
class ExampleOutcome:
    """The verdict on one example of one rule."""

    rule: Rule
    example: Example
    ok: bool
    problem: str  # why it failed, empty when ok
    findings: tuple[Finding, ...]

    @property
    def label(self) -> str:
        name = f": {self.example.name}" if self.example.name else ""
        return f"{self.rule.id} {self.example.expect}{name} ({self.rule.file}:{self.example.line})"


def example_findings(example: Example, plugins: PluginSet) -> list[Finding]:
    """Check one example document exactly as ``kpo-rules check`` would check a file."""
    text = yaml.safe_dump(dict(example.document), sort_keys=False, allow_unicode=True)
    name = f"<example {example.name or example.expect}>"
    report = check(sources=[(name, text)], plugins=plugins, jobs=1)
    return list(report.findings)


def why_silent(example: Example, rule_ids: list[str], plugins: PluginSet) -> list[str]:
    """What stopped each rule of ``rule_ids`` on ``example``, as ``kpo-rules explain`` says
    it: "NL-PAY-001: stopped at 'service': no service fact with personal_data = true (line
    87)". Nothing when the example is not one engagement."""
    from kpo_rules import pipeline  # noqa: PLC0415
    from kpo_rules.engine.explain import explain  # noqa: PLC0415
    from kpo_rules.load.files import SourceFile  # noqa: PLC0415
    from kpo_rules.references import resolve_engagement  # noqa: PLC0415

    text = yaml.safe_dump(dict(example.document), sort_keys=False, allow_unicode=True)
    read = pipeline.read(SourceFile(name="<example>", content=text.encode()))
    documents = [d for d in read.documents if d.data.get("kind") == "Engagement"]
    rules = pipeline.load_rules(plugins)
    known = [r for r in rule_ids if any(rule.id == r for rule in rules.content.rules.rules)]
    if len(documents) != 1 or not known:
        return []
    engagement, _ = resolve_engagement(documents[0], {})
    explained = explain(engagement, rules.content.catalogue, rules.content.rules,
                        rules.evaluator, known)
    return [f"{t.rule.id}: {t.stopped_by}" for t in explained.rules if not t.fired]


def judge(rule: Rule, example: Example, findings: list[Finding],
          plugins: PluginSet | None = None) -> ExampleOutcome:
    """The verdict on ``example`` of ``rule`` given its findings; with ``plugins``, a fail
    example whose rule stayed silent also says what stopped it."""
    reported = {f.rule for f in findings}
    broken = [f for f in findings if f.rule not in example.rules
              and f.category in ("syntax", "schema", "reference", "engine-error")]
    problem = ""
    if broken:
        first = broken[0]
        problem = f"the example is not a clean engagement: {first.rule} {first.message}"
    elif example.expect == "fail":
        missing = [r for r in example.rules if r not in reported]
        if missing:
            problem = f"expected {', '.join(missing)} to be reported; got " + (
                ", ".join(sorted(reported)) or "no findings")
            if plugins is not None:
                problem += "".join(f"; {why}" for why in why_silent(example, missing, plugins))
    else:
        unexpected = [r for r in example.rules if r in reported]
        if unexpected:
            messages = "; ".join(f.message for f in findings if f.rule in unexpected)
            problem = f"expected no {', '.join(unexpected)}; got: {messages}"
    return ExampleOutcome(rule=rule, example=example, ok=not problem, problem=problem,
                          findings=tuple(findings))


def run_examples(plugins: PluginSet, only_plugins: frozenset[str] | None = None
                 ) -> Iterator[ExampleOutcome]:
    """Every example of every rule (of ``only_plugins`` when given), in rule-id order."""
    for rule in load_content(plugins).rules.rules:
        if only_plugins is not None and rule.plugin not in only_plugins:
            continue
        for example in rule.examples:
            yield judge(rule, example, example_findings(example, plugins), plugins)
