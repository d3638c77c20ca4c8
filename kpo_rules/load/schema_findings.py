"""Place a schema problem in its file: the finding, its position, its words for the path.

Shared by the jsonschema step (:mod:`kpo_rules.load.validate`) and the checks a JSON Schema
cannot express (:mod:`kpo_rules.load.document_checks`); no jsonschema import here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kpo_rules.model import Document, Finding, Severity, Subject

__all__ = [
    "CATEGORY",
    "FORMAT_REFERENCE",
    "RULE_ID",
    "Problem",
    "findings_of",
    "key_text",
    "path_label",
]

RULE_ID = "KPO-SCH-001"
CATEGORY = "schema"
#: Where a person reads what an engagement or roster file may hold.
FORMAT_REFERENCE = "The engagement file format: `kpo-rules docs engagement-file`"
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong, before it is placed in a file."""

    path: tuple[Any, ...]  # instance path of the node the finding points at
    message: str
    remediation: str
    at_key: bool = False  # point at the mapping key rather than its value
    rank: int = 9


def findings_of(
    doc: Document, problems: Iterable[Problem], references: tuple[str, ...]
) -> list[Finding]:
    """One ``KPO-SCH-001`` finding per problem, at its node, sorted by position."""
    engagement = _document_id(doc.data)
    findings = [
        _finding(doc, problem, engagement=engagement, references=references) for problem in problems
    ]
    return sorted(findings, key=lambda f: f.sort_key)


def key_text(key: Any) -> str:
    """A mapping key as the user wrote it (keys from JSON-like data may not be strings)."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def path_label(data: Any, path: Sequence[Any]) -> str:
    """``services[0].data.transfer_mechanism``: the path as a person writes it."""
    out = ""
    node = data
    for part in path:
        if isinstance(node, list) and isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if 0 <= part < len(node) else None
            continue
        text = key_text(part)
        if _PLAIN_KEY.fullmatch(text):
            out += f".{text}" if out else text
        else:
            out += f"[{json.dumps(text, ensure_ascii=False)}]"
        node = node.get(part) if isinstance(node, dict) else None
    return out or "the document"


def _finding(
    doc: Document,
    problem: Problem,
    *,
    engagement: str | None,
    references: tuple[str, ...],
) -> Finding:
    pointer = _pointer(problem.path)
    line, column = doc.locate(pointer, at_key=problem.at_key)
    return Finding(
        rule=RULE_ID,
        severity=Severity.ERROR,
        category=CATEGORY,
        message=problem.message,
        file=doc.file,
        line=line,
        column=column,
        engagement=engagement,
        subject=_subject(doc.data, problem.path),
        path=pointer,
        remediation=problem.remediation,
        references=references,
    )


def _pointer(path: Iterable[Any]) -> str:
    """RFC 6901 JSON Pointer of an instance path."""
    return "".join("/" + key_text(p).replace("~", "~0").replace("/", "~1") for p in path)


def _subject(data: Any, path: Sequence[Any]) -> Subject:
    """The service or staff member a path lies inside, when that item has a string id."""
    if len(path) < 2 or path[0] not in ("services", "staff") or not isinstance(path[1], int):
        return Subject()
    items = data.get(path[0]) if isinstance(data, dict) else None
    if not isinstance(items, list) or not 0 <= path[1] < len(items):
        return Subject()
    item = items[path[1]]
    item_id = item.get("id") if isinstance(item, dict) else None
    if not isinstance(item_id, str):
        return Subject()
    return Subject(service=item_id) if path[0] == "services" else Subject(staff=item_id)


def _document_id(data: Any) -> str | None:
    metadata = data.get("metadata") if isinstance(data, dict) else None
    doc_id = metadata.get("id") if isinstance(metadata, dict) else None
    return doc_id if isinstance(doc_id, str) else None
