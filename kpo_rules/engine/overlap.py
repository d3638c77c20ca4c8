"""How many hours a staff member's shifts overlap a client's business hours.

The ``availability`` rule needs the overlap on *every* ordinary working day of the period, in
real time-zone arithmetic: the two zones may change their clocks on different dates (the US
three weeks before Europe in spring, Europe a week before the US in autumn), so one sample day
says nothing about the rest of the year. Everything here is exact integer seconds in UTC; hours
appear only in the result.

Reading local wall-clock times (PEP 495, as :mod:`zoneinfo` does with ``fold=0``):

* **Ambiguous** times (autumn fall-back) are the *first* occurrence, in daylight time: 01:30 on
  Sun 1 Nov 2026 in New York is 01:30 EDT = 05:30 UTC, so a 00:00-03:00 interval that day lasts
  4 h of real time.
* **Nonexistent** times (spring-forward gap) take the offset in force *before* the change: 02:30
  on Sun 8 Mar 2026 in New York is read as 02:30 EST = 07:30 UTC, i.e. the instant the wall
  clock shows 03:30 EDT. A shift "02:30-10:00" that day therefore starts at 03:30 EDT and lasts
  6.5 h; an interval that ends up with its end before its start (02:30-03:00 that day is
  07:30-07:00 UTC) is empty.
* Every interval's length is ``end_utc - start_utc``: a 09:00-17:00 day across a change lasts
  what the clocks really measure, never a wall-clock difference.

Public holidays are not considered: they are the provider's rota to plan.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DAYS", "Overlap", "clock_changes", "daily_overlaps", "falls_short", "overlap",
           "shifts_on_client_days"]

#: Day names as engagement files write them, in ``date.weekday()`` order.
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_INDEX = {name: index for index, name in enumerate(DAYS)}

_START = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_END = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])|(24):(00)")

_SECONDS_PER_DAY = 86_400
_MINUTES_PER_DAY = 1_440
_ONE_DAY = timedelta(days=1)
#: Staff-local dates further than this from a client-local date cannot touch its business
#: interval: an interval spans at most two local days, and two zones' wall clocks differ by less
#: than 32 h even with historical local mean times (Asia/Manila was UTC-15:56 before 1845).
_MARGIN_DAYS = 3
#: Periods must leave room for that margin inside ``datetime``'s range.
_FIRST_YEAR, _LAST_YEAR = 2, 9998
#: Days with at most this shortfall (seconds) still count as meeting ``required``; it only
#: absorbs binary rounding of ``required * 3600``.
_TOLERANCE = 1e-6
#: How many short dates a result lists (for the finding's message).
_SHORT_DAYS_SHOWN = 5

_ZONES: dict[str, ZoneInfo] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Overlap:
    """The overlap of one assignee with one client over a period, as a finding reports it.

    With no client working day in the period (``working_days == 0``) both hour figures are 0.0
    and nothing is short: judge by ``short_count``, not by ``min_hours``.
    """

    min_hours: float  # smallest daily overlap, rounded to 2 decimals
    typical_hours: float  # most common daily overlap (ties: the smaller), rounded to 2 decimals
    working_days: int  # client working days examined
    short_days: tuple[str, ...]  # ISO dates below ``required``, the first five only
    short_count: int  # client working days below ``required``


def overlap(
    *,
    period_start: date,
    period_end: date,
    client_zone: str,
    client_start: str,
    client_end: str,
    client_days: Sequence[str],
    staff_zone: str,
    shift_start: str,
    shift_end: str,
    shift_days: Sequence[str],
    required: float,
) -> Overlap:
    """Overlap of a staff member's shifts with the client's business hours over the period.

    Times are local "HH:MM" (``end`` may be "24:00"); an end not after the start means the
    interval ends the next day. ``shift_days`` are the days on which a shift *starts* in the
    staff zone. Raises :class:`ValueError` for an unknown zone, day name or malformed time.
    """
    return _overlap(period_start, period_end, client_zone, client_start, client_end,
                    _key(client_days), staff_zone, shift_start, shift_end, _key(shift_days),
                    required)


def _key(days: Sequence[str]) -> tuple[str, ...] | str:
    # A plain string is passed on as it is, for _weekdays to refuse with a clear message.
    return days if isinstance(days, str) else tuple(days)


# Portfolios repeat the same hours, zones and periods engagement after engagement; the
# result is immutable, so computing each combination once is safe and saves most of the cost.
@lru_cache(maxsize=4096)
def _overlap(period_start: date, period_end: date, client_zone: str, client_start: str,
             client_end: str, client_days: tuple[str, ...] | str, staff_zone: str,
             shift_start: str, shift_end: str, shift_days: tuple[str, ...] | str,
             required: float) -> Overlap:
    need = float(required)
    if not math.isfinite(need) or need < 0:
        raise ValueError(f"required hours must be a finite number >= 0, got {required!r}")
    days = _daily_seconds(
        period_start=period_start, period_end=period_end,
        client_zone=client_zone, client_start=client_start, client_end=client_end,
        client_days=client_days, staff_zone=staff_zone, shift_start=shift_start,
        shift_end=shift_end, shift_days=shift_days,
    )
    if not days:
        return Overlap(min_hours=0.0, typical_hours=0.0, working_days=0, short_days=(),
                       short_count=0)
    seconds = [total for _, total in days]
    short = [ordinal for ordinal, total in days if falls_short(total, need)]
    counts = Counter(seconds)
    typical = min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
    return Overlap(
        min_hours=_hours(min(seconds)),
        typical_hours=_hours(typical),
        working_days=len(days),
        short_days=tuple(date.fromordinal(o).isoformat() for o in short[:_SHORT_DAYS_SHOWN]),
        short_count=len(short),
    )


def falls_short(seconds: float, required: float) -> bool:
    """Whether a day's overlap of ``seconds`` is below ``required`` hours."""
    return seconds < required * 3600 - _TOLERANCE


