"""kpo-rules: declarative compliance checks for knowledge-process-outsourcing engagements.

The public face is small::

    import kpo_rules
    report = kpo_rules.check(["engagements/"])
    for finding in report.findings:
        print(finding.file, finding.line, finding.rule, finding.message)

Plugins implement hooks with ``@kpo_rules.hookimpl`` and describe themselves
with :class:`kpo_rules.PluginMeta`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kpo_rules._version import __version__
from kpo_rules.model import Finding, Report, Severity, Subject
from kpo_rules.plugin_api import DataFile, PluginMeta, data_files, hookimpl

if TYPE_CHECKING:
    from kpo_rules.api import check

__all__ = [
    "DataFile",
    "Finding",
    "PluginMeta",
    "Report",
    "Severity",
    "Subject",
    "__version__",
    "check",
    "data_files",
    "hookimpl",
]


def __getattr__(name: str) -> Any:
    # `check` pulls in the loader and jsonschema; plugins importing `hookimpl` should not pay.
    if name == "check":
        from kpo_rules.api import check  # noqa: PLC0415

        return check
    raise AttributeError(f"module 'kpo_rules' has no attribute {name!r}")
