"""What the staffing query answers: per service, who could staff it and who nearly could."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kpo_rules.model import Finding, PluginFailure, PluginInfo, Severity

#: The ``file`` of a service described on the command line rather than in a file.
DESCRIBED = "(described service)"


def finding_dict(finding: Finding) -> dict[str, Any]:
    """A finding as the staffing answer shows it: what it is and why, not where (it is
    about an assignment nobody has written yet)."""
    return {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "category": finding.category,
        "message": finding.message,
        "remediation": finding.remediation,
        "references": list(finding.references),
    }


def blocking(findings: Iterable[Finding]) -> int:
    """How many of ``findings`` would make a check of the assignment fail: its errors."""
    return sum(1 for f in findings if f.severity is Severity.ERROR)


def rank(findings: Sequence[Finding]) -> int:
    """Where a person stands among their kind, lowest first: near misses by blocking
    findings, candidates by findings (warnings and info)."""
    return blocking(findings) or len(findings)


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffEntry:
    """One staff member judged for one service, as if assigned to it alone."""

    staff: str
    name: str | None
    #: The roster that defines them; None: defined in the engagement itself.
    roster: str | None
    #: Where they are defined.
    file: str
    line: int
    #: Their staff-level findings if assigned (the service's conditions left out), most
    #: severe first. Errors would stop them; warnings and info would not.
    findings: tuple[Finding, ...] = ()

    @property
    def blocking(self) -> int:
        """Errors among the findings: a check of the assignment would fail on each."""
        return blocking(self.findings)

    @property
    def is_candidate(self) -> bool:
        return self.blocking == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "staff": self.staff,
            "name": self.name,
            "roster": self.roster,
            "file": self.file,
            "line": self.line,
            "blocking": self.blocking,
            "findings": [finding_dict(f) for f in self.findings],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceStaffing:
    """Who could staff one service."""

    engagement: str
    service: str
    task: str
    #: The engagement file, or :data:`DESCRIBED`.
    file: str
    line: int
    #: Staff judged: the engagement's inline staff and every roster member.
    considered: int
    #: Staff with no blocking finding, fewest findings first, then by id.
    candidates: tuple[StaffEntry, ...] = ()
    #: Staff with blocking findings, fewest first, then by id.
    near_misses: tuple[StaffEntry, ...] = ()
    #: How many candidates and near misses there are (the lists may be cut at a limit).
    candidate_count: int = 0
    near_miss_count: int = 0
    #: What the service draws whoever is assigned (coverage, the data transfer basis, the
    #: outsourcing terms...): no assignment changes these.
    conditions: tuple[Finding, ...] = ()

    @property
    def staffable(self) -> bool:
        """Whether anyone considered could be assigned without a blocking finding."""
        return self.candidate_count > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "engagement": self.engagement,
            "service": self.service,
            "task": self.task,
            "file": self.file,
            "line": self.line,
            "considered": self.considered,
            "staffable": self.staffable,
            "candidate_count": self.candidate_count,
            "near_miss_count": self.near_miss_count,
            "candidates": [entry.as_dict() for entry in self.candidates],
            "near_misses": [entry.as_dict() for entry in self.near_misses],
            "conditions": [finding_dict(f) for f in self.conditions],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Staffing:
    """The answer of :func:`kpo_rules.staff`."""

    services: tuple[ServiceStaffing, ...]
    #: Files that could not be read or are not valid: their staff and services are not in
    #: the answer.
    problems: tuple[Finding, ...] = ()
    plugins: tuple[PluginInfo, ...] = ()
    plugin_failures: tuple[PluginFailure, ...] = ()
    #: The most staff listed per service in each list; None: everyone.
    limit: int | None = None

    def unstaffable(self) -> list[ServiceStaffing]:
        """Services nobody considered could staff."""
        return [s for s in self.services if not s.staffable]

    def as_dict(self) -> dict[str, Any]:
        return {
            "services": [s.as_dict() for s in self.services],
            "problems": [
                {"file": f.file, "line": f.line, "column": f.column, "rule": f.rule,
                 "message": f.message} for f in self.problems],
            "limit": self.limit,
            "plugin_failures": [failure.as_dict() for failure in self.plugin_failures],
        }


@dataclass(slots=True)
class Tally:
    """Staff entries of one service as they arrive: counts of each kind, and the best
    ``limit`` of each kept in order (all, without a limit), so memory does not grow with
    the roster."""

    limit: int | None
    candidates: list[StaffEntry] = field(default_factory=list)
    near_misses: list[StaffEntry] = field(default_factory=list)
    candidate_count: int = 0
    near_miss_count: int = 0

    def add(self, entry: StaffEntry) -> None:
        if entry.is_candidate:
            self.candidate_count += 1
            self._keep(self.candidates, entry)
        else:
            self.near_miss_count += 1
            self._keep(self.near_misses, entry)

    def left(self, candidates: int, near_misses: int) -> None:
        """Count people judged but not sent (a batch keeps only its best)."""
        self.candidate_count += candidates
        self.near_miss_count += near_misses

    def _keep(self, kept: list[StaffEntry], entry: StaffEntry) -> None:
        if self.limit is None:
            kept.append(entry)
            return
        bisect.insort(kept, entry, key=_order)
        del kept[self.limit:]

    def ordered(self) -> tuple[tuple[StaffEntry, ...], tuple[StaffEntry, ...]]:
        """Candidates and near misses, each in the order the answer lists them."""
        return (tuple(sorted(self.candidates, key=_order)),
                tuple(sorted(self.near_misses, key=_order)))


def _order(entry: StaffEntry) -> tuple[int, str]:
    return (rank(entry.findings), entry.staff)
