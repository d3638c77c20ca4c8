"""``--format gitlab``: a GitLab Code Quality report (``artifacts:reports:codequality``).

A JSON array of issues in the subset of the Code Climate format GitLab reads:
``description``, ``check_name`` (the rule id), ``fingerprint``, ``severity`` and
``location.path`` / ``location.lines.begin``. GitLab keeps one issue per fingerprint, so
each finding gets its own (the baseline's and SARIF's recipe: stable when lines move,
told apart when one file has the same finding twice). Severities: error -> ``major``,
warning -> ``minor``, info -> ``info``; waived findings are left out, as from the text
report.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kpo_rules.fingerprint import fingerprint
from kpo_rules.model import Finding, Report, Severity
from kpo_rules.report import PLAIN, RenderOptions
from kpo_rules.report.json_text import pretty_json
from kpo_rules.report.sarif import with_occurrence

SEVERITIES = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def relative_path(file: str) -> str:
    """GitLab links ``location.path`` relative to the repository root: the job's directory."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return path.as_posix()
    return os.path.normpath(path).replace(os.sep, "/")


def issue(f: Finding, fingerprint: str) -> dict[str, Any]:
    body = [f.remediation] if f.remediation else []
    body += [f"- {ref}" for ref in f.references]
    out: dict[str, Any] = {
        "type": "issue",
        "description": f"{f.rule}: {f.message}",
        "check_name": f.rule,
        "fingerprint": fingerprint,
        "severity": SEVERITIES[f.severity],
        "location": {"path": relative_path(f.file), "lines": {"begin": max(1, f.line)}},
    }
    if body:
        out["content"] = {"body": "\n".join(body)}
    return out


def as_issues(report: Report) -> list[dict[str, Any]]:
    seen: dict[str, int] = {}
    out = []
    for f in report.findings:
        key = fingerprint(f)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        out.append(issue(f, with_occurrence(key, occurrence)))
    return out


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    del options  # JSON is for machines
    return pretty_json(as_issues(report)) + "\n"
