"""The distinct derived facts of one run, and the text durable receives for each.

A derived fact is known by its content key (its JSON with sorted keys), so identical
derived facts are one fact, in every round of the run. Its durable text follows a
session's ``{"sid": ...`` head: the guard field, its id (``$d<n>`` when it has none), its
type marker and its fields. Facts from ``on_fire`` are checked here; facts a recipe built
were checked with the recipe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kpo_rules.engine.durable.codec import _encode_sorted
from kpo_rules.engine.durable.facts import _Fact, _fact_problem
from kpo_rules.engine.durable.reserved import _GUARD_FIELD, _TYPE_FIELD, _marker


class _Unstratified(Exception):
    """A derivation returned a fact type it did not declare: evaluate in rounds instead."""


class _DerivedFacts:
    """Content key -> durable text of every distinct derived fact of a run. Each new fact
    is also recorded in ``facts`` (the run's facts by durable id), for the firings that
    bind it; ``given`` are the input facts by id, whose ids a derived fact may not take."""

    def __init__(self, given: Mapping[str, Any], facts: dict[str, _Fact]) -> None:
        self._given = given
        self._facts = facts
        self._texts: dict[str, str] = {}
        self._ids: dict[str, str] = {}  # str(id) -> content key, explicit ids

    def text(self, content: str) -> str | None:
        return self._texts.get(content)

    def built(self, content: str, fact: Mapping[str, Any]) -> str:
        """The text of a fact a recipe built (it has no id: see ``Derive``)."""
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

    def returned(self, returned: object, types: frozenset[str] | None) -> list[str]:
        """Content keys of the facts ``on_fire`` returned; raises for the firing's failure,
        and :class:`_Unstratified` for a fact type outside ``types`` (``None``: any)."""
        if returned is None or (type(returned) is tuple and not returned):
            return []
        if type(returned) not in (tuple, list) and (
            isinstance(returned, (str, bytes, Mapping)) or not isinstance(returned, Iterable)
        ):
            raise TypeError(
                f"on_fire must return an iterable of facts, not {type(returned).__name__}"
            )
        out = []
        facts: Iterable[Any] = returned  # type: ignore[assignment]
        for number, fact in enumerate(facts):
            problem = _fact_problem(fact)
            if problem is not None:
                raise ValueError(f"derived fact {number} {problem}")
            if types is not None:
                fact_type = fact.get(_TYPE_FIELD)
                if not isinstance(fact_type, str) or fact_type not in types:
                    raise _Unstratified
            try:
                content = _encode_sorted(fact)
            except (TypeError, ValueError, RecursionError) as exc:
                raise ValueError(f"derived fact {number} is not JSON: {exc}") from exc
            if content not in self._texts:
                self._register(number, fact, content)
            out.append(content)
        return out

    def _register(self, number: int, fact: Mapping[str, Any], content: str) -> None:
        """Record a new distinct derived fact; raises for an id that clashes."""
        fid = fact.get("id")
        rest = f", {content[1:]}" if content != "{}" else "}"
        marker = _marker(fact.get(_TYPE_FIELD))
        if marker is not None:
            rest = f', "{marker}": 1{rest}'
        if fid is not None:
            key = str(fid)
            if key in self._given:
                raise ValueError(f"derived fact {number} reuses the id {fid!r} of an input fact")
            if self._ids.setdefault(key, content) != content:
                raise ValueError(
                    f"derived fact {number} reuses the id {fid!r} of a different derived fact"
                )
            tail = f', "{_GUARD_FIELD}": 0{rest}'
            record = _Fact(fact, (0, key))
        else:
            key = f"$d{len(self._texts)}"
            tail = f', "{_GUARD_FIELD}": 0, "id": "{key}"{rest}'
            record = _Fact(fact, (1, content))
        self._facts[key] = record
        self._texts[content] = tail
