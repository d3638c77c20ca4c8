"""The reports' JSON writer gives json.dumps(indent=2, ensure_ascii=False)'s text exactly."""

from __future__ import annotations

import enum
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpo_rules import check
from kpo_rules.report import json_report
from kpo_rules.report.json_text import pretty_json


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
            | st.text())  # any code point, lone surrogates and controls included
_KEYS = st.text() | st.integers() | st.floats() | st.booleans() | st.none()
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=200)
@given(_VALUES)
def test_any_json_value_is_written_as_json_dumps_writes_it(value: Any) -> None:
    assert pretty_json(value) == _dumps(value)


class _Level(str, enum.Enum):
    HIGH = "high"


class _Count(enum.IntEnum):
    TWO = 2


class _Text(str):
    pass


@pytest.mark.parametrize("value", [
    {"severity": _Level.HIGH, "count": _Count.TWO, _Text("key"): _Text("value")},
    [math.inf, -math.inf, math.nan, -0.0, 1e300, 10**40],
    {3: "int key", 2.5: "float key", True: "bool key", None: "none key"},
    {"empty": {}, "none": [], "nested": [[], {}, [[{}]]]},
    "\u2028 \x00 \ud800 é \U0001f600",
])
def test_subclasses_special_numbers_keys_and_empty_containers(value: Any) -> None:
    assert pretty_json(value) == _dumps(value)


@pytest.mark.parametrize("value", [object(), {"a": {1, 2}}, {(1, 2): "tuple key"}])
def test_what_json_cannot_hold_is_a_type_error(value: Any) -> None:
    with pytest.raises(TypeError):
        _dumps(value)
    with pytest.raises(TypeError):
        pretty_json(value)


def test_the_json_report_of_the_examples_is_the_json_modules_text(tmp_path: Path) -> None:
    examples = Path(__file__).parent.parent / "examples"
    report = check([examples])
    assert report.findings  # the examples have findings: the findings list is written
    assert json_report.render(report) == _dumps(json_report.as_dict(report)) + "\n"
