"""kpo-rules: declarative compliance checks for knowledge-process-outsourcing engagements.

The public face is small::

    import kpo_rules
    report = kpo_rules.check(["engagements/"])
    for finding in report.findings:
        print(finding.file, finding.line, finding.rule, finding.message)

    answer = kpo_rules.staff(["engagements/", "rosters/"], service="acme-tax/returns")
    for entry in answer.services[0].candidates:
        print(entry.staff, entry.name)   # who could be assigned (docs/staffing.md)

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
    from kpo_rules.staffing import staff

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
    "staff",
]


def __getattr__(name: str) -> Any:
    # `check` and `staff` pull in the loader and jsonschema; plugins importing `hookimpl`
    # should not pay.
    if name == "check":
        from kpo_rules.api import check  # noqa: PLC0415

        return check
    if name == "staff":
        from kpo_rules.staffing import staff  # noqa: PLC0415

        return staff
    raise AttributeError(f"module 'kpo_rules' has no attribute {name!r}")
