"""One caller rule compiled: its durable variants and the fact types it reads.

* **Joins on missing fields.** A comparison other than equality with a field the other
  fact lacks makes durable abort the whole session (error 311). The runner makes it
  false instead, as durable does for missing fields elsewhere: the field is required on
  the other fact's pattern, and a rule whose ``$not`` pattern reads such a field is
  split into a variant with the field and one without it (:func:`_variants`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from kpo_rules.engine.durable.patterns import _compile_patterns, _Pattern

#: Variants one rule may be split into (see :func:`_variants`).
_MAX_VARIANTS: Final = 8


def _negates(patterns: list[_Pattern]) -> bool:
    return any(p.negated or (p.group is not None and _negates(p.group)) for p in patterns)


def _union(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """Union of two sets of fact types, where ``None`` means any type."""
    return None if a is None or b is None else a | b


def _read_types(
    patterns: list[_Pattern],
) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """Fact types the positive and the negated patterns read (``None``: any type)."""
    positive: frozenset[str] | None = frozenset()
    negative: frozenset[str] | None = frozenset()
    for p in patterns:
        if p.group is not None:
            inner_positive, inner_negative = _read_types(p.group)
            positive = _union(positive, inner_positive)
            negative = _union(negative, inner_negative)
            continue
        read = None if p.fact_type is None else frozenset({p.fact_type})
        if p.negated:
            negative = _union(negative, read)
        else:
            positive = _union(positive, read)
    return positive, negative


def _variants(rule: str, patterns: list[_Pattern]) -> list[list[dict[str, Any]]]:
    """The rule's patterns, once per combination of missing fields that needs a variant.

    A non-equality join reading ``alias.field`` aborts the session when that fact lacks
    the field. For a positive pattern, requiring the field on the alias's own pattern
    changes nothing (the rule cannot fire without it). A negated pattern that reads a
    missing field cannot match, so the rule is split: one variant requires the field,
    the other requires its absence and drops that negated pattern.
    """
    visible = {p.name for p in patterns if p.group is None and not p.negated}
    positive = set().union(*(p.needs for p in patterns if not p.negated))
    extra: dict[str, list[Any]] = {}
    for alias, name in sorted(positive):
        if alias in visible:
            extra.setdefault(alias, []).append({"$ex": {name: 1}})
    pending = sorted(
        {pair for p in patterns if p.negated for pair in p.needs if pair[0] in visible} - positive
    )
    out: list[list[dict[str, Any]]] = []

    def split(
        active: list[_Pattern], extra: dict[str, list[Any]], pending: list[tuple[str, str]]
    ) -> None:
        if not pending:
            out.append([p.assemble(extra) for p in active])
            return
        (alias, name), rest = pending[0], pending[1:]
        present = {**extra, alias: [*extra.get(alias, []), {"$ex": {name: 1}}]}
        split(active, present, rest)
        kept = [p for p in active if not (p.negated and (alias, name) in p.needs)]
        absent = {**extra, alias: [*extra.get(alias, []), {"$nex": {name: 1}}]}
        split(kept, absent, [x for x in rest if any(x in p.needs for p in kept if p.negated)])

    split(patterns, extra, pending)
    if len(out) > _MAX_VARIANTS:
        raise ValueError(
            f"rule {rule}: its $not patterns read {len(pending)} fields of other facts with "
            "comparisons other than equality; that needs more variants than the runner makes"
        )
    return out


@dataclass(frozen=True, slots=True)
class _RuleInfo:
    """A validated caller rule: its durable variants and the fact types it reads."""

    variants: list[dict[str, Any]]  # without the sentinel
    negates: bool  # some pattern is a $not
    positive: frozenset[str] | None  # types its positive patterns read (None: any)
    negative: frozenset[str] | None  # types its $not patterns read (None: any)


def _compile_rule(rule: Any, body: Any) -> _RuleInfo:
    """Validated variants of one caller rule body (without the sentinel), with the fact
    types the rule reads."""
    if not isinstance(rule, str) or not rule:
        raise ValueError(f"rule names must be non-empty strings, not {rule!r}")
    if rule.startswith("$"):
        raise ValueError(f"rule {rule}: names starting with '$' are reserved by the runner")
    if not isinstance(body, Mapping):
        raise ValueError(f"rule {rule}: the body must be a mapping, not {type(body).__name__}")
    unknown = sorted(str(key) for key in body if key not in ("all", "pri"))
    if unknown:
        raise ValueError(
            f"rule {rule}: unsupported key(s) {', '.join(unknown)}; a body has 'all' and "
            "an optional 'pri' (the runner supplies the action; metadata stays outside)"
        )
    if "all" not in body:
        raise ValueError(f"rule {rule}: the body has no 'all' list")
    pri: dict[str, Any] = {}
    if "pri" in body:
        if isinstance(body["pri"], bool) or not isinstance(body["pri"], int):
            raise ValueError(f"rule {rule}: 'pri' must be an integer, not {body['pri']!r}")
        pri["pri"] = body["pri"]
    patterns = _compile_patterns(rule, body["all"], "'all'", set())
    variants = [{"all": all_, **pri} for all_ in _variants(rule, patterns)]
    positive, negative = _read_types(patterns)
    return _RuleInfo(
        variants=variants, negates=_negates(patterns), positive=positive, negative=negative
    )
