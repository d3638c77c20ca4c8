"""The names the runner reserves for itself, and the marker fields of fact types.

Reserved names: fact fields ``sid`` (the session) and every field starting with ``kpo$``
(``kpo$g`` is read by the padding, ``kpo$t$<type>`` marks the type); ``t`` values
``$end`` and ``$never`` (the runner's own facts); ids and rule names starting
with ``$``; the alias ``end$``.
"""

from __future__ import annotations

from typing import Any, Final

_TYPE_FIELD: Final = "t"
_END_TYPE: Final = "$end"
_END_ALIAS: Final = "end$"
_NEVER_TYPE: Final = "$never"
_RESERVED_TYPES: Final = frozenset({_END_TYPE, _NEVER_TYPE})
_RESERVED_ALIASES: Final = frozenset({_END_ALIAS})


#: Fields starting with this are the runner's own (the guard and the type markers).
_RESERVED_PREFIX: Final = "kpo$"
#: Hidden field of every asserted fact, compared by the always-true padding condition.
_GUARD_FIELD: Final = "kpo$g"


#: Prefix of the hidden field that marks a fact's type (``kpo$t$service: 1``).
_MARK: Final = "kpo$t$"


def _marker(fact_type: Any) -> str | None:
    """The marker field of a fact type, if it can have one (a dotted name would be read
    as a path into a nested object)."""
    found = _MARKERS.get(fact_type) if type(fact_type) is str else None
    if found is not None:
        return found
    if isinstance(fact_type, str) and fact_type and "." not in fact_type:
        found = _MARK + str(fact_type)
        if len(_MARKERS) < _MAX_MARKERS:
            _MARKERS[str(fact_type)] = found
        return found
    return None


_MARKERS: dict[str, str] = {}
_MAX_MARKERS: Final = 4096  # the cache of markers stays this small
