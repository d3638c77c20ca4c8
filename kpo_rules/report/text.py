"""``--format text``: findings grouped by file, for people at a terminal."""

from __future__ import annotations

from itertools import groupby

from kpo_rules.model import Finding, Report, Severity

_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _finding(f: Finding, color: bool) -> list[str]:
    sev = f.severity.value
    if color:
        sev = f"{_COLORS[f.severity]}{sev}{_RESET}"
    pad = " " * (7 - len(f.severity.value))
    lines = [f"  {f.line}:{f.column}  {sev}{pad}  {f.rule}  {f.message}  [{f.category}]"]
    detail = []
    if f.remediation:
        detail.append(f"fix: {f.remediation}")
    if f.references:
        detail.append("see: " + "; ".join(f.references))
    for text in detail:
        lines.append(f"      {_DIM}{text}{_RESET}" if color else f"      {text}")
    return lines


def render(report: Report, *, color: bool) -> str:
    out: list[str] = []
    for failure in report.plugin_failures:
        dist = f" ({failure.distribution})" if failure.distribution else ""
        out.append(f"plugin {failure.name}{dist} failed to load: {failure.error}")
    if report.plugin_failures:
        out.append("")
    for file, group in groupby(report.findings, key=lambda f: f.file):
        out.append(f"{_BOLD}{file}{_RESET}" if color else file)
        for f in group:
            out += _finding(f, color)
        out.append("")
    counts = ", ".join(
        _plural(report.count(s), s.value) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
    )
    summary = (
        f"{_plural(report.files, 'file')}, {_plural(report.engagements, 'engagement')} checked: "
        f"{counts}"
    )
    if report.waived:
        summary += f" ({len(report.waived)} waived)"
    if report.baselined:
        summary += f" ({report.baselined} in the baseline)"
    summary += report.run.summary_note()
    out.append(summary)
    if report.baseline_gone:
        gone = len(report.baseline_gone)
        entries = "entry no longer occurs" if gone == 1 else "entries no longer occur"
        out.append(f"{gone} baseline {entries}; rewrite the baseline with --write-baseline")
    return "\n".join(out) + "\n"
