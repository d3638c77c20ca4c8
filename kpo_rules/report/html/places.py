"""The page's anchors: where each engagement, service and group of findings is, so the
summary, the findings and the coverage matrix can link to one another; and which findings
belong to which engagement, worked out once (a portfolio has thousands of engagements).

Ids from the checked files can hold any character; anchors are numbered instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from kpo_rules.model import Finding, Report


class Places:
    def __init__(self, report: Report) -> None:
        self._engagements: dict[tuple[str, str], str] = {}
        self._services: dict[tuple[str, str, str], str] = {}
        self._order: dict[tuple[str, str], dict[str, int]] = {}
        for i, detail in enumerate(report.details):
            key = (detail.file, detail.id)
            self._engagements[key] = f"e-{i}"
            self._order[key] = {}
            for j, service in enumerate(detail.services):
                self._services[(detail.file, detail.id, service.id)] = f"e-{i}-s-{j}"
                self._order[key].setdefault(service.id, j)
        self._found = _grouped(report.findings)
        self._waived = _grouped(report.waived)
        groups = sorted({(f.file, f.engagement or "") for f in report.findings})
        self._groups = {key: f"findings-{n}" for n, key in enumerate(groups)}

    def engagement(self, file: str, engagement: str) -> str | None:
        return self._engagements.get((file, engagement))

    def service(self, file: str, engagement: str | None, service: str | None) -> str | None:
        if engagement is None or service is None:
            return None
        return self._services.get((file, engagement, service))

    def service_order(self, file: str, engagement: str) -> dict[str, int]:
        """Service id -> its position in the engagement file."""
        return self._order.get((file, engagement), {})

    def found(self, file: str, engagement: str | None) -> list[Finding]:
        """The findings on an engagement; ``engagement`` None: every finding in the file."""
        return self._found.get((file, engagement), [])

    def waived(self, file: str, engagement: str) -> list[Finding]:
        return self._waived.get((file, engagement), [])

    def findings_of(self, file: str, engagement: str | None) -> str | None:
        """The group of findings of an engagement (or of a file, ``engagement`` None)."""
        return self._groups.get((file, engagement or ""))


def _grouped(findings: Iterable[Finding]) -> dict[tuple[str, str | None], list[Finding]]:
    """(file, engagement) -> its findings, and (file, None) -> all the file's findings."""
    out: dict[tuple[str, str | None], list[Finding]] = defaultdict(list)
    for f in findings:
        if f.engagement is not None:
            out[(f.file, f.engagement)].append(f)
        out[(f.file, None)].append(f)
    return dict(out)
