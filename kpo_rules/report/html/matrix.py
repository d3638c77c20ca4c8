"""The coverage matrix of a service: its staff against what the task asks of them.

The columns come from the catalogue (:attr:`kpo_rules.details.ServiceDetail.requirements`),
the verdicts from the findings: a cell fails when a rule that judges its requirement
reported on that person in that service (or on the service as a whole, when the rule says
it cannot judge it), and is met otherwise, provided the run evaluated one of those rules.
Nothing here judges a requirement itself.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from kpo_rules.details import ServiceDetail
from kpo_rules.model import Finding
from kpo_rules.report.html.findings import ICONS
from kpo_rules.report.html.markup import Html, tag

#: The rules that judge each kind of requirement. A staff member's finding of any other rule
#: in the service is listed in the last column, so the matrix leaves no finding out.
RULES: Mapping[str, tuple[str, ...]] = {
    "credential": ("COM-ELIG-001", "LEG-RES-003", "LEG-RES-004", "LEG-RES-001", "LEG-RES-002"),
    "language": ("COM-LANG-001",),
    "framework": ("COM-REG-001", "COM-PROF-002"),
    "degree": ("COM-EDU-001",),
    "supervision": ("LEG-SUP-001", "LEG-SUP-002", "LEG-SUP-003", "LEG-SUP-004", "LEG-SUP-005",
                    "LEG-SUP-006"),
    "seniority": ("COM-SEN-001",),
    "software": ("COM-SW-001",),
    "hours": ("COM-AVAIL-001", "COM-AVAIL-002", "COM-AVAIL-003"),
}
#: Column headings where the kind's own name would not do.
KIND_NAMES = {"credential": "licence", "hours": "availability"}


def matrix(service: ServiceDetail, findings: Sequence[Finding], waived: Sequence[Finding],
           ids: Mapping[Finding, str], evaluated: Collection[str]) -> Html:
    """``findings``/``waived``: those of this engagement and service (any staff)."""
    columns = service.requirements
    people = [(a.staff, a.name) for a in service.assignees]
    if service.supervisor and service.supervisor not in {s for s, _ in people}:
        people.append((service.supervisor, service.supervisor))
    head = tag("tr", tag("th", "Staff", scope="col"),
               [tag("th", tag("span", KIND_NAMES.get(r.kind, r.kind), class_="kind"), r.label,
                    scope="col") for r in columns],
               tag("th", tag("span", "other", class_="kind"), "findings on the person",
                   scope="col"))
    used: set[Finding] = set()
    rows = []
    for staff, name in people:
        role = " (supervisor)" if staff == service.supervisor else ""
        cells = []
        for requirement in columns:
            rules = RULES.get(requirement.kind, ())
            hits = [f for f in findings if f.rule in rules and f.subject.staff in (staff, None)]
            gone = [f for f in waived if f.rule in rules and f.subject.staff in (staff, None)]
            used.update(hits)
            cells.append(_cell(hits, gone, ids, checked=any(r in evaluated for r in rules)))
        other = [f for f in findings if f.subject.staff == staff and f not in used]
        cells.append(tag("td", _links(other, ids) if other else tag("span", "none",
                                                                     class_="muted"),
                         class_="cell"))
        rows.append(tag("tr", tag("th", name, " ", tag("code", staff), role, scope="row"),
                        cells))
    rest = [f for f in findings if f.subject.staff is None and f not in used]
    table = tag("table", tag("caption", "Coverage: each person against what the task asks"),
                tag("thead", head), tag("tbody", rows), class_="matrix")
    note = (tag("p", "Findings on the service as a whole: ", _links(rest, ids))
            if rest else "")
    return Html(tag("div", table, class_="scroll") + note)


def _cell(hits: Sequence[Finding], gone: Sequence[Finding], ids: Mapping[Finding, str], *,
          checked: bool) -> Html:
    if hits:
        worst = max(hits, key=lambda f: f.severity.rank)
        state = "fail" if worst.severity.value == "error" else "warn"
        return tag("td", _links(hits, ids), class_=f"cell {state}")
    if gone:
        return tag("td", "waived ", _links(gone, ids), class_="cell waived")
    if not checked:
        return tag("td", "not checked", class_="cell unchecked")
    return tag("td", tag("span", "\u2713", aria_hidden="true"), " met", class_="cell pass")


def _links(findings: Sequence[Finding], ids: Mapping[Finding, str]) -> list[Html]:
    out: list[Html] = []
    for n, f in enumerate(findings):
        out.append(tag("a", tag("span", ICONS[f.severity.value], aria_hidden="true"), " ",
                       f.rule, href=f"#{ids[f]}", title=f.message, class_=f.severity.value,
                       aria_label=f"{f.severity.value} {f.rule}"))
        if n < len(findings) - 1:
            out.append(tag("br"))
    return out
