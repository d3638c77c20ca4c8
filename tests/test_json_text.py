"""The fast indented JSON writer gives exactly the text of ``json.dumps(indent=2)``."""

from __future__ import annotations

import json
import random

import pytest

from kpo_rules.report.json_text import dumps_indented

KEY_ENDS = ["é", '"', "x", "\n"]


def _value(rnd: random.Random, depth: int = 0):
    kinds = ["str", "int", "float", "bool", "none"] + (["dict", "list"] * 2 if depth < 4 else [])
    kind = rnd.choice(kinds)
    if kind == "str":
        return "".join(rnd.choice(['a', 'é', '"', '\\', '\n', '\t', '\x01', '€', '😀', ' ', '/'])
                       for _ in range(rnd.randrange(6)))
    if kind == "int":
        return rnd.choice([0, -1, 7, 2**70, -(2**40)])
    if kind == "float":
        return rnd.choice([0.0, -0.0, 1.5, 1e300, -2.5e-12, 0.1])
    if kind == "bool":
        return rnd.choice([True, False])
    if kind == "none":
        return None
    if kind == "dict":
        return {f"k{i}" + rnd.choice(KEY_ENDS): _value(rnd, depth + 1)
                for i in range(rnd.randrange(4))}
    return [_value(rnd, depth + 1) for _ in range(rnd.randrange(4))]


def test_same_text_as_the_standard_library_for_random_values():
    rnd = random.Random(11)
    for _ in range(2000):
        value = _value(rnd)
        assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_tuples_are_lists_and_what_json_refuses_is_refused():
    assert dumps_indented({"a": (1, "x")}) == json.dumps({"a": [1, "x"]}, indent=2)
    for bad in ({1: "x"}, {"a": {1, 2}}, float("nan"), float("inf")):
        with pytest.raises((TypeError, ValueError)):
            dumps_indented(bad)
