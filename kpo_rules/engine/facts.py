"""Engagement -> flat facts the rules match.

Python prepares facts here and never decides a verdict: it resolves defaults
(the service language from the client's languages), looks up catalogues,
turns levels and dates into ordinals so rules can compare them, and flattens
lists into one fact per item so rules can join on them. Every fact carries the
JSON Pointer of the node it came from, so a finding points at it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from kpo_rules.catalogue import Catalogue
from kpo_rules.engagement import Engagement, StaffDef
from kpo_rules.engine.durable_compile import ID_FIELD, TYPE_FIELD
from kpo_rules.engine.ordinals import CEFR, DECISION, EDUCATION, day
from kpo_rules.engine.zones import single_zone

Fact = dict[str, Any]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

#: Every fact type and field a rule may match (besides ``id`` and ``pointer``).
#: Rule files are checked against this at load time, so a typo is a load error.
VOCABULARY: dict[str, frozenset[str]] = {
    "engagement": frozenset({
        "period_start", "period_end", "period_start_date", "period_end_date",
        "client_name", "client_type", "client_country", "client_subdivision",
        "client_languages", "client_timezone", "client_regime", "client_profile",
        "client_has_hours", "client_regulators", "client_size_class",
        "relationship", "provider_name",
    }),
    "country": frozenset({"code", "name", "profile", "eea", "languages", "timezone",
                          "data_protection", "has_business_hours", "as_of"}),
    "centre": frozenset({"country", "subdivision", "timezone", "domestic"}),
    "service": frozenset({
        "task", "domain", "centre", "centre_country", "language",
        "decision_level", "decision_rank", "software", "hours_overlap", "personal_data",
        "categories", "transfer_mechanism", "safeguards", "has_outsourcing", "critical",
        "audit_rights", "exit_plan", "regulator_notified", "supervisor", "framework",
    }),
    "serves": frozenset({"domain", "code", "country", "kind"}),
    "site": frozenset({"service", "country", "kind", "centre", "staff", "where"}),
    "tool": frozenset({"service", "software"}),
    "task_field": frozenset({"task", "field"}),
    "task": frozenset({"domain", "title", "language_level", "language_rank", "education_level",
                       "education_rank", "education_fields", "framework", "supervision",
                       "mechanical"}),
    "assignment": frozenset({"service", "staff", "timezone"}),
    "supervisor": frozenset({"service", "staff"}),
    "staff": frozenset({"name", "role", "country", "subdivision", "timezone", "education_rank",
                        "roster", "has_working_hours"}),
    "overlap": frozenset({"service", "staff", "min_hours", "typical_hours", "short_days",
                          "short_count", "working_days"}),
    "degree": frozenset({"staff", "level", "rank", "field"}),
    "credential": frozenset({"staff", "credential", "jurisdiction", "valid_until",
                             "valid_until_date", "domain", "country", "regional",
                             "requires_valid_until", "proves_language_rank",
                             "proves_language", "language", "professional", "limited",
                             "references"}),
    "credential_area": frozenset({"credential", "subdivision"}),
    "reservation": frozenset({"country", "task", "credential", "except_relationship"}),
    "reserved_task": frozenset({"country", "task", "except_relationship", "credentials",
                                "references"}),
    "regime": frozenset({"regime", "name"}),
    "regime_member": frozenset({"regime", "country"}),
    "adequacy": frozenset({"regime", "country", "scope", "valid_from", "valid_until",
                           "valid_from_date", "valid_until_date"}),
    "language": frozenset({"staff", "code", "level", "rank"}),
    "familiar": frozenset({"staff", "framework"}),
    "skill": frozenset({"staff", "software"}),
}


def _lower(values: Any) -> list[str]:
    return [str(v).lower() for v in values or ()]


class _Facts:
    """Accumulates facts with explicit, unique ids (durable would hash content otherwise)."""

    def __init__(self) -> None:
        self.items: list[Fact] = []

    def add(self, kind: str, pointer: str, /, **fields: Any) -> Fact:
        ident = f"{kind}:{len(self.items)}"
        # Every fact has an `id` rules can join on: its domain id, or this generated one.
        fact: Fact = {TYPE_FIELD: kind, "id": ident, ID_FIELD: ident, "pointer": pointer}
        # Absent, None and empty lists are all "absent": rules test them with exists: false.
        for key, value in fields.items():
            if value is None or (type(value) is list and not value):
                continue
            fact[key] = value
        self.items.append(fact)
        return fact


def build_facts(engagement: Engagement, catalogue: Catalogue) -> list[Fact]:
    """All facts of one engagement, in a deterministic order."""
    facts = _Facts()
    data = engagement.data
    client = data["client"]
    country = catalogue.countries.get(client["country"], {})
    languages = client.get("languages") or country.get("languages") or []
    period = data["period"]
    facts.add(
        "engagement", "/metadata/id",
        **{ID_FIELD: engagement.id},
        period_start=day(period["start"]), period_end=day(period["end"]),
        period_start_date=period["start"], period_end_date=period["end"],
        client_name=client["name"], client_type=client["type"],
        client_country=client["country"], client_subdivision=client.get("subdivision"),
        client_languages=list(languages),
        client_timezone=client.get("timezone") or country.get("timezone"),
        client_regime=country.get("data_protection", {}).get("regime"),
        client_profile=country.get("profile"),
        client_has_hours=_business_hours(client, country) is not None,
        client_regulators=[str(r).lower() for r in client.get("regulators", ())],
        client_size_class=client.get("size_class"),
        relationship=data["provider"].get("relationship", "third_party"),
        provider_name=data["provider"]["name"],
    )
    if country:
        facts.add("country", "/client/country", **_country_fields(country))
        _reservation_facts(facts, country)
    centres = {c["id"]: c for c in data["provider"]["delivery_centres"]}
    zones = _Zones(engagement, catalogue, centres)
    places = {c["country"] for c in centres.values()} | {
        m.data["location"]["country"] for m in engagement.staff.values()}
    _regime_facts(facts, catalogue, country.get("data_protection", {}).get("regime"), places)
    for domain, codes in sorted(data["provider"]["serves"].items()):
        for j, code in enumerate(codes):
            facts.add("serves", f"/provider/serves/{domain}/{j}", domain=domain, code=code,
                      country=code[:2], kind="subdivision" if "-" in code else "country")
    for i, centre in enumerate(data["provider"]["delivery_centres"]):
        facts.add("centre", f"/provider/delivery_centres/{i}", **{ID_FIELD: centre["id"]},
                  country=centre["country"], subdivision=centre.get("subdivision"),
                  timezone=zones.centre(centre["id"]),
                  domestic=centre["country"] == client["country"])
    tasks_seen: set[str] = set()
    for i, service in enumerate(data.get("services", ())):
        task = catalogue.tasks.get(service["task"])
        if task is not None and service["task"] not in tasks_seen:
            tasks_seen.add(service["task"])
            facts.add("task", f"/services/{i}/task", **_task_fields(service["task"], task))
            # One fact per accepted field of study, so a rule can join a degree on it.
            for field in _lower((task.get("education") or {}).get("fields")):
                facts.add("task_field", f"/services/{i}/task", task=service["task"], field=field)
        _service_facts(facts, i, service, data, languages, centres, task, zones)
        _site_facts(facts, i, service, engagement, centres)
    for member in engagement.staff.values():
        _staff_facts(facts, engagement.staff_pointer(member.id), member, catalogue, zones)
    _area_facts(facts, engagement, catalogue)
    _overlap_facts(facts, engagement, country, zones)
    return facts.items


class _Zones:
    """The zone a shift is read in, in the order the engagement format gives: the staff
    member's own ``location.timezone``; else the one zone of their location's subdivision
    or country; else the delivery centre's zone when they sit in the centre's country.
    A centre's zone is its own ``timezone`` or the one zone of its place. None: no zone
    follows, and the rules say they cannot judge."""

    def __init__(self, engagement: Engagement, catalogue: Catalogue,
                 centres: Mapping[str, Mapping[str, Any]]) -> None:
        self._engagement, self._countries, self._centres = engagement, catalogue.countries, centres

    def centre(self, centre_id: str) -> str | None:
        centre = self._centres.get(centre_id)
        if centre is None:
            return None
        own: str | None = centre.get("timezone")
        return own or single_zone(self._countries, centre["country"], centre.get("subdivision"))

    def staff(self, member: StaffDef) -> str | None:
        location = member.data["location"]
        own: str | None = location.get("timezone")
        return own or single_zone(self._countries, location["country"],
                                  location.get("subdivision"))

    def shift(self, staff_id: str, centre_id: str) -> str | None:
        member = self._engagement.staff.get(staff_id)
        if member is None:
            return None
        zone = self.staff(member)
        if zone is None and member.data["location"]["country"] == (
                self._centres.get(centre_id) or {}).get("country"):
            zone = self.centre(centre_id)
        return zone


def _business_hours(client: Mapping[str, Any], country: Mapping[str, Any]
                    ) -> Mapping[str, Any] | None:
    hours: Mapping[str, Any] | None = client.get("business_hours") or country.get(
        "business_hours")
    return hours


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftOverlap:
    """What one assignee's overlap with the client's business hours is computed from: the
    availability rules' facts and the HTML report's chart take the same inputs."""

    service_index: int
    assignee_index: int
    service: str
    staff: str
    required: float  # the service's hours_overlap (0: none asked)
    period_start: dt.date
    period_end: dt.date
    client_zone: str
    client_start: str
    client_end: str
    client_days: tuple[str, ...]
    staff_zone: str
    shift_start: str
    shift_end: str
    shift_days: tuple[str, ...]


def shift_overlaps(engagement: Engagement, catalogue: Catalogue) -> list[ShiftOverlap]:
    """The overlap inputs of every assignee of every service, asking for overlap or not, where
    the client's hours and zone and the assignee's hours and zone are known."""
    data = engagement.data
    country = catalogue.countries.get(data["client"]["country"], {})
    centres = {c["id"]: c for c in data["provider"]["delivery_centres"]}
    zones = _Zones(engagement, catalogue, centres)
    return list(_shift_overlaps(engagement, country, zones, asked_only=False))


def _shift_overlaps(engagement: Engagement, country: Mapping[str, Any], zones: _Zones, *,
                    asked_only: bool) -> Iterator[ShiftOverlap]:
    data = engagement.data
    client = data["client"]
    hours = _business_hours(client, country)
    client_zone = client.get("timezone") or country.get("timezone")
    if hours is None or client_zone is None:
        return
    period = data["period"]
    for i, service in enumerate(data.get("services", ())):
        required = service.get("hours_overlap", 0)
        if asked_only and not required:
            continue
        for j, staff_id in enumerate(service["assignees"]):
            member = engagement.staff.get(staff_id)
            shift = member.data.get("working_hours") if member else None
            zone = zones.shift(staff_id, service["delivery_centre"])
            if shift is None or zone is None:
                continue
            yield ShiftOverlap(
                service_index=i, assignee_index=j, service=service["id"], staff=staff_id,
                required=float(required), period_start=dt.date.fromisoformat(period["start"]),
                period_end=dt.date.fromisoformat(period["end"]), client_zone=client_zone,
                client_start=hours["start"], client_end=hours["end"],
                client_days=tuple(hours.get("days", WEEKDAYS)), staff_zone=zone,
                shift_start=shift["start"], shift_end=shift["end"],
                shift_days=tuple(shift.get("days", WEEKDAYS)))


def _overlap_facts(facts: _Facts, engagement: Engagement, country: Mapping[str, Any],
                   zones: _Zones) -> None:
    """Overlap of each assignee's shifts with the client's business hours, in real time.

    Computed only where a service asks for overlap and both sides' hours are known; the
    rules compare it with the requirement and say when they cannot judge.
    """
    from kpo_rules.engine.overlap import overlap  # noqa: PLC0415 - zoneinfo work, on demand

    for item in _shift_overlaps(engagement, country, zones, asked_only=True):
        found = overlap(
            period_start=item.period_start, period_end=item.period_end,
            client_zone=item.client_zone, client_start=item.client_start,
            client_end=item.client_end, client_days=item.client_days,
            staff_zone=item.staff_zone, shift_start=item.shift_start,
            shift_end=item.shift_end, shift_days=item.shift_days, required=item.required)
        facts.add("overlap", f"/services/{item.service_index}/assignees/{item.assignee_index}",
                  service=item.service, staff=item.staff, min_hours=found.min_hours,
                  typical_hours=found.typical_hours, short_days=list(found.short_days),
                  short_count=found.short_count, working_days=found.working_days)


def _country_fields(profile: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "code": profile["country"],
        "name": profile.get("name"),
        "profile": profile.get("profile", "full"),
        "eea": profile.get("eea", False),
        "languages": list(profile.get("languages", ())),
        "timezone": profile.get("timezone"),
        "data_protection": profile.get("data_protection", {}).get("regime"),
        "has_business_hours": "business_hours" in profile,
        "as_of": profile.get("as_of"),
    }


def _task_fields(task_id: str, task: Mapping[str, Any]) -> dict[str, Any]:
    education = task.get("education") or {}
    level = task.get("language_level")
    return {
        ID_FIELD: task_id,
        "domain": task_id.split(".", 1)[0],
        "title": task.get("title"),
        "language_level": level,
        "language_rank": CEFR.get(level) if level else None,
        "education_level": education.get("level"),
        "education_rank": EDUCATION.get(education.get("level", ""), None),
        "education_fields": _lower(education.get("fields")),
        "framework": task.get("framework"),
        "supervision": task.get("supervision"),
        "mechanical": bool(task.get("mechanical", False)),
    }


def _service_facts(
    facts: _Facts, i: int, service: Mapping[str, Any], data: Mapping[str, Any],
    languages: list[str], centres: Mapping[str, Mapping[str, Any]],
    task: Mapping[str, Any] | None, zones: _Zones,
) -> None:
    base = f"/services/{i}"
    client_country: str = data["client"]["country"]
    domain = service["task"].split(".", 1)[0]
    centre = centres.get(service["delivery_centre"], {})
    personal = service.get("data") or {}
    outsourcing = service.get("outsourcing")
    framework_kind = (task or {}).get("framework")
    facts.add(
        "service", base, **{ID_FIELD: service["id"]},
        task=service["task"], domain=domain,
        centre=service["delivery_centre"], centre_country=centre.get("country"),
        language=service.get("language") or (languages[0] if languages else None),
        decision_level=service.get("decision_level", "preparer"),
        decision_rank=DECISION[service.get("decision_level", "preparer")],
        software=_lower(service.get("software")),
        hours_overlap=service.get("hours_overlap", 0),
        personal_data=personal.get("personal_data"),
        categories=_lower(personal.get("categories")),
        transfer_mechanism=personal.get("transfer_mechanism"),
        safeguards=list(service.get("safeguards", ())),
        has_outsourcing=outsourcing is not None,
        critical=(outsourcing or {}).get("critical"),
        audit_rights=(outsourcing or {}).get("audit_rights"),
        exit_plan=(outsourcing or {}).get("exit_plan"),
        regulator_notified=(outsourcing or {}).get("regulator_notified"),
        supervisor=service.get("supervisor"),
        framework=f"{client_country.lower()}.{framework_kind}" if framework_kind else None,
    )
    for j, software in enumerate(service.get("software", ())):
        facts.add("tool", f"{base}/software/{j}", service=service["id"],
                  software=str(software).lower())
    for j, staff_id in enumerate(service["assignees"]):
        facts.add("assignment", f"{base}/assignees/{j}", service=service["id"], staff=staff_id,
                  timezone=zones.shift(staff_id, service["delivery_centre"]))
    if "supervisor" in service:
        facts.add("supervisor", f"{base}/supervisor", service=service["id"],
                  staff=service["supervisor"])


def _site_facts(facts: _Facts, i: int, service: Mapping[str, Any], engagement: Engagement,
                centres: Mapping[str, Mapping[str, Any]]) -> None:
    """Where a service's work is done, for the rules on data sent abroad: its delivery
    centre, and each assignee or supervisor located in another country than the centre
    (a remote worker handles the client's data where they sit)."""
    base = f"/services/{i}"
    centre = centres.get(service["delivery_centre"])
    here = centre["country"] if centre else None
    if centre is not None:
        facts.add("site", base, service=service["id"], country=here, kind="centre",
                  centre=centre["id"], where=f"delivery centre '{centre['id']}'")
    people = [(f"{base}/assignees/{j}", s) for j, s in enumerate(service["assignees"])]
    if "supervisor" in service:
        people.append((f"{base}/supervisor", service["supervisor"]))
    for pointer, staff_id in people:
        member = engagement.staff.get(staff_id)
        country = member.data["location"]["country"] if member else None
        if member is None or country == here:
            continue
        name = member.data.get("name", staff_id)
        facts.add("site", pointer, service=service["id"], country=country, kind="staff",
                  centre=service["delivery_centre"], staff=staff_id,
                  where=f"staff member {name} ({staff_id})")


def _staff_facts(facts: _Facts, pointer: str, staff: StaffDef, catalogue: Catalogue,
                 zones: _Zones) -> None:
    staff_id, member = staff.id, staff.data
    location = member["location"]
    degrees = member.get("education", ())
    facts.add(
        "staff", pointer, **{ID_FIELD: staff_id},
        name=member.get("name", staff_id), role=str(member.get("role", "")).lower(),
        country=location["country"], subdivision=location.get("subdivision"),
        timezone=zones.staff(staff),
        education_rank=max((EDUCATION[d["level"]] for d in degrees), default=0),
        roster=staff.roster,
        has_working_hours="working_hours" in member,
    )
    for degree in degrees:
        facts.add("degree", pointer, staff=staff_id, level=degree["level"],
                  rank=EDUCATION[degree["level"]], field=str(degree.get("field", "")).lower())
    for credential in member.get("credentials", ()):
        known = catalogue.credentials.get(credential["id"], {})
        until = credential.get("valid_until")
        proves = known.get("proves_language_level")
        facts.add(
            "credential", pointer, staff=staff_id, credential=credential["id"],
            jurisdiction=credential.get("jurisdiction"),
            valid_until=day(until) if until else None, valid_until_date=until,
            domain=known.get("domain"), country=known.get("country"),
            regional=known.get("regional", False),
            requires_valid_until=known.get("requires_valid_until", False),
            proves_language_rank=CEFR.get(proves) if proves else None,
            # The catalogue fixes the language where the credential does (a US court
            # reporter's record is English); otherwise the holder's entry names it (the
            # language an interpreter is sworn for).
            proves_language=(known.get("proves_language") or credential.get("language")
                             if proves else None),
            language=credential.get("language"),
            professional=known.get("professional", True),
            limited="subdivisions" in known,
            references=list(known.get("references", ())),
        )
    for language in member["languages"]:
        facts.add("language", pointer, staff=staff_id, code=language["code"],
                  level=language["level"], rank=CEFR[language["level"]])
    for framework in member.get("familiar_with", ()):
        facts.add("familiar", pointer, staff=staff_id, framework=framework)
    for software in member.get("software", ()):
        facts.add("skill", pointer, staff=staff_id, software=str(software).lower())


def _area_facts(facts: _Facts, engagement: Engagement, catalogue: Catalogue) -> None:
    """One fact per subdivision an admission held in the engagement is limited to (a
    solicitor's admission covers England and Wales, not Scotland), so rules can join the
    client's subdivision on it."""
    held = sorted({c["id"] for m in engagement.staff.values()
                   for c in m.data.get("credentials", ())})
    for credential in held:
        for code in (catalogue.credentials.get(credential) or {}).get("subdivisions", ()):
            facts.add("credential_area", "/client/country", credential=credential,
                      subdivision=code)


def _reservation_facts(facts: _Facts, country: Mapping[str, Any]) -> None:
    """One fact per reserved task, and one per credential that permits it (for joins)."""
    pointer = "/client/country"
    for entry in country.get("reserved", ()):
        except_relationship = entry.get("except_relationship")
        facts.add("reserved_task", pointer, country=country["country"], task=entry["task"],
                  except_relationship=except_relationship,
                  credentials=list(entry["credentials"]),
                  references=list(entry.get("references", ())))
        for credential in entry["credentials"]:
            facts.add("reservation", pointer, country=country["country"], task=entry["task"],
                      credential=credential, except_relationship=except_relationship)


def _regime_facts(facts: _Facts, catalogue: Catalogue, regime_id: str | None,
                  places: set[str]) -> None:
    """The client's data-protection regime, as far as the engagement's countries need it."""
    regime = catalogue.regimes.get(regime_id or "")
    if regime is None:
        return
    facts.add("regime", "/client/country", regime=regime["regime"], name=regime["name"])
    members = set(regime.get("members", ()))
    for place in sorted(places & members):
        facts.add("regime_member", "/client/country", regime=regime["regime"], country=place)
    for entry in regime.get("adequacy", ()):
        if entry["country"] not in places:
            continue
        start, end = entry.get("from"), entry.get("until")
        facts.add("adequacy", "/client/country", regime=regime["regime"],
                  country=entry["country"], scope=entry["scope"],
                  valid_from=day(start) if start else None, valid_from_date=start,
                  valid_until=day(end) if end else None, valid_until_date=end)

