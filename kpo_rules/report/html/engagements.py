"""One part per engagement: each service with its people, its coverage matrix and its
availability chart."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from kpo_rules.details import EngagementDetail, ServiceDetail, days_text
from kpo_rules.model import Finding, Report
from kpo_rules.report.html import chart
from kpo_rules.report.html.markup import Html, tag
from kpo_rules.report.html.matrix import matrix
from kpo_rules.report.html.places import Places


def section(report: Report, ids: Mapping[Finding, str], places: Places) -> Html:
    if not report.details:
        return tag("section", tag("h2", "Engagements"), tag(
            "p", "This report was rendered without engagement details; ",
            tag("code", "kpo-rules check --format html"), " or ",
            tag("code", "kpo_rules.check(..., details=True)"), " adds them.", class_="none"),
            id="engagements")
    evaluated = frozenset(report.rules)
    return tag("section", tag("h2", "Engagements"),
               [_engagement(d, report, ids, places, evaluated) for d in report.details],
               id="engagements")


def _engagement(detail: EngagementDetail, report: Report, ids: Mapping[Finding, str],
                places: Places, evaluated: Collection[str]) -> Html:
    findings = places.found(detail.file, detail.id)
    waived = places.waived(detail.file, detail.id)
    group = places.findings_of(detail.file, detail.id)
    count = tag("a", f"{len(findings)} findings", href=f"#{group}") if group else "no findings"
    facts = [("Client", f"{detail.client} ({detail.client_country})"),
             ("Provider", detail.provider),
             ("Period", f"{chart.day_label(detail.period_start)} - "
                        f"{chart.day_label(detail.period_end)}"),
             ("File", tag("code", detail.file)), ("Findings", count)]
    title = [tag("code", detail.id)] + ([" \u2014 ", detail.title] if detail.title else [])
    services = [_service(detail, s, places, findings, waived, ids, evaluated)
                for s in detail.services]
    return tag("section", tag("h3", title),
               tag("dl", [(tag("dt", k), tag("dd", v)) for k, v in facts], class_="facts"),
               services, class_="engagement", id=places.engagement(detail.file, detail.id))


def _service(detail: EngagementDetail, service: ServiceDetail, places: Places,
             findings: Sequence[Finding], waived: Sequence[Finding],
             ids: Mapping[Finding, str], evaluated: Collection[str]) -> Html:
    here = [f for f in findings if f.subject.service == service.id]
    gone = [f for f in waived if f.subject.service == service.id]
    names = {a.staff: a.name for a in service.assignees}
    facts = [("Task", [tag("code", service.task)]),
             ("Delivery centre", [tag("code", service.centre)]),
             ("Decision level", [service.decision_level])]
    if service.supervisor:
        facts.append(("Supervisor", [tag("code", service.supervisor)]))
    return tag(
        "div",
        tag("h4", "Service ", tag("code", service.id), " \u2014 ", service.title),
        tag("dl", [(tag("dt", k), tag("dd", v)) for k, v in facts], class_="facts"),
        matrix(service, here, gone, ids, evaluated),
        _availability(service, names, places.service(detail.file, detail.id, service.id)
                      or "s"),
        class_="svc", id=places.service(detail.file, detail.id, service.id))


def _availability(service: ServiceDetail, names: Mapping[str, str], uid: str) -> Html:
    a = service.availability
    missing = [f"{x.name} ({x.staff}): {x.why_not_drawn}" for x in service.assignees
               if x.why_not_drawn]
    if a is None:
        return tag("div", tag("h5", "Availability"), tag(
            "p", "No chart: no assignee's shift can be set against the client's business "
            "hours (the client's hours or time zone, or the assignees' working hours or zone, "
            "are not known; the availability findings say which).", class_="none"))
    need = (f"the service needs {a.required:g} h of overlap on every working day"
            if a.required else "the service asks for no overlap")
    shifts = [tag("li", f"{x.name} ({x.staff}): {x.shift}") for x in service.assignees
              if x.shift]
    parts = [
        tag("h5", "Availability on the client's clock"),
        tag("p", f"Client business hours {a.business_start}-{a.business_end} "
                 f"{days_text(a.business_days)} in {a.client_zone}; {need}. Shifts as "
                 "written, each read in its own zone:"),
        tag("ul", shifts),
        tag("div", tag("span", "business hours", class_="k-business"),
            tag("span", "shift", class_="k-shift"),
            tag("span", "week met", class_="k-ok"),
            tag("span", "week with a short day", class_="k-short"),
            tag("span", "clock change", class_="k-change"), class_="legend"),
    ]
    if missing:
        parts.append(tag("p", "Not drawn: ", "; ".join(missing), class_="muted"))
    parts.append(tag("figure", tag("figcaption", "Week by week"),
                     chart.weeks_chart(a, names, f"{uid}-w"), class_="chart"))
    parts.append(chart.changes_list(a))
    parts.append(chart.short_weeks(a.lanes, names))
    days = [tag("figcaption", "Characteristic days")]
    for k, profile in enumerate(a.profiles):
        days.append(chart.profile_heading(a, profile))
        days.append(chart.day_chart(a, profile, names, f"{uid}-p{k}"))
    if a.other_days:
        days.append(tag("p", f"{a.other_days} more working days look different again; "
                             "the week grid covers them.", class_="muted"))
    parts.append(tag("figure", days, class_="chart"))
    parts.append(tag("details", tag("summary", "The weeks as a table"), chart.weeks_table(a, names),
                     class_="alt"))
    return tag("div", parts, class_="availability")
