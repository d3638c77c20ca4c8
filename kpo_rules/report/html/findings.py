"""The findings, grouped by engagement and service, each with its place, message, fix and
sources, and the filter form the page's script brings to life."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from kpo_rules.fingerprint import fingerprint
from kpo_rules.model import CATEGORIES, Finding, Report
from kpo_rules.report.html.markup import Html, join, tag
from kpo_rules.report.html.places import Places

SEVERITIES = ("error", "warning", "info")
#: A shape beside the colour and the word, for readers who do not see the colour.
ICONS = {"error": "\u2716", "warning": "\u25b2", "info": "\u2139", "waived": "\u25cb"}


def counted(n: int, severity: str) -> str:
    """``1 error``, ``2 errors``, ``3 info``."""
    return f"{n} {severity}{'s' if n != 1 and severity != 'info' else ''}"


def badge(severity: str) -> Html:
    return tag("span", tag("span", ICONS[severity], aria_hidden="true"), " ", severity,
               class_=f"sev {severity}")


def rule_link(rule: str) -> Html:
    return tag("a", tag("code", rule), href=f"#rule-{rule}")


def anchors(findings: Iterable[Finding]) -> dict[Finding, str]:
    """``f-`` and the start of the finding's fingerprint (the id baselines and SARIF use),
    so a link to a finding survives lines moving; a suffix tells identical ones apart."""
    out: dict[Finding, str] = {}
    used: set[str] = set()
    for finding in findings:
        base = f"f-{fingerprint(finding)[:12]}"
        anchor, n = base, 1
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        used.add(anchor)
        out[finding] = anchor
    return out


def article(f: Finding, anchor: str, titles: Mapping[str, str], places: Places, *,
            waived: bool = False) -> Html:
    service = places.service(f.file, f.engagement, f.subject.service)
    subject = []
    if f.subject.service:
        name = tag("code", f.subject.service)
        subject += ["service ", tag("a", name, href=f"#{service}") if service else name]
    if f.subject.staff:
        subject += [", " if subject else "", "staff ", tag("code", f.subject.staff)]
    rows = []
    if subject:
        rows += [tag("dt", "Concerns"), tag("dd", subject)]
    if f.remediation:
        rows += [tag("dt", "Fix"), tag("dd", f.remediation)]
    if f.references:
        rows += [tag("dt", "Sources"), tag("dd", tag("ul", [tag("li", r) for r in f.references]))]
    head = [badge("waived") if waived else "", badge(f.severity.value), rule_link(f.rule),
            tag("span", titles.get(f.rule, ""), class_="title")]
    return tag(
        "article",
        tag("header", head),
        tag("p", tag("code", f"{f.file}:{f.line}:{f.column}"), class_="where"),
        tag("p", f.message, class_="message"),
        tag("dl", rows) if rows else "",
        class_=f"finding {f.severity.value}" + (" waived" if waived else ""), id=anchor,
        data_severity=f.severity.value, data_category=f.category, data_rule=f.rule)


def filter_form(findings: Sequence[Finding]) -> Html:
    """Hidden until the script shows it: without the script it would filter nothing."""
    counts = {s: sum(f.severity.value == s for f in findings) for s in SEVERITIES}
    boxes = [tag("label", tag("input", type="checkbox", name="severity", value=s, checked=True),
                 " ", badge(s), f" {counts[s]}") for s in SEVERITIES]
    categories = [c for c in CATEGORIES if any(f.category == c for f in findings)]
    categories += sorted({f.category for f in findings} - set(categories))
    rules = sorted({f.rule for f in findings})
    return tag(
        "form",
        tag("fieldset", tag("legend", "Severity"), boxes),
        tag("label", "Category ", tag("select", tag("option", "all", value=""),
                                      [tag("option", c, value=c) for c in categories],
                                      name="category")),
        tag("label", "Rule ", tag("select", tag("option", "all", value=""),
                                  [tag("option", r, value=r) for r in rules], name="rule")),
        tag("button", "Show all", type="reset"),
        tag("output", aria_live="polite"),
        id="filters", class_="filters", hidden=True, aria_label="Filter the findings")


def section(report: Report, ids: Mapping[Finding, str], titles: Mapping[str, str],
            places: Places) -> Html:
    findings = report.findings
    if not findings:
        return tag("section", tag("h2", "Findings"), tag("p", "No findings.", class_="none"),
                   id="findings")
    groups: dict[tuple[str, str | None], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.file, f.engagement), []).append(f)
    out = []
    for (file, engagement), members in sorted(groups.items(), key=_group_order):
        out.append(_group(file, engagement, members, ids, titles, places))
    return tag("section", tag("h2", "Findings"), filter_form(findings),
               tag("p", "No finding matches the filters.", id="no-match",
                   class_="empty-filter", hidden=True),
               out, id="findings")


def _group_order(item: tuple[tuple[str, str | None], list[Finding]]) -> tuple[str, str]:
    (file, engagement), _ = item
    return (file, engagement or "")


def _group(file: str, engagement: str | None, members: list[Finding],
           ids: Mapping[Finding, str], titles: Mapping[str, str], places: Places) -> Html:
    counts = ", ".join(counted(n, s) for s in SEVERITIES
                       if (n := sum(f.severity.value == s for f in members)))
    if engagement is None:
        heading = [tag("code", file), " ", tag("span", f"({counts})", class_="muted")]
        body = [article(f, ids[f], titles, places) for f in members]
        return tag("div", tag("h3", heading), body, class_="group",
                   id=places.findings_of(file, None))
    where = places.engagement(file, engagement)
    name = tag("code", engagement)
    heading = ["Engagement ", tag("a", name, href=f"#{where}") if where else name, " ",
               tag("span", f"{file} ({counts})", class_="muted")]
    by_service: dict[str | None, list[Finding]] = {}
    for f in members:
        by_service.setdefault(f.subject.service, []).append(f)
    order = places.service_order(file, engagement)
    body = []
    for service in sorted(by_service, key=lambda s: (s is not None, order.get(s or "", 1e9),
                                                      s or "")):
        detail = places.service(file, engagement, service)
        name = tag("code", service or "")
        label = ("The engagement as a whole" if service is None
                 else join(["Service ", tag("a", name, href=f"#{detail}") if detail else name]))
        body.append(tag("div", tag("h4", label),
                        [article(f, ids[f], titles, places) for f in by_service[service]],
                        class_="service"))
    return tag("div", tag("h3", heading), body, class_="group",
               id=places.findings_of(file, engagement))


def waived_section(report: Report, ids: Mapping[Finding, str], titles: Mapping[str, str],
                   places: Places) -> Html:
    """What waivers silenced, and who approved it: an auditor reads this first."""
    if not report.waived and not report.waivers:
        return Html("")
    rows = [tag("tr", tag("td", rule_link(w.rule)), tag("td", tag("code", w.engagement)),
                tag("td", w.subject or "the whole engagement"), tag("td", w.reason),
                tag("td", w.approved_by), tag("td", w.expires),
                tag("td", w.waived, class_="num"), tag("td", tag("code", f"{w.file}:{w.line}")))
            for w in report.waivers]
    table = tag("div", tag("table", tag("caption", "Waivers applied"), tag("thead", tag("tr", [
        tag("th", h, scope="col") for h in ("Rule", "Engagement", "Subject", "Reason",
                                             "Approved by", "Expires", "Findings", "Where")])),
        tag("tbody", rows), class_="wide"), class_="scroll") if rows else ""
    return tag("section", tag("h2", f"Waived findings ({len(report.waived)})"), table,
               [article(f, ids[f], titles, places, waived=True) for f in report.waived],
               id="waived")
