"""The durable-rules runner under its original import path.

The runner is the package :mod:`kpo_rules.engine.durable`, one job per module; the notes
on durable-rules' pitfalls that used to be here are in the docstrings of its modules.
This module re-exports its public names, and the internal ones tests reach into.
"""

from __future__ import annotations

from kpo_rules.engine.durable.derive import Copy, Derive
from kpo_rules.engine.durable.errors import _ERROR_CODES  # noqa: F401 - tests import it here
from kpo_rules.engine.durable.facts import _fact_problem, _fnv1a  # noqa: F401 - tests
from kpo_rules.engine.durable.plan import RulesetPlan, compile_plan
from kpo_rules.engine.durable.results import ActionFailure, Firing, OnFire, SessionResult
from kpo_rules.engine.durable.rules import _compile_rule  # noqa: F401 - tests
from kpo_rules.engine.durable.runner import DurableRunner
from kpo_rules.engine.durable.strata import (  # noqa: F401 - tests
    _declared,
    _negation_cycle,
    _stages,
)

__all__ = [
    "ActionFailure",
    "Copy",
    "Derive",
    "DurableRunner",
    "Firing",
    "OnFire",
    "RulesetPlan",
    "SessionResult",
    "compile_plan",
]

