"""Baselines: accept today's findings, report only new ones (checkov ``--baseline``).

A fingerprint leaves out the line and column so it survives edits that move lines; it
uses the subject ids (the JSON Pointer only when a finding has no subject) and the message
with any quoted positions removed, so two problems of one person stay two.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpo_rules.errors import UsageError
from kpo_rules.model import Finding

BASELINE_VERSION = 1


_POSITIONS = re.compile(r"\bline \d+|:\d+(?::\d+)?\b")


def fingerprint(finding: Finding) -> str:
    """Stable across line moves: no line, column or positions quoted in the message."""
    subject = finding.subject
    where = (subject.service or "", subject.staff or "") if (subject.service or subject.staff) \
        else ("", finding.path)
    message = _POSITIONS.sub("", finding.message)
    text = "\x1f".join((finding.rule, finding.file, finding.engagement or "", *where, message))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    """Record ``findings`` in ``path`` (whole or not at all); returns how many."""
    from kpo_rules.atomic_write import write_text  # noqa: PLC0415

    entries = sorted(
        ({"fingerprint": fingerprint(f), "rule": f.rule, "file": f.file,
          "engagement": f.engagement, "subject": f.subject.as_dict(), "message": f.message}
         for f in findings), key=lambda e: (e["file"], e["rule"], e["fingerprint"]))
    write_text(path, json.dumps({"version": BASELINE_VERSION, "findings": entries}, indent=2,
                                ensure_ascii=False) + "\n")
    return len(entries)


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineOutcome:
    new: tuple[Finding, ...]
    known: tuple[Finding, ...]
    gone: tuple[dict[str, Any], ...]  # baseline entries that no longer occur


_REWRITE = "rewrite it with --write-baseline"


def read_baseline(path: Path) -> list[dict[str, Any]]:
    """The entries of a baseline file; anything malformed is a usage error naming the file
    and the entry, never a traceback."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the baseline: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: not a kpo-rules baseline: "
                         f"{exc.msg}; {_REWRITE}") from None
    except ValueError as exc:  # not UTF-8
        raise UsageError(f"{path}: not a kpo-rules baseline: {exc}; {_REWRITE}") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION:
        raise UsageError(f"{path}: not a kpo-rules baseline (an object with \"version\": "
                         f"{BASELINE_VERSION}); {_REWRITE}")
    entries = data.get("findings", [])
    if not isinstance(entries, list):
        raise UsageError(f"{path}: findings: expected a list of entries; {_REWRITE}")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise UsageError(f"{path}: findings[{index}]: expected an object with a "
                             f"\"fingerprint\" string, got {json.dumps(entry)[:80]}; {_REWRITE}")
    return entries


def compare(findings: Sequence[Finding], baseline: Sequence[dict[str, Any]]) -> BaselineOutcome:
    known_prints = {entry["fingerprint"] for entry in baseline}
    seen = {fingerprint(f) for f in findings}
    return BaselineOutcome(
        new=tuple(f for f in findings if fingerprint(f) not in known_prints),
        known=tuple(f for f in findings if fingerprint(f) in known_prints),
        gone=tuple(e for e in baseline if e["fingerprint"] not in seen),
    )
