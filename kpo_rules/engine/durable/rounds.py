"""What one evaluation round of a run collects, and its outcome."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kpo_rules.engine.durable.results import ActionFailure, Firing, SessionResult

_FiringKey = tuple[str, tuple[tuple[str, tuple[int, str]], ...]]


@dataclass(slots=True)
class _Round:
    firings: dict[_FiringKey, Firing]
    failures: set[tuple[str, str]]
    produced: dict[str, str]  # content key of each derived fact -> rule that produced it
    present: set[str]  # content keys of the derived facts in the session
    changed: bool = False  # a new derived fact was asserted during the round

    def result(
        self, *, unsettled: Mapping[str, str] | None = None, rounds: int = 0
    ) -> SessionResult:
        """The round's outcome; ``unsettled`` is the previous round's ``produced`` if the
        derived facts never reached a fixed point in ``rounds`` rounds."""
        failures = set(self.failures)
        if unsettled is not None:
            moving = {self.produced[k] for k in self.produced.keys() - unsettled.keys()}
            moving |= {unsettled[k] for k in unsettled.keys() - self.produced.keys()}
            moving = moving or {*self.produced.values(), *unsettled.values()}
            failures |= {
                (
                    rule,
                    f"RuntimeError: derived facts did not settle after {rounds} "
                    "rounds; derivations contradict each other through a negation",
                )
                for rule in moving
            }
        return SessionResult(
            firings=tuple(self.firings[key] for key in sorted(self.firings)),
            failures=tuple(ActionFailure(rule=r, error=e) for r, e in sorted(failures)),
        )
