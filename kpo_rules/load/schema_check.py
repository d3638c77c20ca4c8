"""Schema-check documents: the quick yes/no check first, jsonschema only for problems.

Callers import from here, not from :mod:`kpo_rules.load.validate`, so a run whose
documents are all valid never imports jsonschema at all.
"""

from __future__ import annotations

from typing import Any

from kpo_rules.load.document_checks import oversized, period_problems
from kpo_rules.load.quick import document_check
from kpo_rules.model import Document, Finding
from kpo_rules.schemas import API_VERSION, KINDS


def _quickly_valid(data: Any, schema: str) -> bool:
    check = document_check(schema)
    return check is not None and check(data)


def validate_document(doc: Document) -> list[Finding]:
    """Schema findings (rule ``KPO-SCH-001``) of one engagement or roster document.

    A document over a size limit is refused before any per-item work.
    """
    data = doc.data
    if isinstance(data, dict) and data.get("apiVersion") == API_VERSION:
        kind = data.get("kind")
        if isinstance(kind, str) and kind in KINDS:
            too_big = oversized(doc)
            if too_big:
                return too_big
            if _quickly_valid(data, KINDS[kind]):
                return period_problems(doc)
            from kpo_rules.load import validate  # noqa: PLC0415 - jsonschema, only for problems

            return validate.validate_in_bounds(doc)
    from kpo_rules.load import validate  # noqa: PLC0415 - jsonschema, only for problems

    return validate.validate_document(doc)


def validate_as(doc: Document, schema: str) -> list[Finding]:
    """Schema findings of ``doc`` against schema ``schema`` (no envelope check)."""
    if _quickly_valid(doc.data, schema):
        return []
    from kpo_rules.load import validate  # noqa: PLC0415 - jsonschema, only for problems

    return validate.validate_as(doc, schema)
