"""Output formats: one module per format, each a ``render(report, options) -> str``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol

from kpo_rules.model import Report, Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderOptions:
    """What a format needs to know beyond the report itself."""

    color: bool = False
    #: Lowest severity that fails the run (``error``, ``warning``, ``info``) or ``never``:
    #: JUnit marks only those findings as failed test cases.
    fail_on: str = "error"
    #: The text formats list the waived findings after the others.
    show_waived: bool = False

    def fails(self, severity: Severity) -> bool:
        """Whether a finding of ``severity`` makes the run fail."""
        return self.fail_on != "never" and severity.rank >= Severity(self.fail_on).rank


PLAIN = RenderOptions()


class Renderer(Protocol):
    def __call__(self, report: Report, options: RenderOptions = PLAIN) -> str: ...


#: format name -> module that defines ``render``; imported only when chosen.
FORMATS: dict[str, str] = {
    "text": "kpo_rules.report.text",
    "full": "kpo_rules.report.full",
    "json": "kpo_rules.report.json_report",
    "sarif": "kpo_rules.report.sarif",
    "junit": "kpo_rules.report.junit",
    "github": "kpo_rules.report.github",
    "gitlab": "kpo_rules.report.gitlab",
    "html": "kpo_rules.report.html",
}


def renderer(name: str) -> Renderer:
    module = importlib.import_module(FORMATS[name])
    render: Renderer = module.render
    return render
