"""Cross-document reference checks: ids that must exist, ids that must be unique.

Inline staff are local to their engagement; roster staff are global to the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from kpo_rules.catalogue import Catalogue
from kpo_rules.core_rules import core_finding
from kpo_rules.engagement import Engagement, StaffDef
from kpo_rules.model import Document, Finding, Subject


@dataclass(slots=True)
class _Problems:
    findings: list[Finding] = field(default_factory=list)

    def add(
        self,
        rule: str,
        doc: Document,
        pointer: str,
        message: str,
        remediation: str,
        *,
        engagement: str | None = None,
        subject: Subject | None = None,
    ) -> None:
        line, column = doc.locate(pointer)
        self.findings.append(core_finding(
            rule, message=message, file=doc.file, line=line, column=column,
            engagement=engagement, subject=subject, path=pointer, remediation=remediation))


def _where(doc: Document, pointer: str) -> str:
    line, _ = doc.locate(pointer)
    return f"{doc.file}:{line}"


def _suggest(word: str, choices: Iterable[str]) -> str:
    import difflib  # noqa: PLC0415 - only for a broken reference

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def resolve(
    engagements: Sequence[Document], rosters: Sequence[Document]
) -> tuple[list[Engagement], list[Finding]]:
    """Check every reference of a run and resolve staff; returns engagements and findings."""
    roster_staff, findings = index_rosters(rosters)
    resolved: list[Engagement] = []
    duplicates, problems = duplicate_engagements(
        [(doc.file, doc.index, doc.data["metadata"]["id"], doc.locate("/metadata/id"))
         for doc in engagements])
    findings += problems
    for doc in engagements:
        if (doc.file, doc.index) not in duplicates:
            engagement, found = resolve_engagement(doc, roster_staff)
            resolved.append(engagement)
            findings += found
    return resolved, findings


def duplicate_engagements(
    entries: Sequence[tuple[str, int, str, tuple[int, int]]]
) -> tuple[set[tuple[str, int]], list[Finding]]:
    """Engagement documents whose id an earlier one already uses, and their findings.

    ``entries`` are (file, document index, metadata.id, position of metadata.id) in run
    order; only this summary is needed, so worker processes need not send documents back.
    """
    first: dict[str, tuple[str, int]] = {}
    skipped: set[tuple[str, int]] = set()
    findings = []
    for file, index, eid, (line, column) in entries:
        if eid not in first:
            first[eid] = (file, line)
            continue
        skipped.add((file, index))
        findings.append(core_finding(
            "KPO-REF-003",
            message=f"engagement id '{eid}' is already used by {first[eid][0]}:{first[eid][1]}",
            file=file, line=line, column=column, engagement=eid, path="/metadata/id",
            remediation="Give every engagement of a run its own metadata.id.",
        ))
    return skipped, findings


def index_rosters(rosters: Sequence[Document]) -> tuple[dict[str, StaffDef], list[Finding]]:
    """Roster staff by id (global to the run), and the ids two rosters define."""
    problems = _Problems()
    return _index_rosters(rosters, problems), problems.findings


def resolve_engagement(doc: Document, roster_staff: Mapping[str, StaffDef]
                       ) -> tuple[Engagement, list[Finding]]:
    """One engagement with its staff resolved, and its reference findings."""
    problems = _Problems()
    engagement = _resolve_engagement(doc, doc.data["metadata"]["id"], roster_staff, problems)
    return engagement, problems.findings


def _index_rosters(rosters: Sequence[Document], problems: _Problems) -> dict[str, StaffDef]:
    index: dict[str, StaffDef] = {}
    for doc in rosters:
        roster_id = doc.data["metadata"]["id"]
        for i, member in enumerate(doc.data["staff"]):
            sid = member["id"]
            pointer = f"/staff/{i}"
            if sid in index:
                problems.add(
                    "KPO-REF-004",
                    doc,
                    pointer + "/id",
                    f"staff id '{sid}' is defined twice: also in roster '{index[sid].roster}' "
                    f"at {_where(index[sid].document, index[sid].pointer + '/id')}",
                    "Roster staff ids are global to a run; rename one of them or remove the copy.",
                    subject=Subject(staff=sid),
                )
                continue
            index[sid] = StaffDef(
                id=sid, data=member, document=doc, pointer=pointer, roster=roster_id
            )
    return index


def _resolve_engagement(
    doc: Document, eid: str, roster_staff: Mapping[str, StaffDef], problems: _Problems
) -> Engagement:
    data = doc.data
    inline: dict[str, StaffDef] = {}
    for i, member in enumerate(data.get("staff", ())):
        sid = member["id"]
        pointer = f"/staff/{i}"
        if sid in inline:
            problems.add(
                "KPO-REF-003",
                doc,
                pointer + "/id",
                f"staff id '{sid}' appears twice in this engagement "
                f"(first at line {doc.locate(inline[sid].pointer + '/id')[0]})",
                "Staff ids must be unique within an engagement.",
                engagement=eid,
                subject=Subject(staff=sid),
            )
            continue
        if sid in roster_staff:
            problems.add(
                "KPO-REF-005",
                doc,
                pointer + "/id",
                f"inline staff '{sid}' shadows the roster member of the same id "
                f"({_where(roster_staff[sid].document, roster_staff[sid].pointer + '/id')})",
                "Refer to the roster member by id only, or give the inline member another id.",
                engagement=eid,
                subject=Subject(staff=sid),
            )
        inline[sid] = StaffDef(id=sid, data=member, document=doc, pointer=pointer)

    centres = _unique_ids(
        doc,
        eid,
        "/provider/delivery_centres",
        data["provider"]["delivery_centres"],
        "delivery centre",
        problems,
    )
    _unique_ids(doc, eid, "/services", data.get("services", ()), "service", problems)

    staff: dict[str, StaffDef] = {}
    for i, service in enumerate(data.get("services", ())):
        svc = service["id"]
        base = f"/services/{i}"
        mentions = [(f"{base}/assignees/{j}", a) for j, a in enumerate(service["assignees"])]
        if "supervisor" in service:
            mentions.append((f"{base}/supervisor", service["supervisor"]))
        for pointer, sid in mentions:
            member = inline.get(sid) or roster_staff.get(sid)
            if member is None:
                role = "supervisor" if pointer.endswith("supervisor") else "assignee"
                known = set(inline) | set(roster_staff)
                problems.add(
                    "KPO-REF-001",
                    doc,
                    pointer,
                    f"service '{svc}' names {role} '{sid}', who is neither in this engagement's "
                    f"staff nor in any roster of this run{_suggest(sid, known)}",
                    "Add the person to staff: (or to a roster checked in the same run), "
                    "or correct the id.",
                    engagement=eid,
                    subject=Subject(service=svc, staff=sid),
                )
            else:
                staff[sid] = member
        centre = service["delivery_centre"]
        if centre not in centres:
            problems.add(
                "KPO-REF-002",
                doc,
                f"{base}/delivery_centre",
                f"service '{svc}' is delivered from centre '{centre}', which "
                f"provider.delivery_centres does not list{_suggest(centre, centres)}",
                "Add the centre to provider.delivery_centres or correct the id.",
                engagement=eid,
                subject=Subject(service=svc),
            )
    for sid, member in inline.items():
        staff.setdefault(sid, member)
    _check_time_zones(doc, eid, data, inline, problems)
    return Engagement(id=eid, document=doc, staff=staff)


def _unique_ids(
    doc: Document,
    eid: str,
    base: str,
    items: Iterable[Mapping[str, Any]],
    what: str,
    problems: _Problems,
) -> set[str]:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        iid = item["id"]
        if iid in seen:
            problems.add(
                "KPO-REF-003",
                doc,
                f"{base}/{i}/id",
                f"{what} id '{iid}' appears twice (first at line "
                f"{doc.locate(f'{base}/{seen[iid]}/id')[0]})",
                f"Give every {what} its own id.",
                engagement=eid,
            )
        else:
            seen[iid] = i
    return set(seen)


@lru_cache(maxsize=512)
def is_time_zone(name: str) -> bool:
    """True for a key the IANA database knows (system zoneinfo or the tzdata package)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415 - only when zones occur

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_time_zones(
    doc: Document,
    eid: str,
    data: Mapping[str, Any],
    inline: Mapping[str, StaffDef],
    problems: _Problems,
) -> None:
    client_zone = data["client"].get("timezone")
    places: list[tuple[str, Any, Subject]] = [("/client/timezone", client_zone, Subject())]
    for i, centre in enumerate(data["provider"]["delivery_centres"]):
        pointer = f"/provider/delivery_centres/{i}/timezone"
        places.append((pointer, centre.get("timezone"), Subject()))
    for member in inline.values():
        places.append(
            (
                member.pointer + "/location/timezone",
                member.data["location"].get("timezone"),
                Subject(staff=member.id),
            )
        )
    for pointer, zone, subject in places:
        if isinstance(zone, str) and not is_time_zone(zone):
            problems.add(
                "KPO-REF-006",
                doc,
                pointer,
                f"'{zone}' is not an IANA time zone",
                "Use a zone name such as Europe/Berlin or Asia/Kolkata (see the tz database).",
                engagement=eid,
                subject=subject,
            )


