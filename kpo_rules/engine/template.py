"""Message templates filled safely: ``{staff.name}`` reads one field of a bound fact.

A third party's rule file must not run code or read anything but the facts of
its own match, so this is a plain substitution, not ``str.format`` (which
allows attribute and index access on the values it is given).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kpo_rules.engine.durable_compile import field_name

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders(template: str) -> Iterable[tuple[str, str]]:
    """The ``(alias, field)`` pairs a template reads, for compile-time checks."""
    return [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(template)]


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_show(v) for v in value) or "(none)"
    return str(value)


Filler = Callable[[Mapping[str, Mapping[str, Any]]], str]


def compile_template(template: str) -> Filler:
    """:func:`fill` for one template, parsed once: call it with the bindings."""
    literals: list[str] = []
    slots: list[tuple[str, str, str]] = []  # (alias, fact field, the placeholder's text)
    start = 0
    for match in PLACEHOLDER.finditer(template):
        literals.append(template[start : match.start()])
        slots.append((match.group(1), field_name(match.group(2)), match.group(0)))
        start = match.end()
    tail = template[start:]
    if not slots:
        return lambda bindings: template
    pieces = tuple(zip(literals, slots, strict=True))

    def filled(bindings: Mapping[str, Mapping[str, Any]]) -> str:
        out: list[str] = []
        for literal, (alias, name, text) in pieces:
            out.append(literal)
            fact = bindings.get(alias)
            out.append(text if fact is None or name not in fact else _show(fact[name]))
        out.append(tail)
        return "".join(out)

    return filled


def fill(template: str, bindings: Mapping[str, Mapping[str, Any]]) -> str:
    """Replace each ``{alias.field}`` with the bound fact's value; unknown ones stay visible."""

    def replace(match: re.Match[str]) -> str:
        fact = bindings.get(match.group(1))
        name = field_name(match.group(2))
        if fact is None or name not in fact:
            return match.group(0)
        return _show(fact[name])

    return PLACEHOLDER.sub(replace, template)