def daily_overlaps(
    *,
    period_start: date,
    period_end: date,
    client_zone: str,
    client_start: str,
    client_end: str,
    client_days: Sequence[str],
    staff_zone: str,
    shift_start: str,
    shift_end: str,
    shift_days: Sequence[str],
) -> list[tuple[date, float]]:
    """Each client working day of the period with its overlap in hours (unrounded).

    The per-day view behind :func:`overlap`, for messages and tests that name a day.
    """
    days = _daily_seconds(
        period_start=period_start, period_end=period_end,
        client_zone=client_zone, client_start=client_start, client_end=client_end,
        client_days=client_days, staff_zone=staff_zone, shift_start=shift_start,
        shift_end=shift_end, shift_days=shift_days,
    )
    return [(date.fromordinal(ordinal), total / 3600) for ordinal, total in days]


def shifts_on_client_days(
    *,
    period_start: date,
    period_end: date,
    client_zone: str,
    client_days: Sequence[str],
    staff_zone: str,
    shift_start: str,
    shift_end: str,
    shift_days: Sequence[str],
) -> tuple[tuple[date, tuple[tuple[int, int], ...]], ...]:
    """Each client working day of the period with the staff member's shifts on it, as
    (start, end) minutes after midnight on the client's wall clock (0 to 1440), for a chart.

    The shifts are the merged blocks :func:`overlap` measures, cut at the client's local
    midnights. On a day the client's clocks change, a block's drawn length is its wall-clock
    length, not the real time it lasts (:func:`daily_overlaps` gives that).
    """
    return _shifts_on_client_days(period_start, period_end, client_zone, _key(client_days),
                                  staff_zone, shift_start, shift_end, _key(shift_days))


