"""Output formats: one module per format, each a ``render(report, color=...) -> str``."""

from __future__ import annotations

import importlib
from typing import Protocol

from kpo_rules.model import Report


class Renderer(Protocol):
    def __call__(self, report: Report, *, color: bool) -> str: ...


#: format name -> module that defines ``render``; imported only when chosen.
FORMATS: dict[str, str] = {
    "text": "kpo_rules.report.text",
    "json": "kpo_rules.report.json_report",
    "sarif": "kpo_rules.report.sarif",
    "junit": "kpo_rules.report.junit",
    "github": "kpo_rules.report.github",
}


def renderer(name: str) -> Renderer:
    module = importlib.import_module(FORMATS[name])
    render: Renderer = module.render
    return render
