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
    """Record ``findings`` in ``path`` (whole or not at all); returns how many."""
    from kpo_rules.atomic_write import write_text  # noqa: PLC0415

    entries = sorted(
        ({"fingerprint": fingerprint(f), "rule": f.rule, "file": f.file,
          "engagement": f.engagement, "subject": f.subject.as_dict(), "message": f.message}
         for f in findings), key=lambda e: (e["file"], e["rule"], e["fingerprint"]))
    write_text(path, json.dumps({"version": BASELINE_VERSION, "findings": entries}, indent=2,
                                ensure_ascii=False) + "\n")
    return len(entries)


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
