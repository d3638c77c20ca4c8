"""Building HTML safely: text is escaped unless it is already :class:`Html`.

A value from a checked file (a staff member's name, a message quoting a key) can hold
``<script>``; escaping by default means no call site can forget.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from functools import cache

#: Void elements take no children and no end tag.
_VOID = frozenset({"meta", "link", "br", "hr", "input", "img", "col"})

class Html(str):
    """Markup that is safe as it stands."""

    __slots__ = ()


def esc(value: object) -> Html:
    """``value`` as text, escaped (quotes too, so it is safe in an attribute)."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=True))


def join(children: object) -> Html:
    """Children concatenated: strings escaped, :class:`Html` kept, iterables flattened,
    None and False left out."""
    if isinstance(children, str):
        return esc(children)
    if children is None or children is False:
        return Html("")
    if isinstance(children, (int, float)):
        return Html(str(children))
    if isinstance(children, Iterable):
        return Html("".join([join(child) for child in children]))
    return esc(children)


@cache
def _attribute(name: str) -> str:
    return name.rstrip("_").replace("_", "-")


def attrs(**values: object) -> Html:
    """`` class="x" data-rule="y"``: ``class_`` is ``class``, ``_`` in names is ``-``;
    True gives a bare attribute, None and False none."""
    out = []
    for name, value in values.items():
        if value is None or value is False:
            continue
        if value is True:
            out.append(f" {_attribute(name)}")
        elif isinstance(value, (int, float)):  # numbers need no escaping (most of a chart)
            out.append(f' {_attribute(name)}="{value}"')
        else:
            out.append(f' {_attribute(name)}="{esc(value)}"')
    return Html("".join(out))


def tag(element: str, /, *children: object, **values: object) -> Html:
    """``<element attrs>children</element>``."""
    if element in _VOID:
        return Html(f"<{element}{attrs(**values)}>")
    return Html(f"<{element}{attrs(**values)}>{join(children)}</{element}>")


def with_code(text: str) -> Html:
    """``text`` with its `backticked` spans as ``<code>`` (the rule texts quote field names
    that way), everything escaped."""
    pieces = text.split("`")
    if len(pieces) % 2 == 0:  # an unmatched backtick: show the text as it is
        return esc(text)
    return join(tag("code", piece) if i % 2 else piece for i, piece in enumerate(pieces))
