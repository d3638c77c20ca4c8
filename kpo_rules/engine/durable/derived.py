"""The distinct derived facts of one run, and the text durable receives for each.

A derived fact is known by its content key (its JSON with sorted keys), so identical
derived facts are one fact, in every round of the run. Its durable text follows a
session's ``{"sid": ...`` head: the guard field, its id ``$d<n>``, its type marker and its
fields. The facts come from recipes, which were checked when the runner was built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kpo_rules.engine.durable.fact_records import _Fact
from kpo_rules.engine.durable.reserved import _GUARD_FIELD, _TYPE_FIELD, _marker


class _DerivedFacts:
    """Content key -> durable text of every distinct derived fact of a run. Each new fact
    is also recorded in ``facts`` (the run's facts by durable id), for the firings that
    bind it."""

    def __init__(self, facts: dict[str, _Fact]) -> None:
        self._facts = facts
        self._texts: dict[str, str] = {}

    def known(self, content: str) -> str:
        """The text of a fact derived earlier in the run."""
        return self._texts[content]

    def text(self, content: str, fact: Mapping[str, Any]) -> str:
        """The text of the derived fact ``fact`` (a recipe's: it has no id of its own)."""
        found = self._texts.get(content)
        if found is not None:
            return found
        key = f"$d{len(self._texts)}"
        marker = _marker(fact.get(_TYPE_FIELD))
        marked = f' "{marker}": 1,' if marker is not None else ""
        text = self._texts[content] = (
            f', "{_GUARD_FIELD}": 0, "id": "{key}",{marked} {content[1:]}'
        )
        self._facts[key] = _Fact(fact, (1, content))
        return text
