"""Availability overlap (SPEC 3): real time-zone arithmetic, DST of both zones, every working day.

Expected numbers are worked out by hand in the comments; 2026 clock changes: US Sun 8 Mar and
Sun 1 Nov, EU/UK Sun 29 Mar and Sun 25 Oct, Australia (NSW) Sun 5 Apr and Sun 4 Oct.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import kpo_rules
from kpo_rules.catalogue import Catalogue
from kpo_rules.content import load_content
from kpo_rules.engine.overlap import DAYS, Overlap, daily_overlaps, overlap
from kpo_rules.engine.zones import single_zone
from kpo_rules.plugins import create_plugin_set

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
ALL_DAYS = list(DAYS)


def setup(**changes):
    """A New York client 09:00-17:00 Mon-Fri and a Pune night shift, over 2026."""
    base = {
        "period_start": date(2026, 1, 1), "period_end": date(2026, 12, 31),
        "client_zone": "America/New_York", "client_start": "09:00", "client_end": "17:00",
        "client_days": WEEKDAYS,
        "staff_zone": "Asia/Kolkata", "shift_start": "18:30", "shift_end": "03:30",
        "shift_days": WEEKDAYS,
    }
    base.update(changes)
    return base


def run(required=0, **changes) -> Overlap:
    return overlap(required=required, **setup(**changes))


def daily(**changes) -> dict[str, float]:
    return {day.isoformat(): hours for day, hours in daily_overlaps(**setup(**changes))}


def weekdays_between(first: date, last: date) -> list[date]:
    days = (first + timedelta(n) for n in range((last - first).days + 1))
    return [day for day in days if day.weekday() < 5]


# --- Pune and New York ---------------------------------------------------------------------

def test_pune_night_shift_covers_new_york_all_year():
    # Winter: IST - EST = 10:30, so 18:30-03:30 IST = 08:00-17:00 EST: all of 09:00-17:00.
    # Summer: IST - EDT = 9:30, so 18:30-03:30 IST = 09:00-18:00 EDT: all of 09:00-17:00.
    result = run(required=8)
    assert result == Overlap(min_hours=8.0, typical_hours=8.0, working_days=261,
                             short_days=(), short_count=0)
    days = daily()
    assert days["2026-01-05"] == days["2026-03-09"] == days["2026-07-15"] == 8.0


def test_pune_day_shift_against_new_york_changes_with_us_dst():
    # 13:30-22:30 IST = 03:00-12:00 EST (3 h of 09-17) or 04:00-13:00 EDT (4 h).
    days = daily(shift_start="13:30", shift_end="22:30")
    assert days["2026-03-06"] == 3.0  # Friday before the US change
    assert days["2026-03-09"] == 4.0  # Monday after it
    assert days["2026-10-30"] == 4.0
    assert days["2026-11-02"] == 3.0
    result = run(required=4, shift_start="13:30", shift_end="22:30")
    est = weekdays_between(date(2026, 1, 1), date(2026, 3, 6)) + weekdays_between(
        date(2026, 11, 2), date(2026, 12, 31))
    assert len(est) == 91
    assert result == Overlap(
        min_hours=3.0, typical_hours=4.0, working_days=261,
        short_days=("2026-01-01", "2026-01-02", "2026-01-05", "2026-01-06", "2026-01-07"),
        short_count=91,
    )
    assert run(required=3, shift_start="13:30", shift_end="22:30").short_count == 0


def test_partial_night_shift():
    # 20:30-05:30 IST = 10:00-19:00 EST: 10:00-17:00 = 7 h; in EDT 11:00-20:00: 6 h.
    days = daily(shift_start="20:30", shift_end="05:30")
    assert days["2026-02-02"] == 7.0
    assert days["2026-06-01"] == 6.0


# --- The DST edge: US and EU change on different dates -------------------------------------

def berlin_new_york(**changes):
    return setup(client_zone="Europe/Berlin", staff_zone="America/New_York",
                 shift_start="08:00", shift_end="12:00", **changes)


def test_berlin_client_new_york_staff_spring():
    # Usually Berlin 09-17 = NY 03-11 (6 h apart): overlap 08:00-11:00 = 3 h. From 9 to 27
    # March the US is on EDT and Berlin still on CET, 5 h apart: NY 04-12, overlap 08-12 = 4 h.
    setup_ = berlin_new_york(period_start=date(2026, 3, 1), period_end=date(2026, 4, 10))
    days = {d.isoformat(): h for d, h in daily_overlaps(**setup_)}
    expected = {d.isoformat(): 3.0 for d in weekdays_between(date(2026, 3, 2),
                                                               date(2026, 4, 10))}
    expected.update({d.isoformat(): 4.0 for d in weekdays_between(date(2026, 3, 9),
                                                                    date(2026, 3, 27))})
    assert days == expected
    assert overlap(required=4, **setup_) == Overlap(
        min_hours=3.0, typical_hours=3.0, working_days=30,
        short_days=("2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06"),
        short_count=15,  # 2-6 March and 30 March-10 April
    )
    # From the first 4-hour day on, the first short days are after Berlin changed too.
    later = berlin_new_york(period_start=date(2026, 3, 9), period_end=date(2026, 4, 10))
    assert overlap(required=4, **later).short_days == (
        "2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02", "2026-04-03")


def test_berlin_client_new_york_staff_autumn():
    # Berlin falls back on 25 Oct, New York on 1 Nov: 26-30 Oct are 5 h apart -> 4 h.
    setup_ = berlin_new_york(period_start=date(2026, 10, 19), period_end=date(2026, 11, 6))
    days = {d.isoformat(): h for d, h in daily_overlaps(**setup_)}
    assert days == {
        "2026-10-19": 3.0, "2026-10-20": 3.0, "2026-10-21": 3.0, "2026-10-22": 3.0,
        "2026-10-23": 3.0,
        "2026-10-26": 4.0, "2026-10-27": 4.0, "2026-10-28": 4.0, "2026-10-29": 4.0,
        "2026-10-30": 4.0,
        "2026-11-02": 3.0, "2026-11-03": 3.0, "2026-11-04": 3.0, "2026-11-05": 3.0,
        "2026-11-06": 3.0,
    }
    result = overlap(required=4, **setup_)
    assert result.short_count == 10
    assert result.short_days == ("2026-10-19", "2026-10-20", "2026-10-21", "2026-10-22",
                                 "2026-10-23")


def test_berlin_client_new_york_staff_whole_year():
    result = overlap(required=4, **berlin_new_york())
    assert result.working_days == 261
    assert result.short_count == 261 - 15 - 5  # only 9-27 March and 26-30 October reach 4 h
    assert (result.min_hours, result.typical_hours) == (3.0, 3.0)
    assert overlap(required=3, **berlin_new_york()).short_count == 0


def test_manila_staff_london_client_across_uk_changes():
    # Manila is UTC+8 all year: 15:00-24:00 PHT = 07:00-16:00 UTC. London 09-17 is 09-17 UTC
    # in winter (overlap 7 h) and 08-16 UTC in summer (overlap 8 h).
    days = daily(client_zone="Europe/London", staff_zone="Asia/Manila",
                 shift_start="15:00", shift_end="24:00")
    assert days["2026-03-27"] == 7.0
    assert days["2026-03-30"] == 8.0
    assert days["2026-10-23"] == 8.0
    assert days["2026-10-26"] == 7.0
    result = run(required=8, client_zone="Europe/London", staff_zone="Asia/Manila",
                 shift_start="15:00", shift_end="24:00")
    summer = weekdays_between(date(2026, 3, 30), date(2026, 10, 23))
    assert result.short_count == 261 - len(summer)
    assert result.short_days[0] == "2026-01-01"
    assert (result.min_hours, result.typical_hours) == (7.0, 8.0)


# --- Which shifts can reach a client day ---------------------------------------------------

def test_sydney_monday_gets_nothing_from_a_mon_fri_london_night_shift():
    # January: Sydney AEDT = UTC+11, London GMT. Sydney Mon 09-17 = Sun 22:00-Mon 06:00 in
    # London; that would be Sunday's shift, which does not exist. Tue-Fri are covered by the
    # Mon-Thu shifts (22:00-06:00): 8 h.
    sydney = {"client_zone": "Australia/Sydney", "staff_zone": "Europe/London",
              "shift_start": "22:00", "shift_end": "06:00",
              "period_start": date(2026, 1, 5), "period_end": date(2026, 1, 16)}
    assert daily(**sydney) == {
        "2026-01-05": 0.0, "2026-01-06": 8.0, "2026-01-07": 8.0, "2026-01-08": 8.0,
        "2026-01-09": 8.0,
        "2026-01-12": 0.0, "2026-01-13": 8.0, "2026-01-14": 8.0, "2026-01-15": 8.0,
        "2026-01-16": 8.0,
    }
    result = run(required=1, **sydney)
    assert result == Overlap(min_hours=0.0, typical_hours=8.0, working_days=10,
                             short_days=("2026-01-05", "2026-01-12"), short_count=2)
    # A Sunday shift covers Monday.
    assert run(required=8, **sydney, shift_days=[*WEEKDAYS, "sun"]).short_count == 0
    # July: Sydney AEST = UTC+10, London BST = UTC+1, 9 h apart: Sydney 09-17 = London
    # 00:00-08:00 the same day; the previous evening's 22:00-06:00 shift gives 6 h.
    july = dict(sydney, period_start=date(2026, 7, 6), period_end=date(2026, 7, 10))
    assert daily(**july) == {"2026-07-06": 0.0, "2026-07-07": 6.0, "2026-07-08": 6.0,
                             "2026-07-09": 6.0, "2026-07-10": 6.0}


def test_saturday_client_day():
    # NY Sat 09-17 EST = Sat 19:30-Sun 03:30 IST: only a Saturday shift reaches it.
    six = [*WEEKDAYS, "sat"]
    period = {"period_start": date(2026, 1, 5), "period_end": date(2026, 1, 10)}
    assert daily(client_days=six, **period)["2026-01-10"] == 0.0
    assert daily(client_days=six, shift_days=six, **period)["2026-01-10"] == 8.0
    assert run(required=8, client_days=six, **period).short_days == ("2026-01-10",)


def test_shift_days_default_to_what_the_caller_passes():
    # No shift days at all: nothing overlaps, every working day is short.
    result = run(required=0.5, shift_days=[], period_start=date(2026, 1, 5),
                 period_end=date(2026, 1, 9))
    assert (result.min_hours, result.short_count, result.working_days) == (0.0, 5, 5)


def test_adjacent_24_hour_shifts_are_not_counted_twice():
    # 12:00-12:00 UTC is a 24 h shift; consecutive shifts touch at noon. A 24 h UTC business
    # day meets two of them, and its overlap is still 24 h.
    result = run(client_zone="UTC", client_start="00:00", client_end="00:00",
                 client_days=ALL_DAYS, staff_zone="UTC", shift_start="12:00",
                 shift_end="12:00", shift_days=ALL_DAYS, required=24)
    assert (result.min_hours, result.short_count, result.working_days) == (24.0, 0, 365)


# --- 24:00, midnight crossing on the client side, short periods ----------------------------

def test_end_24_00_and_whole_days_across_dst():
    # A Berlin day 00:00-24:00 lasts 23 h on 29 Mar and 25 h on 25 Oct.
    same = {"client_zone": "Europe/Berlin", "staff_zone": "Europe/Berlin",
            "client_start": "00:00", "client_end": "24:00", "shift_start": "00:00",
            "shift_end": "24:00", "client_days": ALL_DAYS, "shift_days": ALL_DAYS}
    days = daily(**same)
    assert (days["2026-03-28"], days["2026-03-29"], days["2026-03-30"]) == (24.0, 23.0, 24.0)
    assert (days["2026-10-24"], days["2026-10-25"], days["2026-10-26"]) == (24.0, 25.0, 24.0)
    result = run(required=24, **same)
    assert result.short_days == ("2026-03-29",)
    assert (result.min_hours, result.typical_hours) == (23.0, 24.0)
    # 09:00-24:00 in New York against the Pune night shift (08:00-17:00 EST): 8 h.
    assert daily(client_end="24:00")["2026-01-05"] == 8.0


def test_client_day_crossing_midnight():
    # A NY "night office" 22:00-06:00 EST = 03:00-11:00 UTC = 08:30-16:30 IST of the next IST
    # day: a Pune 09:00-18:00 shift that day overlaps 09:00-16:30 = 7.5 h; in EDT it is
    # 02:00-10:00 UTC = 07:30-15:30 IST, so 6.5 h.
    days = daily(client_start="22:00", client_end="06:00", shift_start="09:00",
                 shift_end="18:00", period_start=date(2026, 1, 5), period_end=date(2026, 7, 10))
    assert days["2026-01-05"] == 7.5
    assert days["2026-07-06"] == 6.5
    # Friday's NY night is Saturday daytime in Pune: no shift.
    assert days["2026-01-09"] == 0.0


def test_one_day_period():
    result = run(required=8, period_start=date(2026, 3, 9), period_end=date(2026, 3, 9))
    assert result == Overlap(min_hours=8.0, typical_hours=8.0, working_days=1, short_days=(),
                             short_count=0)
    sunday = run(required=8, period_start=date(2026, 3, 8), period_end=date(2026, 3, 8))
    assert sunday == Overlap(min_hours=0.0, typical_hours=0.0, working_days=0, short_days=(),
                             short_count=0)


def test_period_over_a_year_boundary():
    # Pune 13:30-22:30 against New York in EST: 3 h on each of the 10 weekdays.
    result = run(required=3.5, shift_start="13:30", shift_end="22:30",
                 period_start=date(2026, 12, 28), period_end=date(2027, 1, 8))
    assert result == Overlap(
        min_hours=3.0, typical_hours=3.0, working_days=10,
        short_days=("2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01"),
        short_count=10,
    )


def test_rounding_and_fractional_requirements():
    # 13:30-22:15 IST = 03:00-11:45 EST: 2:45 h overlap in winter.
    result = run(required=2.75, shift_start="13:30", shift_end="22:15",
                 period_start=date(2026, 1, 5), period_end=date(2026, 1, 9))
    assert (result.min_hours, result.short_count) == (2.75, 0)
    # Ending 22:10 IST = 11:40 EST: 2 h 40 min = 2.666... h, reported as 2.67 but short of 2.67.
    result = run(required=2.67, shift_start="13:30", shift_end="22:10",
                 period_start=date(2026, 1, 5), period_end=date(2026, 1, 9))
    assert (result.min_hours, result.short_count) == (2.67, 5)


# --- Nonexistent and ambiguous local times (PEP 495, fold=0) ------------------------------

def new_york_sunday(day: date, **changes):
    return setup(**{"staff_zone": "America/New_York", "client_zone": "America/New_York",
                    "client_start": "00:00", "client_end": "24:00", "client_days": ["sun"],
                    "shift_days": ["sun"], "period_start": day, "period_end": day, **changes})


def test_spring_forward_gap():
    spring = date(2026, 3, 8)
    # 02:30 does not exist; read with the offset before the change (EST) it is 07:30 UTC =
    # 03:30 EDT, so 02:30-10:00 EDT lasts 6.5 h. The whole day lasts 23 h.
    assert daily_overlaps(**new_york_sunday(spring, shift_start="02:30",
                                            shift_end="10:00")) == [(spring, 6.5)]
    assert daily_overlaps(**new_york_sunday(spring, shift_start="00:00",
                                            shift_end="24:00")) == [(spring, 23.0)]
    # 02:30-03:00 maps to 07:30-07:00 UTC: an empty shift, not a negative one.
    assert daily_overlaps(**new_york_sunday(spring, shift_start="02:30",
                                            shift_end="03:00")) == [(spring, 0.0)]
    # The same for the client's business hours: a swallowed business day overlaps nothing.
    assert daily_overlaps(**new_york_sunday(
        spring, client_start="02:30", client_end="03:00", shift_start="00:00",
        shift_end="24:00")) == [(spring, 0.0)]


def test_fall_back_ambiguity():
    autumn = date(2026, 11, 1)
    # 01:30 happens twice; fold=0 is the first (EDT) one. 00:00-03:00 lasts 4 h of real time.
    assert daily_overlaps(**new_york_sunday(autumn, shift_start="00:00",
                                            shift_end="03:00")) == [(autumn, 4.0)]
    # Client 01:30-02:00 = 05:30 UTC (01:30 EDT) to 07:00 UTC (02:00 EST): 1.5 h.
    assert daily_overlaps(**new_york_sunday(
        autumn, client_start="01:30", client_end="02:00", shift_start="00:00",
        shift_end="24:00")) == [(autumn, 1.5)]
    assert daily_overlaps(**new_york_sunday(autumn, shift_start="00:00",
                                            shift_end="24:00")) == [(autumn, 25.0)]


def test_zone_with_half_hour_dst():
    # Lord Howe Island moves its clocks by 30 min: UTC+11 in January, UTC+10:30 in July.
    # Client 09:00-17:00 there against a UTC 00:00-03:00 shift = 11:00-14:00 / 10:30-13:30
    # local: 3 h either way; against UTC 22:00-06:00 (previous UTC day): 09:00-17:00 local
    # is 22:00-06:00 UTC in January (8 h) and 22:30-06:30 UTC in July (7.5 h).
    lhi = {"client_zone": "Australia/Lord_Howe", "staff_zone": "UTC",
           "shift_start": "22:00", "shift_end": "06:00", "shift_days": ALL_DAYS}
    days = daily(**lhi)
    assert (days["2026-01-06"], days["2026-07-07"]) == (8.0, 7.5)


# --- Invalid input ------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "message"), [
    ({"client_zone": "Mars/Olympus_Mons"}, "unknown IANA time zone 'Mars/Olympus_Mons'"),
    ({"staff_zone": ""}, "unknown IANA time zone ''"),
    ({"staff_zone": "../etc/passwd"}, "unknown IANA time zone"),
    ({"staff_zone": "America"}, "unknown IANA time zone 'America'"),
    ({"shift_start": "9:00"}, "shift start must be a time HH:MM from 00:00 to 23:59"),
    ({"shift_start": "24:00"}, "shift start must be a time HH:MM from 00:00 to 23:59, got"),
    ({"client_end": "24:01"}, "client end must be a time HH:MM from 00:00 to 23:59 or 24:00"),
    ({"client_start": "12:60"}, "client start must be a time"),
    ({"client_end": 17}, "client end must be a time"),
    ({"client_days": ["monday"]}, "unknown client day 'monday'"),
    ({"shift_days": "mon"}, "shift days must be a list of day names"),
    ({"period_end": date(2025, 12, 31)}, "period ends (2025-12-31) before it starts"),
    ({"period_start": date(1, 1, 1)}, "period must lie within the years"),
    ({"period_end": date(9999, 12, 31)}, "period must lie within the years"),
])
def test_invalid_input_raises_value_error(changes, message):
    with pytest.raises(ValueError) as caught:
        run(**changes)
    assert message in str(caught.value)


@pytest.mark.parametrize("required", [-1, float("nan"), float("inf")])
def test_invalid_requirement(required):
    with pytest.raises(ValueError, match="required hours must be a finite number"):
        run(required=required)


# --- Properties ---------------------------------------------------------------------------

ZONES = [
    "UTC", "America/New_York", "America/Los_Angeles", "America/Sao_Paulo", "Europe/London",
    "Europe/Berlin", "Asia/Kolkata", "Asia/Manila", "Asia/Kathmandu", "Australia/Sydney",
    "Australia/Lord_Howe", "Pacific/Auckland", "Pacific/Chatham", "America/St_Johns",
    "Africa/Casablanca", "Asia/Tehran", "America/Santiago",
]
#: Zones without DST in 2000-2040, for properties that need every day to look alike.
FIXED = ["UTC", "Asia/Kolkata", "Asia/Manila", "Asia/Kathmandu", "Asia/Tokyo", "Etc/GMT+12",
         "Etc/GMT-14", "America/Panama"]

times = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23),
                  st.sampled_from([0, 15, 30, 45]))
end_times = st.one_of(times, st.just("24:00"))


def transition_days(zones: list[str], years: range) -> list[date]:
    """Dates on which a zone changes its offset, with the days either side."""
    found: set[date] = set()
    for zone in zones:
        tz = ZoneInfo(zone)
        day = date(years.start, 1, 1)
        previous = datetime(day.year, 1, 1, 12, tzinfo=tz).utcoffset()
        while day.year < years.stop:
            day += timedelta(1)
            current = datetime(day.year, day.month, day.day, 12, tzinfo=tz).utcoffset()
            if current != previous:
                found.update({day - timedelta(1), day, day + timedelta(1)})
            previous = current
    return sorted(found)


#: Random dates rarely hit a clock change, so half the examples are drawn from around one.
days_ = st.one_of(st.dates(date(2000, 1, 1), date(2040, 12, 31)),
                  st.sampled_from(transition_days(ZONES, range(2024, 2028))))
day_sets = st.lists(st.sampled_from(DAYS), unique=True)


def wall_to_utc(zone: str, day: date, hhmm: str) -> float:
    """Independent oracle: aware datetimes with fold=0 (wall-clock addition, then timestamp)."""
    hour, minute = map(int, hhmm.split(":"))
    start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    return (start + timedelta(hours=hour, minutes=minute)).timestamp()


def interval(zone: str, day: date, start: str, end: str) -> tuple[float, float]:
    end_day = day + timedelta(1) if end <= start else day  # "24:00" sorts after any start
    return wall_to_utc(zone, day, start), wall_to_utc(zone, end_day, end)


def one_day(day, client_zone, client_start, client_end, staff_zone, shift_start, shift_end,
            shift_days, client_days=ALL_DAYS):
    return dict(period_start=day, period_end=day, client_zone=client_zone,
                client_start=client_start, client_end=client_end, client_days=client_days,
                staff_zone=staff_zone, shift_start=shift_start, shift_end=shift_end,
                shift_days=shift_days)


@settings(max_examples=300)
@given(day=days_, client_zone=st.sampled_from(ZONES), staff_zone=st.sampled_from(ZONES),
       client_start=times, client_end=end_times, shift_start=times, shift_end=end_times,
       shift_days=day_sets)
def test_matches_a_brute_force_minute_count(day, client_zone, staff_zone, client_start,
                                            client_end, shift_start, shift_end, shift_days):
    """The merged-interval sweep agrees with counting minutes in sets, and stays in bounds."""
    lo, hi = interval(client_zone, day, client_start, client_end)
    business = set(range(int(lo) // 60, int(hi) // 60))
    covered: set[int] = set()
    for offset in range(-3, 4):
        start_day = day + timedelta(offset)
        if DAYS[start_day.weekday()] in shift_days:
            s_lo, s_hi = interval(staff_zone, start_day, shift_start, shift_end)
            covered.update(range(int(s_lo) // 60, int(s_hi) // 60))
    expected_minutes = len(business & covered)
    [(_, hours)] = daily_overlaps(**one_day(day, client_zone, client_start, client_end,
                                            staff_zone, shift_start, shift_end, shift_days))
    assert hours * 60 == pytest.approx(expected_minutes, abs=1e-9)
    assert 0 <= hours * 3600 <= max(0.0, hi - lo) + 1e-6


@settings(max_examples=200)
@given(day=days_, zone=st.sampled_from(ZONES), start=times, end=end_times)
def test_identical_zone_and_hours_give_the_whole_business_day(day, zone, start, end):
    lo, hi = interval(zone, day, start, end)
    setup_ = one_day(day, zone, start, end, zone, start, end, ALL_DAYS)
    [(_, hours)] = daily_overlaps(**setup_)
    assert hours * 3600 == pytest.approx(max(0.0, hi - lo), abs=1e-6)
    result = overlap(required=0, **setup_)
    assert result.min_hours == round(max(0.0, hi - lo) / 3600, 2)
    assert result.working_days == 1


@settings(max_examples=200)
@given(day=days_, shift=st.integers(-400, 400), client_zone=st.sampled_from(FIXED),
       staff_zone=st.sampled_from(FIXED), client_start=times, client_end=end_times,
       shift_start=times, shift_end=end_times)
def test_moving_by_whole_days_changes_nothing_when_shifts_run_all_week(
        day, shift, client_zone, staff_zone, client_start, client_end, shift_start, shift_end):
    """With shifts on all seven days (and no DST), every client day sees the same shifts."""
    here = daily_overlaps(**one_day(day, client_zone, client_start, client_end, staff_zone,
                                    shift_start, shift_end, ALL_DAYS))
    there = daily_overlaps(**one_day(day + timedelta(shift), client_zone, client_start,
                                     client_end, staff_zone, shift_start, shift_end, ALL_DAYS))
    assert here[0][1] == there[0][1]
    # And naming the seven days in another order, or twice, is the same set of shifts.
    rotated = daily_overlaps(**one_day(day, client_zone, client_start, client_end, staff_zone,
                                       shift_start, shift_end,
                                       ALL_DAYS[shift % 7:] + ALL_DAYS + ["mon"]))
    assert rotated == here


def test_repeated_calls_with_equal_lists_hit_the_same_answer():
    # The interval caches key on the day *set*: a list and a tuple of the same days agree.
    assert run(required=8, shift_days=tuple(WEEKDAYS)) == run(required=8)


# ------------------------------------------- the zone a shift is read in (engagement files)


def test_single_zone_of_a_place():
    profiles = {
        "DE": {"timezones": ["Europe/Berlin"]},  # zone.tab also lists Europe/Busingen
        "US": {"timezones": ["America/New_York", "America/Chicago"],
               "subdivision_timezones": {"US-NY": "America/New_York"}},
    }
    assert single_zone(profiles, "DE") == "Europe/Berlin"
    assert single_zone(profiles, "US") is None
    assert single_zone(profiles, "US", "US-NY") == "America/New_York"
    assert single_zone(profiles, "US", "US-TX") is None
    # no profile: the IANA zone.tab decides
    assert single_zone({}, "LK") == "Asia/Colombo"
    assert single_zone({}, "DE") is None  # Berlin and Busingen
    assert single_zone({}, "XX") is None


def pune_engagement(staff_location: dict, shift: tuple[str, str],
                    centre: dict | None = None) -> str:
    doc = {
        "apiVersion": "kpo-rules/v1", "kind": "Engagement", "metadata": {"id": "zones"},
        "period": {"start": "2026-01-01", "end": "2026-12-31"},
        "client": {"name": "Example Corp", "type": "corporate", "country": "US",
                   "timezone": "America/New_York",
                   "business_hours": {"start": "09:00", "end": "17:00",
                                      "days": WEEKDAYS}},
        "provider": {"name": "Example KPO", "serves": {"finance": ["US"]},
                     "delivery_centres": [centre or {"id": "pune", "country": "IN",
                                                     "timezone": "Asia/Kolkata"}]},
        "services": [{"id": "invoices", "task": "finance.billing",
                      "delivery_centre": (centre or {"id": "pune"})["id"],
                      "hours_overlap": 4, "assignees": ["s-1"]}],
        "staff": [{"id": "s-1", "name": "Maria Santos", "location": staff_location,
                   "working_hours": {"start": shift[0], "end": shift[1]},
                   "languages": [{"code": "en", "level": "C1"}]}],
    }
    return yaml.safe_dump(doc, sort_keys=False)


def availability(text: str) -> list[tuple[str, str, int]]:
    report = kpo_rules.check(sources=[("zones.yaml", text)])
    assert not [f for f in report.findings if f.category in ("schema", "reference")]
    return [(f.rule, f.message, f.line) for f in report.findings
            if f.category == "availability"]


def test_a_remote_worker_is_read_in_her_own_countrys_zone_not_the_centres():
    # 16:00-01:00 in Pune is 05:30-14:30 in New York in winter (5.5 h of overlap); the same
    # shift in Manila, 2.5 h ahead, is 03:00-12:00 (3 h): short of the 4 h asked.
    assert availability(pune_engagement({"country": "IN"}, ("16:00", "01:00"))) == []
    [(rule, message, _)] = availability(pune_engagement({"country": "PH"}, ("16:00", "01:00")))
    assert rule == "COM-AVAIL-001"
    assert "by only 3.0 h" in message


def test_a_country_with_several_zones_gives_no_zone_and_the_rule_says_so():
    text = pune_engagement({"country": "US"}, ("09:00", "17:00"))
    [(rule, message, line)] = availability(text)
    assert rule == "COM-AVAIL-003" and message.startswith("cannot judge")
    assert "no time zone follows" in message and "US" in message
    assert line == next(i for i, row in enumerate(text.splitlines(), 1) if row == "  - s-1")
    # with the staff member's own zone the overlap is judged: 09:00-17:00 Chicago gives 7 h
    located = pune_engagement({"country": "US", "timezone": "America/Chicago"},
                              ("09:00", "17:00"))
    assert availability(located) == []


def test_the_centres_zone_counts_for_staff_in_the_centres_country():
    chicago = {"id": "chicago", "country": "US", "timezone": "America/Chicago"}
    assert availability(pune_engagement({"country": "US"}, ("09:00", "17:00"), chicago)) == []
    # a centre without a zone in a country with several: nothing follows
    unzoned = {"id": "chicago", "country": "US"}
    [(rule, _, _)] = availability(pune_engagement({"country": "US"}, ("09:00", "17:00"),
                                                  unzoned))
    assert rule == "COM-AVAIL-003"


def test_a_centre_timezone_is_optional_where_its_country_has_one_zone():
    unzoned_pune = {"id": "pune", "country": "IN"}
    assert availability(pune_engagement({"country": "IN"}, ("18:30", "03:30"),
                                        unzoned_pune)) == []
    [(rule, _, _)] = availability(pune_engagement({"country": "IN"}, ("09:30", "18:30"),
                                                  unzoned_pune))
    assert rule == "COM-AVAIL-001"


def test_profiles_declare_their_zones():
    catalogue: Catalogue = load_content(create_plugin_set()).catalogue
    for code, profile in catalogue.countries.items():
        assert profile.get("timezones"), code
        assert profile["timezone"] in profile["timezones"], code
