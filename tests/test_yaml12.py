"""The YAML 1.2 loader: core-schema scalars, exact positions, and hostile input.

Positions are asserted as literal numbers: they end up as ``file:line:col`` in CI annotations,
so an off-by-one is a user-visible bug. Most tests run against libyaml and against the pure
Python parser that is used when libyaml is missing.
"""

from __future__ import annotations

import gc
import math
import re
import sys
import time
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpo_rules.errors import YamlSyntaxError
from kpo_rules.load import yaml12
from kpo_rules.load.yaml12 import MAX_DEPTH, MAX_FILE_BYTES, parse_yaml
from kpo_rules.load.yaml_scalars import MAX_INT_DIGITS
from kpo_rules.model import Document


@pytest.fixture(params=["libyaml", "python"], autouse=True)
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run each test with both event sources; they must agree to the column."""
    if request.param == "libyaml" and not yaml.__with_libyaml__:
        pytest.skip("PyYAML was built without libyaml")
    monkeypatch.setattr(yaml12, "_LIBYAML", request.param == "libyaml")
    return str(request.param)


def load(content: str | bytes) -> Document:
    documents = parse_yaml(content, "t.yaml")
    assert len(documents) == 1
    return documents[0]


def error(content: str | bytes) -> YamlSyntaxError:
    with pytest.raises(YamlSyntaxError) as info:
        parse_yaml(content, "t.yaml")
    return info.value


def where(exc: YamlSyntaxError) -> tuple[int, int]:
    return exc.line, exc.column


# --------------------------------------------------------------------------- scalars

SCALARS = [
    ("NO", "NO"),
    ("no", "no"),
    ("yes", "yes"),
    ("Yes", "Yes"),
    ("on", "on"),
    ("off", "off"),
    ("y", "y"),
    ("18:30", "18:30"),
    ("12:30:45", "12:30:45"),
    ("2026-01-01", "2026-01-01"),
    ("2026-01-01T10:00:00Z", "2026-01-01T10:00:00Z"),
    ("0x1F", 31),
    ("0o17", 15),
    ("0777", 777),
    ("+12", 12),
    ("-0", 0),
    ("1_000", "1_000"),
    ("0b101", "0b101"),
    ("0x", "0x"),
    ("0o8", "0o8"),
    ("1e3", 1000.0),
    ("1.5", 1.5),
    ("1.", 1.0),
    (".5", 0.5),
    ("-.5", -0.5),
    ("+1.5E-2", 0.015),
    ("1.2.3", "1.2.3"),
    (".", "."),
    ("-x", "-x"),
    (".inf", math.inf),
    ("+.Inf", math.inf),
    ("-.INF", -math.inf),
    (".infinity", ".infinity"),
    ("~", None),
    ("null", None),
    ("Null", None),
    ("NULL", None),
    ("nULL", "nULL"),
    ("", None),
    ("true", True),
    ("True", True),
    ("TRUE", True),
    ("false", False),
    ("tRUE", "tRUE"),
    ('"true"', "true"),
    ("'false'", "false"),
    ("'12'", "12"),
    ('"~"', "~"),
    ("''", ""),
    ("'2026-01-01'", "2026-01-01"),
    ("!!str 12", "12"),
    ("!!str yes", "yes"),
    ("! 12", "12"),
    ("!!int '12'", 12),
    ("!!int 0x10", 16),
    ("!!float 1", 1.0),
    ("!!float '.inf'", math.inf),
    ("!!bool 'true'", True),
    ("!!null ''", None),
    ("!!null ~", None),
    ("tax preparation", "tax preparation"),
]


@pytest.mark.parametrize(("source", "expected"), SCALARS)
def test_core_schema_scalars(source: str, expected: Any) -> None:
    data = load(f"value: {source}\n").data["value"]
    assert data == expected
    assert type(data) is type(expected)  # 1 is not 1.0 is not True


@pytest.mark.parametrize("source", [".nan", ".NaN", ".NAN", "!!float .nan"])
def test_nan(source: str) -> None:
    assert math.isnan(load(f"value: {source}\n").data["value"])


def test_block_scalars_are_strings() -> None:
    doc = load("a: |\n  18:30\n  yes\nb: >-\n  NO\n  more\n")
    assert doc.data == {"a": "18:30\nyes\n", "b": "NO more"}


def test_root_scalar() -> None:
    assert load("NO\n").data == "NO"
    assert load("--- 0x10\n").data == 16


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1: a", "1"),
        ("yes: a", "yes"),
        ("~: a", "~"),
        ("null: a", "null"),
        ("1.5: a", "1.5"),
        ("'quoted': a", "quoted"),
        ("!!int 7: a", "7"),
        ("'<<': a", "<<"),  # quoted: a key; plain, a YAML 1.1 merge (refused)
        ("? explicit\n: a", "explicit"),
    ],
)
def test_keys_are_strings_as_written(source: str, expected: str) -> None:
    assert load(source + "\n").data == {expected: "a"}


def test_integer_too_long_for_int() -> None:
    exc = error("a: " + "1" * 5000 + "\n")
    assert "too long" in exc.message
    assert where(exc) == (1, 4)


@pytest.mark.parametrize(
    ("top", "base", "prefix"),
    [("9", 10, ""), ("9", 10, "-"), ("9", 10, "+"), ("7", 8, "0o"), ("f", 16, "0x")],
)
def test_integers_of_every_base_are_capped_alike(top: str, base: int, prefix: str) -> None:
    """Python converts hex and octal of any length (its digit limit is for decimal only),
    and a number too long to print breaks every message that shows it."""
    at_limit = prefix + top * MAX_INT_DIGITS
    value = load(f"a: {at_limit}\n").data["a"]
    assert value == int(at_limit.replace("0o", "").replace("0x", ""), base)
    str(value)  # printable under the lowest digit limit Python can be set to (640)
    exc = error(f"a: {prefix}{'1' * (MAX_INT_DIGITS + 1)}\n")
    assert exc.message == (
        f"integer with {MAX_INT_DIGITS + 1} digits is too long (the limit is {MAX_INT_DIGITS}); "
        "put it in quotes if it is text"
    )
    assert where(exc) == (1, 4)
    assert load(f"a: '{prefix}{'1' * 5000}'\n").data["a"].endswith("1")  # quoted: text


def test_tagged_integer_is_capped_too() -> None:
    assert "too long" in error("a: !!int 0x" + "f" * 3600 + "\n").message


@given(st.integers(min_value=-(10**MAX_INT_DIGITS) + 1, max_value=10**MAX_INT_DIGITS - 1),
       st.sampled_from(["d", "o", "x"]))
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_integers_round_trip_in_every_base(value: int, base: str) -> None:
    text = {"d": str(value), "o": f"0o{value:o}", "x": f"0x{value:x}"}[base]
    if text.startswith("0") and "-" in text:  # YAML 1.2 has no signed octal or hex
        text = str(value)
    digits = len(text.lstrip("+-").removeprefix("0o").removeprefix("0x"))
    if digits > MAX_INT_DIGITS:
        assert "too long" in error(f"a: {text}\n").message
    else:
        assert load(f"a: {text}\n").data == {"a": value}


# --------------------------------------------------------------------------- positions

BLOCK = """\
apiVersion: kpo-rules/v1
kind: Engagement
metadata:
  id: acme
  labels: {team: tax, "a/b": x, "c~d": y}
