"""Cache values as JSON: what goes in comes back equal and of the same types, or is not
cached at all; only the classes a cache names can come back."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

import pytest

from kpo_rules.cache_codec import TAG, Codec


class Colour(str, enum.Enum):
    RED = "red"


@dataclass(frozen=True, slots=True, kw_only=True)
class Point:
    x: object
    y: object = None


CODEC = Codec([Point, Colour])


def same(a: object, b: object) -> bool:
    """Equal, and of the same type all the way down (``"red" == Colour.RED`` is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        pairs = zip(a.items(), b.items(), strict=True)  # type: ignore[attr-defined]
        return len(a) == len(b) and all(same(k, j) and same(v, w)  # type: ignore[arg-type]
                                        for (k, v), (j, w) in pairs)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(same, a, b))  # type: ignore[arg-type]
    if isinstance(a, Point):
        return same(a.x, b.x) and same(a.y, b.y)  # type: ignore[attr-defined]
    return bool(a == b)


@pytest.mark.parametrize("value", [
    {"a": [1, 2.5, True, None, "x"], "b": {"c": -0.0}},
    (1, (2, 3), [4, (5,)]),
    {1: "one", False: "no", None: "none", 1.5: "f", ("t", 1): "tuple key"},
    {TAG: "tuple", "items": [1]},  # data that looks like a tag stays data
    frozenset({"a", "b"}),
    dt.date(2024, 2, 29),
    Point(x=Colour.RED, y=(Point(x={"k": (1,)}),)),
    [float("inf"), 10**40, "\x00\n\u2028\ud800"],
])
def test_values_come_back_equal_and_of_the_same_types(value):
    back = CODEC.loads(CODEC.dumps(value))
    assert same(back, value) or (isinstance(value, frozenset) and back == value)


@pytest.mark.parametrize("value", [
    dt.datetime(2024, 1, 1), b"bytes", {1, 2}, object(), range(3),
    type("Sub", (str,), {})("a str subclass"), Point.__new__(Point),
])
def test_anything_else_cannot_be_written(value):
    with pytest.raises(TypeError):
        CODEC.dumps({"inside": [value]})


@pytest.mark.parametrize("text", [
    b'{"\\u0000": "Popen", "args": "true"}',
    b'{"\\u0000": "Point", "z": 1}',
    b'{"\\u0000": "Colour", "value": "green"}',
    b'{"\\u0000": "date", "iso": "yesterday"}',
    b'{"\\u0000": "tuple"}',
    b'{"\\u0000": "dict", "items": [[1]]}',
    b'{"\\u0000": "frozenset", "items": [[1]]}',
])
def test_a_value_naming_other_classes_or_fields_is_refused(text):
    with pytest.raises((TypeError, ValueError)):
        CODEC.loads(text)


@dataclass(frozen=True, kw_only=True)
class Box:
    label: str
    items: object = ()


LATER = Codec([Box, Point, Colour], later={Box: ("items",)})


def test_a_field_read_later_comes_back_equal_when_first_used():
    inner = (Point(x=1), Point(x=Colour.RED, y=(dt.date(2026, 1, 2),)))
    back = LATER.loads(LATER.dumps(Box(label="outer", items=inner)))
    later = back.items
    assert type(later).__name__ == "Later" and later._items is None  # not read yet
    assert later == inner and inner == later and hash(later) == hash(inner)
    assert same(tuple(later), inner) and len(later) == 2 and later[1].x is Colour.RED
    assert later != (Point(x=1),) and later != list(inner)
    assert back == Box(label="outer", items=inner)
    # Written again unread, it keeps its text; read, it is written from its items.
    unread = LATER.loads(LATER.dumps(Box(label="x", items=inner))).items
    assert LATER.loads(LATER.dumps(Box(label="y", items=unread))).items == inner
    assert LATER.loads(LATER.dumps(Box(label="z", items=later))).items == inner
    # Only tuples are read later; anything else comes back as it went.
    assert same(LATER.loads(LATER.dumps(Box(label="n", items=None))).items, None)


def test_a_field_read_later_must_be_a_line_holding_a_tuple():
    good = LATER.dumps(Box(label="a", items=(1, 2)))
    value, later = good.split(b"\n")
    assert b"[1,2]" in later and b"[1,2]" not in value  # not scanned with the value
    for broken in (value, good.replace(b'"line":1', b'"line":2'),
                   good.replace(b'"line":1', b'"line":"1"')):
        with pytest.raises(ValueError):
            LATER.loads(broken)
    for line in (b'[1,2]', b'{"\\u0000":"tuple","items":[1', b"7"):
        unread = LATER.loads(value + b"\n" + line).items
        with pytest.raises(ValueError):
            tuple(unread)
