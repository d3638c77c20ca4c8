"""Waivers: approved, expiring exceptions, limited to a subject or stated for the whole
engagement.

A waiver silences the matching findings of its engagement until it expires (judged
against the run date). Problems with waivers are findings themselves, so an expired, stale,
over-long or unscoped waiver can never hide silently (InSpec has expiry but no unused
detection; ruff has unused detection but no expiry — this does both). Every waiver that
silenced something is recorded (:class:`AppliedWaiver`) so reports can show an auditor what
was silenced, by whose approval, until when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from kpo_rules.core_rules import core_finding
from kpo_rules.engagement import Engagement
from kpo_rules.model import Finding

EXPIRED, UNKNOWN_RULE, UNUSED, UNKNOWN_SUBJECT, UNSCOPED, TOO_LONG = (
    "KPO-WAI-001", "KPO-WAI-002", "KPO-WAI-003", "KPO-WAI-004", "KPO-WAI-005", "KPO-WAI-006")


@dataclass(frozen=True, slots=True, kw_only=True)
class AppliedWaiver:
    """A waiver that silenced findings: what an auditor needs to see."""

    file: str
    line: int
    engagement: str
    rule: str
    subject: str | None  # None: the whole engagement (``scope: engagement``)
    reason: str
    approved_by: str
    expires: str
    waived: int  # findings it silenced

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "line": self.line, "engagement": self.engagement,
            "rule": self.rule, "subject": self.subject,
            "scope": "subject" if self.subject else "engagement", "reason": self.reason,
            "approved_by": self.approved_by, "expires": self.expires, "waived": self.waived,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class WaiverOutcome:
    findings: tuple[Finding, ...]  # what is still reported, waiver findings included
    waived: tuple[Finding, ...]  # what the waivers silenced
    applied: tuple[AppliedWaiver, ...] = ()


def _matches(finding: Finding, rule: str, subject: str | None) -> bool:
    if finding.rule != rule:
        return False
    return subject is None or subject in (finding.subject.service, finding.subject.staff)


def apply_waivers(findings: Sequence[Finding], engagement: Engagement,
                  known_rules: Collection[str], today: dt.date, *, enabled: bool = True,
                  max_days: int | None = None) -> WaiverOutcome:
    """Split one engagement's findings into reported and waived; add a finding for every
    waiver problem (a waiver with a problem waives nothing).

    With ``enabled`` false (``--no-waivers``, audit mode) nothing is waived, but waiver
    problems are still reported. ``max_days`` is the horizon an expiry may lie beyond the
    run date (``max-waiver-days``).
    """
    waived_ids: set[int] = set()
    extra: list[Finding] = []
    applied: list[AppliedWaiver] = []
    ids = _ids(engagement)

    def problem(rule: str, index: int, key: str, message: str,
                remediation: str | None = None) -> None:
        pointer = f"/waivers/{index}" + (f"/{key}" if key else "")
        line, column = engagement.document.locate(pointer)
        extra.append(core_finding(rule, message=message, file=engagement.file, line=line,
                                  column=column, engagement=engagement.id, path=pointer,
                                  remediation=remediation))

    for i, waiver in enumerate(engagement.data.get("waivers", ())):
        rule, subject = waiver["rule"], waiver.get("subject")
        expires = dt.date.fromisoformat(waiver["expires"])
        scope = f" for {subject}" if subject else ""
        if rule not in known_rules:
            import difflib  # noqa: PLC0415 - only for a waiver naming no rule

            close = difflib.get_close_matches(rule, list(known_rules), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problem(UNKNOWN_RULE, i, "rule",
                    f"waiver names rule '{rule}', which no loaded plugin defines{hint}",
                    "Correct the rule id (see `kpo-rules rules list`) or remove the waiver.")
            continue
        if subject is not None and subject not in ids:
            problem(UNKNOWN_SUBJECT, i, "subject",
                    f"waiver of {rule} is limited to '{subject}', which is neither a staff "
                    "member nor a service of this engagement")
            continue
        matched = [f for f in findings if _matches(f, rule, subject)]
        if expires < today:
            problem(EXPIRED, i, "expires",
                    f"waiver of {rule}{scope} (approved by {waiver['approved_by']}) expired "
                    f"on {expires.isoformat()}; its {len(matched)} finding(s) are reported "
                    "again")
            continue
        if subject is None and waiver.get("scope") != "engagement":
            problem(UNSCOPED, i, "",
                    f"waiver of {rule} names no subject, so it would silence {rule} for the "
                    "whole engagement; say `scope: engagement` if that is meant "
                    f"({len(matched)} finding(s) are reported meanwhile)")
            continue
        if max_days is not None and (expires - today).days > max_days:
            problem(TOO_LONG, i, "expires",
                    f"waiver of {rule}{scope} runs until {expires.isoformat()}, more than "
                    f"the {max_days} days this project allows a waiver "
                    f"({len(matched)} finding(s) are reported meanwhile)")
            continue
        if not matched:
            problem(UNUSED, i, "",
                    f"waiver of {rule}{scope} matches no finding; remove it so it cannot hide "
                    "a future one")
        elif enabled:
            waived_ids.update(id(f) for f in matched)
            line, _ = engagement.document.locate(f"/waivers/{i}")
            applied.append(AppliedWaiver(
                file=engagement.file, line=line, engagement=engagement.id, rule=rule,
                subject=subject, reason=waiver["reason"], approved_by=waiver["approved_by"],
                expires=expires.isoformat(), waived=len(matched)))
    kept = [f for f in findings if id(f) not in waived_ids]
    waived = [f for f in findings if id(f) in waived_ids]
    return WaiverOutcome(findings=tuple(kept + extra), waived=tuple(waived),
                         applied=tuple(applied))


def _ids(engagement: Engagement) -> set[str]:
    services = {s["id"] for s in engagement.data.get("services", ())}
    return services | set(engagement.staff)


__all__ = ["AppliedWaiver", "WaiverOutcome", "apply_waivers"]
