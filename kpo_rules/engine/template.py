"""Message templates filled safely: ``{staff.name}`` reads one field of a bound fact.

A third party's rule file must not run code or read anything but the facts of
its own match, so this is a plain substitution, not ``str.format`` (which
allows attribute and index access on the values it is given). The syntax is
``str.format``'s as far as it goes: ``{{`` and ``}}`` are literal braces, and any
other brace is an error when the rule file is loaded (:func:`parse_template`),
so a typo never prints as written.

What a filled placeholder shows (docs/rule-files.md, "Messages"): lists comma-separated,
booleans as yes/no, and an absent field, null or an empty list as ``(none)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kpo_rules.engine.durable_compile import field_name

#: What an absent field, null or an empty list prints as.
ABSENT = "(none)"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# A literal brace written twice, a placeholder, or a brace that is neither (an error).
_TOKEN = re.compile(rf"\{{\{{|\}}\}}|\{{({_NAME})\.({_NAME})\}}|[{{}}]")
_SHOWN = 30  # characters of the template quoted in an error


class TemplateError(ValueError):
    """A message template that does not parse; ``offset`` is where, in the text."""

    def __init__(self, offset: int, why: str) -> None:
        super().__init__(why)
        self.offset, self.why = offset, why


#: A parsed template: literal text and ``(alias, field)`` placeholders, in order.
Part = str | tuple[str, str]


def parse_template(template: str) -> tuple[Part, ...]:
    """The parts of ``template``; raises :class:`TemplateError` saying what is wrong."""
    parts: list[Part] = []
    text: list[str] = []
    start = 0
    for match in _TOKEN.finditer(template):
        text.append(template[start:match.start()])
        start = match.end()
        token = match.group(0)
        if match.group(1):
            parts += ["".join(text), (match.group(1), match.group(2))]
            text = []
        elif token in ("{{", "}}"):
            text.append(token[0])
        else:
            raise TemplateError(match.start(), _brace_error(template, match.start()))
    parts.append("".join(text) + template[start:])
    return tuple(p for p in parts if p != "")


def _brace_error(template: str, at: int) -> str:
    shown = template[at:at + _SHOWN].replace("\n", " ")
    shown = shown + "..." if len(template) - at > _SHOWN else shown
    if template[at] == "}":
        return f"a single '}}' at \"{shown}\": write '}}}}' for a literal brace"
    close = template.find("}", at)
    reopen = template.find("{", at + 1)
    if close < 0 or 0 <= reopen < close:
        return (f"unclosed '{{' at \"{shown}\": close the placeholder ({{alias.field}}) or "
                "write '{{' for a literal brace")
    inside = template[at + 1:close]
    return (f"'{{{inside}}}' is not a placeholder: write {{alias.field}} with no spaces "
            "(e.g. {staff.name}), or '{{' and '}}' for literal braces")


def placeholders(template: str) -> list[tuple[str, str]]:
    """The ``(alias, field)`` pairs a template reads; raises :class:`TemplateError`."""
    return [part for part in parse_template(template) if isinstance(part, tuple)]


def show(value: Any) -> str:
    """A fact field's value as a message prints it."""
    if value is None:
        return ABSENT
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value) or ABSENT
    return str(value)


Filler = Callable[[Mapping[str, Mapping[str, Any]]], str]
_EMPTY: Mapping[str, Any] = {}


def compile_template(template: str) -> Filler:
    """:func:`fill` for one template, parsed once: call it with the bindings."""
    parts: Sequence[str | tuple[str, str]] = [
        part if isinstance(part, str) else (part[0], field_name(part[1]))
        for part in parse_template(template)]
    if all(isinstance(part, str) for part in parts):
        literal = "".join(p for p in parts if isinstance(p, str))
        return lambda bindings: literal

    def filled(bindings: Mapping[str, Mapping[str, Any]]) -> str:
        return "".join(
            part if isinstance(part, str)
            else show(bindings.get(part[0], _EMPTY).get(part[1]))
            for part in parts)

    return filled


def fill(template: str, bindings: Mapping[str, Mapping[str, Any]]) -> str:
    """Replace each ``{alias.field}`` with the bound fact's value (absent: ``(none)``)."""
    return compile_template(template)(bindings)
