"""What one run of a :class:`~kpo_rules.engine.durable.runner.DurableRunner` reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Firing:
    """One activation of a rule.

    ``bindings`` maps each positive alias of the rule to the fact it matched: a plain
    dict equal to the fact as the caller gave it (or a recipe built it), copied
    (shallowly) for each run, so firings of one run share it. The sentinel is left out,
    and so are the runner's own fields and ids.
    """

    rule: str
    bindings: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionFailure:
    """A firing of ``rule`` could not derive its fact (its recipe failed, durable refused
    the fact, or the derivations never settled)."""

    rule: str
    error: str  # "ExcType: message"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionResult:
    """Everything one engagement produced, deduplicated and in a deterministic order.

    ``firings`` holds every match of a rule without a recipe; ``failures`` what went
    wrong deriving facts. Both are sorted: firings by rule, then by the facts
    bound to each alias in alias order (by id; by their JSON for facts without an id, which
    come after those with one); failures by rule, then error.
    """

    firings: tuple[Firing, ...]
    failures: tuple[ActionFailure, ...]

