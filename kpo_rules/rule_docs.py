"""A rule's documentation page, in Markdown: what ``kpo-rules rules show ID`` prints and
what ``docs/rules/ID.md`` holds, word for word (ruff's rule pages are the model).

Plugin rules document themselves in their rule files (checks, why, fix, sources and the
``pass``/``fail`` examples their tests run); the core's rules in
:data:`kpo_rules.core_rules.CORE_RULES`. Nothing here depends on where the package is
installed, so a page generated in a checkout equals the text a pip install prints.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpo_rules.core_rules import CoreRule
    from kpo_rules.engine.rule_model import Example, Rule


def _in_force(rule: Rule) -> str:
    start, end = rule.effective_from, rule.effective_until
    if start and end:
        return f"{start.isoformat()} to {end.isoformat()}"
    if start:
        return f"from {start.isoformat()}"
    if end:
        return f"until {end.isoformat()}"
    return "always"


def _sections(rule: CoreRule | Rule) -> list[str]:
    out = ["## What it checks", "", rule.checks, "", "## Why", "", rule.why, ""]
    if rule.unverified:
        out += ["## Not verified", "", rule.unverified, ""]
    out += ["## How to fix", "", rule.remediation, ""]
    if rule.references:
        out += ["## Sources", "", *(f"- {ref}" for ref in rule.references), ""]
    return out


def _example(example: Example) -> list[str]:
    import yaml  # noqa: PLC0415 - only pages with examples need it

    verdict = "Fails" if example.expect == "fail" else "Passes"
    title = f"### {verdict}: {example.name}" if example.name else f"### {verdict}"
    ids = ", ".join(example.rules)
    said = (f"Reported as {ids}." if example.expect == "fail" else f"Not reported as {ids}.")
    text = yaml.safe_dump(dict(example.document), sort_keys=False, allow_unicode=True,
                          width=88)
    return [title, "", said, "", "```yaml", *text.splitlines(), "```", ""]


def rule_source(rule: Rule) -> str:
    """``kpo_rules_common/rules/eligibility.yaml``: the rule file from its package down."""
    parts = PurePath(rule.file).parts
    return "/".join(parts[-3:])


def plugin_rule_page(rule: Rule) -> str:
    """The page of a plugin's rule."""
    out = [
        f"# {rule.id}: {rule.title}", "",
        "| Plugin | Category | Severity | Rests on | In force |",
        "|---|---|---|---|---|",
        f"| {rule.plugin} | {rule.category} | {rule.severity.value} | {rule.basis} | "
        f"{_in_force(rule)} |", "",
        f"Defined in `{rule_source(rule)}`. Dates in force are judged at the engagement's "
        "period. The configuration can change the rule's severity or turn it off "
        "(`kpo-rules docs configuration`).", "",
        *_sections(rule),
    ]
    # Failing examples first: what the rule catches is what a reader came for.
    examples = sorted(rule.examples, key=lambda e: e.expect != "fail")
    if examples:
        out += ["## Examples", ""]
        for example in examples:
            out += _example(example)
    return "\n".join(out).rstrip("\n") + "\n"


def core_rule_page(rule: CoreRule, examples: list[tuple[str, str, str]] | None = None
                   ) -> str:
    """The page of a rule the core reports; ``examples`` are (verdict, title, file text)."""
    out = [
        f"# {rule.id}: {rule.title}", "",
        "| Reported by | Category | Severity |",
        "|---|---|---|",
        f"| the kpo-rules core | {rule.category} | {rule.severity.value} |", "",
        *_sections(rule),
    ]
    if examples:
        out += ["## Examples", ""]
        for verdict, title, text in examples:
            out += [f"### {verdict}: {title}", "", "```yaml", *text.rstrip("\n").splitlines(),
                    "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"
