"""What the HTML report shows of an engagement besides its findings: each service's
assignees, what the task asks of them (the coverage matrix's columns) and the overlap of
their shifts with the client's business hours, week by week and on the period's
characteristic days (the availability chart).

Built in the per-file stage (:func:`kpo_rules.pipeline.check_file`), where the resolved
engagement is at hand, and only when a run asks for it (``kpo_rules.check(details=True)``):
an ordinary run pays nothing. Everything is small, picklable and frozen, since a worker
process sends it to the parent. The hours come from :mod:`kpo_rules.engine.overlap` with
the inputs :func:`kpo_rules.engine.facts.shift_overlaps` gives the availability rules:
the chart shows what the rules judged, never a second computation of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from kpo_rules.catalogue import Catalogue
from kpo_rules.engagement import Engagement
from kpo_rules.engine.facts import ShiftOverlap, shift_overlaps
from kpo_rules.engine.overlap import (
    clock_changes,
    daily_overlaps,
    falls_short,
    shifts_on_client_days,
)

#: Characteristic days drawn per service at most; days of the others are counted in a note.
#: Profiles with a short day are kept first.
MAX_PROFILES = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    """One thing a service's task asks of every assignee: a column of the coverage matrix."""

    #: credential | language | framework | degree | supervision | seniority | software | hours
    kind: str
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignee:
    staff: str
    name: str
    role: str = ""
    roster: str | None = None
    #: "18:30-03:30 mon-fri in Asia/Kolkata"; None: no working hours or no zone to read
    #: them in (then the chart cannot draw them, and says why).
    shift: str | None = None
    why_not_drawn: str = ""


class WeekOverlap(NamedTuple):
    """One calendar week (Monday to Sunday) of the period for one assignee (a tuple: a
    year's worth for every assignee crosses from the worker to the parent)."""

    monday: dt.date
    working_days: int  # client working days of the week inside the period
    min_hours: float
    short_days: int  # of them, below the service's hours_overlap


