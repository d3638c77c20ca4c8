"""Rule-file mistakes that JSON Schema reports badly, found first and said plainly.

jsonschema reports ``severty: warning`` as "missing required field 'severity'" at the
rule's first line (the missing key sorts before the misspelt one), and an unknown
operator (``noteq``) as an unknown field of a condition. This walk, driven by the rule
schema's own lists of keys (:mod:`kpo_rules.schemas.rule`), names an unknown key at its
own line with the nearest allowed key, and an unknown operator with the valid ones.
Everything else is left to the schema.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from kpo_rules.engine.rule_model import OPERATORS
from kpo_rules.errors import RuleDefinitionError
from kpo_rules.model import Document

_SCHEMA_HELP = "`kpo-rules schema rule` has every key; `kpo-rules docs rule-files` explains them"


@functools.cache
def _keys() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Part of a rule file -> (allowed keys, required keys), from the rule schema."""
    from kpo_rules.schemas.rule import rule_schema  # noqa: PLC0415

    schema = rule_schema("")
    defs = schema["$defs"]
    rule, derivation = defs["rule"]["properties"], defs["derivation"]["properties"]

    def of(node: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return tuple(node["properties"]), tuple(node.get("required", ()))

    return {
        "file": of(schema), "metadata": of(schema["properties"]["metadata"]),
        "rule": of(defs["rule"]), "derivation": of(defs["derivation"]),
        "report": of(rule["report"]), "effective": of(rule["effective"]),
        "example": of(defs["example"]), "fact": of(derivation["fact"]),
    }


def shape_error(doc: Document) -> RuleDefinitionError | None:
    """The first unknown key or operator of a rule file, at its line; None when there is none."""
    return next(iter(shape_errors(doc).values()), None)


def shape_errors(doc: Document) -> dict[str, RuleDefinitionError]:
    """The first unknown key or operator of each part of a rule file (``part_of``), at its
    line, in file order: one error per broken rule, so that an author sees them all."""
    data = doc.data
    found: dict[str, RuleDefinitionError] = {}
    if not isinstance(data, Mapping):
        return found
    for pointer, rule, why, fix in _problems(data):
        if part_of(pointer) not in found:
            line, _ = doc.locate(pointer, at_key=True)
            found[part_of(pointer)] = RuleDefinitionError(doc.file, line, rule, why,
                                                          kind="schema", fix=fix)
    return found


def part_of(pointer: str) -> str:
    """The rule or derivation a JSON pointer of a rule file is in (``/rules/3``), else ``""``."""
    parts = pointer.split("/")
    if len(parts) > 2 and parts[1] in ("rules", "derive") and parts[2].isdigit():
        return "/".join(parts[:3])
    return ""


Found = tuple[str, str | None, str, str]  # pointer, rule id, what is wrong, the fix


def _problems(data: Mapping[str, Any]) -> Iterator[Found]:
    keys = _keys()
    yield from _unknown(data, "", None, "file", "the rule file")
    if isinstance(data.get("metadata"), Mapping):
        yield from _unknown(data["metadata"], "/metadata", None, "metadata", "metadata")
    for section, part in (("derive", "derivation"), ("rules", "rule")):
        items = data.get(section)
        for i, item in enumerate(items if isinstance(items, list) else ()):
            if not isinstance(item, Mapping):
                continue
            here = f"/{section}/{i}"
            rule = item.get("id") if isinstance(item.get("id"), str) else None
            yield from _unknown(item, here, rule, part, f"a {part}")
            for sub in ("report", "effective", "fact"):
                if sub in keys[part][0] and isinstance(item.get(sub), Mapping):
                    yield from _unknown(item[sub], f"{here}/{sub}", rule, sub, f"'{sub}'")
            examples = item.get("examples")
            for j, example in enumerate(examples if isinstance(examples, list) else ()):
                if isinstance(example, Mapping):
                    yield from _unknown(example, f"{here}/examples/{j}", rule, "example",
                                        "an example")
            for group in ("when", "unless"):
                patterns = item.get(group)
                for k, pattern in enumerate(patterns if isinstance(patterns, list) else ()):
                    yield from _operators(pattern, f"{here}/{group}/{k}", rule)


def _unknown(node: Mapping[str, Any], pointer: str, rule: str | None, part: str,
             label: str) -> Iterator[Found]:
    allowed, required = _keys()[part]
    for key in node:
        if key in allowed or not isinstance(key, str):
            continue
        close = difflib.get_close_matches(key, allowed, n=1)
        if close:
            missing = (f"; '{close[0]}' is required and missing"
                       if close[0] in required and close[0] not in node else "")
            yield (f"{pointer}/{key}", rule,
                   f"unknown key '{key}' in {label} (did you mean '{close[0]}'?){missing}",
                   f"rename '{key}' to '{close[0]}'")
        else:
            yield (f"{pointer}/{key}", rule, f"unknown key '{key}' in {label}",
                   f"remove '{key}'; {label} takes: {', '.join(allowed)} ({_SCHEMA_HELP})")


def _operators(pattern: Any, pointer: str, rule: str | None) -> Iterator[Found]:
    """Unknown operators in the conditions of one pattern (``{alias: {fact: T, ...}}``)."""
    if not (isinstance(pattern, Mapping) and len(pattern) == 1):
        return
    ((alias, spec),) = pattern.items()
    if not isinstance(spec, Mapping):
        return
    here = f"{pointer}/{alias}"
    groups: list[tuple[str, Mapping[str, Any]]] = [(here, spec)]
    alternatives = spec.get("any")
    if isinstance(alternatives, Sequence) and not isinstance(alternatives, str):
        groups += [(f"{here}/any/{j}", group) for j, group in enumerate(alternatives)
                   if isinstance(group, Mapping)]
    for where, conditions in groups:
        for name, condition in conditions.items():
            if name in ("fact", "any") or not isinstance(condition, Mapping):
                continue
            for op in condition:
                if op in OPERATORS:
                    continue
                close = difflib.get_close_matches(str(op), OPERATORS, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                yield (f"{where}/{name}/{op}", rule,
                       f"unknown operator '{op}' in the condition on '{name}'{hint}; valid "
                       f"operators: {', '.join(OPERATORS)}",
                       f"use one of {', '.join(OPERATORS)} (`kpo-rules docs rule-files`, "
                       "\"Patterns and conditions\")")