def unknown_ids(
    engagements: Sequence[Engagement], rosters: Sequence[Document], catalogue: Catalogue
) -> list[Finding]:
    """Ids that only plugins define: tasks, credentials, frameworks, client countries."""
    problems = _Problems()
    for engagement in engagements:
        doc, eid, data = engagement.document, engagement.id, engagement.data
        country = data["client"]["country"]
        if country not in catalogue.countries:
            problems.add(
                "KPO-REF-010", doc, "/client/country",
                f"no loaded country plugin covers the client's country '{country}'"
                f"{_suggest(country, catalogue.countries)}",
                "Install or enable the country plugin (see `kpo-rules plugins`), or correct "
                "the code; rules cannot judge a country they know nothing of.",
                engagement=eid,
            )
        for i, service in enumerate(data.get("services", ())):
            task = service["task"]
            if task not in catalogue.tasks:
                problems.add(
                    "KPO-REF-007", doc, f"/services/{i}/task",
                    f"service '{service['id']}' names task '{task}', which no loaded plugin "
                    f"defines{_suggest(task, catalogue.tasks)}",
                    "Use a task of `kpo-rules rules` task catalogues, or enable its plugin.",
                    engagement=eid, subject=Subject(service=service["id"]),
                )
        _staff_ids(doc, eid, data.get("staff", ()), catalogue, problems)
    for doc in rosters:
        _staff_ids(doc, None, doc.data["staff"], catalogue, problems)
    return problems.findings


def _staff_ids(doc: Document, eid: str | None, staff: Iterable[Mapping[str, Any]],
               catalogue: Catalogue, problems: _Problems) -> None:
    for i, member in enumerate(staff):
        subject = Subject(staff=member["id"])
        for j, credential in enumerate(member.get("credentials", ())):
            if credential["id"] not in catalogue.credentials:
                problems.add(
                    "KPO-REF-008", doc, f"/staff/{i}/credentials/{j}/id",
                    f"{member['id']} holds credential '{credential['id']}', which no loaded "
                    f"plugin defines{_suggest(credential['id'], catalogue.credentials)}",
                    "Use a credential id of a loaded plugin's catalogue.",
                    engagement=eid, subject=subject,
                )
        for j, framework in enumerate(member.get("familiar_with", ())):
            if framework not in catalogue.frameworks:
                problems.add(
                    "KPO-REF-009", doc, f"/staff/{i}/familiar_with/{j}",
                    f"{member['id']} is familiar with '{framework}', a framework no loaded "
                    f"plugin defines{_suggest(framework, catalogue.frameworks)}",
                    "Use a framework id of a loaded plugin's catalogue.",
                    engagement=eid, subject=subject,
                )