@dataclass(frozen=True, slots=True, kw_only=True)
class Lane:
    """One assignee's row of the chart."""

    staff: str
    zone: str
    weeks: tuple[WeekOverlap, ...]
    short_count: int
    working_days: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DayProfile:
    """A characteristic day: the client working days on which every lane looks the same."""

    first: dt.date
    days: int
    runs: tuple[tuple[dt.date, dt.date], ...]  # spans of consecutive such working days
    #: Per lane: shift blocks as (start, end) minutes on the client's wall clock.
    blocks: tuple[tuple[tuple[int, int], ...], ...]
    hours: tuple[float, ...]  # per lane: the overlap the rules computed for that day
    #: The client's clock, then each lane's, on ``first`` at the client's noon:
    #: "EST, UTC-05:00".
    clocks: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockChange:
    zone: str
    side: str  # "client", or the staff ids whose shifts are read in the zone
    on: dt.date
    before: int  # minutes east of UTC
    after: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Availability:
    client_zone: str
    business_start: str
    business_end: str
    business_days: tuple[str, ...]
    required: float  # hours_overlap (0: the service asks for none)
    lanes: tuple[Lane, ...]
    profiles: tuple[DayProfile, ...]
    other_days: int  # working days of the profiles not drawn (MAX_PROFILES)
    changes: tuple[ClockChange, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceDetail:
    id: str
    task: str
    title: str
    centre: str
    decision_level: str
    supervisor: str | None
    assignees: tuple[Assignee, ...]
    requirements: tuple[Requirement, ...]
    availability: Availability | None


@dataclass(frozen=True, slots=True, kw_only=True)
class EngagementDetail:
    id: str
    file: str
    title: str
    client: str
    client_country: str
    provider: str
    period_start: dt.date
    period_end: dt.date
    services: tuple[ServiceDetail, ...]


def describe(engagement: Engagement, catalogue: Catalogue) -> EngagementDetail:
    """The detail record of one resolved engagement."""
    data = engagement.data
    overlaps = shift_overlaps(engagement, catalogue)
    services = tuple(
        _service(engagement, catalogue, service,
                 [o for o in overlaps if o.service_index == i])
        for i, service in enumerate(data.get("services", ())))
    return EngagementDetail(
        id=engagement.id, file=engagement.file,
        title=str(data["metadata"].get("title", "")),
        client=str(data["client"]["name"]), client_country=data["client"]["country"],
        provider=str(data["provider"]["name"]),
        period_start=dt.date.fromisoformat(data["period"]["start"]),
        period_end=dt.date.fromisoformat(data["period"]["end"]),
        services=services)


def _service(engagement: Engagement, catalogue: Catalogue, service: Mapping[str, Any],
             overlaps: Sequence[ShiftOverlap]) -> ServiceDetail:
    task = catalogue.tasks.get(service["task"]) or {}
    drawn = {o.staff: o for o in overlaps}
    assignees = []
    for staff_id in service["assignees"]:
        member = engagement.staff.get(staff_id)
        data = member.data if member else {}
        item = drawn.get(staff_id)
        assignees.append(Assignee(
            staff=staff_id, name=str(data.get("name", staff_id)), role=str(data.get("role", "")),
            roster=member.roster if member else None,
            shift=_shift_label(item) if item else None,
            why_not_drawn="" if item else _why_not_drawn(data)))
    return ServiceDetail(
        id=service["id"], task=service["task"], title=str(task.get("title", service["task"])),
        centre=service["delivery_centre"],
        decision_level=service.get("decision_level", "preparer"),
        supervisor=service.get("supervisor"), assignees=tuple(assignees),
        requirements=_requirements(engagement.data, catalogue, service, task),
        availability=_availability(overlaps) if overlaps else None)


def _shift_label(item: ShiftOverlap) -> str:
    return f"{item.shift_start}-{item.shift_end} {days_text(item.shift_days)} in {item.staff_zone}"


def days_text(days: Sequence[str]) -> str:
    """``mon-fri`` for the five weekdays, else the days as listed."""
    week = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    if tuple(days) == week[:5]:
        return "mon-fri"
    return ",".join(days)


def _why_not_drawn(member: Mapping[str, Any]) -> str:
    if not member:
        return "not a known staff member"
    if "working_hours" not in member:
        return "no working_hours"
    return "no time zone follows for the working hours, or the client's hours are not known"


def _requirements(data: Mapping[str, Any], catalogue: Catalogue, service: Mapping[str, Any],
                  task: Mapping[str, Any]) -> tuple[Requirement, ...]:
    """What the catalogue says the service's task asks of each assignee, in the order the
    matrix shows it. Whether each is met is the findings' business, not this function's."""
    client = data["client"]
    country = catalogue.countries.get(client["country"], {})
    relationship = data["provider"].get("relationship", "third_party")
    out = []
    for entry in country.get("reserved", ()):
        if entry["task"] == service["task"] and entry.get("except_relationship") != relationship:
            out.append(Requirement(kind="credential", label=" or ".join(entry["credentials"])))
    languages = client.get("languages") or country.get("languages") or []
    language = service.get("language") or (languages[0] if languages else None)
    if task.get("language_level") and language:
        out.append(Requirement(kind="language", label=f"{language} {task['language_level']}"))
    if task.get("framework"):
        out.append(Requirement(kind="framework",
                               label=f"{client['country'].lower()}.{task['framework']}"))
    education = task.get("education") or {}
    if education and not task.get("mechanical", False):
        fields = list(education.get("fields", ()))
        shown = ", ".join(fields[:2]) + (f" +{len(fields) - 2} more" if len(fields) > 2 else "")
        out.append(Requirement(kind="degree", label=f"{education['level']}: {shown}"))
    if task.get("supervision"):
        out.append(Requirement(kind="supervision", label=f"{task['supervision']} supervision"))
    if service.get("decision_level") == "decision_maker":
        out.append(Requirement(kind="seniority", label="decision-maker"))
    if service.get("software"):
        out.append(Requirement(kind="software", label=", ".join(service["software"])))
    if service.get("hours_overlap"):
        out.append(Requirement(kind="hours", label=f"{service['hours_overlap']} h overlap"))
    return tuple(out)


# ----------------------------------------------------------------- the availability chart


def _availability(overlaps: Sequence[ShiftOverlap]) -> Availability:
    first = overlaps[0]
    weeks, profiles, other_days = _chart(tuple(_anonymous(o) for o in overlaps))
    lanes = tuple(Lane(staff=o.staff, zone=o.staff_zone, weeks=lane_weeks,
                       short_count=sum(w.short_days for w in lane_weeks),
                       working_days=sum(w.working_days for w in lane_weeks))
                  for o, lane_weeks in zip(overlaps, weeks, strict=True))
    return Availability(
        client_zone=first.client_zone, business_start=first.client_start,
        business_end=first.client_end, business_days=first.client_days,
        required=first.required, lanes=lanes, profiles=profiles,
        other_days=other_days, changes=_changes(overlaps))


def _anonymous(o: ShiftOverlap) -> ShiftOverlap:
    """The inputs without whom they are for: what the chart's numbers depend on."""
    return replace(o, service_index=0, assignee_index=0, service="", staff="")


# A portfolio repeats the same period, zones and shifts engagement after engagement: the
# chart of each combination is computed once (a report of 500 engagements of the benchmark
# spends 0.3 s here instead of 20 s).
@lru_cache(maxsize=512)
def _chart(overlaps: tuple[ShiftOverlap, ...]
           ) -> tuple[tuple[tuple[WeekOverlap, ...], ...], tuple[DayProfile, ...], int]:
    hours = []
    blocks = []
    for o in overlaps:
        hours.append(daily_overlaps(
            period_start=o.period_start, period_end=o.period_end, client_zone=o.client_zone,
            client_start=o.client_start, client_end=o.client_end, client_days=o.client_days,
            staff_zone=o.staff_zone, shift_start=o.shift_start, shift_end=o.shift_end,
            shift_days=o.shift_days))
        blocks.append(shifts_on_client_days(
            period_start=o.period_start, period_end=o.period_end, client_zone=o.client_zone,
            client_days=o.client_days, staff_zone=o.staff_zone, shift_start=o.shift_start,
            shift_end=o.shift_end, shift_days=o.shift_days))
    weeks = tuple(_weeks(days, [_short(h, o.required) for _, h in days])
                  for o, days in zip(overlaps, hours, strict=True))
    profiles, other_days = _profiles(overlaps, hours, blocks)
    return weeks, profiles, other_days


def _weeks(days: Sequence[tuple[dt.date, float]], short: Sequence[bool]
           ) -> tuple[WeekOverlap, ...]:
    by_week: dict[dt.date, list[tuple[float, bool]]] = {}
    for (day, hours), is_short in zip(days, short, strict=True):
        monday = day - dt.timedelta(days=day.weekday())
        by_week.setdefault(monday, []).append((hours, is_short))
    return tuple(
        WeekOverlap(monday=monday, working_days=len(entries),
                    min_hours=round(min(h for h, _ in entries), 2),
                    short_days=sum(s for _, s in entries))
        for monday, entries in by_week.items())


def _profiles(overlaps: Sequence[ShiftOverlap],
              hours: Sequence[Sequence[tuple[dt.date, float]]],
              blocks: Sequence[Sequence[tuple[dt.date, tuple[tuple[int, int], ...]]]]
              ) -> tuple[tuple[DayProfile, ...], int]:
    """Group the client's working days by what every lane shows on them (the clocks of both
    sides, the shift blocks, the overlap), in order of first appearance: the groups are the
    characteristic days, one per combination of the two sides' clock changes."""
    first = overlaps[0]
    groups: dict[Any, list[int]] = {}
    days = [day for day, _ in hours[0]]
    zones = [first.client_zone, *(o.staff_zone for o in overlaps)]
    for index, day in enumerate(days):
        clocks = tuple(_clock(zone, first.client_zone, day) for zone in zones)
        lanes = tuple((lane_blocks[index][1], round(lane_hours[index][1], 4))
                      for lane_blocks, lane_hours in zip(blocks, hours, strict=True))
        groups.setdefault((clocks, lanes), []).append(index)
    short_keys = {key for key in groups
                  if any(_short(h, o.required) for (_, h), o in zip(key[1], overlaps,
                                                                    strict=True))}
    kept = sorted(groups, key=lambda k: (k not in short_keys, -len(groups[k])))[:MAX_PROFILES]
    kept.sort(key=lambda k: groups[k][0])
    profiles = []
    for clocks, lanes in kept:
        indexes = groups[(clocks, lanes)]
        profiles.append(DayProfile(
            first=days[indexes[0]], days=len(indexes), runs=_runs(days, indexes),
            blocks=tuple(b for b, _ in lanes), hours=tuple(h for _, h in lanes),
            clocks=clocks))
    other = sum(len(indexes) for key, indexes in groups.items() if key not in kept)
    return tuple(profiles), other


def _short(hours: float, required: float) -> bool:
    return falls_short(hours * 3600, required)


def _runs(days: Sequence[dt.date], indexes: Sequence[int]) -> tuple[tuple[dt.date, dt.date], ...]:
    """Spans of consecutive working days (next to each other in ``days``)."""
    runs: list[tuple[dt.date, dt.date]] = []
    previous = -2
    for index in indexes:
        if index == previous + 1:
            runs[-1] = (runs[-1][0], days[index])
        else:
            runs.append((days[index], days[index]))
        previous = index
    return tuple(runs)


@lru_cache(maxsize=8192)
def _clock(zone: str, client_zone: str, day: dt.date) -> str:
    """"EST, UTC-05:00": what ``zone``'s clock reads at the client's noon on ``day``."""
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo(client_zone))
    local = noon.astimezone(ZoneInfo(zone))
    return f"{local.tzname()}, {_utc(local.utcoffset())}"


def _utc(offset: dt.timedelta | None) -> str:
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _changes(overlaps: Sequence[ShiftOverlap]) -> tuple[ClockChange, ...]:
    """The clock changes of the client's zone and of every zone a shift is read in."""
    first = overlaps[0]
    sides: dict[str, list[str]] = {first.client_zone: ["client"]}
    for o in overlaps:
        sides.setdefault(o.staff_zone, []).append(o.staff)
    out = []
    for zone, who in sides.items():
        side = ", ".join(who)
        for on, before, after in clock_changes(zone, first.period_start, first.period_end):
            out.append(ClockChange(zone=zone, side=side, on=on, before=before, after=after))
    return tuple(sorted(out, key=lambda c: (c.on, c.side)))
