"""Evaluate durable-rules rule bodies one engagement at a time, with its pitfalls fenced off.

This is the only package that talks to durable-rules' engine: its C core, vendored in
``vendor/durable_rules`` (release 2.0.28 with the changes listed in ``CHANGES.md`` there)
and compiled into :mod:`._engine`. durable-rules' Python layer (``Host``/``Ruleset``/
``Closure``) is not used: it starts two ``threading.Timer`` chains per ``Host``, swallows
action exceptions, mutates the rule dicts it registers, and stops running the actions of a
session when one takes longer than 10 seconds. Here no thread is ever started and every
action runs synchronously inside :meth:`DurableRunner.run`.

What :class:`DurableRunner` guarantees (the numbers refer to
``research/durable_rules.md``):

* **Negation independent of fact order**: :mod:`.ruleset`.
* **Forward chaining with negation over derived facts, in strata**: :mod:`.strata`.
* **Facts in one batch, fact types in O(1)**: :mod:`.session`.
* **Sessions are always cleaned up**: :mod:`.session`.
* **Explicit, unique fact ids**: :mod:`.session` (input facts) and :mod:`.derived`.
* **Errors are Python errors naming what is wrong**: :mod:`.status_codes`.
* **Conditions that read other facts are evaluated correctly**: :mod:`.patterns`.
* **Joins on missing fields**: :mod:`.rules`.
* **Derivations from recipes** (copies of matched fields and constants): :mod:`.derive`.

Reserved names are listed in :mod:`.reserved`; threads and processes in :mod:`.runner`.

Where a session's time goes (the benchmark's engagement: 5 staff, 3 services; callgrind,
``vendor/durable_rules/CHANGES.md``): 6.5 M instructions, from 16.2 M with stock
durable-rules and the workarounds it needed. The engine writes the batch's JSON from the
runner's dicts and names matched facts by id, so no fact is encoded or decoded in Python;
what is left is durable's own matching (its alpha network reads each fact's JSON text) and
one Python step per fact, firing and derived fact.
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
