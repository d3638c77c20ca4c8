"""Schemas (kpo_rules.schemas) and the schema step (kpo_rules.load.validate)."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import (  # type: ignore[import-untyped,unused-ignore]
    Draft202012Validator,
    FormatChecker,
)

from kpo_rules.errors import UsageError
from kpo_rules.load import quick, validate
from kpo_rules.load.validate import RULE_ID, validate_document
from kpo_rules.load.yaml12 import parse_yaml
from kpo_rules.model import Document, Finding, Severity, SourceMap, Subject
from kpo_rules.schemas import (
    API_VERSION,
    PATTERN_HINTS,
    SCHEMA_NAMES,
    UnknownSchemaError,
    dump_schema,
    get_schema,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SPEC_EXAMPLE = DATA / "spec_example.yaml"


# --------------------------------------------------------------------------- loading

_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


def _scalar(node: yaml.Node) -> Any:
    """YAML 1.2 core schema resolution of a plain scalar (quoted ones stay strings)."""
    text = node.value
    if getattr(node, "style", None) is not None:
        return text
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.fullmatch(text):
        return int(text, 0) if text.startswith(("0o", "0x")) else int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if text.lower() in (".inf", "+.inf", "-.inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text.lower() == ".nan":
        return float("nan")
    return text


def _build(
    node: yaml.Node,
    pointer: str,
    values: dict[str, tuple[int, int]],
    keys: dict[str, tuple[int, int]],
) -> Any:
    values[pointer] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            child = pointer + "/" + str(key).replace("~", "~0").replace("/", "~1")
            keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _build(value_node, child, values, keys)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, f"{pointer}/{i}", values, keys) for i, item in enumerate(node.value)]
    return _scalar(node)


def _fallback_parse(text: str, file: str) -> list[Document]:
    """Stand-in for kpo_rules.load.yaml12 (positions are the nodes' start marks)."""
    docs = []
    for index, root in enumerate(yaml.compose_all(text, Loader=yaml.SafeLoader)):
        values: dict[str, tuple[int, int]] = {}
        keys: dict[str, tuple[int, int]] = {}
        data = _build(root, "", values, keys)
        source = SourceMap(values=values, keys=keys)
        docs.append(Document(file=file, index=index, data=data, source=source))
    return docs


def parse(text: str, file: str = "t.yaml") -> list[Document]:
    try:
        from kpo_rules.load.yaml12 import parse_yaml
    except ImportError:
        return _fallback_parse(text, file)
    return list(parse_yaml(text.encode(), file))


def check(text: str) -> list[Finding]:
    (doc,) = parse(text)
    return validate_document(doc)


def doc_of(data: Any, file: str = "mem.yaml") -> Document:
    return Document(file=file, index=0, data=data, source=SourceMap(values={"": (1, 1)}))


def messages(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings]


def spec_data() -> dict[str, Any]:
    (doc,) = parse(SPEC_EXAMPLE.read_text(encoding="utf-8"))
    data: dict[str, Any] = doc.data
    return data


def edited(change: Any) -> list[Finding]:
    """Findings for the SPEC example after ``change(data)`` edits it in place."""
    data = spec_data()
    change(data)
    return validate_document(doc_of(data))


MINIMAL_ENGAGEMENT = """\
apiVersion: kpo-rules/v1
kind: Engagement
metadata: {id: e1}
period: {start: 2026-01-01, end: 2026-12-31}
client: {name: C, type: corporate, country: US}
provider:
  name: P
  serves: {finance: [US]}
  delivery_centres: [{id: pune, country: IN, timezone: Asia/Kolkata}]
"""

MINIMAL_ROSTER = """\
apiVersion: kpo-rules/v1
kind: Roster
metadata: {id: pune-staff}
staff:
  - id: s-001
    location: {country: IN}
    languages: [{code: en, level: C1}]
"""


# --------------------------------------------------------------------------- the schemas


@pytest.mark.parametrize("name", ["engagement", "roster"])
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = get_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://kpo-rules.dev/schemas/v1/{name}.schema.json"
    assert schema["title"]
    assert schema["description"]


@pytest.mark.parametrize("name", ["engagement", "roster"])
def test_every_property_has_a_description(name: str) -> None:
    schema = get_schema(name)
    missing: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for prop, sub in node.get("properties", {}).items():
                target = sub
                if "description" not in sub and "$ref" in sub:
                    target = schema["$defs"][sub["$ref"].rsplit("/", 1)[1]]
                if "description" not in target:
                    missing.append(f"{where}.{prop}")
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for value in node:
                walk(value, where)

    walk(schema, name)
    assert missing == []


def test_every_pattern_has_a_human_hint() -> None:
    for name in ("engagement", "roster"):
        for pattern in re.findall(r'"pattern": "((?:[^"\\]|\\.)*)"', dump_schema(name)):
            assert json.loads(f'"{pattern}"') in PATTERN_HINTS


def test_roster_staff_shares_the_engagement_staff_definition() -> None:
    engagement, roster = get_schema("engagement"), get_schema("roster")
    assert roster["$defs"]["staffMember"] == engagement["$defs"]["staffMember"]
    assert roster["properties"]["staff"]["$ref"] == "#/$defs/staffList"
    assert "service" not in roster["$defs"]  # only the definitions it reaches


def test_schema_names_and_lookup() -> None:
    assert {"engagement", "roster"} <= set(SCHEMA_NAMES)
    first = get_schema("engagement")
    first["title"] = "changed"
    assert get_schema("engagement")["title"] != "changed"  # callers get a copy
    with pytest.raises(UnknownSchemaError, match="unknown schema 'nope'"):
        get_schema("nope")
    assert issubclass(UnknownSchemaError, UsageError)
    assert issubclass(UnknownSchemaError, LookupError)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_registered_schema_builds(name: str) -> None:
    from kpo_rules.schemas import schema_id

    schema = get_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == schema_id(name)
    assert validate._validator(name) is validate._validator(name)  # compiled once


def test_validate_as_names_the_schema() -> None:
    from kpo_rules.load.validate import validate_as

    (doc,) = parse(MINIMAL_ROSTER.replace("level: C1", "level: X"))
    findings = validate_as(doc, "roster")
    assert findings == validate_document(doc)
    assert findings[0].references[-1] == "https://kpo-rules.dev/schemas/v1/roster.schema.json"
    with pytest.raises(UnknownSchemaError):
        validate_as(doc, "nope")


def test_recursive_schemas_are_validated_as_written() -> None:
    schema: dict[str, Any] = {
        "$defs": {
            "node": {"type": "object", "properties": {"kids": {"items": {"$ref": "#/$defs/node"}}}}
        },
        "$ref": "#/$defs/node",
    }
    with pytest.raises(quick._CannotInline):
        quick._inline(schema, schema["$defs"])


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_checked_in_schema_is_up_to_date(name: str) -> None:
    path = ROOT / "schemas" / f"{name}.schema.json"
    current = path.read_text(encoding="utf-8") if path.exists() else None
    expected = json.dumps(get_schema(name), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    assert expected == dump_schema(name)
    if current != expected:
        pytest.fail(
            f"schemas/{name}.schema.json is out of date — regenerate with: "
            f"kpo-rules schema {name} > schemas/{name}.schema.json",
            pytrace=False,
        )


@pytest.mark.parametrize("name", ["engagement", "roster"])
def test_cli_prints_the_checked_in_schema(name: str) -> None:
    schema_cmd = pytest.importorskip("kpo_rules.cli.schema_cmd")
    from click.testing import CliRunner

    result = CliRunner().invoke(schema_cmd.schema_cmd, [name])
    assert result.exit_code == 0, result.output
    assert result.output == (ROOT / "schemas" / f"{name}.schema.json").read_text("utf-8")


# --------------------------------------------------------------------------- valid documents


def test_spec_example_is_valid() -> None:
    (doc,) = parse(SPEC_EXAMPLE.read_text(encoding="utf-8"), "spec_example.yaml")
    assert doc.data["waivers"][0]["expires"] == "2027-03-31"  # dates stay strings
    assert validate_document(doc) == []


def test_minimal_documents_are_valid() -> None:
    assert check(MINIMAL_ENGAGEMENT) == []
    assert check(MINIMAL_ROSTER) == []


def test_multi_document_file() -> None:
    docs = parse(MINIMAL_ROSTER + "---\n" + MINIMAL_ENGAGEMENT)
    assert [validate_document(d) for d in docs] == [[], []]


@pytest.mark.parametrize(
    ("pointer", "value"),
    [
        ("/client/business_hours/end", "24:00"),
        ("/client/business_hours/start", "00:00"),
        ("/client/timezone", "Etc/GMT+5"),
        ("/client/timezone", "America/Argentina/Buenos_Aires"),
        ("/client/timezone", "UTC"),
        ("/services/0/hours_overlap", 0),
        ("/services/0/hours_overlap", 24),
        ("/services/0/hours_overlap", 1.5),
        ("/provider/serves/legal", []),
        ("/staff/0/credentials/2/jurisdiction", "US"),
        ("/staff/0/languages/1/level", "A1"),
        ("/period/end", "2028-02-29"),
    ],
)
def test_valid_edge_values(pointer: str, value: Any) -> None:
    assert edited(lambda d: _set(d, pointer, value)) == []


# --------------------------------------------------------------------------- messages


def test_unknown_field_points_at_the_key() -> None:
    text = MINIMAL_ENGAGEMENT + (
        "services:\n"
        "  - id: returns\n"
        "    task: finance.tax_preparation\n"
        "    delivery_centre: pune\n"
        "    asignees: [s-001]\n"
        "    colour: blue\n"
    )
    findings = check(text)
    by_path = {f.path: f for f in findings}
    unknown = by_path["/services/0/asignees"]
    assert unknown.message == "unknown field 'asignees' in services[0] (did you mean 'assignees'?)"
    assert (unknown.line, unknown.column) == (14, 5)
    assert unknown.rule == RULE_ID == "KPO-SCH-001"
    assert unknown.category == "schema"
    assert unknown.severity is Severity.ERROR
    assert unknown.engagement == "e1"
    assert unknown.subject == Subject(service="returns")
    assert unknown.file == "t.yaml"
    assert unknown.remediation == "Rename 'asignees' to 'assignees'."
    assert unknown.references[0].startswith("The engagement file format")
    colour = by_path["/services/0/colour"]
    assert colour.message == "unknown field 'colour' in services[0]"
    assert (colour.line, colour.column) == (15, 5)
    assert "allowed here: id, task" in colour.remediation
    missing = by_path["/services/0"]
    assert missing.message == "services[0] is missing required field 'assignees'"
    assert missing.line == 11  # the mapping, where the field belongs
    assert len(findings) == 3


def test_missing_required_fields_one_finding_each() -> None:
    findings = edited(lambda d: [d["services"][0].pop(k) for k in ("task", "assignees")])
    assert sorted(messages(findings)) == [
        "services[0] is missing required field 'assignees'",
        "services[0] is missing required field 'task'",
    ]
    assert {f.path for f in findings} == {"/services/0"}
    assert findings[0].remediation in (
        "Add 'task' to services[0].",
        "Add 'assignees' to services[0].",
    )


def test_missing_top_level_field() -> None:
    findings = edited(lambda d: d.pop("period"))
    assert messages(findings) == ["the document is missing required field 'period'"]
    assert findings[0].path == ""


def test_type_message_names_yaml_types() -> None:
    findings = edited(lambda d: _set(d, "/services/0/hours_overlap", "two"))
    assert messages(findings) == [
        "services[0].hours_overlap: expected a number, found a string 'two'"
    ]
    assert findings[0].path == "/services/0/hours_overlap"
    assert findings[0].remediation == "Change the value to a number."


@pytest.mark.parametrize(
    ("pointer", "value", "message"),
    [
        ("/client", [], "client: expected a mapping, found an empty list"),
        (
            "/provider/delivery_centres",
            {"a": 1},
            "provider.delivery_centres: expected a list, found a mapping",
        ),
        ("/client/name", None, "client.name: expected a string, found null"),
        ("/client/name", 42, "client.name: expected a string, found a number 42"),
        (
            "/services/0/data/personal_data",
            "yes",
            "services[0].data.personal_data: expected a "
            "boolean (true or false), found a string 'yes'",
        ),
        (
            "/services/0/hours_overlap",
            True,
            "services[0].hours_overlap: expected a number, found a boolean true",
        ),
        (
            "/services/0/hours_overlap",
            float("nan"),
            "services[0].hours_overlap: expected a number, found a number .nan",
        ),
        ("/metadata/labels/team", 7, "metadata.labels.team: expected a string, found a number 7"),
    ],
)
def test_type_messages(pointer: str, value: Any, message: str) -> None:
    findings = edited(lambda d: _set(d, pointer, value))
    assert messages(findings) == [message]
    assert findings[0].path == pointer


def test_enum_message() -> None:
    findings = edited(lambda d: _set(d, "/services/0/decision_level", "manager"))
    assert messages(findings) == [
        "services[0].decision_level: expected one of preparer, reviewer, decision_maker; "
        "found 'manager'"
    ]
    assert findings[0].remediation == "Use one of: preparer, reviewer, decision_maker."


@pytest.mark.parametrize(
    ("pointer", "value", "message"),
    [
        (
            "/services/0/data/transfer_mechanism",
            "SCC",
            "services[0].data.transfer_mechanism: "
            "expected one of adequacy, scc, idta, bcr, consent, derogation, none; found 'SCC' "
            "(did you mean 'scc'?)",
        ),
        (
            "/staff/0/languages/0/level",
            "c1",
            "staff[0].languages[0].level: expected one of "
            "A1, A2, B1, B2, C1, C2, native; found 'c1' (did you mean 'C1'?)",
        ),
        (
            "/client/type",
            "tax-practice",
            "client.type: expected one of corporate, law_firm, "
            "tax_practice, audit_firm, credit_institution, investment_firm, payment_institution, "
            "insurer, public_body; found 'tax-practice' (did you mean 'tax_practice'?)",
        ),
        (
            "/client/business_hours/days/0",
            5,
            "client.business_hours.days[0]: expected one of "
            "mon, tue, wed, thu, fri, sat, sun; found a number 5",
        ),
        (
            "/services/0/safeguards/1",
            "nda",
            "services[0].safeguards[1]: expected one of "
            "client_consent, confidentiality_agreement, secrecy_notice; found 'nda'",
        ),
        (
            "/provider/relationship",
            "captiv",
            "provider.relationship: expected one of "
            "third_party, captive; found 'captiv' (did you mean 'captive'?)",
        ),
        (
            "/staff/0/education/0/level",
            "phd",
            "staff[0].education[0].level: expected one of "
            "secondary, bachelor, master, doctorate; found 'phd'",
        ),
    ],
)
def test_enum_messages(pointer: str, value: Any, message: str) -> None:
    findings = edited(lambda d: _set(d, pointer, value))
    assert messages(findings) == [message]  # one finding per node, even when type fails too


@pytest.mark.parametrize(
    ("pointer", "value", "message"),
    [
        (
            "/client/country",
            "USA",
            "client.country: expected an ISO 3166-1 alpha-2 code such as 'US'; found 'USA'",
        ),
        (
            "/client/country",
            "us",
            "client.country: expected an ISO 3166-1 alpha-2 code such as 'US'; found 'us'",
        ),
        (
            "/client/country",
            "US\n",
            "client.country: expected an ISO 3166-1 alpha-2 code such as 'US'; found \"US\\n\"",
        ),
        (
            "/client/subdivision",
            "NY",
            "client.subdivision: expected an ISO 3166-2 subdivision "
            "code such as 'US-NY'; found 'NY'",
        ),
        (
            "/services/0/task",
            "tax_preparation",
            "services[0].task: expected a task id "
            "'domain.name' such as 'finance.tax_preparation'; found 'tax_preparation'",
        ),
        (
            "/staff/0/credentials/0/id",
            "US-PTIN",
            "staff[0].credentials[0].id: expected a credential id such as 'us.cpa' "
            "(a 2-8 letter prefix, a dot, a lowercase name); found 'US-PTIN'",
        ),
        (
            "/staff/0/familiar_with/0",
            "gaap",
            "staff[0].familiar_with[0]: expected a framework id such as 'us.gaap' "
            "(a 2-8 letter prefix, a dot, a lowercase name); found 'gaap'",
        ),
        (
            "/staff/0/credentials/2/jurisdiction",
            "New York",
            "staff[0].credentials[2]."
            "jurisdiction: expected an ISO 3166-1 country code such as 'US' or an ISO 3166-2 "
            "subdivision code such as 'US-NY'; found 'New York'",
        ),
        (
            "/provider/serves/finance/0",
            "usa",
            "provider.serves.finance[0]: expected an ISO "
            "3166-1 country code such as 'US' or an ISO 3166-2 subdivision code such as 'US-NY'; "
            "found 'usa'",
        ),
        (
            "/client/languages/0",
            "eng",
            "client.languages[0]: expected an ISO 639-1 language code such as 'en'; found 'eng'",
        ),
        (
            "/metadata/id",
            "ACME",
            "metadata.id: expected an id of lowercase letters, digits, "
            "'.', '_' or '-' such as 'acme-us-tax-fy2026'; found 'ACME'",
        ),
        (
            "/staff/0/id",
            "s 001",
            "staff[0].id: expected an id of letters, digits, '.', '_' or "
            "'-' such as 's-001'; found 's 001'",
        ),
        (
            "/staff/0/working_hours/start",
            "9:00",
            "staff[0].working_hours.start: expected a "
            "time HH:MM from 00:00 to 23:59 (quoted, e.g. \"09:00\"); found '9:00'",
        ),
        (
            "/staff/0/working_hours/start",
            "24:00",
            "staff[0].working_hours.start: expected a "
            "time HH:MM from 00:00 to 23:59 (quoted, e.g. \"09:00\"); found '24:00'",
        ),
        (
            "/client/business_hours/end",
            "24:30",
            "client.business_hours.end: expected a time "
            "HH:MM from 00:00 to 23:59, or 24:00 (quoted, e.g. \"17:00\"); found '24:30'",
        ),
        (
            "/client/timezone",
            "+05:30",
            "client.timezone: expected an IANA time zone such as "
            "'America/New_York'; found '+05:30'",
        ),
        (
            "/waivers/0/rule",
            "FIN LANG",
            "waivers[0].rule: expected a rule id such as 'FIN-LANG-001'; found 'FIN LANG'",
        ),
    ],
)
def test_pattern_messages(pointer: str, value: Any, message: str) -> None:
    findings = edited(lambda d: _set(d, pointer, value))
    assert messages(findings) == [message]
    assert findings[0].remediation.startswith("Write ")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "2026-02-30",
            "period.start: expected a date YYYY-MM-DD; found '2026-02-30' (no such date)",
        ),
        (
            "2026-13-01",
            "period.start: expected a date YYYY-MM-DD; found '2026-13-01' (no such date)",
        ),
        ("2026/01/01", "period.start: expected a date YYYY-MM-DD; found '2026/01/01'"),
        ("20260101", "period.start: expected a date YYYY-MM-DD; found '20260101'"),
        ("2026-01-01T00:00", "period.start: expected a date YYYY-MM-DD; found '2026-01-01T00:00'"),
        (20260101, "period.start: expected a string, found a number 20260101"),
    ],
)
def test_invalid_dates(value: Any, message: str) -> None:
    findings = edited(lambda d: _set(d, "/period/start", value))
    assert messages(findings) == [message]


