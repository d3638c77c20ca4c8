"""A plain-Python yes/no check compiled from a JSON Schema, without importing jsonschema.

Most documents are valid, and a valid document needs no error messages: this check
answers "valid" for them at a fraction of jsonschema's cost, and without its import (a
tenth of a second on every cold start). It is conservative: a schema keyword it does not
mirror exactly makes it answer "don't know" (None), and any "no" sends the document to
jsonschema (:mod:`kpo_rules.load.validate`), which stays the judge of every error.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache, lru_cache
from typing import Any

from kpo_rules.schemas import cached_schema

# jsonschema's "date" format: RFC 3339 full-date, then a real calendar date.
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def is_date(text: str) -> bool:
    """The check jsonschema's FormatChecker applies to ``format: date``."""
    if not _DATE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


Check = Callable[[Any], bool]
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples"}
)


def is_number_value(instance: object) -> bool:
    # YAML's .nan is a float but no number a person means; bool is not a number in JSON.
    if isinstance(instance, bool) or not isinstance(instance, (int, float)):
        return False
    return not (isinstance(instance, float) and math.isnan(instance))


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    # ECMA-262 (what editors run) reads a final "$" as end of input; Python's "$" also
    # matches before a trailing newline, so "US\n" would pass. Anchor strictly instead.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


_TYPE_TESTS: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "number": is_number_value,
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
}


def compile_check(schema: Any) -> Check | None:
    """A yes/no check equivalent to ``schema``, or None if it uses keywords not mirrored."""
    if schema is True:
        return _anything
    if not isinstance(schema, dict):
        return None
    tests: list[Check] = []
    props: dict[str, Check] = {}
    required: tuple[str, ...] = ()
    extra: Check | bool = True  # True: anything, False: nothing, else a check
    names: Check | None = None
    for keyword, value in schema.items():
        test: Check | None = None
        if keyword in _ANNOTATIONS:
            continue
        if keyword == "type" and isinstance(value, str):
            test = _TYPE_TESTS.get(value)
        elif keyword == "type" and isinstance(value, list):
            test = _any_type(value)
        elif keyword in ("oneOf", "anyOf"):
            test = _alternatives(value, exactly_one=keyword == "oneOf")
        elif keyword in ("enum", "const"):
            test = _one_of(value if keyword == "enum" else [value])
        elif keyword in _SCALAR_TESTS:
            test = _SCALAR_TESTS[keyword](value)
        elif keyword == "items":
            test = _each(compile_check(value))
        elif keyword == "properties":
            for name, sub in value.items():
                props[name] = compile_check(sub) or _unknown
            test = _anything
        elif keyword == "required":
            required = tuple(value)
            test = _anything
        elif keyword == "additionalProperties":
            extra = value if isinstance(value, bool) else (compile_check(value) or _unknown)
            test = _anything
        elif keyword == "propertyNames":
            names = compile_check(value) or _unknown
            test = _anything
        if test is None or test is _unknown:
            return None
        tests.append(test)
    if _unknown in props.values() or extra is _unknown or names is _unknown:
        return None
    if props or required or extra is not True or names is not None:
        tests.append(_object_check(props, required, extra, names))
    return _all_of([test for test in tests if test is not _anything])


def _all_of(tests: list[Check]) -> Check:
    """A check that every test holds: without a generator, whose set-up per call cost more
    than most of the tests it ran (this runs for nearly every node of every document)."""
    if not tests:
        return _anything
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda x: first(x) and second(x)
    if len(tests) == 3:
        first, second, third = tests
        return lambda x: first(x) and second(x) and third(x)

    def every(x: Any) -> bool:
        for test in tests:  # noqa: SIM110 - all() over a generator is what this avoids
            if not test(x):
                return False
        return True

    return every


def _any_type(names: list[Any]) -> Check | None:
    tests = [_TYPE_TESTS.get(name) for name in names if isinstance(name, str)]
    if len(tests) != len(names) or None in tests:
        return None
    return _any_of([t for t in tests if t is not None])


def _alternatives(schemas: list[Any], *, exactly_one: bool) -> Check | None:
    """``oneOf`` (exactly one branch holds) or ``anyOf`` (at least one does)."""
    branches = [compile_check(s) for s in schemas]
    if not branches or any(b is None for b in branches):
        return None
    checks = [b for b in branches if b is not None]
    if not exactly_one:
        return _any_of(checks)

    def exactly_one_holds(x: Any) -> bool:
        held = 0
        for check in checks:
            if check(x):
                held += 1
        return held == 1

    return exactly_one_holds


