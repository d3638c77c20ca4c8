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

if TYPE_CHECKING:
    from kpo_rules.api import check
    from kpo_rules.model import Finding, Report, Severity, Subject
    from kpo_rules.plugin_api import DataFile, PluginMeta, data_files, hookimpl
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

#: Where each public name lives. Imported on first use: ``check`` pulls in the loader, a
#: plugin importing ``hookimpl`` should not pay for it, and ``python -m kpo_rules`` imports
#: nothing outside the standard library before it takes the working directory off
#: ``sys.path`` (see ``__main__``).
_PUBLIC = {
    "check": "kpo_rules.api",
    "staff": "kpo_rules.staffing",
    "Finding": "kpo_rules.model",
    "Report": "kpo_rules.model",
    "Severity": "kpo_rules.model",
    "Subject": "kpo_rules.model",
    "DataFile": "kpo_rules.plugin_api",
    "PluginMeta": "kpo_rules.plugin_api",
    "data_files": "kpo_rules.plugin_api",
    "hookimpl": "kpo_rules.plugin_api",
}


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'kpo_rules' has no attribute {name!r}")
    import importlib  # noqa: PLC0415

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found once; later lookups do not come here
    return value