def test_invalid_date_from_yaml_position() -> None:
    findings = check(MINIMAL_ENGAGEMENT.replace("start: 2026-01-01", "start: 2026-02-30"))
    assert messages(findings) == [
        "period.start: expected a date YYYY-MM-DD; found '2026-02-30' (no such date)"
    ]
    assert (findings[0].line, findings[0].column) == (4, 17)
    assert findings[0].remediation == "Write a real calendar date as YYYY-MM-DD."


@pytest.mark.parametrize(
    ("pointer", "value", "message"),
    [
        (
            "/services/0/assignees",
            [],
            "services[0].assignees: expected at least 1 item; found an empty list",
        ),
        (
            "/provider/delivery_centres",
            [],
            "provider.delivery_centres: expected at least 1 item; found an empty list",
        ),
        (
            "/staff/0/languages",
            [],
            "staff[0].languages: expected at least 1 item; found an empty list",
        ),
        (
            "/client/business_hours/days",
            [],
            "client.business_hours.days: expected at least 1 item; found an empty list",
        ),
        (
            "/services/0/hours_overlap",
            25,
            "services[0].hours_overlap: expected a number from 0 to 24; found a number 25",
        ),
        (
            "/services/0/hours_overlap",
            -0.5,
            "services[0].hours_overlap: expected a number from 0 to 24; found a number -0.5",
        ),
        (
            "/services/0/hours_overlap",
            float("inf"),
            "services[0].hours_overlap: expected a number from 0 to 24; found a number .inf",
        ),
        ("/client/name", "", "client.name: expected a non-empty string; found ''"),
    ],
)
def test_size_and_range_messages(pointer: str, value: Any, message: str) -> None:
    findings = edited(lambda d: _set(d, pointer, value))
    assert messages(findings) == [message]


