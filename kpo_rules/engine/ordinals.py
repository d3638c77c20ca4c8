"""Ordinal scales, so rules can compare levels with ``gte`` instead of listing them."""

from __future__ import annotations

import datetime as dt

#: CEFR (Council of Europe 2001/2020) global scale; ``native`` ranks above C2.
CEFR = {"A1": 1, "A2": 2, "B1": 3, "B2": 4, "C1": 5, "C2": 6, "native": 7}

#: ISCED 2011 levels (UNESCO 36 C/19): secondary 3, bachelor 6, master 7, doctorate 8.
EDUCATION = {"secondary": 3, "bachelor": 6, "master": 7, "doctorate": 8}

#: Seniority of ``decision_level``.
DECISION = {"preparer": 1, "reviewer": 2, "decision_maker": 3}


def day(value: str) -> int:
    """An ISO date as a day number (``date.toordinal``), so dates compare as numbers."""
    return dt.date.fromisoformat(value).toordinal()


def date_text(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()
