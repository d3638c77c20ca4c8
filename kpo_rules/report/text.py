"""``--format text``: one line per finding, ``file:line:col: RULE [severity] message
(subject)``, sorted by file, then a summary; the shape ruff, mypy and compilers print,
which editors and terminals turn into links.

Every value from a checked file goes through :func:`~kpo_rules.report.terminal.printable`.
"""

from __future__ import annotations

from kpo_rules.model import Finding, Report, Severity
from kpo_rules.report import PLAIN, RenderOptions
from kpo_rules.report.terminal import BOLD, DIM, SEVERITY_COLORS, printable, style

SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 or word == 'info' else 's'}"


def subject(f: Finding) -> str:
    """``(service returns, staff s-002)``, or ``""`` for a finding about no one."""
    parts = [f"{kind} {value}" for kind, value in (("service", f.subject.service),
                                                   ("staff", f.subject.staff)) if value]
    return f"({', '.join(parts)})" if parts else ""


def headline(f: Finding, color: bool) -> str:
    """The one line of a finding."""
    where = style(printable(f.file), BOLD, color) + f":{f.line}:{f.column}:"
    tint = SEVERITY_COLORS[f.severity.value]
    about = subject(f)
    line = (f"{where} {style(printable(f.rule), BOLD + tint, color)} "
            f"[{style(f.severity.value, tint, color)}] {printable(f.message)}")
    return f"{line} {style(printable(about), DIM, color)}" if about else line


def plugin_failures(report: Report) -> list[str]:
    out = []
    for failure in report.plugin_failures:
        out.append(printable(failure.line_of_text(distribution=True)))
    return [*out, ""] if out else []


def summary(report: Report) -> list[str]:
    """Counts by severity, what was waived or baselined, what the baseline lost."""
    counts = ", ".join(plural(report.count(s), s.value) for s in SEVERITIES)
    line = (f"{plural(report.files, 'file')}, {plural(report.engagements, 'engagement')} "
            f"checked: {counts}")
    if report.waived:
        line += f" ({len(report.waived)} waived)"
    if report.baselined:
        line += f" ({report.baselined} in the baseline)"
    line += report.run.summary_note()
    out = [line]
    if report.baseline_gone:
        gone = len(report.baseline_gone)
        entries = "entry no longer occurs" if gone == 1 else "entries no longer occur"
        out.append(f"{gone} baseline {entries}; rewrite the baseline with --write-baseline")
    return out


def waived(report: Report, options: RenderOptions) -> list[str]:
    if not (options.show_waived and report.waived):
        return []
    return ["", "waived findings:", *(headline(f, options.color) for f in report.waived)]


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    out = plugin_failures(report)
    out += [headline(f, options.color) for f in report.findings]
    out += waived(report, options)
    while out and not out[0]:
        out.pop(0)
    if out:
        out.append("")
    out += summary(report)
    if report.findings:
        out.append(style("`--format full` shows the source line, the fix and the sources of "
                         "each finding; `kpo-rules rules show RULE` explains a rule.", DIM,
                         options.color))
    return "\n".join(out) + "\n"
