"""Schema check of one document: every JSON Schema error becomes a readable ``schema`` finding.

The envelope (a mapping with a known ``apiVersion`` and ``kind``) is checked first and by
hand, so that a stray list or a typo in ``kind`` gives one clear finding rather than a
cascade. Then the document is validated against the schema of its kind; each error is
turned into a message for a person (``services[0].decision_level: expected one of
preparer, reviewer, decision_maker; found 'manager'``) that points at the YAML node
concerned — at the key itself for an unknown field, at the mapping for a missing one.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from jsonschema import (  # type: ignore[import-untyped,unused-ignore]
    Draft202012Validator,
    FormatChecker,
    ValidationError,
    validators,
)
from jsonschema.exceptions import best_match  # type: ignore[import-untyped,unused-ignore]

from kpo_rules.load.document_checks import oversized, period_problems
from kpo_rules.load.quick import Check, compile_check, compile_pattern, inlined, is_number_value
from kpo_rules.load.schema_findings import (
    FORMAT_REFERENCE,
    RULE_ID,
    Problem,
    findings_of,
    key_text,
    path_label,
)
from kpo_rules.model import Document, Finding
from kpo_rules.schemas import API_VERSION, KINDS, PATTERN_HINTS, schema_id

__all__ = ["RULE_ID", "validate_as", "validate_document"]

_MAX_SHOWN = 40  # characters of a found value shown in a message
_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

_EXPECTED_TYPE = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "a boolean (true or false)",
    "null": "null",
}

# Ranks the errors of one node: the most telling message wins, the others are dropped.
_RANK = {"const": 0, "enum": 0, "type": 1, "format": 2, "pattern": 2}


# --------------------------------------------------------------------------- the validator
#
# jsonschema stays the judge of every error. Two things keep a 20,000-staff roster fast:
# the schema is validated with its $refs inlined (a $ref costs a registry lookup per node),
# and each list item is first tried against a plain-Python yes/no check compiled from its
# subschema; jsonschema only descends into the items that check cannot pass. The quick
# check is conservative: a keyword it does not mirror makes it answer "don't know".

_FORMATS = FormatChecker()


def _is_number(_checker: object, instance: object) -> bool:
    return is_number_value(instance)


def _strict_pattern(
    validator: Any, pattern: str, instance: object, schema: Mapping[str, Any]
) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not compile_pattern(pattern).search(str(instance)):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_QUICK: dict[int, tuple[Any, Check | None]] = {}
_ITEMS = Draft202012Validator.VALIDATORS["items"]


def _quick_items(validator: Any, items: Any, instance: Any, schema: Mapping[str, Any]) -> Any:
    """``items`` that lets jsonschema descend only into the items a quick check fails."""
    if "prefixItems" in schema or not isinstance(instance, list):
        yield from _ITEMS(validator, items, instance, schema)
        return
    held = _QUICK.get(id(items))
    if held is None or held[0] is not items:
        held = (items, compile_check(items))  # keeps ``items`` alive, so its id stays unique
        _QUICK[id(items)] = held
    quick = held[1]
    for index, item in enumerate(instance):
        if quick is None or not quick(item):
            yield from validator.descend(instance=item, schema=items, path=index)


_Validator: Any = validators.extend(
    Draft202012Validator,
    validators={"pattern": _strict_pattern, "items": _quick_items},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", _is_number),
)


@cache
def _validator(name: str) -> Any:
    """One compiled validator per schema, shared by every document of the process.

    The schema has its $refs inlined where possible (a $ref costs a registry lookup per
    node); validated as written otherwise: slower, same answers.
    """
    return _Validator(inlined(name), format_checker=_FORMATS)


# --------------------------------------------------------------------------- public entry


def validate_document(doc: Document) -> list[Finding]:
    """Schema findings (rule ``KPO-SCH-001``) of one engagement or roster document.

    The envelope is checked first; a document with no usable ``apiVersion``/``kind`` is
    not validated further, nor one over a size limit (:mod:`kpo_rules.load.document_checks`).
    Empty when the document is valid; sorted by position.
    """
    problems = _check_envelope(doc.data)
    if problems:
        return findings_of(doc, problems, (FORMAT_REFERENCE,))
    return oversized(doc) or validate_in_bounds(doc)


def validate_in_bounds(doc: Document) -> list[Finding]:
    """Schema findings of a document whose envelope is valid and whose size is in bounds.

    The schema, then what it cannot express (:func:`period_problems`); sorted by position.
    """
    findings = validate_as(doc, KINDS[doc.data["kind"]]) + period_problems(doc)
    return sorted(findings, key=lambda f: f.sort_key)


def validate_as(doc: Document, schema: str) -> list[Finding]:
    """Schema findings of ``doc`` against the registered schema named ``schema``.

    For files whose kind the caller has already mapped to a schema (plugin catalogues,
    rule files); no envelope check. Same rule id and messages as :func:`validate_document`.

    :raises kpo_rules.schemas.UnknownSchemaError: no schema of that name is registered.
    """
    problems = _explain_all(_validator(schema).iter_errors(doc.data), doc.data)
    references: tuple[str, ...] = (schema_id(schema),)
    if schema in KINDS.values():
        references = (FORMAT_REFERENCE, *references)
    return findings_of(doc, problems, references)


# --------------------------------------------------------------------------- problems


def _check_envelope(data: Any) -> list[Problem]:
    kinds = tuple(KINDS)
    if not isinstance(data, dict):
        found = "an empty document" if data is None else _describe(data)
        return [
            Problem(
                (),
                f"a document must be a mapping with apiVersion and kind; found {found}",
                f"Start the document with 'apiVersion: {API_VERSION}' and 'kind: "
                f"{' | '.join(kinds)}'.",
            )
        ]
    problems: list[Problem] = []
    if "apiVersion" not in data:
        problems.append(
            Problem(
                (),
                f"the document is missing required field 'apiVersion' (expected '{API_VERSION}')",
                f"Add 'apiVersion: {API_VERSION}'.",
            )
        )
    elif data["apiVersion"] != API_VERSION:
        problems.append(
            Problem(
                ("apiVersion",),
                f"apiVersion: expected '{API_VERSION}'; found {_shown(data['apiVersion'])}",
                f"Write 'apiVersion: {API_VERSION}'; this version of kpo-rules reads no other.",
            )
        )
    if "kind" not in data:
        problems.append(
            Problem(
                (),
                f"the document is missing required field 'kind' (one of {', '.join(kinds)})",
                f"Add 'kind:' with one of: {', '.join(kinds)}.",
            )
        )
    elif not isinstance(data["kind"], str) or data["kind"] not in kinds:
        kind = data["kind"]
        problems.append(
            Problem(
                ("kind",),
                f"kind: expected one of {', '.join(kinds)}; found {_shown(kind)}"
                f"{_suggest_value(kind, kinds)}",
                f"Use one of: {', '.join(kinds)}.",
            )
        )
    return problems


def _explain_all(errors: Iterable[Any], data: Any) -> list[Problem]:
    """One problem per bad node (per key for unknown/missing fields), best message first."""
    chosen: dict[tuple[Any, ...], Problem] = {}
    for error in errors:
        for key, problem in _explain(error, data):
            held = chosen.get(key)
            if held is None or problem.rank < held.rank:
                chosen[key] = problem
    return list(chosen.values())


def _explain(error: Any, data: Any) -> Iterator[tuple[tuple[Any, ...], Problem]]:
    if error.validator in ("anyOf", "oneOf") and error.context:
        error = best_match([error])
    path = tuple(error.absolute_path)
    keyword = error.validator
    label = path_label(data, path)

    if "propertyNames" in error.absolute_schema_path:
        # A bad key of a mapping: error.instance is the key, path is the mapping.
        key = error.instance
        expected, remediation = _expectation(error)
        yield (
            (path, "key", key_text(key)),
            Problem(
                (*path, key_text(key)),
                f"{label}: invalid key {_shown(key)}; expected {expected}",
                remediation.replace("Change the value", "Change the key"),
                at_key=True,
            ),
        )
        return

    if keyword == "additionalProperties" and error.validator_value is False:
        allowed = [str(p) for p in error.schema.get("properties", {})]
        for key in error.instance:
            if key in error.schema.get("properties", {}):
                continue
            text = key_text(key)
            close = difflib.get_close_matches(text, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            remediation = (
                f"Rename '{text}' to '{close[0]}'."
                if close
                else f"Remove '{text}'; allowed here: {', '.join(allowed)}."
            )
            yield (
                (path, "unknown", text),
                Problem(
                    (*path, text),
                    f"unknown field {_quote(text)} in {label}{hint}",
                    remediation,
                    at_key=True,
                ),
            )
        return

    if keyword == "required":
        for field in error.validator_value:
            if field in error.instance:
                continue
            yield (
                (path, "missing", field),
                Problem(
                    path,
                    f"{label} is missing required field '{field}'",
                    f"Add '{field}' to {label}.",
                ),
            )
        return

    expected, remediation = _expectation(error)
    if keyword == "type":
        message = f"{label}: expected {expected}, found {_describe(error.instance)}"
    elif expected:
        message = f"{label}: expected {expected}; found {_shown(error.instance)}"
        if keyword == "enum":
            message += _suggest_value(error.instance, error.validator_value)
        elif (
            keyword == "format"
            and error.validator_value == "date"
            and isinstance(error.instance, str)
            and _DATE_SHAPE.fullmatch(error.instance)
        ):
            message += " (no such date)"
    else:
        message = f"{label}: {_short(error.message)}"
    yield ((path, "value"), Problem(path, message, remediation, rank=_RANK.get(keyword, 5)))


def _expectation(error: Any) -> tuple[str, str]:
    """What the schema wanted, in words, and how to fix it; ("", generic) when unknown."""
    keyword, value, schema = error.validator, error.validator_value, error.schema
    if keyword == "type":
        types = [value] if isinstance(value, str) else list(value)
        expected = " or ".join(_EXPECTED_TYPE.get(t, t) for t in types)
        return expected, f"Change the value to {expected}."
    if keyword == "enum":
        choices = ", ".join(str(v) for v in value)
        return f"one of {choices}", f"Use one of: {choices}."
    if keyword == "const":
        return _shown(value), f"Write {_shown(value)}."
    if keyword == "pattern":
        hint = PATTERN_HINTS.get(value) or schema.get("description") or f"text matching {value}"
        return hint, f"Write {hint}."
    if keyword == "format":
        if value == "date":
            return "a date YYYY-MM-DD", "Write a real calendar date as YYYY-MM-DD."
        return f"a valid {value}", f"Write a valid {value}."
    if keyword == "minItems":
        items = "item" if value == 1 else "items"
        return f"at least {value} {items}", f"List at least {value} {items}."
    if keyword == "minLength":
        if value == 1:
            return "a non-empty string", "Write a value; an empty string says nothing."
        return f"at least {value} characters", f"Write at least {value} characters."
    if keyword in ("minimum", "maximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            expected = f"a number from {_number(low)} to {_number(high)}"
        elif low is not None:
            expected = f"a number of at least {_number(low)}"
        else:
            expected = f"a number of at most {_number(high)}"
        return expected, f"Use {expected}."
    if keyword in ("anyOf", "oneOf"):
        return "a value of one of the allowed forms", "Fix the value; see the schema of this field."
    return "", "Fix the value; see the JSON Schema description of this field."


# --------------------------------------------------------------------------- words


def _describe(value: Any) -> str:
    """A found value with its YAML type: "a string 'two'", "a list", "null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean {'true' if value else 'false'}"
    if isinstance(value, (int, float)):
        return f"a number {_number(value)}"
    if isinstance(value, str):
        return f"a string {_quote(value)}"
    if isinstance(value, Mapping):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, Sequence):
        return "a list" if value else "an empty list"
    return f"a {type(value).__name__}"


def _shown(value: Any) -> str:
    """A found value as a person reads it: strings quoted, everything else described."""
    return _quote(value) if isinstance(value, str) else _describe(value)


def _quote(text: str) -> str:
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    if text.isprintable() and "'" not in text:
        return f"'{text}'"
    return json.dumps(text, ensure_ascii=False)


def _short(text: str) -> str:
    return text if len(text) <= 4 * _MAX_SHOWN else text[: 4 * _MAX_SHOWN - 3] + "..."


def _number(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
    return str(value)


def _suggest_value(found: Any, choices: Iterable[Any]) -> str:
    if not isinstance(found, str):
        return ""
    options = [c for c in choices if isinstance(c, str)]
    same = [c for c in options if c.lower() == found.lower()]
    close = same or difflib.get_close_matches(found, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --------------------------------------------------------------------------- places