def test_roster_messages() -> None:
    text = MINIMAL_ROSTER.replace("staff:\n", "services: []\nstaff:\n")
    findings = check(text)
    assert messages(findings) == ["unknown field 'services' in the document"]
    assert (findings[0].line, findings[0].column) == (4, 1)
    assert findings[0].engagement == "pune-staff"
    findings = check(MINIMAL_ROSTER.split("staff:", maxsplit=1)[0] + "staff: []\n")
    assert messages(findings) == ["staff: expected at least 1 item; found an empty list"]
    findings = check(MINIMAL_ROSTER.split("staff:", maxsplit=1)[0])
    assert messages(findings) == ["the document is missing required field 'staff'"]


def test_invalid_keys_of_open_mappings() -> None:
    findings = edited(lambda d: d["provider"]["serves"].update({"Finance": ["US"]}))
    assert messages(findings) == [
        "provider.serves: invalid key 'Finance'; expected a domain name of lowercase letters, "
        "digits and '_' such as 'finance'"
    ]
    assert findings[0].path == "/provider/serves/Finance"
    # The YAML loader keeps keys as strings; data built in code may not.
    findings = edited(lambda d: d["metadata"]["labels"].update({1: "x"}))
    assert messages(findings) == ["metadata.labels: invalid key a number 1; expected a string"]
    assert findings[0].path == "/metadata/labels/1"
    assert findings[0].remediation == "Change the key to a string."


