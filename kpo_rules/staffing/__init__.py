"""Who could staff this? The rules as a query, not only a gate.

For a service (of an engagement file, or described field by field), every roster and
inline staff member is judged by the rules ``check`` runs, as if they were the service's
only assignee: those with no blocking finding are its **candidates**, the others its
**near misses** with the findings that would stop them, and what the service draws
whoever is assigned are its **conditions** (``docs/staffing.md``)::

    import kpo_rules
    answer = kpo_rules.staff(["examples/"], service="hudson-tax-1040-fy2026/returns")
    for entry in answer.services[0].candidates:
        print(entry.staff, entry.name)
"""

from __future__ import annotations

from kpo_rules.staffing.answer import ServiceStaffing, StaffEntry, Staffing
from kpo_rules.staffing.describe import ServiceSpec
from kpo_rules.staffing.query import staff

__all__ = ["ServiceSpec", "ServiceStaffing", "StaffEntry", "Staffing", "staff"]
