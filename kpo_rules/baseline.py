"""Baselines: accept today's findings, report only new ones (checkov ``--baseline``).

A baseline file records the :func:`~kpo_rules.fingerprint.fingerprint` of each finding,
which survives edits that move lines; the filter stage (:mod:`kpo_rules.filters`) drops
the findings it records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kpo_rules.errors import UsageError
from kpo_rules.fingerprint import fingerprint
from kpo_rules.model import Finding

BASELINE_VERSION = 1


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    entries = sorted(
        ({"fingerprint": fingerprint(f), "rule": f.rule, "file": f.file,
          "engagement": f.engagement, "subject": f.subject.as_dict(), "message": f.message}
         for f in findings), key=lambda e: (e["file"], e["rule"], e["fingerprint"]))
    path.write_text(json.dumps({"version": BASELINE_VERSION, "findings": entries}, indent=2,
                               ensure_ascii=False) + "\n", encoding="utf-8")
    return len(entries)


def read_baseline(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable kpo-rules baseline ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION:
        raise UsageError(f"{path}: not a kpo-rules baseline (version {BASELINE_VERSION})")
    entries: list[dict[str, Any]] = data.get("findings", [])
    return entries