def test_non_string_and_odd_keys_are_unknown_fields() -> None:
    findings = check(MINIMAL_ENGAGEMENT + "1: one\nnull: nothing\n")
    assert sorted(messages(findings)) == [
        "unknown field '1' in the document",
        "unknown field 'null' in the document",
    ]
    findings = edited(lambda d: d["client"].update({"a/b~c": 1, "bad key": 2}))
    assert sorted(f.path for f in findings) == ["/client/a~1b~0c", "/client/bad key"]


def test_paths_with_odd_keys_are_quoted_in_messages() -> None:
    findings = edited(lambda d: d["metadata"]["labels"].update({"a.b": 3}))
    assert messages(findings) == ['metadata.labels["a.b"]: expected a string, found a number 3']


def test_long_values_are_truncated() -> None:
    findings = edited(lambda d: _set(d, "/client/country", "X" * 500))
    (message,) = messages(findings)
    assert len(message) < 150
    assert message.endswith("found '" + "X" * 37 + "...'")


# --------------------------------------------------------------------------- subjects


def test_subject_for_staff_and_service_errors() -> None:
    findings = edited(lambda d: _set(d, "/staff/0/languages/0/level", "fluent"))
    assert findings[0].subject == Subject(staff="s-001")
    findings = edited(lambda d: _set(d, "/services/0/data/categories", "payroll"))
    assert findings[0].subject == Subject(service="returns")
    findings = edited(lambda d: _set(d, "/client/country", "usa"))
    assert findings[0].subject == Subject()
    findings = edited(lambda d: _set(d, "/staff/0/id", 17))
    assert findings[0].subject == Subject()  # no string id to name
    findings = edited(lambda d: _set(d, "/services/0/id", "bad id"))
    assert findings[0].subject == Subject(service="bad id")