def _any_of(tests: list[Check]) -> Check:
    """A check that at least one test holds (no generator: see :func:`_all_of`)."""
    if len(tests) == 1:
        return tests[0]

    def some(x: Any) -> bool:
        for test in tests:  # noqa: SIM110 - any() over a generator is what this avoids
            if test(x):
                return True
        return False

    return some


def _anything(_x: Any) -> bool:
    return True


def _unknown(_x: Any) -> bool:  # marker: a part the quick check does not mirror
    return False


def _one_of(options: Iterable[Any]) -> Check | None:
    # jsonschema's enum tells 1 from true; keep to strings, where == is enough.
    values = list(options)
    if not all(isinstance(o, str) for o in values):
        return None
    allowed = frozenset(values)
    return lambda x: isinstance(x, str) and x in allowed


def _each(item: Check | None) -> Check | None:
    if item is None:
        return None
    return lambda x: not isinstance(x, list) or all(map(item, x))


def _pattern_test(pattern: str) -> Check:
    search = compile_pattern(pattern).search
    return lambda x: not isinstance(x, str) or search(x) is not None


def _format_test(name: str) -> Check | None:
    if name != "date":
        return None
    return lambda x: not isinstance(x, str) or is_date(x)


def _min_length(n: int) -> Check:
    return lambda x: not isinstance(x, str) or len(x) >= n


def _min_items(n: int) -> Check:
    return lambda x: not isinstance(x, list) or len(x) >= n


def _minimum(n: float) -> Check:
    return lambda x: not is_number_value(x) or x >= n


def _maximum(n: float) -> Check:
    return lambda x: not is_number_value(x) or x <= n


def _min_properties(n: int) -> Check:
    return lambda x: not isinstance(x, dict) or len(x) >= n


def _max_properties(n: int) -> Check:
    return lambda x: not isinstance(x, dict) or len(x) <= n


_SCALAR_TESTS: dict[str, Callable[[Any], Check | None]] = {
    "minProperties": _min_properties,
    "maxProperties": _max_properties,
    "pattern": _pattern_test,
    "format": _format_test,
    "minLength": _min_length,
    "minItems": _min_items,
    "minimum": _minimum,
    "maximum": _maximum,
}


def _object_check(
    props: dict[str, Check],
    required: tuple[str, ...],
    extra: Check | bool,
    names: Check | None,
) -> Check:
    get = props.get
    if extra is False and names is None:  # a closed object, as most of ours are

        def closed(x: Any) -> bool:
            if not isinstance(x, dict):
                return True  # object keywords ignore other types; "type" judges them
            for name in required:
                if name not in x:
                    return False
            for key, value in x.items():
                sub = get(key)
                if sub is None or not sub(value):
                    return False
            return True

        return closed

    def check(x: Any) -> bool:
        if not isinstance(x, dict):
            return True
        for name in required:
            if name not in x:
                return False
        for key, value in x.items():
            if names is not None and not names(key):
                return False
            sub = get(key)
            if sub is None:
                if extra is False or (extra is not True and not extra(value)):
                    return False
            elif not sub(value):
                return False
        return True

    return check


class _CannotInline(Exception):
    """The schema has a recursive or non-local ``$ref``, or a sibling that repeats a keyword."""


def _inline(node: Any, defs: Mapping[str, Any], active: tuple[str, ...] = ()) -> Any:
    """``node`` with every ``#/$defs/...`` reference replaced by its definition.

    A ``$ref`` with siblings means both apply; merging the siblings in is the same as long
    as they only add keywords (annotations such as ``description`` may override).
    """
    if isinstance(node, list):
        return [_inline(value, defs, active) for value in node]
    if not isinstance(node, dict):
        return node
    out = {k: _inline(v, defs, active) for k, v in node.items() if k not in ("$ref", "$defs")}
    ref = node.get("$ref")
    if ref is None:
        return out
    name = ref.removeprefix("#/$defs/") if isinstance(ref, str) else ""
    if not name or name == ref or name in active or name not in defs:
        raise _CannotInline(ref)
    target = _inline(defs[name], defs, (*active, name))
    if not isinstance(target, dict) or (set(target) & set(out)) - _ANNOTATIONS:
        raise _CannotInline(ref)
    merged: dict[str, Any] = target | out
    return merged


@cache
def inlined(name: str) -> Any:
    """Schema ``name`` with its ``$defs`` references inlined (or as written if it cannot be)."""
    schema = cached_schema(name)
    try:
        return _inline(schema, schema.get("$defs", {}))
    except _CannotInline:
        return schema


@cache
def document_check(name: str) -> Callable[[Any], bool] | None:
    """The quick check of a whole document against schema ``name``; None if not mirrored."""
    return compile_check(inlined(name))
