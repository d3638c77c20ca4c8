"""The page's anchors: where each engagement, service and group of findings is, so the
summary, the findings and the coverage matrix can link to one another.

Ids from the checked files can hold any character; anchors are numbered instead.
"""

from __future__ import annotations

from kpo_rules.model import Report


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

    def findings_of(self, file: str, engagement: str | None) -> str | None:
        """The group of findings of an engagement (or of a file, ``engagement`` None)."""
        return self._groups.get((file, engagement or ""))