@lru_cache(maxsize=1024)
def _shifts_on_client_days(
    period_start: date, period_end: date, client_zone: str, client_days: tuple[str, ...] | str,
    staff_zone: str, shift_start: str, shift_end: str, shift_days: tuple[str, ...] | str,
) -> tuple[tuple[date, tuple[tuple[int, int], ...]], ...]:
    if period_end < period_start:
        raise ValueError(f"period ends ({period_end}) before it starts ({period_start})")
    zone = _zone(client_zone)
    _zone(staff_zone)
    first, last = period_start.toordinal(), period_end.toordinal()
    calendar_days = _intervals(client_zone, first, last, 0, 0, _weekdays(client_days, "client"))
    starts, ends = _union(
        staff_zone, first - _MARGIN_DAYS, last + _MARGIN_DAYS,
        _minutes(shift_start, _START, "shift start"), _minutes(shift_end, _END, "shift end"),
        _weekdays(shift_days, "shift"),
    )
    result = []
    for ordinal, lo, hi in calendar_days:
        # A day of 24 h has one offset throughout (a change would lengthen or shorten it), so
        # its wall clock is the seconds since local midnight; other days ask the zone.
        steady = hi - lo == _SECONDS_PER_DAY
        blocks = []
        index = bisect_right(ends, lo)
        while index < len(starts) and starts[index] < hi:
            begin, finish = max(starts[index], lo), min(ends[index], hi)
            if steady:
                blocks.append(((begin - lo) // 60, (finish - lo) // 60))
            else:
                end = _MINUTES_PER_DAY if finish == hi else _wall_minutes(zone, finish, ordinal)
                blocks.append((_wall_minutes(zone, begin, ordinal), end))
            index += 1
        result.append((date.fromordinal(ordinal), tuple(blocks)))
    return tuple(result)


def _wall_minutes(zone: ZoneInfo, seconds: int, ordinal: int) -> int:
    """Minutes after the local midnight of date ``ordinal`` that the clock of ``zone`` shows at
    ``seconds`` (UTC seconds as :func:`_intervals` counts them)."""
    utc = datetime.fromordinal(seconds // _SECONDS_PER_DAY) + timedelta(
        seconds=seconds % _SECONDS_PER_DAY)
    local = utc.replace(tzinfo=timezone.utc).astimezone(zone)
    return (local.toordinal() - ordinal) * _MINUTES_PER_DAY + local.hour * 60 + local.minute


@lru_cache(maxsize=256)
def clock_changes(zone: str, period_start: date, period_end: date
                  ) -> tuple[tuple[date, int, int], ...]:
    """The dates in the period on which ``zone``'s UTC offset changes, each with the offset
    (minutes east of UTC) before and after, as read at local noon."""
    utcoffset = _zone(zone).utcoffset
    changes: list[tuple[date, int, int]] = []
    noon = datetime.combine(period_start, time(12))
    before = _offset_minutes(utcoffset(noon - _ONE_DAY))
    for _ in range(period_start.toordinal(), period_end.toordinal() + 1):
        after = _offset_minutes(utcoffset(noon))
        if after != before:
            changes.append((noon.date(), before, after))
        before = after
        noon += _ONE_DAY
    return tuple(changes)


def _offset_minutes(offset: timedelta | None) -> int:
    assert offset is not None  # ZoneInfo always has an offset
    return int(offset.total_seconds()) // 60


def _daily_seconds(
    *,
    period_start: date,
    period_end: date,
    client_zone: str,
    client_start: str,
    client_end: str,
    client_days: Sequence[str],
    staff_zone: str,
    shift_start: str,
    shift_end: str,
    shift_days: Sequence[str],
) -> list[tuple[int, int]]:
    """(ordinal, overlap in seconds) per client working day, against one union of the shifts."""
    if period_end < period_start:
        raise ValueError(f"period ends ({period_end}) before it starts ({period_start})")
    if period_start.year < _FIRST_YEAR or period_end.year > _LAST_YEAR:
        raise ValueError(f"period must lie within the years {_FIRST_YEAR}-{_LAST_YEAR}")
    _zone(client_zone)
    _zone(staff_zone)
    first, last = period_start.toordinal(), period_end.toordinal()
    business = _intervals(
        client_zone, first, last,
        _minutes(client_start, _START, "client start"), _minutes(client_end, _END, "client end"),
        _weekdays(client_days, "client"),
    )
    starts, ends = _union(
        staff_zone, first - _MARGIN_DAYS, last + _MARGIN_DAYS,
        _minutes(shift_start, _START, "shift start"), _minutes(shift_end, _END, "shift end"),
        _weekdays(shift_days, "shift"),
    )
    result: list[tuple[int, int]] = []
    count = len(starts)
    for ordinal, lo, hi in business:
        total = 0
        if hi <= lo:  # a business day a spring-forward gap swallowed has no time to overlap
            result.append((ordinal, 0))
            continue
        index = bisect_right(ends, lo)  # first shift block ending after the business day opens
        while index < count and starts[index] < hi:
            total += min(ends[index], hi) - max(starts[index], lo)
            index += 1
        result.append((ordinal, total))
    return result


@lru_cache(maxsize=256)
def _union(
    zone: str, first: int, last: int, start: int, end: int, weekdays: frozenset[int]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Starts and ends of the merged shifts starting on local dates first..last (ordinals).

    Merging first makes double counting impossible; cached because thousands of engagements
    share a period, a delivery centre's zone and its shift pattern.
    """
    shifts = sorted(  # already in order unless a zone skipped a whole day (Pacific/Apia 2011)
        (lo, hi) for _, lo, hi in _intervals(zone, first, last, start, end, weekdays) if hi > lo
    )  # an empty interval is one a spring-forward gap swallowed
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in shifts:
        if ends and lo <= ends[-1]:
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)
    return tuple(starts), tuple(ends)


@lru_cache(maxsize=256)
def _intervals(
    zone: str, first: int, last: int, start: int, end: int, weekdays: frozenset[int]
) -> tuple[tuple[int, int, int], ...]:
    """(ordinal, start, end) in UTC seconds of [start, end) on each local date in ``weekdays``.

    Times are minutes after local midnight; an end not after the start is on the next day.
    Seconds count from 0001-01-01 00:00 UTC. Local times are read with ``fold=0`` (module
    docstring). Walks the dates with one datetime addition per day: building a datetime per
    date would cost most of the time.
    """
    if end <= start:
        end += _MINUTES_PER_DAY
    utcoffset = _zone(zone).utcoffset
    midnight = datetime.fromordinal(first)
    lo_wall = midnight + timedelta(minutes=start)  # "24:00" becomes the next day's 00:00
    hi_wall = midnight + timedelta(minutes=end)
    lo_local = first * _SECONDS_PER_DAY + start * 60
    length = (end - start) * 60
    weekday = (first - 1) % 7  # ordinal 1 (0001-01-01) is a Monday
    out: list[tuple[int, int, int]] = []
    for ordinal in range(first, last + 1):
        if weekday in weekdays:
            lo_off = utcoffset(lo_wall)
            hi_off = utcoffset(hi_wall)
            assert lo_off is not None and hi_off is not None  # ZoneInfo always has an offset
            out.append((
                ordinal,
                lo_local - lo_off.days * _SECONDS_PER_DAY - lo_off.seconds,
                lo_local + length - hi_off.days * _SECONDS_PER_DAY - hi_off.seconds,
            ))
        lo_wall += _ONE_DAY
        hi_wall += _ONE_DAY
        lo_local += _SECONDS_PER_DAY
        weekday = (weekday + 1) % 7
    return tuple(out)


def _hours(seconds: int) -> float:
    return round(seconds / 3600, 2)


def _zone(name: str) -> ZoneInfo:
    """The ZoneInfo for ``name``, cached here so thousands of engagements build each zone once."""
    zone = _ZONES.get(name)
    if zone is None:
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError, TypeError) as exc:
            raise ValueError(f"unknown IANA time zone {name!r}") from exc
        _ZONES[name] = zone
    return zone


def _minutes(text: str, pattern: re.Pattern[str], what: str) -> int:
    """Minutes after local midnight of "HH:MM" ("24:00" only where ``pattern`` allows it)."""
    match = pattern.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        allowed = "00:00 to 23:59 or 24:00" if pattern is _END else "00:00 to 23:59"
        raise ValueError(f"{what} must be a time HH:MM from {allowed}, got {text!r}")
    hour, minute = (group for group in match.groups() if group is not None)
    return int(hour) * 60 + int(minute)


def _weekdays(names: Sequence[str], what: str) -> frozenset[int]:
    if isinstance(names, str):
        raise ValueError(f"{what} days must be a list of day names, got the string {names!r}")
    unknown = [name for name in names if name not in _DAY_INDEX]
    if unknown:
        raise ValueError(f"unknown {what} day {unknown[0]!r}; expected one of {', '.join(DAYS)}")
    return frozenset(_DAY_INDEX[name] for name in names)
