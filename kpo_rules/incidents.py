"""What a run records when something is left out: a plugin that failed to load, a path it
did not check, a plugin it was told not to load.

Part of :mod:`kpo_rules.model` (which names them too), defined apart because a clean run
creates none of them: defining their classes would be 1 % of a one-file check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpo_rules.errors import RuleDefinitionError


@dataclass(frozen=True, slots=True, kw_only=True)
class PluginFailure:
    """A plugin that could not be imported, registered or read; the run goes on without it
    (and without anything it contributes).

    ``error`` is the whole message as shown; the other fields keep its parts, so that
    ``kpo-rules test`` and the conformance checks read fields, never the message: ``kind``
    (``load``, ``hook``, ``api-version``, or a :class:`~kpo_rules.errors.RuleDefinitionError`
    kind such as ``schema``), where (``file``, ``line``, ``rule``), ``why`` without the
    place, ``fix`` when known, and ``other``: the plugin a clash is with.
    """

    name: str
    distribution: str | None
    error: str
    kind: str = "load"
    file: str | None = None
    line: int | None = None
    rule: str | None = None
    why: str = ""
    fix: str = ""
    other: str | None = None

    @classmethod
    def of_definition(cls, name: str, distribution: str | None,
                      error: RuleDefinitionError) -> PluginFailure:
        """The failure of plugin ``name`` that a broken rule or catalogue file causes."""
        return cls(name=name, distribution=distribution, error=str(error), kind=error.kind,
                   file=error.file, line=error.line or None, rule=error.rule, why=error.why,
                   fix=error.fix, other=error.other)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "distribution": self.distribution, "error": self.error,
                "kind": self.kind, "file": self.file, "line": self.line, "rule": self.rule}

    def line_of_text(self, *, distribution: bool = False) -> str:
        """The terminal's line: what failed, where, and what to do when that is known."""
        dist = f" ({self.distribution})" if distribution and self.distribution else ""
        fix = f" (fix: {self.fix})" if self.fix else ""
        return f"plugin {self.name}{dist} failed to load: {self.error}{fix}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SkippedPath:
    """A file or directory a run did not check, and why (``--show-files`` lists them)."""

    path: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class DisabledPlugin:
    """A plugin a run was told not to load, and who said so (``environment`` or ``config``)."""

    name: str
    by: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "by": self.by}
