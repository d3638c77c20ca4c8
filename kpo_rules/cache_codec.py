"""Values of the on-disk caches as JSON: data only, nothing that can run.

JSON keeps str, int, float, bool, None, lists and str-keyed dicts exactly. Everything else
a cached value holds is written as an object tagged with :data:`TAG` and rebuilt by
:func:`loads` from a fixed list of classes the caller names: tuples, frozensets, dicts
with other keys, dates, and the frozen dataclasses and enums of that list, given their
fields. A value of any other type (or a data mapping that uses the tag as a key) cannot
be encoded: it is not cached, rather than coming back as something else.

Fields named in ``later`` are kept as JSON text after the value and read on first use
(:class:`Later`): a check never looks at the rules' examples, which are 41 % of the
plugins' content and 6 % of a one-file check when read with the rest (measured).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

#: The key of a tagged object. YAML data could hold it only as a quoted "\0" key.
TAG = "\x00"


class Codec:
    """Encodes and decodes values made of JSON data and the classes ``types``."""

    def __init__(self, types: Iterable[type],
                 later: Mapping[type, Iterable[str]] | None = None) -> None:
        self._types: dict[str, type] = {t.__name__: t for t in types}
        self._fields = {t: tuple(f.name for f in dataclasses.fields(t))
                        for t in self._types.values() if dataclasses.is_dataclass(t)}
        self._later = {t: frozenset(names) for t, names in (later or {}).items()}

    def dumps(self, value: object) -> bytes:
        """JSON text of ``value``; TypeError when it holds anything not listed.

        The text of each field read later follows on a line of its own (JSON text has
        no line breaks): read in one piece, it is not scanned as part of the value."""
        laters: list[bytes] = []
        try:
            tree = self._encode(value, laters)
        except AttributeError as exc:  # a slotted dataclass with a field never set
            raise TypeError(str(exc)) from exc
        return b"\n".join([json.dumps(tree, separators=(",", ":")).encode(), *laters])

    def loads(self, text: bytes, *, files: Mapping[str, str] | None = None) -> Any:
        """The value :meth:`dumps` wrote; ValueError or TypeError for anything else.

        ``files`` renames the ``file`` field of every object (where a value was made
        from files that now live elsewhere)."""
        main, *laters = text.split(b"\n")

        def hook(obj: dict[str, Any]) -> Any:
            tag = obj.pop(TAG, None)
            if tag is None:  # data: most objects of an entry
                return obj
            if files:
                where = obj.get("file")
                if type(where) is str and where in files:
                    obj["file"] = files[where]
            return self._decode(tag, obj, laters)

        try:
            return json.loads(main, object_hook=hook)
        except (KeyError, IndexError, AttributeError) as exc:  # a tagged object cut short
            raise ValueError(f"not a cached value: {exc!r}") from exc

    def _encode(self, value: Any, laters: list[bytes]) -> Any:
        kind = type(value)
        if value is None or kind in (str, int, float, bool):
            return value
        if kind is list:
            return [self._encode(item, laters) for item in value]
        if kind is dict:
            if TAG not in value and all(type(k) is str for k in value):
                return {k: self._encode(v, laters) for k, v in value.items()}
            return {TAG: "dict", "items": [[self._encode(k, laters), self._encode(v, laters)]
                                           for k, v in value.items()]}
        if kind is tuple or kind is frozenset:
            return {TAG: kind.__name__, "items": [self._encode(item, laters) for item in value]}
        if kind is dt.date:
            return {TAG: "date", "iso": value.isoformat()}
        if self._types.get(kind.__name__) is kind:
            if isinstance(value, enum.Enum):
                return {TAG: kind.__name__, "value": self._encode(value.value, laters)}
            fields = self._fields.get(kind)
            if fields is not None:
                later = self._later.get(kind, frozenset())
                encoded = {name: self._encode_field(getattr(value, name), name in later, laters)
                           for name in fields}
                encoded[TAG] = kind.__name__
                return encoded
        raise TypeError(f"a {kind.__name__} cannot be cached")

    def _encode_field(self, value: Any, later: bool, laters: list[bytes]) -> Any:
        """A field's value; a tuple of a field read later becomes a line of its own."""
        if later and type(value) is Later and value.codec is self:
            text = value.text  # read from an entry and never used: kept as it was
        elif later and (type(value) is tuple or type(value) is Later):
            text = self.dumps(tuple(value))
            if b"\n" in text:  # itself holds fields read later: read it with the rest
                return self._encode(value, laters)
        else:
            return self._encode(value, laters)
        laters.append(text)
        return {TAG: "later", "line": len(laters)}

    def _decode(self, tag: Any, obj: dict[str, Any], laters: list[bytes]) -> Any:
        if tag == "later":
            line = obj["line"]
            if type(line) is not int or not 0 < line <= len(laters):
                raise ValueError("not a cached value: no such later line")
            return Later(laters[line - 1], self)
        builder = _BUILTIN.get(tag)
        if builder is not None:
            return builder(obj)
        kind = self._types.get(tag)
        if kind is None:
            raise ValueError(f"unknown tag {tag!r}")
        if issubclass(kind, enum.Enum):
            return kind(obj["value"])
        return kind(**obj)


class Later(Sequence[Any]):
    """A tuple kept as JSON text until first used, then read once (a field the codec
    was told to read ``later``). Equal to the tuple it holds."""

    __slots__ = ("_items", "codec", "text")

    def __init__(self, text: bytes, codec: Codec) -> None:
        self.text = text
        self.codec = codec
        self._items: tuple[Any, ...] | None = None

    def _value(self) -> tuple[Any, ...]:
        if self._items is None:
            items = self.codec.loads(self.text)
            if type(items) is not tuple:
                raise ValueError("not a cached value: later text is not a tuple")
            self._items = items
        return self._items

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Any, ...]: ...
    def __getitem__(self, index: int | slice) -> Any:
        return self._value()[index]

    def __len__(self) -> int:
        return len(self._value())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._value())

    def __eq__(self, other: object) -> bool:
        if type(other) is Later and other.text == self.text:
            return True
        if isinstance(other, (tuple, Later)):
            return self._value() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value())

    def __repr__(self) -> str:
        return repr(self._value())


_BUILTIN: dict[str, Callable[[dict[str, Any]], Any]] = {
    "tuple": lambda obj: tuple(obj["items"]),
    "frozenset": lambda obj: frozenset(obj["items"]),
    "dict": lambda obj: {k: v for k, v in obj["items"]},
    "date": lambda obj: dt.date.fromisoformat(obj["iso"]),
}
