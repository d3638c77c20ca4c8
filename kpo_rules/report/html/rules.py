"""The documentation of every rule the report mentions, inside the report.

A rule id links here (``#rule-ID``), not to a web page: there is no hosted site, a CI
artifact viewer or a laptop on a train opens the file with nothing else around it, and a
link to ``docs/rules/ID.md`` would point at nothing once the file is copied. The text is the
same as that page's (:mod:`kpo_rules.rule_docs` builds both from the rule's own fields);
its examples stay on the page (``kpo-rules rules show ID``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kpo_rules.model import Finding
from kpo_rules.report.html.findings import badge
from kpo_rules.report.html.markup import Html, tag, with_code


def titles(rules: Mapping[str, Any], findings: Iterable[Finding]) -> dict[str, str]:
    out = {rule_id: str(rule.title) for rule_id, rule in rules.items()}
    for f in findings:
        out.setdefault(f.rule, "")
    return out


def section(rules: Mapping[str, Any], mentioned: Iterable[str]) -> Html:
    ids = sorted(set(mentioned))
    if not ids:
        return Html("")
    return tag("section", tag("h2", "Rules"),
               tag("p", "Every rule this report mentions, as ",
                   tag("code", "kpo-rules rules show ID"),
                   " prints it (with pass and fail examples there).", class_="muted"),
               [_rule(rule_id, rules.get(rule_id)) for rule_id in ids], id="rules")


def _rule(rule_id: str, rule: Any) -> Html:
    if rule is None:  # a rule the run did not evaluate (a waiver naming it, say)
        return tag("article", tag("h3", tag("code", rule_id)),
                   tag("p", "Not evaluated in this run.", class_="none"),
                   class_="rule", id=f"rule-{rule_id}")
    parts = [
        tag("h3", tag("code", rule_id), " ", rule.title),
        tag("p", badge(rule.severity.value), " by default; ",
            f"category {rule.category}, basis {rule.basis}, plugin {rule.plugin}"),
        tag("h4", "What it checks"), tag("p", with_code(rule.checks)),
        tag("h4", "Why"), tag("p", with_code(rule.why)),
    ]
    if rule.unverified:
        parts += [tag("h4", "Not verified"), tag("p", with_code(rule.unverified))]
    parts += [tag("h4", "How to fix"), tag("p", with_code(rule.remediation))]
    if rule.references:
        parts += [tag("h4", "Sources"),
                  tag("ul", [tag("li", with_code(r)) for r in rule.references])]
    parts.append(tag("p", "Full page with examples: ",
                     tag("code", f"kpo-rules rules show {rule_id}"), " or ",
                     tag("code", f"docs/rules/{rule_id}.md"), class_="muted"))
    return tag("article", parts, class_="rule", id=f"rule-{rule_id}")
