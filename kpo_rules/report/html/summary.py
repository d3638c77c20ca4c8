"""The summary: what was checked, what was found (by severity, category and engagement),
with which plugins, and what was turned off for the run."""

from __future__ import annotations

from collections.abc import Sequence

from kpo_rules.model import CATEGORIES, Finding, Report, Severity
from kpo_rules.report.html.findings import SEVERITIES, badge, counted
from kpo_rules.report.html.markup import Html, join, tag
from kpo_rules.report.html.places import Places


def section(report: Report, places: Places) -> Html:
    cards = [_card(report.files, "files checked"),
             _card(report.engagements, "engagements"),
             *(_card(report.count(Severity(s)),
                     counted(report.count(Severity(s)), s).split(" ", 1)[1], s)
               for s in SEVERITIES),
             _card(len(report.waived), "waived")]
    return tag(
        "section",
        tag("h2", "Summary"),
        tag("div", cards, class_="cards"),
        tag("div", tag("div", _by_category(report.findings)),
            tag("div", _turned_off(report)), class_="columns"),
        _by_engagement(report, places),
        _plugins(report),
        id="summary")


def _card(n: int, what: str, severity: str = "") -> Html:
    return tag("div", tag("span", n, class_="n"), tag("span", what, class_="what"),
               class_=f"card {severity}".strip())


def _head(*names: str) -> Html:
    return tag("thead", tag("tr", [tag("th", n, scope="col",
                                       class_="num" if n in (*SEVERITIES, "total") else None)
                                   for n in names]))


def _counts(findings: Sequence[Finding]) -> list[Html]:
    numbers = [sum(f.severity.value == s for f in findings) for s in SEVERITIES]
    return [tag("td", n, class_="num" if n else "num zero")
            for n in (*numbers, len(findings))]


def _by_category(findings: Sequence[Finding]) -> Html:
    present = [c for c in CATEGORIES if any(f.category == c for f in findings)]
    present += sorted({f.category for f in findings} - set(present))
    rows = [tag("tr", tag("th", c, scope="row"), _counts([f for f in findings if f.category == c]))
            for c in present]
    rows.append(tag("tr", tag("th", "All", scope="row"), _counts(findings), class_="total"))
    return tag("table", tag("caption", "Findings by category and severity"),
               _head("Category", *SEVERITIES, "total"), tag("tbody", rows), class_="wide")


def _by_engagement(report: Report, places: Places) -> Html:
    rows = []
    for file, engagement in report.checked:
        # A file without a readable engagement owns all its findings.
        members = places.found(file, engagement)
        name = tag("code", engagement) if engagement else tag("span", "(no engagement)",
                                                              class_="none")
        anchor = places.findings_of(file, engagement)
        if anchor is None and members:
            anchor = places.findings_of(file, members[0].engagement)
        label = tag("a", name, href=f"#{anchor}") if anchor else name
        rows.append(tag("tr", tag("th", label, scope="row"),
                        tag("td", tag("code", file)), _counts(members)))
    return tag("div", tag("table", tag("caption", "Findings by engagement"),
                          _head("Engagement", "File", *SEVERITIES, "total"),
                          tag("tbody", rows), class_="wide"), class_="scroll")


def _plugins(report: Report) -> Html:
    rows = [tag("tr", tag("th", p.name, scope="row"), tag("td", p.distribution or ""),
                tag("td", p.version or ""), tag("td", p.facts_as_of or ""))
            for p in report.plugins]
    failures = [tag("li", badge("error"), " ", tag("code", p.name), f": {p.error}")
                for p in report.plugin_failures]
    return join([
        tag("table", tag("caption", "Plugins"),
            tag("thead", tag("tr", [tag("th", h, scope="col") for h in
                                    ("Plugin", "Distribution", "Version", "Facts as of")])),
            tag("tbody", rows), class_="wide"),
        tag("div", tag("h3", "Plugins that failed to load (the check is incomplete)"),
            tag("ul", failures)) if failures else ""])


def _turned_off(report: Report) -> Html:
    """The run record: a report that hides what was left out is not evidence of anything."""
    run = report.run
    disabled = ", ".join(f"{d.name} ({d.by})" for d in run.disabled_plugins) or "none"
    facts = [
        ("Run date", run.run_date or "not recorded"),
        ("Configuration", run.config_file or "none (defaults)"),
        ("Plugins disabled", disabled),
        ("Rules selected", ", ".join(run.select)),
        ("Rules ignored", ", ".join(run.ignore) or "none"),
        ("Fails on", run.fail_on),
        ("Waivers", "applied" if run.waivers else "off (audit mode: nothing waived)"),
        ("Baseline", f"{report.baselined} known findings not shown, "
                     f"{len(report.baseline_gone)} entries no longer found"
         if report.baselined or report.baseline_gone else "none"),
        ("Paths skipped", str(len(run.skipped))),
    ]
    skipped = ""
    if run.skipped:
        skipped = tag("details", tag("summary", f"The {len(run.skipped)} paths skipped, and why"),
                      tag("table", _head("Path", "Reason"), tag("tbody", [
                          tag("tr", tag("td", tag("code", s.path)), tag("td", s.reason))
                          for s in run.skipped])), class_="alt")
    notes = run.turned_off()
    return join([
        tag("h3", "What was in force"),
        tag("dl", [(tag("dt", k), tag("dd", v)) for k, v in facts], class_="facts"),
        tag("p", tag("strong", "Turned off: "), "; ".join(notes)) if notes else
        tag("p", "Nothing was turned off.", class_="muted"),
        skipped])
