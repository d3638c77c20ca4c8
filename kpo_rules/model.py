"""The data that flows through a check: documents in, findings and a report out.

Everything here is a frozen dataclass so that a stage can never change what an
earlier stage produced; use :func:`dataclasses.replace` to derive a new value.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpo_rules.details import EngagementDetail
    from kpo_rules.incidents import DisabledPlugin as DisabledPlugin  # noqa: PLC0414 - re-exported
    from kpo_rules.incidents import PluginFailure as PluginFailure  # noqa: PLC0414 - re-exported
    from kpo_rules.incidents import SkippedPath as SkippedPath  # noqa: PLC0414 - re-exported

#: Defined in :mod:`kpo_rules.incidents` (a clean run creates none), named here too.
_INCIDENTS = ("DisabledPlugin", "PluginFailure", "SkippedPath")


def __getattr__(name: str) -> Any:
    if name in _INCIDENTS:
        from kpo_rules import incidents  # noqa: PLC0415

        return getattr(incidents, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Severity(str, enum.Enum):
    """How bad a finding is; ordered so that ``--fail-on`` can compare."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 1, Severity.WARNING: 2, Severity.ERROR: 3}

#: Sets a field of a frozen dataclass being unpickled.
_set = object.__setattr__

#: The finding categories, in the order the documentation lists them.
CATEGORIES: tuple[str, ...] = (
    "syntax",
    "schema",
    "reference",
    "qualification",
    "language",
    "regulation",
    "eligibility",
    "coverage",
    "availability",
    "data-protection",
    "supervision",
    "waiver",
    "engine-error",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceMap:
    """Line and column (1-based) of every node of one YAML document.

    Keys are JSON Pointers (RFC 6901) into the document; ``values`` holds the
    position of the value node, ``keys`` the position of the mapping key that
    introduces it (so an "unknown field" finding can point at the key itself).
    """

    values: Mapping[str, tuple[int, int]]
    keys: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def locate(self, pointer: str, *, at_key: bool = False) -> tuple[int, int]:
        """Position of ``pointer``, or of its nearest ancestor that exists."""
        probe = pointer
        while True:
            if at_key and probe in self.keys:
                return self.keys[probe]
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return (1, 1)
            probe = probe.rsplit("/", 1)[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """One YAML document of one file, with positions for every node."""

    file: str
    index: int
    data: Any
    source: SourceMap

    def locate(self, pointer: str, *, at_key: bool = False) -> tuple[int, int]:
        return self.source.locate(pointer, at_key=at_key)


@dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    """The service and/or staff member a finding is about."""

    service: str | None = None
    staff: str | None = None

    # Pickled with every packed finding (kpo_rules.packing): a tuple instead of the
    # dataclass default, which looks the fields up again for every object.
    def __getstate__(self) -> tuple[str | None, str | None]:
        return (self.service, self.staff)

    def __setstate__(self, state: tuple[str | None, str | None]) -> None:
        _set(self, "service", state[0])
        _set(self, "staff", state[1])

    def as_dict(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.service is not None:
            out["service"] = self.service
        if self.staff is not None:
            out["staff"] = self.staff
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One problem found in one place: the unit every output format renders."""

    rule: str
    severity: Severity
    category: str
    message: str
    file: str
    line: int
    column: int
    engagement: str | None = None
    subject: Subject = field(default_factory=Subject)
    path: str = ""
    remediation: str = ""
    references: tuple[str, ...] = ()
    plugin: str | None = None

    # Findings are pickled in the workers and unpickled in the parent (kpo_rules.packing):
    # a tuple and these assignments written out take half the time of the dataclass
    # default, which looks the fields up again for every object (0.24 s to 0.13 s for the
    # 14,600 findings of 2,000 files). tests/test_packing.py checks that every field is here.
    def __getstate__(self) -> tuple[Any, ...]:
        return (self.rule, self.severity, self.category, self.message, self.file, self.line,
                self.column, self.engagement, self.subject, self.path, self.remediation,
                self.references, self.plugin)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        (rule, severity, category, message, file, line, column, engagement, subject, path,
         remediation, references, plugin) = state
        _set(self, "rule", rule)
        _set(self, "severity", severity)
        _set(self, "category", category)
        _set(self, "message", message)
        _set(self, "file", file)
        _set(self, "line", line)
        _set(self, "column", column)
        _set(self, "engagement", engagement)
        _set(self, "subject", subject)
        _set(self, "path", path)
        _set(self, "remediation", remediation)
        _set(self, "references", references)
        _set(self, "plugin", plugin)

    @property
    def sort_key(self) -> tuple[str, int, int, str, str, str, str]:
        # File, line, column, rule; the rest only breaks ties deterministically.
        return (
            self.file,
            self.line,
            self.column,
            self.rule,
            self.subject.service or "",
            self.subject.staff or "",
            self.message,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "category": self.category,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "engagement": self.engagement,
            "subject": self.subject.as_dict(),
            "path": self.path,
            "remediation": self.remediation,
            "references": list(self.references),
        }


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Deterministic order with exact duplicates removed (joins can match twice)."""
    unique = {(*f.sort_key, f.severity.value, f.category, f.path): f for f in findings}
    return sorted(unique.values(), key=lambda f: f.sort_key)


@dataclass(frozen=True, slots=True, kw_only=True)
class PluginInfo:
    """What ``kpo-rules plugins`` shows about one registered plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...] = ()
    facts_as_of: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": list(self.hooks),
            "facts_as_of": self.facts_as_of,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """What was in force for a run, so a report shows what was turned off and by whom."""

    config_file: str | None = None
    disabled_plugins: tuple[DisabledPlugin, ...] = ()
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    fail_on: str = "error"
    #: The date waiver expiry was judged against (ISO), None when no run date applied.
    run_date: str | None = None
    waivers: bool = True
    skipped: tuple[SkippedPath, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "config": self.config_file,
            "disabled_plugins": [d.as_dict() for d in self.disabled_plugins],
            "select": list(self.select),
            "ignore": list(self.ignore),
            "fail_on": self.fail_on,
            "run_date": self.run_date,
            "waivers": self.waivers,
            "skipped": [s.as_dict() for s in self.skipped],
        }

    def turned_off(self) -> list[str]:
        """Short notes on everything that narrowed the run, for a one-line summary."""
        notes = [f"plugin {d.name} disabled ({d.by})" for d in self.disabled_plugins]
        if tuple(self.select) != ("ALL",):
            notes.append(f"select {','.join(self.select)}")
        if self.ignore:
            notes.append(f"ignore {','.join(self.ignore)}")
        if self.fail_on == "never":
            notes.append("fail-on never")
        if not self.waivers:
            notes.append("waivers off")
        return notes

    def summary_note(self) -> str:
        """`` [config: FILE; turned off: ...; not ours: N skipped ...]`` for the text
        summary line, or ``""``."""
        parts = [f"config: {self.config_file}"] if self.config_file else []
        if self.turned_off():
            parts.append("turned off: " + ", ".join(self.turned_off()))
        if self.skipped:
            files = "file" if len(self.skipped) == 1 else "files"
            parts.append(f"{len(self.skipped)} {files} skipped (--show-files lists them)")
        return f" [{'; '.join(parts)}]" if parts else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """The outcome of one run: findings plus what is needed to judge and render them."""

    #: In report order; from :func:`kpo_rules.check` a :class:`~kpo_rules.packed.FindingList`
    #: (compact until iterated), equal to the tuple of the same findings.
    findings: Sequence[Finding]
    files: int
    engagements: int
    plugins: tuple[PluginInfo, ...] = ()
    plugin_failures: tuple[PluginFailure, ...] = ()
    waived: tuple[Finding, ...] = ()
    #: The waivers that silenced findings (``AppliedWaiver``: rule, subject, reason,
    #: approver, expiry), for an auditor to see what was silenced.
    waivers: tuple[Any, ...] = ()
    #: Every (file, engagement id) checked, with None for files without an engagement.
    checked: tuple[tuple[str, str | None], ...] = ()
    #: Documentation of every rule the run evaluated (selected), by id: core and plugin rules.
    rules: Mapping[str, Any] = field(default_factory=dict)
    baselined: int = 0  # findings a baseline accepted (not in ``findings``)
    baseline_gone: tuple[Mapping[str, Any], ...] = ()  # baseline entries no longer found
    #: What was in force: config file, plugins disabled, selection, run date, paths skipped.
    run: RunRecord = field(default_factory=RunRecord)
    #: Each engagement's services, requirements and overlap, for the HTML report; only when
    #: the run was asked for them (``kpo_rules.check(details=True)``).
    #: A sequence unpacked one engagement at a time (:class:`kpo_rules.packed.DetailList`).
    details: Sequence[EngagementDetail] = ()

    def count(self, severity: Severity) -> int:
        counted = getattr(self.findings, "severity_count", None)  # packed: no unpacking
        if counted is not None:
            return int(counted(severity))
        return sum(1 for f in self.findings if f.severity is severity)

    def worst(self) -> Severity | None:
        present = [s for s in (Severity.ERROR, Severity.WARNING, Severity.INFO) if self.count(s)]
        return present[0] if present else None
