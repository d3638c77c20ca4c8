"""Validated engagements with every staff reference resolved.

A finding about a roster staff member must still point into the engagement
file being checked, so each resolved member remembers both where it is
defined and where this engagement names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kpo_rules.model import Document


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffDef:
    """One staff member as defined inline or in a roster."""

    id: str
    data: Mapping[str, Any]
    document: Document
    pointer: str
    roster: str | None = None  # metadata.id of the roster, None when inline


@dataclass(frozen=True, slots=True, kw_only=True)
class Engagement:
    """An engagement document that passed the schema, with its staff resolved."""

    id: str
    document: Document
    staff: Mapping[str, StaffDef]

    @property
    def data(self) -> Mapping[str, Any]:
        data: Mapping[str, Any] = self.document.data
        return data

    @property
    def file(self) -> str:
        return self.document.file

    def staff_pointer(self, staff_id: str) -> str:
        """Where this engagement's file shows ``staff_id``: inline definition or first mention."""
        member = self.staff.get(staff_id)
        if member is not None and member.document is self.document:
            return member.pointer
        for i, service in enumerate(self.data.get("services", ())):
            for j, assignee in enumerate(service.get("assignees", ())):
                if assignee == staff_id:
                    return f"/services/{i}/assignees/{j}"
            if service.get("supervisor") == staff_id:
                return f"/services/{i}/supervisor"
        return ""
