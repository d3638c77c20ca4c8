"""The staffing answer as text for a person, or as JSON (``kpo-rules schema staffing``)."""

from __future__ import annotations

from kpo_rules.model import Finding, Severity
from kpo_rules.report.json_text import pretty_json
from kpo_rules.report.terminal import printable
from kpo_rules.staffing.answer import DESCRIBED, ServiceStaffing, StaffEntry, Staffing


def render_json(answer: Staffing) -> str:
    return pretty_json(answer.as_dict()) + "\n"


def render_text(answer: Staffing) -> str:
    lines: list[str] = []
    for failure in answer.plugin_failures:
        lines.append(printable(failure.line_of_text()))
    if lines:
        lines.append("")
    for service in answer.services:
        lines += _service(service)
        lines.append("")
    lines.append(_summary(answer))
    return "\n".join(lines) + "\n"


def problems(answer: Staffing) -> list[str]:
    """One line per file left out of the answer (for standard error)."""
    return [printable(f"{p.file}:{p.line}:{p.column}: {p.rule} {p.message} (its staff and "
                      "services are left out)") for p in answer.problems]


def _service(service: ServiceStaffing) -> list[str]:
    where = "" if service.file == DESCRIBED else f"{service.file}:{service.line}: "
    out = [printable(f"{where}{service.engagement}/{service.service} ({service.task})"),
           f"  {_count(service.considered, 'staff member')} considered: "
           f"{_count(service.candidate_count, 'candidate')}, "
           f"{_count(service.near_miss_count, 'near miss', 'near misses')}"]
    if not service.staffable:
        out.append("  NOBODY CONSIDERED CAN STAFF THIS SERVICE")
    if service.candidates:
        out.append("  candidates:")
        for entry in service.candidates:
            out += _entry(entry)
    out += _more(len(service.candidates), service.candidate_count, "candidate")
    if service.near_misses:
        out.append("  near misses (what would stop them):")
        for entry in service.near_misses:
            out += _entry(entry)
    out += _more(len(service.near_misses), service.near_miss_count, "near miss", "near misses")
    if service.conditions:
        out.append("  conditions (whoever is assigned):")
        out += [f"    {_finding(f)}" for f in service.conditions]
        if any(f.severity is Severity.ERROR for f in service.conditions):
            out.append("    (a check of this service fails whoever is assigned until these "
                       "errors are fixed)")
    return out


def _entry(entry: StaffEntry) -> list[str]:
    name = f" {entry.name}" if entry.name else ""
    source = f"roster {entry.roster}" if entry.roster else "inline"
    tally = f", {_count(entry.blocking, 'blocking finding')}" if entry.blocking else ""
    rest = len(entry.findings) - entry.blocking
    if rest:
        tally += f", {_count(rest, 'other finding')}"
    out = [printable(f"    {entry.staff}{name} ({source}, {entry.file}:{entry.line}){tally}")]
    out += [f"      {_finding(f)}" for f in entry.findings]
    return out


def _finding(finding: Finding) -> str:
    return printable(f"{finding.rule} [{finding.severity.value}] {finding.message}")


def _more(shown: int, total: int, word: str, words: str | None = None) -> list[str]:
    if total <= shown:
        return []
    return [f"    ... and {_count(total - shown, 'more ' + word, 'more ' + (words or word + 's'))}"
            " (--limit N, --all)"]


def _summary(answer: Staffing) -> str:
    services = answer.services
    nobody = answer.unstaffable()
    line = (f"{_count(len(services), 'service')}: "
            f"{len(services) - len(nobody)} with candidates, {len(nobody)} nobody can staff")
    if nobody:
        line += ": " + ", ".join(f"{s.engagement}/{s.service}" for s in nobody)
    return printable(line)


def _count(number: int, word: str, words: str | None = None) -> str:
    return f"{number} {word if number == 1 else (words or word + 's')}"
