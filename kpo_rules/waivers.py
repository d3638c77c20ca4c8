"""Waivers (SPEC 2 ``waivers:``): approved, expiring, optionally subject-scoped exceptions.

A waiver silences the matching findings of its engagement until it expires (judged
against the run date). Problems with waivers are findings themselves, so an expired
or stale waiver can never hide silently (InSpec has expiry but no unused detection;
ruff has unused detection but no expiry — this does both).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from kpo_rules.core_rules import core_finding
from kpo_rules.engagement import Engagement
from kpo_rules.model import Finding

EXPIRED, UNKNOWN_RULE, UNUSED, UNKNOWN_SUBJECT = (
    "KPO-WAI-001", "KPO-WAI-002", "KPO-WAI-003", "KPO-WAI-004")


@dataclass(frozen=True, slots=True, kw_only=True)
class WaiverOutcome:
    findings: tuple[Finding, ...]  # what is still reported, waiver findings included
    waived: tuple[Finding, ...]  # what the waivers silenced


def _waiver_finding(rule: str, message: str, remediation: str, engagement: Engagement,
                    index: int, key: str = "") -> Finding:
    pointer = f"/waivers/{index}" + (f"/{key}" if key else "")
    line, column = engagement.document.locate(pointer)
    return core_finding(rule, message=message, file=engagement.file, line=line, column=column,
                        engagement=engagement.id, path=pointer, remediation=remediation)


def _matches(finding: Finding, rule: str, subject: str | None) -> bool:
    if finding.rule != rule:
        return False
    return subject is None or subject in (finding.subject.service, finding.subject.staff)


def apply_waivers(findings: Sequence[Finding], engagements: Iterable[Engagement],
                  known_rules: Collection[str], today: dt.date, *, enabled: bool = True
                  ) -> WaiverOutcome:
    """Split findings into reported and waived; add a finding for every waiver problem.

    With ``enabled`` false (``--no-waivers``, audit mode) nothing is waived, but waiver
    problems are still reported.
    """
    by_engagement: dict[str | None, list[Finding]] = {}
    for finding in findings:
        by_engagement.setdefault(finding.engagement, []).append(finding)
    waived_ids: set[int] = set()
    extra: list[Finding] = []
    for engagement in engagements:
        mine = by_engagement.get(engagement.id, [])
        ids = _ids(engagement)
        for i, waiver in enumerate(engagement.data.get("waivers", ())):
            rule, subject = waiver["rule"], waiver.get("subject")
            expires = dt.date.fromisoformat(waiver["expires"])
            if rule not in known_rules:
                import difflib  # noqa: PLC0415 - only for a waiver naming no rule

                close = difflib.get_close_matches(rule, list(known_rules), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                extra.append(_waiver_finding(
                    UNKNOWN_RULE,
                    f"waiver names rule '{rule}', which no loaded plugin defines{hint}",
                    "Correct the rule id (see `kpo-rules rules list`) or remove the waiver.",
                    engagement, i, "rule"))
                continue
            if subject is not None and subject not in ids:
                extra.append(_waiver_finding(
                    UNKNOWN_SUBJECT,
                    f"waiver of {rule} is limited to '{subject}', which is neither a staff "
                    "member nor a service of this engagement",
                    "Name a staff or service id of this engagement, or drop `subject`.",
                    engagement, i, "subject"))
                continue
            matched = [f for f in mine if _matches(f, rule, subject)]
            scope = f" for {subject}" if subject else ""
            if expires < today:
                extra.append(_waiver_finding(
                    EXPIRED,
                    f"waiver of {rule}{scope} (approved by {waiver['approved_by']}) expired on "
                    f"{expires.isoformat()}; its {len(matched)} finding(s) are reported again",
                    "Fix the findings, or renew the waiver with a new approval and date.",
                    engagement, i, "expires"))
                continue
            if not matched:
                extra.append(_waiver_finding(
                    UNUSED,
                    f"waiver of {rule}{scope} matches no finding; remove it so it cannot hide "
                    "a future one",
                    "Delete the waiver.", engagement, i))
            elif enabled:
                waived_ids.update(id(f) for f in matched)
    kept = [f for f in findings if id(f) not in waived_ids]
    waived = [f for f in findings if id(f) in waived_ids]
    return WaiverOutcome(findings=tuple(kept + extra), waived=tuple(waived))


def _ids(engagement: Engagement) -> set[str]:
    services = {s["id"] for s in engagement.data.get("services", ())}
    return services | set(engagement.staff)


__all__ = ["WaiverOutcome", "apply_waivers"]
