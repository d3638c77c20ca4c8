"""``--format github``: GitHub Actions workflow commands, one annotation per finding.

``::error file=F,line=L,col=C,title=RULE title::message`` (warning -> ``::warning``,
info -> ``::notice``), escaped as the Actions toolkit does (``escapeData`` for the
message, ``escapeProperty`` for values), then one plain summary line. Control characters
from the checked files (an ESC sequence would colour or rewrite the job log) are shown as
escapes first; newlines stay, as ``%0A``, since annotations may span lines.
"""

from __future__ import annotations

from kpo_rules.model import Finding, Report, Severity
from kpo_rules.report import PLAIN, RenderOptions
from kpo_rules.report.terminal import printable_except_newlines
from kpo_rules.report.text import plural

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
#: Actions shows at most this many annotations of one type per step.
SHOWN_PER_TYPE = 10


def escape_data(text: str) -> str:
    text = printable_except_newlines(text)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotation(finding: Finding, title: str | None = None) -> str:
    return command(
        COMMANDS[finding.severity],
        finding.message,
        file=finding.file,
        line=max(1, finding.line),
        col=max(1, finding.column),
        title=f"{finding.rule} {title}" if title else finding.rule,
    )


def _titles(report: Report) -> dict[str, str]:
    return {rule_id: str(getattr(rule, "title", "")) for rule_id, rule in report.rules.items()}


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    del options  # the runner's log renders the commands, not ANSI colour
    titles = _titles(report)
    out = [
        command("error", f"plugin {failure.name} failed to load: {failure.error}",
                title="kpo-rules: incomplete check")
        for failure in report.plugin_failures
    ]
    out += [annotation(f, titles.get(f.rule)) for f in report.findings]
    counts = [report.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)]
    summary = (
        f"kpo-rules: {plural(report.files, 'file')}, "
        f"{plural(report.engagements, 'engagement')} checked: {plural(counts[0], 'error')}, "
        f"{plural(counts[1], 'warning')}, {plural(counts[2], 'info')}"
    )
    if report.waived:
        summary += f" ({len(report.waived)} waived)"
    if max(counts) > SHOWN_PER_TYPE:
        summary += (f"; GitHub shows {SHOWN_PER_TYPE} annotations of each type per step, "
                    "the log above lists all")
    out.append(summary)
    return "\n".join(out) + "\n"