def test_engagement_is_metadata_id_only_when_a_string() -> None:
    findings = edited(lambda d: _set(d, "/metadata/id", ["x"]))
    assert findings[0].engagement is None
    findings = edited(lambda d: _set(d, "/client/country", "usa"))
    assert findings[0].engagement == "acme-us-tax-fy2026"


# --------------------------------------------------------------------------- envelope


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "a document must be a mapping with apiVersion and kind; found a list"),
        ("x", "a document must be a mapping with apiVersion and kind; found a string 'x'"),
        (None, "a document must be a mapping with apiVersion and kind; found an empty document"),
        (3, "a document must be a mapping with apiVersion and kind; found a number 3"),
    ],
)
def test_document_must_be_a_mapping(data: Any, message: str) -> None:
    findings = validate_document(doc_of(data))
    assert messages(findings) == [message]
    assert (findings[0].line, findings[0].column) == (1, 1)
    assert findings[0].path == ""
    assert findings[0].file == "mem.yaml"
    assert findings[0].engagement is None


def test_list_document_from_yaml() -> None:
    findings = check("- a\n- b\n")
    assert messages(findings) == [
        "a document must be a mapping with apiVersion and kind; found a list"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MINIMAL_ENGAGEMENT.replace("kpo-rules/v1", "kpo-rules/v2"),
            [("apiVersion: expected 'kpo-rules/v1'; found 'kpo-rules/v2'", (1, 13))],
        ),
        (
            MINIMAL_ENGAGEMENT.replace("kind: Engagement", "kind: engagement"),
            [
                (
                    "kind: expected one of Engagement, Roster; found 'engagement' "
                    "(did you mean 'Engagement'?)",
                    (2, 7),
                )
            ],
        ),
        (
            MINIMAL_ENGAGEMENT.replace("kind: Engagement", "kind: Contract"),
            [("kind: expected one of Engagement, Roster; found 'Contract'", (2, 7))],
        ),
        (
            MINIMAL_ENGAGEMENT.replace("kind: Engagement", "kind: [Engagement]"),
            [("kind: expected one of Engagement, Roster; found a list", (2, 7))],
        ),
        (
            MINIMAL_ENGAGEMENT.replace("kind: Engagement\n", ""),
            [("the document is missing required field 'kind' (one of Engagement, Roster)", (1, 1))],
        ),
        (
            MINIMAL_ENGAGEMENT.replace("apiVersion: kpo-rules/v1\n", "").replace(
                "kind: Engagement", "kind: Foo"
            ),
            [
                (
                    "the document is missing required field 'apiVersion' (expected 'kpo-rules/v1')",
                    (1, 1),
                ),
                ("kind: expected one of Engagement, Roster; found 'Foo'", (1, 7)),
            ],
        ),
    ],
)
def test_envelope(text: str, expected: list[tuple[str, tuple[int, int]]]) -> None:
    findings = check(text)
    assert [(f.message, (f.line, f.column)) for f in findings] == expected
    assert all(f.engagement == "e1" for f in findings)
    assert all(f.rule == RULE_ID for f in findings)


