"""``--format json``: one object with the run's summary and every finding (docs/output.md)."""

from __future__ import annotations

from typing import Any

from kpo_rules._version import __version__
from kpo_rules.model import Report, Severity
from kpo_rules.report import PLAIN, RenderOptions
from kpo_rules.report.json_text import pretty_json

#: Bumped when the JSON shape changes incompatibly.
JSON_REPORT_VERSION = 1


def as_dict(report: Report) -> dict[str, Any]:
    return {
        "version": JSON_REPORT_VERSION,
        "tool": {"name": "kpo-rules", "version": __version__},
        "plugins": [p.as_dict() for p in report.plugins],
        "plugin_errors": [p.as_dict() for p in report.plugin_failures],
        "summary": {
            "files": report.files,
            "engagements": report.engagements,
            "error": report.count(Severity.ERROR),
            "warning": report.count(Severity.WARNING),
            "info": report.count(Severity.INFO),
            "waived": len(report.waived),
            "skipped": len(report.run.skipped),
        },
        "waivers": [w.as_dict() for w in report.waivers],
        "run": report.run.as_dict(),
        "baseline": {"known": report.baselined, "gone": list(report.baseline_gone)},
        "findings": [f.as_dict() for f in report.findings],
    }


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    del options  # JSON is for machines
    return pretty_json(as_dict(report)) + "\n"
