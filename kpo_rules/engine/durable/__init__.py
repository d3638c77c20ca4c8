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
* **Explicit, unique fact ids**: :mod:`.session` (input facts) and :mod:`.derived`.
* **Errors are Python errors naming what is wrong**: :mod:`.errors`.
* **Conditions that read other facts are evaluated correctly**: :mod:`.patterns`.
* **Joins on missing fields**: :mod:`.rules`.
* **Derivations without a callback** (the fast path of a firing): :mod:`.derive`.

Reserved names are listed in :mod:`.reserved`; threads and processes in :mod:`.runner`.

Where a session's time goes (the benchmark's engagement: 5 staff, 3 services; measured with
timers around every call into durable): about 90 input facts in one batch, 0.22 ms inside
durable; about 37 derived facts and sentinels asserted one by one, 0.2 ms; 44 actions started
and completed, 0.05 ms. The Python around them is about 0.55 ms: encoding and checking the
batch 0.2, decoding durable's text of each match 0.14, building, encoding and registering
derived facts 0.15. Every step is one C call or one dict per fact or match; what is left to
gain lies in durable itself (it parses JSON text in and writes JSON text out for every fact
and match) or in asking it for fewer facts.
"""

from __future__ import annotations

from kpo_rules.engine.durable.derive import Copy, Derive
from kpo_rules.engine.durable.plan import RulesetPlan, compile_plan
from kpo_rules.engine.durable.results import ActionFailure, Firing, SessionResult
from kpo_rules.engine.durable.runner import DurableRunner

__all__ = [
    "ActionFailure",
    "Copy",
    "Derive",
    "DurableRunner",
    "Firing",
    "RulesetPlan",
    "SessionResult",
    "compile_plan",
]
