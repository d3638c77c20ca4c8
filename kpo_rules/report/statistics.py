"""``--statistics``: how many findings each rule raised, most frequent first (ruff's
``--statistics``), for a first look at a large portfolio."""

from __future__ import annotations

from collections import Counter
from typing import Any

from kpo_rules.model import Report, Severity
from kpo_rules.report import PLAIN, RenderOptions
from kpo_rules.report.json_text import pretty_json
from kpo_rules.report.terminal import BOLD, SEVERITY_COLORS, printable, style
from kpo_rules.report.text import summary


def rows(report: Report) -> list[dict[str, Any]]:
    """One row per rule with findings: count, rule, severity, title; most frequent first."""
    counts = Counter(f.rule for f in report.findings)
    severity: dict[str, Severity] = {}  # the worst, where a rule reports two severities
    for f in report.findings:
        known = severity.get(f.rule)
        if known is None or f.severity.rank > known.rank:
            severity[f.rule] = f.severity
    return [
        {"count": n, "rule": rule, "severity": severity[rule].value,
         "title": str(getattr(report.rules.get(rule), "title", ""))}
        for rule, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    table = rows(report)
    width = max((len(str(r["count"])) for r in table), default=1)
    rule_width = max((len(r["rule"]) for r in table), default=0)
    out = []
    for r in table:
        tint = SEVERITY_COLORS[r["severity"]]
        rule = style(printable(r["rule"]).ljust(rule_width), BOLD + tint, options.color)
        severity = style(f"[{r['severity']}]".ljust(9), tint, options.color)
        out.append(f"{r['count']:>{width}}  {rule}  {severity}  {printable(r['title'])}")
    if out:
        out.append("")
    out += summary(report)
    return "\n".join(out) + "\n"


def render_json(report: Report, options: RenderOptions = PLAIN) -> str:
    del options  # JSON is for machines
    return pretty_json(rows(report)) + "\n"
