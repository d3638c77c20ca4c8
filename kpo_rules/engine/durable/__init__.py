"""Evaluate durable-rules rule bodies one engagement at a time, with its pitfalls fenced off.

This is the only package that talks to durable-rules 2.0.28. It drives the C extension
``durable_rules_engine`` directly and deliberately does not use ``durable.engine``
(``Host``/``Ruleset``/``Closure``): that layer starts two ``threading.Timer`` chains per
``Host``, swallows action exceptions into ``state["exception"]``, mutates the rule dicts
it registers, raises ``MessageNotHandledException`` for a whole batch, and silently stops
running the remaining actions of a session when one action takes longer than 10 seconds
of wall-clock time (``Closure._has_completed``; measured). Without it no thread is ever
started and every action runs synchronously inside :meth:`DurableRunner.run`.

What :class:`DurableRunner` guarantees (the numbers refer to
``research/durable_rules.md``):

* **Negation independent of fact order**: :mod:`.ruleset`.
* **Forward chaining with negation over derived facts, in strata**: :mod:`.strata`.
* **Facts in one batch, fact types in O(1)**: :mod:`.session`.
* **Sessions are always cleaned up**: :mod:`.session`.
* **Explicit, unique fact ids**: :mod:`.session`.
* **Errors are Python errors naming what is wrong**: :mod:`.errors`.
* **Conditions that read other facts are evaluated correctly**: :mod:`.patterns`.
* **Joins on missing fields**: :mod:`.rules`.
* **Derivations without a callback** (the fast path of a firing): :mod:`.derive`.

Reserved names are listed in :mod:`.reserved`; threads and processes in :mod:`.runner`.
"""

from __future__ import annotations

from kpo_rules.engine.durable.derive import Copy, Derive
from kpo_rules.engine.durable.plan import RulesetPlan, compile_plan
from kpo_rules.engine.durable.results import ActionFailure, Firing, OnFire, SessionResult
from kpo_rules.engine.durable.runner import DurableRunner

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
