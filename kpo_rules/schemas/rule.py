"""JSON Schema of rule files (``kind: RuleFile``), the form plugin authors write.

The schema checks shape; :mod:`kpo_rules.engine.rulefile` checks meaning
(aliases, fact fields, templates) with the offending line.
"""

from __future__ import annotations

from typing import Any

from kpo_rules.model import CATEGORIES

Schema = dict[str, Any]

RULE_ID = "^[A-Z][A-Z0-9]{1,7}(-[A-Z0-9]{2,8})*-[0-9]{3}$"
ALIAS = "^[a-z][a-z0-9_]*$"
DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _text(description: str) -> Schema:
    return {"type": "string", "minLength": 1, "description": description}


def _operand() -> Schema:
    return {
        "description": "A literal, or '$alias.field' to compare with a fact bound earlier.",
        "type": ["string", "number", "boolean"],
    }


def _condition_value() -> Schema:
    literal_list = {
        "type": "array",
        "items": {"type": ["string", "number", "boolean"]},
        "minItems": 1,
    }
    return {
        "description": "A literal or $alias.field (equality), or one or more operators.",
        "oneOf": [
            _operand(),
            {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": False,
                "properties": {
                    "eq": _operand(),
                    "ne": _operand(),
                    "lt": _operand(),
                    "lte": _operand(),
                    "gt": _operand(),
                    "gte": _operand(),
                    "in": literal_list,
                    "not_in": literal_list,
                    "exists": {"type": "boolean"},
                    "contains": {
                        "type": ["string", "number", "boolean"],
                        "description": "The list field holds this literal.",
                    },
                    "not_contains": {
                        "type": ["string", "number", "boolean"],
                        "description": "The list field is absent or empty, or does not hold "
                        "this literal.",
                    },
                },
            },
        ],
    }


def _pattern() -> Schema:
    conditions = {
        "type": "object",
        "propertyNames": {"pattern": ALIAS},
        "additionalProperties": {"$ref": "#/$defs/conditionValue"},
    }
    return {
        "description": "{alias: {fact: TYPE, field: condition, ...}}: one fact the rule matches.",
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "propertyNames": {"pattern": ALIAS},
        "additionalProperties": {
            "type": "object",
            "required": ["fact"],
            "properties": {
                "fact": {"type": "string", "pattern": ALIAS, "description": "Fact type."},
                "any": {
                    "type": "array",
                    "minItems": 2,
                    "items": conditions,
                    "description": "Alternatives: at least one group of conditions holds.",
                },
            },
            "propertyNames": {"pattern": ALIAS},
            "additionalProperties": {"$ref": "#/$defs/conditionValue"},
        },
    }


def _example() -> Schema:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["expect"],
        "properties": {
            "expect": {"enum": ["pass", "fail"]},
            "name": _text("What the example shows."),
            "base": {"type": "string", "description": "Name of an engagement in 'bases:'."},
            "patch": {"type": "object", "description": "RFC 7386 merge patch over the base."},
            "document": {"type": "object", "description": "A whole Engagement document."},
            "rules": {
                "type": "array",
                "items": {"type": "string", "pattern": RULE_ID},
                "description": "Ids that must (fail) or must not (pass) be reported; "
                "default: this rule.",
            },
        },
        "oneOf": [{"required": ["base"]}, {"required": ["document"]}],
    }


def _rule() -> Schema:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id",
            "category",
            "severity",
            "basis",
            "title",
            "checks",
            "why",
            "message",
            "remediation",
            "references",
            "when",
            "examples",
        ],
        "properties": {
            "id": {
                "type": "string",
                "pattern": RULE_ID,
                "description": "Plugin prefix + number, e.g. FIN-ELIG-001.",
            },
            "category": {
                "enum": [c for c in CATEGORIES if c not in ("syntax", "schema", "engine-error")]
            },
            "severity": {"enum": ["error", "warning", "info"]},
            "basis": {
                "enum": ["law", "practice"],
                "description": "Whether the rule rests on law or on practice.",
            },
            "title": _text("One line, shown in listings."),
            "checks": _text("What the rule checks (rendered as 'What it checks')."),
            "why": _text("The law or practice behind it, with its citation."),
            "message": _text("Finding message; {alias.field} reads a bound fact."),
            "remediation": _text("What to do about a finding."),
            "references": {"type": "array", "minItems": 1, "items": _text("A citation.")},
            "unverified": _text("What of the rule's grounding is not verified."),
            "effective": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "from": {"type": "string", "pattern": DATE, "format": "date"},
                    "until": {"type": "string", "pattern": DATE, "format": "date"},
                },
            },
            "when": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/pattern"}},
            "unless": {"type": "array", "items": {"$ref": "#/$defs/pattern"}},
            "report": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "at": {
                        "type": "string",
                        "pattern": ALIAS,
                        "description": "Alias whose node the finding points at.",
                    },
                    "service": {"type": "string"},
                    "staff": {"type": "string"},
                    "references": {
                        "type": "array",
                        "minItems": 1,
                        "description": "What each finding cites, when it differs per finding: "
                        "literal citations and $alias.field of a bound fact holding citations "
                        "(e.g. $reserved.references, the client country profile's). Without "
                        "it, findings cite the rule's references.",
                        "items": _text("A citation, or $alias.field."),
                    },
                },
            },
            "examples": {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/example"}},
        },
    }


def _derivation() -> Schema:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "description", "when", "fact"],
        "properties": {
            "id": {"type": "string", "pattern": RULE_ID},
            "description": _text("What the derived fact means."),
            "when": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/pattern"}},
            "unless": {"type": "array", "items": {"$ref": "#/$defs/pattern"}},
            "fact": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type", "fields"],
                "properties": {
                    "type": {"type": "string", "pattern": ALIAS},
                    "fields": {
                        "type": "object",
                        "propertyNames": {"pattern": ALIAS},
                        "additionalProperties": _operand(),
                    },
                },
            },
        },
    }


def rule_schema(schema_id: str) -> Schema:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "title": "kpo-rules rule file",
        "description": "Declarative rules of a kpo-rules plugin (kind: RuleFile).",
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "rules"],
        "properties": {
            "apiVersion": {"const": "kpo-rules/v1"},
            "kind": {"const": "RuleFile"},
            "metadata": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "title": _text("Title."),
                    "as_of": {"type": "string", "format": "date"},
                },
            },
            "bases": {
                "type": "object",
                "description": "Named engagements examples patch.",
                "additionalProperties": {"type": "object"},
            },
            "derive": {"type": "array", "items": {"$ref": "#/$defs/derivation"}},
            "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
        },
        "$defs": {
            "rule": _rule(),
            "derivation": _derivation(),
            "pattern": _pattern(),
            "conditionValue": _condition_value(),
            "example": _example(),
        },
    }
