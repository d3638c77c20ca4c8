"""A service described by its facts rather than an engagement file: the engagement it
stands for, built so that the query is exactly the one an equivalent file would ask.

What is not said comes where a file's omission would come from: the client's time zone,
languages and business hours from its country's profile (the rules read them there);
the provider serves the client's country (or subdivision) in the task's domain, so
coverage is not in question; the client is a ``corporate`` one of a ``third_party``
provider.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from kpo_rules.errors import UsageError
from kpo_rules.model import Document, SourceMap
from kpo_rules.schemas import API_VERSION
from kpo_rules.staffing.answer import DESCRIBED

ENGAGEMENT_ID = "described"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSpec:
    """A service to staff, described field by field (``kpo-rules staff --task ...``).

    Each field is the engagement-file field of the same name (``docs/engagement-file.md``);
    the service's id is the task's, the engagement's ``described``.
    """

    task: str
    client_country: str
    period: tuple[dt.date, dt.date]
    #: Where the work is delivered from: a country (``IN``) or subdivision (``IN-MH``),
    #: optionally with its zone (``IN-MH@Asia/Kolkata``).
    delivery_centre: str
    client_subdivision: str | None = None
    client_type: str = "corporate"
    client_timezone: str | None = None
    client_languages: tuple[str, ...] = ()
    #: Opening and closing time, ``("09:00", "17:00")``; default: the country profile's.
    business_hours: tuple[str, str] | None = None
    business_days: tuple[str, ...] = WEEKDAYS
    client_regulators: tuple[str, ...] = ()
    client_size_class: str | None = None
    relationship: str = "third_party"
    language: str | None = None
    decision_level: str | None = None
    hours_overlap: float = 0
    software: tuple[str, ...] = ()
    #: Whether personal data is handled; None: not said (categories make it true).
    personal_data: bool | None = None
    #: Personal data categories handled.
    data_categories: tuple[str, ...] = ()
    transfer_mechanism: str | None = None
    safeguards: tuple[str, ...] = ()
    supervisor: str | None = None

    def engagement(self) -> dict[str, Any]:
        """The engagement document (as YAML would load it) that this describes."""
        region = self.client_subdivision or self.client_country
        return {
            "apiVersion": API_VERSION,
            "kind": "Engagement",
            "metadata": {"id": ENGAGEMENT_ID},
            "period": {"start": self.period[0].isoformat(), "end": self.period[1].isoformat()},
            "client": _present({
                "name": "described client",
                "type": self.client_type,
                "country": self.client_country,
                "subdivision": self.client_subdivision,
                "languages": list(self.client_languages),
                "timezone": self.client_timezone,
                "business_hours": None if self.business_hours is None else {
                    "start": self.business_hours[0], "end": self.business_hours[1],
                    "days": list(self.business_days)},
                "regulators": list(self.client_regulators),
                "size_class": self.client_size_class,
            }),
            "provider": {
                "name": "described provider",
                "relationship": self.relationship,
                "serves": {self.task.split(".", 1)[0]: [region]},
                "delivery_centres": [self._centre()],
            },
            "services": [_present({
                "id": self.task,
                "task": self.task,
                "delivery_centre": self._centre()["id"],
                "language": self.language,
                "decision_level": self.decision_level,
                "software": list(self.software),
                "hours_overlap": self.hours_overlap or None,
                "data": _present({
                    "personal_data": True if self.data_categories else self.personal_data,
                    "categories": list(self.data_categories),
                    "transfer_mechanism": self.transfer_mechanism,
                }) or None,
                "safeguards": list(self.safeguards),
                "supervisor": self.supervisor,
                "assignees": [],
            })],
        }

    def _centre(self) -> dict[str, Any]:
        place, _, zone = self.delivery_centre.partition("@")
        country, _, _ = place.partition("-")
        return _present({"id": place, "country": country,
                         "subdivision": place if "-" in place else None,
                         "timezone": zone or None})

    def document(self) -> Document:
        """The engagement as a document, checked against the engagement schema.

        :raises UsageError: a field is not valid (an unknown client type, a malformed code).
        """
        from kpo_rules.load.schema_check import validate_document  # noqa: PLC0415

        if (self.client_subdivision is not None
                and not self.client_subdivision.startswith(f"{self.client_country}-")):
            raise UsageError(f"--client-subdivision {self.client_subdivision} is not a "
                             f"subdivision of --client-country {self.client_country} "
                             f"(ISO 3166-2: {self.client_country}-CODE)")
        data = self.engagement()
        # The schema wants an assignee; the query supplies them.
        checked = {**data, "services": [{**s, "assignees": ["x"]} for s in data["services"]]}
        problems = validate_document(Document(file=DESCRIBED, index=0, data=checked,
                                              source=SourceMap(values={})))
        if problems:
            raise UsageError("the described service is not valid: "
                             + "; ".join(_plain(f.message) for f in problems))
        return Document(file=DESCRIBED, index=0, data=data, source=SourceMap(values={}))


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    """Fields that are given: an absent value and an empty list both mean "not said"."""
    return {name: value for name, value in fields.items()
            if (value is not None and value != []) or name == "assignees"}


def _plain(message: str) -> str:
    return " ".join(message.split())
