"""The engine-neutral compiled form of rule files.

Rule files (YAML) are parsed into these frozen values; :mod:`.durable_compile`
turns them into durable-rules JSON. Nothing here knows durable-rules, so the
seam to the engine stays in one module.

Unlike the per-engagement values of :mod:`kpo_rules.model`, these have no ``__slots__``:
there are only as many as there are rules, so slots would save little. The content cache
keeps them as JSON and rebuilds them by keyword (:mod:`kpo_rules.cache_codec`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kpo_rules.model import Severity

#: Comparison operators a condition may use.
OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "exists", "contains",
             "not_contains")


@dataclass(frozen=True)
class Ref:
    """A field of a fact bound earlier in the same rule: ``$service.task``."""

    alias: str
    name: str

    def __str__(self) -> str:
        return f"${self.alias}.{self.name}"


@dataclass(frozen=True, kw_only=True)
class Condition:
    """``name op value``; ``value`` is a literal, a :class:`Ref`, or a list for ``in``."""

    name: str
    op: str
    value: Any


@dataclass(frozen=True, kw_only=True)
class Pattern:
    """One fact a rule matches: its type, conditions (all must hold) and alternatives.

    ``any_of`` holds alternatives: groups of conditions of which at least one must hold.
    """

    alias: str
    fact: str
    conditions: tuple[Condition, ...] = ()
    any_of: tuple[tuple[Condition, ...], ...] = ()
    line: int = 0


@dataclass(frozen=True, kw_only=True)
class Example:
    """An engagement a rule must pass or fail (its ``examples``)."""

    expect: str  # "pass" | "fail"
    document: Mapping[str, Any]
    rules: tuple[str, ...]  # ids that must (fail) or must not (pass) be reported
    name: str = ""
    line: int = 0


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A rule that reports findings when its patterns match and its ``unless`` patterns do not."""

    id: str
    plugin: str
    file: str
    line: int
    category: str
    severity: Severity
    basis: str  # "law" | "practice"
    title: str
    checks: str
    why: str
    message: str
    remediation: str
    references: tuple[str, ...]
    when: tuple[Pattern, ...]
    unless: tuple[Pattern, ...] = ()
    at: str = ""  # alias whose ``pointer`` field locates the finding
    subject: Mapping[str, Ref] = field(default_factory=dict)  # service/staff -> Ref
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    #: A tuple; from a cache, a sequence read on first use (a check never reads it).
    examples: Sequence[Example] = ()
    unverified: str = ""  # what of the rule's grounding is not verified (rendered in docs)
    #: What a finding cites when that differs per finding (``report.references``): literal
    #: citations and Refs to list fields of bound facts (a country profile's citations).
    #: Empty: findings cite ``references``.
    cites: tuple[str | Ref, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Derivation:
    """A rule that asserts a new fact other rules can match (forward chaining)."""

    id: str
    plugin: str
    file: str
    line: int
    description: str
    when: tuple[Pattern, ...]
    unless: tuple[Pattern, ...]
    fact: str
    fields: Mapping[str, Any]  # field -> literal or Ref


@dataclass(frozen=True, kw_only=True)
class RuleBook:
    """Every rule and derivation of a run, compiled once."""

    rules: tuple[Rule, ...]
    derivations: tuple[Derivation, ...]
    #: Hash of the book's full text, computed once when it is loaded (and kept in the
    #: content cache), so a cold start does not re-hash every rule to find its ruleset.
    digest: str = field(default="", compare=False)

    def by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}
