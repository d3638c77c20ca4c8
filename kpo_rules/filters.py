"""The filter stage: which findings a run reports, in one place and one order.

1. **Waivers** of the finding's engagement silence what they match (until they expire);
   problems with waivers are findings themselves (:mod:`kpo_rules.waivers`).
2. **Selection and severities** from the configuration and the command line (the most
   specific selector wins, like ruff). Findings that mean a file could not be fully checked
   (syntax, schema, engine errors) are never dropped or downgraded by a prefix: only their
   exact id can ignore them, so ``--select COM`` cannot hide an unreadable file.
3. **The baseline** accepts findings it recorded (by :func:`~kpo_rules.fingerprint.fingerprint`).
4. **A cap per file**: past :data:`MAX_FINDINGS_PER_FILE` findings, one finding says how many
   more there were (a generated file must not produce a report of a gigabyte).

The library (:func:`kpo_rules.check`) and the CLI both filter here, so they give the same
answer for the same inputs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from kpo_rules.config import Config, is_selected, severity_for
from kpo_rules.model import Finding, Severity

if TYPE_CHECKING:
    from kpo_rules.engagement import Engagement
    from kpo_rules.packing import Packed
    from kpo_rules.waivers import AppliedWaiver

#: Categories of findings that say a file was not fully checked.
INCOMPLETE = frozenset({"syntax", "schema", "engine-error"})
#: Findings reported per file before the rest are summed up in one finding.
MAX_FINDINGS_PER_FILE = 1000
TRUNCATED = "KPO-ENG-004"


@dataclass(frozen=True, slots=True, kw_only=True)
class Filters:
    """What decides which findings a run reports; built once per run."""

    config: Config = field(default_factory=Config)
    today: dt.date = field(default_factory=dt.date.today)
    #: False is audit mode: waivers silence nothing (their problems are still reported).
    waivers: bool = True
    #: Rule ids a waiver may name (the plugin rules of the run).
    known_rules: frozenset[str] = frozenset()
    #: Fingerprints of a baseline's findings; None: no baseline.
    baseline: frozenset[str] | None = None
    max_per_file: int = MAX_FINDINGS_PER_FILE


@dataclass(frozen=True, slots=True, kw_only=True)
class Filtered:
    """Findings after the filters, and what the filters took away."""

    findings: tuple[Finding, ...] = ()
    #: ``findings``, sorted and packed for the trip to the report (then ``findings`` is
    #: empty): see :mod:`kpo_rules.packed`.
    packed: Packed | None = None
    waived: tuple[Finding, ...] = ()
    #: The waivers that silenced findings, for the report's record.
    waivers: tuple[AppliedWaiver, ...] = ()
    #: Findings the baseline accepted (not in ``findings``).
    baselined: int = 0
    #: Baseline fingerprints that still occur (the rest are gone).
    matched: frozenset[str] = frozenset()


def apply_filters(findings: Sequence[Finding], filters: Filters,
                  engagement: Engagement | None = None) -> Filtered:
    """Waivers (of ``engagement``, when the findings are one engagement's), then
    selection and severities, then the baseline."""
    waived: tuple[Finding, ...] = ()
    applied: tuple[AppliedWaiver, ...] = ()
    if engagement is not None and engagement.data.get("waivers"):
        from kpo_rules.waivers import apply_waivers  # noqa: PLC0415 - only with waivers

        outcome = apply_waivers(findings, engagement, filters.known_rules, filters.today,
                                enabled=filters.waivers,
                                max_days=filters.config.max_waiver_days)
        findings, waived, applied = outcome.findings, outcome.waived, outcome.applied
    # exact duplicates (a join can match twice) are one finding, as in the report
    selected = list({_identity(f): f for f in _configured(findings, filters.config)}.values())
    if filters.baseline is None:
        return Filtered(findings=tuple(selected), waived=waived, waivers=applied)
    from kpo_rules.fingerprint import fingerprint  # noqa: PLC0415 - hashlib: only with a baseline

    kept: list[Finding] = []
    matched: set[str] = set()
    for finding in selected:
        mark = fingerprint(finding)
        if mark in filters.baseline:
            matched.add(mark)
        else:
            kept.append(finding)
    return Filtered(findings=tuple(kept), waived=waived, waivers=applied,
                    baselined=len(selected) - len(kept), matched=frozenset(matched))


def _identity(finding: Finding) -> tuple[object, ...]:
    return (*finding.sort_key, finding.severity, finding.category, finding.path)


def _configured(findings: Iterable[Finding], config: Config) -> Iterable[Finding]:
    """Drop deselected rules and apply severity overrides (the most specific entry wins)."""
    for finding in findings:
        if finding.category in INCOMPLETE:
            if finding.rule in config.ignore:
                continue
            level = config.severity.get(finding.rule)
        else:
            if not is_selected(config, finding.rule):
                continue
            level = severity_for(config, finding.rule)
        yield replace(finding, severity=Severity(level)) if level else finding


def capped(findings: Sequence[Finding], limit: int) -> tuple[Finding, ...]:
    """The first ``limit`` findings of one file, then one finding for the rest, as severe
    as the worst of them."""
    if len(findings) <= limit:
        return tuple(findings)
    from kpo_rules.core_rules import core_finding  # noqa: PLC0415

    rest = findings[limit:]
    worst = max((f.severity for f in rest), key=lambda s: s.rank)
    first = rest[0]
    summary = core_finding(
        TRUNCATED, file=first.file, line=first.line, column=first.column,
        engagement=first.engagement, severity=worst,
        message=f"{len(rest)} more findings in this file are not shown (at most {limit} are "
                "reported per file)",
    )
    return (*findings[:limit], summary)