services:
  - id: returns
    assignees: [s-001, s-002]
  -   id: second
note: |
  free text
"""


def test_positions_in_block_and_flow_style() -> None:
    source = load(BLOCK).source
    assert source.values == {
        "": (1, 1),
        "/apiVersion": (1, 13),
        "/kind": (2, 7),
        "/metadata": (4, 3),
        "/metadata/id": (4, 7),
        "/metadata/labels": (5, 11),
        "/metadata/labels/team": (5, 18),
        "/metadata/labels/a~1b": (5, 30),
        "/metadata/labels/c~0d": (5, 40),
        "/services": (7, 3),
        "/services/0": (7, 5),
        "/services/0/id": (7, 9),
        "/services/0/assignees": (8, 16),
        "/services/0/assignees/0": (8, 17),
        "/services/0/assignees/1": (8, 24),
        "/services/1": (9, 7),
        "/services/1/id": (9, 11),
        "/note": (10, 7),
    }
    assert source.keys == {
        "/apiVersion": (1, 1),
        "/kind": (2, 1),
        "/metadata": (3, 1),
        "/metadata/id": (4, 3),
        "/metadata/labels": (5, 3),
        "/metadata/labels/team": (5, 12),
        "/metadata/labels/a~1b": (5, 23),
        "/metadata/labels/c~0d": (5, 33),
        "/services": (6, 1),
        "/services/0/id": (7, 5),
        "/services/0/assignees": (8, 5),
        "/services/1/id": (9, 7),
        "/note": (10, 1),
    }


def test_pointer_escaping_of_slash_and_tilde() -> None:
    doc = load('"a/b": {"~x": {"/": 1, "~1": 2}}\n')
    assert doc.data == {"a/b": {"~x": {"/": 1, "~1": 2}}}
    assert doc.source.values["/a~1b/~0x/~1"] == (1, 21)
    assert doc.source.values["/a~1b/~0x/~01"] == (1, 30)
    assert doc.source.keys["/a~1b/~0x/~01"] == (1, 24)
    assert doc.source.keys["/a~1b"] == (1, 1)


def test_positions_in_one_line_flow_document() -> None:
    doc = load('{a: [1, {b: c}], "d": null, e: []}')
    assert doc.data == {"a": [1, {"b": "c"}], "d": None, "e": []}
    assert doc.source.values == {
        "": (1, 1),
        "/a": (1, 5),
        "/a/0": (1, 6),
        "/a/1": (1, 9),
        "/a/1/b": (1, 13),
        "/d": (1, 23),
        "/e": (1, 32),
    }
    assert doc.source.keys == {"/a": (1, 2), "/a/1/b": (1, 10), "/d": (1, 18), "/e": (1, 29)}


def test_columns_count_characters_and_crlf_ends_a_line() -> None:
    doc = load("name: 😀é😀\r\nlist: [😀, x]\r\n".encode())
    assert doc.source.values["/list/1"] == (2, 11)
    assert doc.source.keys["/list"] == (2, 1)


def test_multi_line_flow_and_nested_sequences() -> None:
    doc = load("a:\n- - x\n  - y\n- [\n    z,\n  ]\n")
    assert doc.data == {"a": [["x", "y"], ["z"]]}
    assert doc.source.values["/a/0/1"] == (3, 5)
    assert doc.source.values["/a/1"] == (4, 3)
    assert doc.source.values["/a/1/0"] == (5, 5)


# --------------------------------------------------------------------------- documents


def test_several_documents() -> None:
    documents = parse_yaml("a: 1\n---\nb: 2\n---\n", "multi.yaml")
    assert [d.data for d in documents] == [{"a": 1}, {"b": 2}, None]
    assert [d.index for d in documents] == [0, 1, 2]
    assert {d.file for d in documents} == {"multi.yaml"}
    assert documents[1].source.values == {"": (3, 1), "/b": (3, 4)}


@pytest.mark.parametrize("content", ["", b"", "# only\n\n  # comments\n", b"\xef\xbb\xbf", "\n\n"])
def test_empty_file_has_no_documents(content: str | bytes) -> None:
    assert parse_yaml(content, "t.yaml") == []


def test_empty_document_is_none() -> None:
    assert load("---\n").data is None
    assert [d.data for d in parse_yaml("---\n---\n", "t.yaml")] == [None, None]


def test_anchors_do_not_cross_documents() -> None:
    exc = error("a: &x 1\n---\nb: *x\n")
    assert "*x" in exc.message
    assert where(exc) == (3, 4)


# --------------------------------------------------------------------------- duplicate keys


def test_duplicate_key_names_first_line_and_points_at_second() -> None:
    exc = error("metadata:\n  id: a\n  title: t\n  id: b\n")
    assert exc.message == "duplicate key 'id' (first defined on line 2)"
    assert where(exc) == (4, 3)


def test_duplicate_key_in_flow_mapping() -> None:
    exc = error("x: {a: 1, b: 2, a: 3}\n")
    assert exc.message == "duplicate key 'a' (first defined on line 1)"
    assert where(exc) == (1, 17)


def test_keys_that_differ_only_in_quoting_are_duplicates() -> None:
    exc = error("1: a\n'1': b\n")
    assert exc.message == "duplicate key '1' (first defined on line 1)"
    assert where(exc) == (2, 1)


def test_same_key_in_different_mappings_is_fine() -> None:
    assert load("- id: a\n- id: b\n").data == [{"id": "a"}, {"id": "b"}]


# --------------------------------------------------------------------------- encoding


def test_utf8_bom_is_accepted_and_not_counted() -> None:
    for content in (b"\xef\xbb\xbfa: 1\n", "\ufeffa: 1\n"):
        doc = load(content)
        assert doc.data == {"a": 1}
        assert doc.source.values["/a"] == (1, 4)


def test_latin1_bytes() -> None:
    exc = error("a: 1\nname: Ren\xe9\n".encode("latin-1"))
    assert exc.message == (
        "not UTF-8: invalid byte 0xE9 at line 2, column 10; save the file as UTF-8"
    )
    assert where(exc) == (2, 10)


def test_utf16_file() -> None:
    exc = error("a: 1\n".encode("utf-16"))
    assert exc.message.startswith("not UTF-8")
    assert "UTF-16" in exc.message


def test_binary_file_with_invalid_utf8() -> None:
    exc = error(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert exc.message.startswith("not UTF-8: invalid byte 0x89 at line 1, column 1")
    assert "binary" in exc.message


def test_binary_file_with_nul_bytes() -> None:
    exc = error(b"a: 1\n\x00\x00\x00\x01")
    assert exc.message == (
        "the file looks binary: it contains control character U+0000 at line 2, column 1"
    )
    assert where(exc) == (2, 1)


def test_refused_characters_are_exactly_what_yaml_1_2_does_not_print() -> None:
    """The loader's class of characters to stop at: outside YAML 1.2's c-printable, or one
    of the three that libyaml takes for line breaks."""
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    printable = "\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff"
    # every character not in the class, and the three line breaks (one regex pass instead of
    # one match per character: ~0.05 s instead of ~0.5 s)
    refused = re.compile(f"[^{printable}]|[\x85\u2028\u2029]")
    expected = {m.start() for m in refused.finditer(every)}
    assert {m.start() for m in yaml12._QUESTIONABLE.finditer(every)} == expected


def test_other_control_character() -> None:
    exc = error("a: 1\r\nb: x\x07y\n")
    assert "U+0007" in exc.message
    assert where(exc) == (2, 5)


# --------------------------------------------------------------------------- syntax errors


def test_tab_indentation() -> None:
    exc = error("a:\n\tb: 1\n")
    assert exc.message == "tab character: YAML indents with spaces, never tabs"
    assert where(exc) == (2, 1)


BLANK_TAB = "a blank line holds a tab character; delete it"


@pytest.mark.parametrize(
    ("source", "message", "position"),
    [
        ("a: 1\n\t\nb: 2\n", BLANK_TAB, (2, 1)),
        ("a:\n  - 1\n \t\n  - 2\n", BLANK_TAB, (3, 2)),
        ("a:\n  b: 1\n  \t\n  c: 2\n", BLANK_TAB, (3, 3)),
        ("a: |\n  x\n\t\n  y\n", BLANK_TAB, (3, 1)),
        ("- \tx\n", "tab character after '-'", (1, 3)),
        ("-\tx\n", "tab character after '-'", (1, 2)),
        ("a:\n  -\tb\n", "tab character after '-'", (2, 4)),
        ("- -\tx\n", "tab character after '-'", (1, 4)),
        ("? a\n:\tb\n", "tab character after ':'", (2, 2)),
        ("a: b\n\t# c\n", "tab character before a comment", (2, 1)),
        ("- a: 1\n  \tb: 2\n", "tab character: YAML indents with spaces", (2, 3)),
    ],
)
def test_tabs_that_are_not_indentation_are_named_for_what_they_are(
    source: str, message: str, position: tuple[int, int]
) -> None:
    exc = error(source)
    assert exc.message.startswith(message)
    assert where(exc) == position


def test_tabs_libyaml_accepts_stay_accepted(parser: str) -> None:
    source = "a:\t[1]\nb: x\t# c\nc: [1,\t2]\n"
    if parser == "python":  # PyYAML's own scanner refuses more tabs; it says which
        assert error(source).message.startswith("tab character after ':'")
    else:
        assert load(source).data == {"a": [1], "b": "x", "c": [1, 2]}


# --------------------------------------------------------------------------- YAML 1.1 habits


@pytest.mark.parametrize(
    ("source", "position"),
    [
        ("base: &b {a: 1}\nc:\n  <<: *b\n  d: 2\n", (3, 3)),
        ("base: &b {a: 1}\nc: {<<: *b}\n", (2, 5)),
        ("<<: [1]\n", (1, 1)),
    ],
)
def test_merge_key_is_refused_with_its_own_message(source: str, position: tuple[int, int]) -> None:
    exc = error(source)
    assert exc.message.startswith(
        "merge key '<<': merge keys are YAML 1.1, and kpo-rules reads YAML 1.2; write the "
        "fields out"
    )
    assert where(exc) == position


def test_quoted_merge_key_and_merge_text_as_a_value_are_plain_strings() -> None:
    assert load('"<<": 1\na: <<\n').data == {"<<": 1, "a": "<<"}


@pytest.mark.parametrize(
    ("source", "name", "position", "where_"),
    [
        ("a: x\u2028y\n", "U+2028 (LINE SEPARATOR)", (1, 5), "outside quotes"),
        ("a: 1\nb: x\u2029\n", "U+2029 (PARAGRAPH SEPARATOR)", (2, 5), "outside quotes"),
        ("# note\u2028b: 1\na: 2\n", "U+2028 (LINE SEPARATOR)", (1, 7), "outside quotes"),
        ("a: |\n  x\u2028y\n", "U+2028 (LINE SEPARATOR)", (2, 4), "outside quotes"),
        ("a: x\x85y\n", "U+0085 (NEXT LINE)", (1, 5), "outside quotes"),
        ("a: 'x\x85y'\n", "U+0085 (NEXT LINE)", (1, 6), "inside quotes"),
        ('a: "x\u2028y"\nb: c\u2028\n', "U+2028 (LINE SEPARATOR)", (2, 5), "outside quotes"),
    ],
)
def test_yaml_1_1_line_breaks_are_named(
    source: str, name: str, position: tuple[int, int], where_: str
) -> None:
    exc = error(source)
    line, column = position
    assert exc.message.startswith(f"character {name} at line {line}, column {column}, {where_}")
    assert where(exc) == position


def test_line_and_paragraph_separators_inside_quotes_are_text() -> None:
    source = "a: 'x\u2028y'\nb: \"z\u2029\"\nc: 'multi\n  line\u2028'\n"
    assert load(source).data == {"a": "x\u2028y", "b": "z\u2029", "c": "multi line\u2028"}


def test_a_separator_after_an_unrelated_error_leaves_that_error_first() -> None:
    exc = error("a: [1\nb: x\u2028\n")
    assert exc.message.startswith("unclosed '['")


yaml_like = st.text(st.sampled_from(list(" \t\n-:?#'\"[]{},&*!|><%@`ab01x.\u2028\u2029\x85")))


@settings(max_examples=500, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(yaml_like)
def test_any_text_is_documents_or_a_positioned_syntax_error(text: str) -> None:
    try:
        documents = parse_yaml(text, "t.yaml")
    except YamlSyntaxError as exc:
        assert exc.message and exc.line >= 1 and exc.column >= 1
    else:
        assert all(isinstance(d, Document) for d in documents)


def test_unclosed_quote() -> None:
    exc = error('a: "open\nb: 2\n')
    assert exc.message == "unclosed quoted string: the quote at line 1, column 4 is never closed"
    assert where(exc) == (3, 1)


def test_bad_indentation() -> None:
    exc = error("a:\n  b: 1\n c: 2\n")
    assert exc.message.startswith("bad indentation")
    assert where(exc) == (3, 2)


def test_unclosed_flow_sequence() -> None:
    exc = error("a: [1, 2\nb: 3\n")
    assert "'['" in exc.message
    assert "line 1, column 4" in exc.message


def test_colon_in_plain_value() -> None:
    exc = error("title: Tax: returns\n")
    assert "':'" in exc.message
    assert where(exc) == (1, 11)


def test_reserved_indicator() -> None:
    exc = error("a: @handle\n")
    assert exc.message.startswith("'@' cannot start a value")
    assert where(exc) == (1, 4)


def test_collection_as_key() -> None:
    for source, pos in (
        ("? [a, b]\n: 1\n", (1, 3)),
        ("{[a]: 1}\n", (1, 2)),
        ("? {a: 1}\n: 1", (1, 3)),
    ):
        exc = error(source)
        assert "key" in exc.message
        assert where(exc) == pos


# --------------------------------------------------------------------------- tags


@pytest.mark.parametrize(
    ("source", "tag"),
    [
        ("a: !!python/object:os.system x\n", "!!python/object:os.system"),
        ("a: !!python/object/apply:os.system [ls]\n", "!!python/object/apply:os.system"),
        ("a: !!python/name:os.system ''\n", "!!python/name:os.system"),
        ("a: !custom x\n", "!custom"),
        ("a: !!binary aGVsbG8=\n", "!!binary"),
        ("a: !!timestamp 2026-01-01\n", "!!timestamp"),
        ("a: !!set {x}\n", "!!set"),
        ("a: !<tag:example.com,2000:x> y\n", "tag:example.com,2000:x"),
        ("!!python/object:x {a: 1}\n", "!!python/object:x"),
        ("!custom x: 1\n", "!custom"),
    ],
)
def test_unknown_tags_are_refused(source: str, tag: str) -> None:
    exc = error(source)
    assert tag in exc.message
    assert exc.message.startswith("unsupported tag")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("a: !!int abc\n", "'abc' is not a valid !!int value"),
        ("a: !!bool yes\n", "'yes' is not a valid !!bool value"),
        ("a: !!null x\n", "'x' is not a valid !!null value"),
        ("a: !!float 1e\n", "'1e' is not a valid !!float value"),
        ("a: !!seq {b: 1}\n", "tag !!seq cannot be used on a mapping"),
        ("a: !!map [1]\n", "tag !!map cannot be used on a sequence"),
        ("a: !!map x\n", "tag !!map cannot be used on a scalar"),
    ],
)
def test_standard_tags_must_fit_the_node(source: str, message: str) -> None:
    exc = error(source)
    assert exc.message == message
    assert where(exc) == (1, 4)


def test_standard_collection_tags_are_honoured() -> None:
    assert load("a: !!map {b: 1}\nc: !!seq [1]\nd: ! [x]\n").data == {
        "a": {"b": 1},
        "c": [1],
        "d": ["x"],
    }


# --------------------------------------------------------------------------- aliases

ALIASES = """\
defaults: &loc {country: IN, timezone: Asia/Kolkata}
staff:
  - id: &first s-001
    location: *loc
    again: *first
  - "<<": *loc
    id: s-002
