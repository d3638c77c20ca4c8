"""The one IANA time zone of a place, where it has exactly one.

Working hours are read in the staff member's own zone; a file may leave it out when the
place has a single zone. The country plugins say which zones their country has
(``timezones``, and ``subdivision_timezones`` for subdivisions with one zone of their own);
for a country no plugin describes, the IANA tz database's ``zone.tab`` (shipped by the
``tzdata`` package the checker depends on) lists the zones per country. A place with
several zones, or none known, has no single zone: the rules then say they cannot judge.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any


@cache
def _zone_tab() -> dict[str, tuple[str, ...]]:
    """Country code -> its zones, from tzdata's ``zone.tab`` (one row per zone)."""
    from importlib import resources  # noqa: PLC0415 - tempfile, shutil...: only when read

    text = resources.files("tzdata").joinpath("zoneinfo").joinpath("zone.tab").read_text("utf-8")
    zones: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _coordinates, zone, *_ = line.split("\t")
            zones.setdefault(code, []).append(zone)
    return {code: tuple(found) for code, found in zones.items()}


def single_zone(countries: Mapping[str, Mapping[str, Any]], country: str,
                subdivision: str | None = None) -> str | None:
    """The zone of ``country`` (or of its ``subdivision``) when it has exactly one."""
    profile = countries.get(country)
    if profile is not None:
        by_subdivision: Mapping[str, str] = profile.get("subdivision_timezones") or {}
        if subdivision and subdivision in by_subdivision:
            return by_subdivision[subdivision]
        listed = profile.get("timezones")
        if listed is not None:
            return listed[0] if len(listed) == 1 else None
    zones = _zone_tab().get(country, ())
    return zones[0] if len(zones) == 1 else None
