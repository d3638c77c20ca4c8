"""``--format full``: each finding's line, the offending source line with a caret under
the column, then the fix and the sources the finding carries (for the client's country and
the rule), like ruff's full output."""

from __future__ import annotations

from kpo_rules.model import Finding, Report
from kpo_rules.report import PLAIN, RenderOptions
from kpo_rules.report.source_lines import SourceLines
from kpo_rules.report.terminal import DIM, SEVERITY_COLORS, printable, style
from kpo_rules.report.text import headline, plugin_failures, summary, waived


def snippet(f: Finding, sources: SourceLines, color: bool) -> list[str]:
    """``21 |     assignees: [s-1, s-9]`` and a caret under column 22."""
    text = sources.line(f.file, f.line)
    if text is None:
        return []
    number = str(f.line)
    gutter = " " * len(number)
    # Columns count characters; escapes widen what precedes the caret, so measure those.
    shown = printable(text)
    caret_at = len(printable(text[: max(0, f.column - 1)]))
    caret = style("^", SEVERITY_COLORS[f.severity.value], color)
    bar = style("|", DIM, color)
    return [f"{gutter} {bar}", f"{number} {bar} {shown}", f"{gutter} {bar} {' ' * caret_at}{caret}",
            f"{gutter} {bar}"]


def detail(f: Finding, color: bool) -> list[str]:
    out = []
    if f.engagement:
        out.append(f"engagement: {printable(f.engagement)}")
    if f.remediation:
        out.append(f"fix: {printable(f.remediation)}")
    out += [f"see: {printable(ref)}" for ref in f.references]
    out.append(f"rule: kpo-rules rules show {printable(f.rule)}")
    return [f"  {style('=', DIM, color)} {line}" for line in out]


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    sources = SourceLines()
    out = plugin_failures(report)
    for f in report.findings:
        out += [headline(f, options.color), *snippet(f, sources, options.color),
                *detail(f, options.color), ""]
    out += waived(report, options)
    while out and not out[0]:
        out.pop(0)
    if out and out[-1] != "":
        out.append("")
    out += summary(report)
    return "\n".join(out) + "\n"