"""


def test_aliases_that_are_fine() -> None:
    doc = load(ALIASES)
    loc = {"country": "IN", "timezone": "Asia/Kolkata"}
    assert doc.data == {
        "defaults": loc,
        "staff": [
            {"id": "s-001", "location": loc, "again": "s-001"},
            {"<<": loc, "id": "s-002"},  # a quoted "<<" is a key like any other
        ],
    }
    values, keys = doc.source.values, doc.source.keys
    # an alias-expanded node sits where its anchored node is; its key where the key is
    assert values["/staff/0/location"] == values["/defaults"] == (1, 11)
    assert values["/staff/0/location/timezone"] == values["/defaults/timezone"] == (1, 40)
    assert keys["/staff/0/location/timezone"] == keys["/defaults/timezone"] == (1, 30)
    assert keys["/staff/0/location"] == (4, 5)
    assert values["/staff/0/again"] == values["/staff/0/id"] == (3, 9)
    assert values["/staff/1/<<"] == (1, 11)


def test_aliases_are_copies() -> None:
    data = load(ALIASES).data
    assert data["staff"][0]["location"] is not data["defaults"]


def test_alias_as_key() -> None:
    doc = load("a: &k 1\n*k : x\n")
    assert doc.data == {"a": 1, "1": "x"}


def test_undefined_and_recursive_aliases() -> None:
    exc = error("a: *nowhere\n")
    assert "*nowhere" in exc.message
    assert where(exc) == (1, 4)
    exc = error("a: &loop [1, *loop]\n")
    assert "*loop" in exc.message
    assert where(exc) == (1, 14)


def test_many_aliases_in_a_big_roster_are_fine() -> None:
    # 15,000 nodes through aliases, more than MAX_ALIAS_NODES, but fewer than those written
    lines = ["loc: &loc {country: IN, timezone: Asia/Kolkata}", "staff:"]
    lines += [f"  - {{id: s-{i}, role: associate, location: *loc}}" for i in range(5000)]
    data = load("\n".join(lines)).data
    assert len(data["staff"]) == 5000
    assert data["staff"][-1]["location"] == {"country": "IN", "timezone": "Asia/Kolkata"}


def billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghij":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs() -> None:
    start = time.perf_counter()
    exc = error(billion_laughs())
    assert time.perf_counter() - start < 2
    assert "alias" in exc.message
    assert exc.line > 1


def test_alias_cannot_nest_deeper_than_the_limit() -> None:
    deep = "[" * (MAX_DEPTH - 5) + "1" + "]" * (MAX_DEPTH - 5)
    lines = [f"a0: &a0 {deep}"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 11)]
    exc = error("\n".join(lines))
    assert exc.message.startswith(f"nesting deeper than {MAX_DEPTH} levels")


# --------------------------------------------------------------------------- limits


def nested_block_mappings(depth: int) -> str:
    return "".join("  " * level + "a:\n" for level in range(depth)) + "  " * depth + "x\n"


@pytest.mark.parametrize(
    ("source", "position"),
    [
        ("[" * 20_000 + "]" * 20_000, (1, MAX_DEPTH + 1)),
        ("{a: " * 20_000 + "}" * 20_000, (1, 4 * MAX_DEPTH + 1)),
        ("- " * 20_000 + "x\n", (1, 2 * MAX_DEPTH + 1)),
        (nested_block_mappings(300), (MAX_DEPTH + 1, 2 * MAX_DEPTH + 1)),
        ("[" * 10**6, (1, MAX_DEPTH + 1)),
        ("a: b\nc: " + "[" * 10**6, (2, 3 + MAX_DEPTH)),  # the root mapping is level 1
    ],
    ids=["flow-sequence", "flow-mapping", "block-sequence", "block-mapping", "1e6-open", "late"],
)
def test_deep_nesting(source: str, position: tuple[int, int]) -> None:
    start = time.perf_counter()
    exc = error(source)
    assert time.perf_counter() - start < 5
    assert exc.message == f"nesting deeper than {MAX_DEPTH} levels"
    assert where(exc) == position


def test_nesting_up_to_the_limit_is_fine() -> None:
    data = load("[" * MAX_DEPTH + "]" * MAX_DEPTH).data
    for _ in range(MAX_DEPTH - 1):
        data = data[0]
    assert data == []


def test_file_too_large_is_refused_before_parsing() -> None:
    exc = error(b"[" * (MAX_FILE_BYTES + 1))
    assert exc.message.startswith("file too large")


def test_node_and_document_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml12, "MAX_NODES", 100)
    exc = error("---\n[" + "a, " * 60 + "]\n---\n[" + "a, " * 60 + "]\n")
    assert exc.message.startswith("more than 100 values")
    assert exc.line == 4
    monkeypatch.setattr(yaml12, "MAX_DOCUMENTS", 3)
    exc = error("---\n" * 4)
    assert exc.message.startswith("more than 3 documents")
    assert where(exc) == (4, 1)


def test_collector_is_enabled_again_after_an_error() -> None:
    assert gc.isenabled()
    error("a: [")
    assert gc.isenabled()


# --------------------------------------------------------------------------- property

# The YAML 1.2 core schema, written out again independently of the loader.
CORE_NON_STRING = re.compile(
    r"~|null|Null|NULL|true|True|TRUE|false|False|FALSE"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)


def dumped_plain(text: str) -> bool:
    return not yaml.safe_dump(text).startswith(("'", '"'))


def test_pyyaml_writes_some_numbers_plain() -> None:
    """Why the property test leaves some strings out: PyYAML's dumper follows YAML 1.1.

    It quotes "yes" and "1.5" but writes these plain, and YAML 1.2 reads them as numbers.
    Reading them as numbers is right; the strategy below avoids them.
    """
    for text in ("0o17", "1e3", "-.5", "+.5", ".5e3", "1E5", "1.0e3"):
        assert dumped_plain(text)
        assert isinstance(parse_yaml(yaml.safe_dump(text), "t")[0].data, (int, float))
    for text in ("yes", "NO", "on", "1.5", "0x1F", "~", "", "18:30", "2026-01-01"):
        assert parse_yaml(yaml.safe_dump(text), "t")[0].data == text


def round_trips(text: str) -> bool:
    return not (CORE_NON_STRING.fullmatch(text) and dumped_plain(text))


def test_pyyaml_cannot_round_trip_nel_with_allow_unicode() -> None:
    """Why NEL is left out: PyYAML writes it raw in single quotes, where it folds to a space.

    YAML 1.2 keeps it, so the loader refuses it rather than change the text silently.
    """
    dump = yaml.safe_dump("a\x85b", allow_unicode=True)
    assert yaml.safe_load(dump) != "a\x85b"
    assert "U+0085 (NEXT LINE)" in error(dump).message


strings = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x85")).filter(
    round_trips
)
leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | strings
json_like = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
    max_leaves=25,
)


def pointers(data: Any, prefix: str = "") -> dict[str, Any]:
    """Every JSON Pointer into ``data`` with the node it names."""
    found = {prefix: data}
    if isinstance(data, dict):
        for key, value in data.items():
            found |= pointers(value, f"{prefix}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found |= pointers(value, f"{prefix}/{index}")
    return found


def text_at(dump: str, position: tuple[int, int]) -> str:
    line, column = position
    return re.split("\r\n|[\r\n\x85\u2028\u2029]", dump)[line - 1][column - 1 :]


@settings(
    max_examples=300,
    deadline=None,
    # the parser fixture only picks the event source: nothing to reset between examples
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=json_like, flow=st.sampled_from([None, False, True]), unicode=st.booleans())
def test_safe_dump_round_trips_with_a_position_for_every_node(
    data: Any, flow: bool | None, unicode: bool
) -> None:
    dump = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=unicode)
    (doc,) = parse_yaml(dump, "t.yaml")
    assert doc.data == data
    nodes = pointers(data)
    assert set(doc.source.values) == set(nodes)
    assert set(doc.source.keys) == {
        p for p in nodes if p and isinstance(nodes[p.rsplit("/", 1)[0]], dict)
    }
    for pointer, (line, column) in doc.source.keys.items():
        key = pointer.rsplit("/", 1)[1].replace("~1", "/").replace("~0", "~")
        assert text_at(dump, (line, column)).startswith((key[:1] or "'", "'", '"'))
    for pointer, node in nodes.items():
        if isinstance(node, str) and node:
            assert text_at(dump, doc.source.values[pointer]).startswith((node[0], "'", '"'))
