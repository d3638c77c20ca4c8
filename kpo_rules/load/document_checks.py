"""What a JSON Schema cannot say about a document: how much it may hold, and its period.

**Size.** The cost of checking an engagement grows faster than its size: the rule engine
joins services, staff and assignments, and time-zone overlap is computed day by day
over the period. Measured on a 2-core machine (noisy): a 130 KB file of 50 services
with 200 assignees each took 9 s, one staff member with 20,000 credentials 11 s, 8,000
inline staff 27 s, and a 17 MB file of 640,000 services 189 s and 7.3 GB. So a document
that holds more than these limits is refused whole, before any per-item work, with one
finding that names the limit. Each is far above a real engagement:

================================================  =========  ==============================
what                                              limit      a real engagement
================================================  =========  ==============================
services in one engagement                        2,000      tens
staff written inline in one engagement            2,000      up to a few hundred
assignees over all services of one engagement     10,000     hundreds
staff in one roster                               50,000     the benchmark roster: 20,000
items of any other list or keys of any mapping    1,000      a staff member's credentials,
                                                             languages: a handful
an engagement period                              50 years   contracts run 1-10 years
period dates                                      1900-2999
================================================  =========  ==============================

**Period.** ``period.end`` before ``period.start`` is a schema finding at the period.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from kpo_rules.load.quick import is_date
from kpo_rules.model import Document, Finding
from kpo_rules.schemas import KINDS, schema_id

if TYPE_CHECKING:
    from kpo_rules.load.schema_findings import Problem

__all__ = [
    "MAX_ASSIGNMENTS",
    "MAX_ENGAGEMENT_STAFF",
    "MAX_ITEMS",
    "MAX_PERIOD_YEARS",
    "MAX_ROSTER_STAFF",
    "MAX_SERVICES",
    "PERIOD_YEARS",
    "oversized",
    "period_problems",
]

MAX_SERVICES = 2_000
MAX_ENGAGEMENT_STAFF = 2_000
MAX_ASSIGNMENTS = 10_000
MAX_ROSTER_STAFF = 50_000
MAX_ITEMS = 1_000
MAX_PERIOD_YEARS = 50
PERIOD_YEARS = (1900, 2999)

_CONTAINERS = (dict, list)
_TOP_LISTS = ("services", "staff")  # limits of their own; their items' insides are generic
_WHY = "the limit keeps one file from stalling a whole run"
_SPLIT = f"Split the engagement into several engagement documents, each checked on its own; {_WHY}."


def oversized(doc: Document) -> list[Finding]:
    """One finding per list or mapping over its limit; empty when the document is in bounds.

    ``doc`` must have passed the envelope check (a mapping with a known ``kind``).
    """
    data = doc.data
    engagement = data["kind"] == "Engagement"
    if _in_bounds(data, engagement):
        return []
    # Findings are written only for a document with a problem: a valid one never
    # imports what writes them.
    from kpo_rules.load.schema_findings import findings_of  # noqa: PLC0415

    problems: list[Problem] = []
    # Again, with paths, to say where: containers only; an oversized one is not entered.
    stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
    while stack:
        path, node = stack.pop()
        size = len(node)
        limit = _limit(path, engagement)
        if size > limit:
            problems.append(_too_many(data, path, node, size, limit, engagement))
            continue
        items = node.items() if type(node) is dict else enumerate(node)
        stack.extend(((*path, key), value) for key, value in items if type(value) in _CONTAINERS)
    if engagement and not problems:
        problems += _assignments(data)
    return findings_of(doc, problems, _references(doc))


def _in_bounds(data: dict[str, Any], engagement: bool) -> bool:
    """The quick answer for the usual document: one walk, no paths, no allocations.

    An ``assignees`` list is held to :data:`MAX_ASSIGNMENTS` wherever it is (the schema
    has it only on a service); every other list and mapping below the top to
    :data:`MAX_ITEMS`.
    """
    if len(data) > MAX_ITEMS:
        return False
    stack: list[Any] = []
    push = stack.append
    for key, value in data.items():
        kind = type(value)
        if kind is dict or kind is list:
            if len(value) > _limit((key,), engagement):
                return False
            if kind is list and key in _TOP_LISTS:
                stack.extend(value)  # its items, each held to the generic limit
            else:
                push(value)
    pop = stack.pop
    while stack:
        node = pop()
        kind = type(node)
        if kind is dict:
            if len(node) > MAX_ITEMS:
                return False
            for key, value in node.items():
                kind = type(value)
                if kind is list and key == "assignees":
                    if len(value) > MAX_ASSIGNMENTS:
                        return False
                    stack.extend(value)
                elif kind is dict or kind is list:
                    push(value)
        elif kind is list:
            if len(node) > MAX_ITEMS:
                return False
            stack.extend(node)
    return not (engagement and _assignments(data))


def period_problems(doc: Document) -> list[Finding]:
    """The period's dates in order, within :data:`PERIOD_YEARS` and :data:`MAX_PERIOD_YEARS`.

    Silent on a period the schema already refuses (missing, not a mapping, not dates).
    """
    data = doc.data
    period = data.get("period") if data.get("kind") == "Engagement" else None
    if type(period) is not dict:
        return []
    start, end = period.get("start"), period.get("end")
    if not (isinstance(start, str) and is_date(start) and isinstance(end, str) and is_date(end)):
        return []
    problem = _period_problem(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    if problem is None:
        return []
    from kpo_rules.load.schema_findings import findings_of  # noqa: PLC0415

    return findings_of(doc, [problem], _references(doc))


def _period_problem(start: dt.date, end: dt.date) -> Problem | None:
    first, last = PERIOD_YEARS
    for name, day in (("start", start), ("end", end)):
        if not first <= day.year <= last:
            return _problem(
                ("period", name),
                f"period.{name}: {day.isoformat()} is outside the years {first}-{last} that "
                "kpo-rules judges engagements in",
                f"Write the {name} date of the engagement; check the year for a typo.",
            )
    if end < start:
        return _problem(
            ("period",),
            f"period: the end {end.isoformat()} is before the start {start.isoformat()}",
            "Swap the dates, or correct the one that is wrong; the period runs from start "
            "to end, both days included.",
            at_key=True,
        )
    if end > _years_after(start, MAX_PERIOD_YEARS):
        return _problem(
            ("period",),
            f"period: {start.isoformat()} to {end.isoformat()} is longer than "
            f"{MAX_PERIOD_YEARS} years, the limit",
            "Give the end of the current contract term; rules judge credentials and hours "
            f"over the whole period, and {_WHY}.",
            at_key=True,
        )
    return None


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, years later, may not exist
        return day.replace(year=day.year + years, day=28)


def _limit(path: tuple[Any, ...], engagement: bool) -> int:
    if path == ("services",) and engagement:
        return MAX_SERVICES
    if path == ("staff",):
        return MAX_ENGAGEMENT_STAFF if engagement else MAX_ROSTER_STAFF
    if engagement and len(path) == 3 and path[0] == "services" and path[2] == "assignees":
        return MAX_ASSIGNMENTS  # the total over all services is checked afterwards
    return MAX_ITEMS


def _too_many(
    data: Any, path: tuple[Any, ...], node: Any, size: int, limit: int, engagement: bool
) -> Problem:
    from kpo_rules.load.schema_findings import path_label  # noqa: PLC0415

    label = path_label(data, path)
    if path == ("services",):
        what, remediation = "services in one engagement", _SPLIT
    elif path == ("staff",) and engagement:
        what = "staff members written in one engagement"
        remediation = (
            f"Move the staff to a roster document (up to {MAX_ROSTER_STAFF:,} staff) and "
            f"assign them by id; {_WHY}."
        )
    elif path == ("staff",):
        what = "staff members in one roster"
        remediation = f"Split the roster into several roster documents; {_WHY}."
    elif limit == MAX_ASSIGNMENTS:
        what, remediation = "assignees of one service", _SPLIT
    else:
        what = "items in one list" if type(node) is list else "keys in one mapping"
        remediation = f"Shorten it: no engagement needs this many; {_WHY}."
    return _problem(
        path, f"{label}: {size:,} {what}; the limit is {limit:,}", remediation, at_key=True
    )


def _assignments(data: Any) -> list[Problem]:
    services = data.get("services")
    if type(services) is not list:
        return []
    total = sum(
        len(assignees)
        for service in services
        if type(service) is dict and type(assignees := service.get("assignees")) is list
    )
    if total <= MAX_ASSIGNMENTS:
        return []
    return [
        _problem(
            ("services",),
            f"services: {total:,} assignees over all services of one engagement; the limit "
            f"is {MAX_ASSIGNMENTS:,}",
            _SPLIT,
            at_key=True,
        )
    ]


def _problem(*args: Any, **kwargs: Any) -> Problem:
    """A problem found: only then is what writes findings imported (a valid document,
    the usual one, never needs it)."""
    from kpo_rules.load.schema_findings import Problem  # noqa: PLC0415

    return Problem(*args, **kwargs)


def _references(doc: Document) -> tuple[str, ...]:
    from kpo_rules.load.schema_findings import FORMAT_REFERENCE  # noqa: PLC0415

    kind = doc.data.get("kind") if type(doc.data) is dict else None
    return (FORMAT_REFERENCE, schema_id(KINDS[kind])) if kind in KINDS else (FORMAT_REFERENCE,)