# --------------------------------------------------------------------------- robustness


def _nodes(data: Any, pointer: str = "") -> list[str]:
    out = [pointer] if pointer else []
    if isinstance(data, dict):
        for key, value in data.items():
            out += _nodes(value, f"{pointer}/{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _nodes(value, f"{pointer}/{i}")
    return out


def _get(data: Any, pointer: str) -> Any:
    for part in pointer.split("/")[1:]:
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def _set(data: Any, pointer: str, value: Any) -> None:
    parent_pointer, last = pointer.rsplit("/", 1)
    parent = _get(data, parent_pointer)
    if isinstance(parent, list):
        parent[int(last)] = value
    else:
        parent[last] = value


def _wrong_type(value: Any) -> Any:
    # A mapping is never right where a scalar or list belongs, and a number is never right
    # where a mapping or a list belongs.
    return 3.5 if isinstance(value, (dict, list)) else {"oops": 1}


NODES = [p for p in _nodes(spec_data()) if p not in ("/apiVersion", "/kind")]


@pytest.mark.parametrize("pointer", NODES)
def test_one_finding_per_bad_node(pointer: str) -> None:
    data = spec_data()
    _set(data, pointer, _wrong_type(_get(data, pointer)))
    findings = validate_document(doc_of(data))
    assert len(findings) == 1, messages(findings)
    assert findings[0].path == pointer
    assert "expected" in findings[0].message


def test_wrong_types_everywhere_at_once() -> None:
    data = spec_data()
    leaves = [p for p in NODES if not isinstance(_get(data, p), (dict, list))]
    for pointer in leaves:
        _set(data, pointer, _wrong_type(_get(data, pointer)))
    findings = validate_document(doc_of(data))
    assert sorted(f.path for f in findings) == sorted(leaves)


@functools.cache
def _reference(kind: str) -> Any:
    """Plain jsonschema on the schema with its $refs: no quick path, no inlining."""
    from jsonschema import validators


    cls = validators.extend(
        Draft202012Validator,
        validators={"pattern": validate._strict_pattern},
        type_checker=validate._Validator.TYPE_CHECKER,
    )
    return cls(get_schema(kind.lower()), format_checker=FormatChecker())


def _reference_messages(data: Any) -> list[str]:

    errors = _reference(data["kind"]).iter_errors(data)
    return sorted(p.message for p in validate._explain_all(errors, data))


@pytest.mark.parametrize(
    "value",
    [None, True, 0, -1.5, float("nan"), "", "text", "US\n", [], [None], {}, {"a": None}, [[[]]]],
)
def test_any_value_in_any_place_never_crashes(value: Any) -> None:
    data = spec_data()
    for pointer in NODES:
        probe = copy.deepcopy(data)
        _set(probe, pointer, value)
        findings = validate_document(doc_of(probe))
        for finding in findings:
            assert finding.rule == RULE_ID
            assert finding.message
            assert finding.path.startswith(pointer.rsplit("/", 1)[0])
        # The fast path (inlined $refs, quick item checks) says exactly what jsonschema says.
        reference = _reference_messages(probe)
        assert sorted(messages(findings)) == reference, pointer
        # The whole-document quick check says "valid" exactly when jsonschema finds nothing.
        assert quick.document_check("engagement")(probe) == (not reference), pointer


def test_every_list_item_schema_has_a_quick_check() -> None:
    from kpo_rules.load import quick

    for name in ("engagement", "roster"):
        found: list[Any] = []

        def walk(node: Any, found: list[Any] = found) -> None:
            if isinstance(node, dict):
                if "items" in node:
                    found.append(node["items"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(validate._validator(name).schema)
        assert found
        assert all(quick.compile_check(items) is not None for items in found)


def test_findings_are_sorted_and_positioned() -> None:
    text = MINIMAL_ENGAGEMENT.replace("type: corporate", "type: bank").replace(
        "country: US}", "country: usa, extra: 1}"
    )
    findings = check(text)
    assert [(f.line, f.column) for f in findings] == [(5, 25), (5, 40), (5, 45)]
    assert findings == sorted(findings, key=lambda f: f.sort_key)


# --------------------------------------------------------------------------- combinators


def test_any_of_errors_descend_to_the_real_problem() -> None:

    schema = {
        "type": "object",
        "properties": {
            "when": {
                "anyOf": [
                    {"type": "string", "format": "date"},
                    {
                        "type": "object",
                        "required": ["start"],
                        "properties": {"start": {"type": "string"}},
                    },
                ]
            }
        },
    }
    checker = validate._Validator(schema, format_checker=FormatChecker())
    problems = validate._explain_all(checker.iter_errors({"when": {"start": 5}}), {})
    assert [p.message for p in problems] == ["when.start: expected a string, found a number 5"]
    problems = validate._explain_all(checker.iter_errors({"when": "2026-02-30"}), {})
    assert [p.message for p in problems] == [
        "when: expected a date YYYY-MM-DD; found '2026-02-30' (no such date)"
    ]
    problems = validate._explain_all(checker.iter_errors({"when": 5}), {})
    assert [p.message for p in problems] == [
        "when: expected a value of one of the allowed forms; found a number 5"
    ]


def test_quick_check_agrees_and_valid_documents_need_no_jsonschema(tmp_path: Path) -> None:
    import subprocess
    import sys

    from kpo_rules.load import schema_check

    doc = parse_yaml(SPEC_EXAMPLE.read_bytes(), "spec.yaml")[0]
    assert schema_check.validate_document(doc) == validate_document(doc) == []
    bad = Document(file="x", index=0, data={**doc.data, "period": {"start": "2026-02-30",
                                                                   "end": "2026-12-31"}},
                   source=doc.source)
    assert schema_check.validate_document(bad) == validate_document(bad) != []
    code = ("import sys\nfrom kpo_rules.load.schema_check import validate_document\n"
            "from kpo_rules.load.yaml12 import parse_yaml\n"
            f"doc = parse_yaml(open({str(SPEC_EXAMPLE)!r}, 'rb').read(), 'x')[0]\n"
            "assert validate_document(doc) == []\n"
            "print('jsonschema' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def _plugin_files() -> list[Path]:
    return sorted((ROOT / "plugins").glob("**/kpo_rules_*/*/*.yaml"))


def _replaced(node: Any, parts: list[str], value: Any) -> Any:
    """``node`` with ``value`` at the path ``parts``: the containers on that path are fresh
    copies, everything else is shared with ``node``, which is left as it was."""
    if not parts:
        return value
    if isinstance(node, list):
        index = int(parts[0])
        return [*node[:index], _replaced(node[index], parts[1:], value), *node[index + 1:]]
    return {**node, parts[0]: _replaced(node[parts[0]], parts[1:], value)}


@functools.cache
def _plugin_documents() -> tuple[tuple[Path, Document, str, tuple[str, ...]], ...]:
    """Every document of the shipped plugins' rule and catalogue files, with its schema and
    the pointers a probe may replace (read once per process: the probes copy what they
    change and leave these documents alone)."""
    from kpo_rules.content import _catalogue_kind, _rule_kind

    found = []
    for path in _plugin_files():
        for doc in parse_yaml(path.read_bytes(), str(path)):
            schema = _rule_kind(doc.data) or _catalogue_kind(doc.data)
            assert schema is not None, path
            pointers = tuple(p for p in doc.source.values if p and p.count("/") <= 6)
            found.append((path, doc, schema, pointers))
    return tuple(found)


QUICK_CHECK_VALUES = [None, True, 7, "", "text", [], {}, ["x"], {"a": 1}]


@pytest.mark.parametrize("value", QUICK_CHECK_VALUES)
def test_quick_check_of_plugin_files_agrees_with_jsonschema(value: Any) -> None:
    """Rule files and catalogues take the quick path too; it must never say 'valid' wrongly.

    Each node (down to depth 6) of the shipped rule files and catalogues is replaced by one
    of the values: the n-th node of them all by the value at n modulo their number, so the
    values' runs together probe every node."""
    documents = _plugin_documents()
    pristine = [copy.deepcopy(doc.data) for _, doc, _, _ in documents]
    nodes = [(path, doc, schema, pointer) for path, doc, schema, pointers in documents
             for pointer in pointers]
    stride = len(QUICK_CHECK_VALUES)
    offset = [repr(v) for v in QUICK_CHECK_VALUES].index(repr(value))
    checked = 0
    for path, doc, schema, pointer in nodes[offset::stride]:
        probe = _replaced(doc.data, pointer.split("/")[1:], value)
        full = validate.validate_as(Document(file="x", index=0, data=probe, source=doc.source),
                                    schema)
        assert quick.document_check(schema)(probe) == (not full), (path, pointer)
        checked += 1
    # the probes copied what they changed: no document was altered, by them or the checks
    assert [doc.data for _, doc, _, _ in documents] == pristine
    assert len(nodes) > 5000 and checked > 600


# ----------------------------------------------------------------- what a schema cannot say

dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))


@settings(max_examples=300, deadline=None)
@given(start=dates, end=dates)
def test_period_problems_exactly_when_the_period_is_wrong(start: dt.date, end: dt.date) -> None:
    from kpo_rules.load import document_checks, schema_check

    (doc,) = parse(SPEC_EXAMPLE.read_text(encoding="utf-8"))
    data = {**doc.data, "period": {"start": start.isoformat(), "end": end.isoformat()}}
    probe = Document(file="p.yaml", index=0, data=data, source=doc.source)
    findings = schema_check.validate_document(probe)
    assert findings == validate_document(probe)  # the quick path and jsonschema's agree
    first, last = document_checks.PERIOD_YEARS
    in_years = first <= start.year <= last and first <= end.year <= last
    wrong = not in_years or end < start or (end - start).days > round(
        document_checks.MAX_PERIOD_YEARS * 365.2425)
    assert len(findings) == int(wrong)
    for finding in findings:
        assert finding.rule == RULE_ID and finding.path.startswith("/period")
        assert finding.line == doc.locate("/period", at_key=True)[0]  # the period's line
        assert finding.engagement == data["metadata"]["id"]


def test_period_check_is_silent_where_the_schema_speaks() -> None:
    for period in ({"start": "2026-12-31"}, {"start": "2026-12-31", "end": "someday"},
                   {"start": 5, "end": "2026-01-01"}, "2026"):
        found = edited(lambda data, p=period: data.__setitem__("period", p))
        assert not [f for f in found if "before the start" in f.message], period


def test_caps_agree_on_both_paths_and_stop_before_the_schema(monkeypatch) -> None:
    from kpo_rules.load import document_checks, schema_check

    monkeypatch.setattr(document_checks, "MAX_SERVICES", 2)
    monkeypatch.setattr(document_checks, "MAX_ITEMS", 10)
    data = spec_data()
    data["services"] = [{"wrong": True}] * 3  # the schema would give a finding per item
    data["client"]["languages"] = ["en"] * 11
    doc = doc_of(data)
    found = schema_check.validate_document(doc)
    assert found == validate_document(doc)
    assert sorted(messages(found)) == [
        "client.languages: 11 items in one list; the limit is 10",
        "services: 3 services in one engagement; the limit is 2",
    ]
    data["unknown"] = dict.fromkeys(map(str, range(11)))
    assert "unknown: 11 keys in one mapping; the limit is 10" in messages(
        schema_check.validate_document(doc_of(data)))
    assert messages(schema_check.validate_document(doc_of({**data, **dict.fromkeys(
        map(str, range(11)))}))) == ["the document: 21 keys in one mapping; the limit is 10"]
    assert {f.path for f in found} == {"/client/languages", "/services"}


def test_a_big_valid_roster_is_within_bounds() -> None:
    from kpo_rules.load import schema_check

    staff = [{"id": f"r-{i}", "name": "N", "location": {"country": "IN"},
              "languages": [{"code": "en", "level": "C1"}]} for i in range(3_000)]
    data = {"apiVersion": API_VERSION, "kind": "Roster", "metadata": {"id": "r"}, "staff": staff}
    values = {f"/staff/{i}": (i + 1, 1) for i in range(3_000)}
    doc = Document(file="r.yaml", index=0, data=data, source=SourceMap(values=values))
    assert schema_check.validate_document(doc) == validate_document(doc) == []
