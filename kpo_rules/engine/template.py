"""Message templates filled safely: ``{staff.name}`` reads one field of a bound fact.

A third party's rule file must not run code or read anything but the facts of
its own match, so this is a plain substitution, not ``str.format`` (which
allows attribute and index access on the values it is given).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
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


def fill(template: str, bindings: Mapping[str, Mapping[str, Any]]) -> str:
    """Replace each ``{alias.field}`` with the bound fact's value; unknown ones stay visible."""

    def replace(match: re.Match[str]) -> str:
        fact = bindings.get(match.group(1))
        name = field_name(match.group(2))
        if fact is None or name not in fact:
            return match.group(0)
        return _show(fact[name])

    return PLACEHOLDER.sub(replace, template)
