"""What one run of a :class:`~kpo_rules.engine.durable.runner.DurableRunner` reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Firing:
    """One activation of a rule.

    ``bindings`` maps each positive alias of the rule to the fact it matched: a plain
    dict equal to the fact as the caller (or ``on_fire``) gave it, copied (shallowly) for
    each run, so firings of one run share it. The sentinel is left out, and so are the
    runner's own fields and ids. Treat them as read-only: ``on_fire`` receives the same
    objects.
    """

    rule: str
    bindings: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionFailure:
    """``on_fire`` (or the handling of what it returned) failed for a firing of ``rule``."""

    rule: str
    error: str  # "ExcType: message"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionResult:
    """Everything one engagement produced, deduplicated and in a deterministic order.

    ``firings`` holds every rule match, including those whose ``on_fire`` failed; those
    failures are in ``failures``. Both are sorted: firings by rule, then by the facts
    bound to each alias in alias order (by id; by their JSON for facts without an id, which
    come after those with one); failures by rule, then error.
    """

    firings: tuple[Firing, ...]
    failures: tuple[ActionFailure, ...]


#: Called once per distinct firing (and evaluation round); returns derived facts to assert.
OnFire = Callable[[Firing], Iterable[Mapping[str, Any]]]
