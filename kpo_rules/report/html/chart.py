"""The availability chart of a service, as inline SVG.

Two pictures, both on the client's clock and both from :class:`kpo_rules.details.Availability`
(the overlap code's own numbers; nothing here does time-zone arithmetic):

* one strip per **characteristic day**: the client's business hours and each assignee's
  shifts on a 24-hour axis, with the overlap the rules computed for that day;
* one **week grid**: a cell per assignee and calendar week, highlighted where some working
  day falls short of the service's hours_overlap, with every clock change of either side
  marked and numbered.

Every mark carries ``data-`` attributes (staff, minutes, week) so a test can read the chart,
and a ``<title>`` a reader sees on hover; a table under each picture says the same in text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import cache

from kpo_rules.details import Availability, ClockChange, DayProfile, Lane, WeekOverlap
from kpo_rules.engine.overlap import falls_short
from kpo_rules.report.html.markup import Html, join, tag

WIDTH = 960
LABEL = 250  # the left column: who
RIGHT = 110  # the right column: hours, short days
PLOT = WIDTH - LABEL - RIGHT
ROW = 30
AXIS = 24
_DAY = 1440


def _x(minute: float) -> float:
    return LABEL + minute / _DAY * PLOT


def _n(value: float) -> str:
    """A coordinate, short: ``250``, ``262.5``."""
    return f"{round(value, 1):g}"


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _business(a: Availability) -> list[tuple[int, int]]:
    """The client's business hours as drawn: two pieces when they run past midnight."""
    start, end = _minutes(a.business_start), _minutes(a.business_end)
    return [(start, end)] if end > start else [(start, _DAY), (0, end)]


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def day_label(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _short(hours: float, required: float) -> bool:
    """Whether a profile's overlap is short, judged as the rules judge it."""
    return falls_short(hours * 3600, required)


def _svg(width: int, height: int, title: str, desc: str, body: object, uid: str) -> Html:
    return tag("svg", tag("title", title, id=f"{uid}-t"), tag("desc", desc, id=f"{uid}-d"),
               body, xmlns="http://www.w3.org/2000/svg", viewBox=f"0 0 {width} {height}",
               role="img", aria_labelledby=f"{uid}-t {uid}-d", width=width, height=height)


def _text(x: float, y: float, text: str, cls: str, anchor: str = "start") -> Html:
    return tag("text", text, x=_n(x), y=_n(y), class_=cls,
               text_anchor=None if anchor == "start" else anchor)


def _rect(x0: float, x1: float, y: float, h: float, cls: str, title: str = "",
          **data: object) -> Html:
    return tag("rect", tag("title", title) if title else "", x=_n(x0), y=_n(y),
               width=_n(max(x1 - x0, 0.5)), height=_n(h), class_=cls, **data)


@cache
def _hour_axis(height: int) -> Html:
    """A line every hour, a label every three: the same for every strip of a height."""
    grid = "".join(f"M{_n(_x(hour * 60))} {AXIS - 4}V{height}" for hour in range(25))
    labels = [_text(_x(hour * 60), AXIS - 8, f"{hour:02d}:00", "axis", "middle")
              for hour in range(0, 25, 3)]
    return join([tag("path", d=grid, class_="grid"), *labels])


def day_chart(a: Availability, profile: DayProfile, names: Mapping[str, str], uid: str) -> Html:
    """One characteristic day: business hours, then one row per assignee."""
    height = AXIS + ROW * (1 + len(a.lanes)) + 6
    parts = [_hour_axis(height - 6)]
    top = AXIS + 4
    for lo, hi in _business(a):
        parts.append(_rect(_x(lo), _x(hi), top - 2, height - top - 4, "business-band"))
    parts.append(_text(8, AXIS + ROW / 2 + 4, "Client business hours", "label"))
    for lo, hi in _business(a):
        parts.append(_rect(_x(lo), _x(hi), AXIS + 7, ROW - 12, "business",
                           f"business hours {a.business_start}-{a.business_end} "
                           f"({profile.clocks[0]})", data_start=lo, data_end=hi))
    parts.append(_text(WIDTH - RIGHT + 10, AXIS + ROW / 2 + 4,
                       f"{a.business_start}-{a.business_end}", "sub"))
    for i, (lane, blocks, hours) in enumerate(zip(a.lanes, profile.blocks, profile.hours,
                                                  strict=True)):
        y = AXIS + ROW * (i + 1)
        short = a.required > 0 and _short(hours, a.required)
        name = names.get(lane.staff, lane.staff)
        parts.append(_text(8, y + ROW / 2, _clip(f"{name} ({lane.staff})", 34), "label"))
        parts.append(_text(8, y + ROW / 2 + 11, f"{lane.zone} ({profile.clocks[i + 1]})", "sub"))
        for lo, hi in blocks:
            parts.append(_rect(
                _x(lo), _x(hi), y + 7, ROW - 12, "shift short" if short else "shift",
                f"{name}: {clock(lo)}-{clock(hi)} on the client's clock",
                data_staff=lane.staff, data_start=lo, data_end=hi))
        label = f"{hours:g} h" + (" short" if short else "")
        parts.append(_text(WIDTH - RIGHT + 10, y + ROW / 2 + 4, label,
                           "hours short" if short else "hours"))
    title = f"Shifts on the client's clock, {day_label(profile.first)}"
    desc = "; ".join(
        f"{names.get(lane.staff, lane.staff)}: "
        + (", ".join(f"{clock(lo)}-{clock(hi)}" for lo, hi in blocks) or "no shift")
        + f", overlap {hours:g} h" for lane, blocks, hours in zip(a.lanes, profile.blocks,
                                                                  profile.hours, strict=True))
    return _svg(WIDTH, height, title,
                f"Business hours {a.business_start}-{a.business_end}; {desc}", parts, uid)


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "\u2026"


def weeks_chart(a: Availability, names: Mapping[str, str], uid: str) -> Html:
    """A cell per assignee and calendar week of the period; short weeks highlighted and
    clock changes marked with their number in :func:`changes_list`."""
    weeks = a.lanes[0].weeks
    height = AXIS + 14 + ROW * len(a.lanes) + 4
    width = PLOT / max(len(weeks), 1)
    first = weeks[0].monday
    parts: list[Html] = []
    month = None
    for k, week in enumerate(weeks):
        day = week.monday + dt.timedelta(days=3)  # the week's Thursday names its month (ISO)
        if (day.year, day.month) != month:
            month = (day.year, day.month)
            x = LABEL + k * width
            parts.append(tag("path", d=f"M{_n(x)} {AXIS - 4}V{height}", class_="grid"))
            parts.append(_text(x + 2, AXIS - 8, f"{day:%b}" + (f" {day:%Y}" if k == 0 or
                                                                day.month == 1 else ""), "axis"))
    for i, lane in enumerate(a.lanes):
        y = AXIS + 14 + ROW * i
        name = names.get(lane.staff, lane.staff)
        parts.append(_text(8, y + ROW / 2 + 4, _clip(f"{name} ({lane.staff})", 34), "label"))
        for lo, hi in _met_or_short(lane.weeks):
            parts.append(_weeks(lane, lane.weeks[lo:hi], LABEL + lo * width, y,
                                (hi - lo) * width))
        summary = (f"short {lane.short_count} d" if lane.short_count else "never short")
        parts.append(_text(WIDTH - RIGHT + 10, y + ROW / 2 + 4, summary,
                           "hours short" if lane.short_count else "hours"))
    for n, (on, changes) in enumerate(_by_date(a.changes), start=1):
        x = LABEL + (on - first).days / 7 * width
        parts.append(tag("line", tag("title", _change_text(on, changes)), x1=_n(x), x2=_n(x),
                         y1=AXIS, y2=height, class_="change", data_change=on.isoformat()))
        parts.append(tag("circle", cx=_n(x), cy=AXIS + 6, r=7, class_="change-mark"))
        parts.append(_text(x, AXIS + 9.5, str(n), "change-num", "middle"))
    short = sum(1 for lane in a.lanes for w in lane.weeks if w.short_days)
    return _svg(WIDTH, height, "Overlap week by week",
                f"{len(weeks)} weeks, {short} assignee-weeks with a short day, "
                f"{len(a.changes)} clock changes", parts, uid)


def _met_or_short(weeks: Sequence[WeekOverlap]) -> list[tuple[int, int]]:
    """Index ranges to draw: each short week alone, the met weeks between them as one."""
    out: list[tuple[int, int]] = []
    for k, week in enumerate(weeks):
        if not week.short_days and out and not weeks[out[-1][0]].short_days:
            out[-1] = (out[-1][0], k + 1)
        else:
            out.append((k, k + 1))
    return out


def _weeks(lane: Lane, weeks: Sequence[WeekOverlap], x: float, y: float, width: float) -> Html:
    first, last = weeks[0], weeks[-1]
    span = day_label(first.monday) if first is last else (
        f"{day_label(first.monday)} - {day_label(last.monday + dt.timedelta(days=6))}")
    least = min(w.min_hours for w in weeks)
    if first.short_days:
        cls = "week short" + (" partial" if first.short_days < first.working_days else "")
        title = (f"week of {span}: short on {first.short_days} of {first.working_days} "
                 f"working days (down to {least:g} h)")
        return _rect(x, x + width, y + 5, ROW - 10, cls, title, data_staff=lane.staff,
                     data_week=first.monday.isoformat(), data_short=first.short_days)
    return _rect(x, x + width, y + 5, ROW - 10, "week",
                 f"{span}: at least {least:g} h on every working day", data_staff=lane.staff,
                 data_week=first.monday.isoformat(),
                 data_weeks=len(weeks), data_short=0)


def _offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "\u2212"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _by_date(changes: Sequence[ClockChange]) -> list[tuple[dt.date, list[ClockChange]]]:
    """Changes on the same day share one mark (Europe changes everywhere at once)."""
    out: dict[dt.date, list[ClockChange]] = {}
    for change in changes:
        out.setdefault(change.on, []).append(change)
    return list(out.items())


def _change_text(on: dt.date, changes: Sequence[ClockChange]) -> str:
    return f"{day_label(on)}: " + "; ".join(
        f"{c.zone} ({c.side}) {_offset(c.before)} \u2192 {_offset(c.after)}" for c in changes)


def changes_list(a: Availability) -> Html:
    if not a.changes:
        return tag("p", "Neither side changes its clocks in the period.", class_="muted")
    return tag("ol", [tag("li", _change_text(on, changes)) for on, changes in
                      _by_date(a.changes)], class_="changes",
               aria_label="Clock changes in the period")


def short_weeks(lanes: Sequence[Lane], names: Mapping[str, str]) -> Html:
    """In words: who falls short, on how many days, in which weeks."""
    items = []
    for lane in lanes:
        name = f"{names.get(lane.staff, lane.staff)} ({lane.staff})"
        spans = _spans([w.monday for w in lane.weeks if w.short_days], lane.weeks)
        if not spans:
            items.append(tag("li", f"{name}: never short ({lane.working_days} working days)."))
            continue
        items.append(tag("li", tag("strong", f"{name}: short on {lane.short_count} of "
                                              f"{lane.working_days} working days"),
                         ", in the weeks of ", "; ".join(spans), "."))
    return tag("ul", items)


def _spans(mondays: Sequence[dt.date], weeks: Sequence[WeekOverlap]) -> list[str]:
    order = {w.monday: k for k, w in enumerate(weeks)}
    spans: list[list[dt.date]] = []
    for monday in mondays:
        if spans and order[monday] == order[spans[-1][-1]] + 1:
            spans[-1].append(monday)
        else:
            spans.append([monday])
    return [f"{_short_day(s[0])}" if len(s) == 1 else f"{_short_day(s[0])} - {_short_day(s[-1])}"
            for s in spans]


def _short_day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def weeks_table(a: Availability, names: Mapping[str, str]) -> Html:
    """The week grid in words: one row per span of weeks in which nothing changes."""
    head = tag("tr", tag("th", "Weeks", scope="col"),
               [tag("th", names.get(lane.staff, lane.staff), scope="col") for lane in a.lanes])
    weeks = a.lanes[0].weeks
    spans: list[list[int]] = []
    for k in range(len(weeks)):
        key = [(lane.weeks[k].min_hours, bool(lane.weeks[k].short_days)) for lane in a.lanes]
        if spans and key == [(lane.weeks[spans[-1][0]].min_hours,
                              bool(lane.weeks[spans[-1][0]].short_days)) for lane in a.lanes]:
            spans[-1].append(k)
        else:
            spans.append([k])
    rows = []
    for span in spans:
        lo, hi = weeks[span[0]].monday, weeks[span[-1]].monday + dt.timedelta(days=6)
        label = f"{_short_day(lo)} - {_short_day(hi)} ({len(span)} week{'s' * (len(span) > 1)})"
        cells = []
        for lane in a.lanes:
            least = min(lane.weeks[k].min_hours for k in span)
            short = sum(lane.weeks[k].short_days for k in span)
            cells.append(tag("td", f"{least:g} h" + (f", short on {short} days" if short else ""),
                             class_="short-cell" if short else None))
        rows.append(tag("tr", tag("th", label, scope="row"), cells))
    return tag("table", tag("caption", "Shortest daily overlap, by spans of weeks"),
               tag("thead", head), tag("tbody", rows))


def profile_heading(a: Availability, profile: DayProfile) -> Html:
    runs = "; ".join(day_label(lo) if lo == hi else f"{day_label(lo)} - {day_label(hi)}"
                     for lo, hi in profile.runs[:4])
    if len(profile.runs) > 4:
        runs += f"; and {len(profile.runs) - 4} more spans"
    short = a.required > 0 and any(_short(h, a.required) for h in profile.hours)
    return tag("p", tag("strong", f"{profile.days} working day{'s' if profile.days != 1 else ''}"),
               f" like {day_label(profile.first)} ({runs}). Client clock {profile.clocks[0]}.",
               join([" ", tag("span", "Overlap short of the service's "
                              f"{a.required:g} h.", class_="short")]) if short else "",
               class_="profile-head")
