"""The JSON Schema of ``kpo-rules staff --format json`` (``kpo-rules schema staffing``)."""

from __future__ import annotations

from typing import Any

from kpo_rules.model import CATEGORIES

Schema = dict[str, Any]


def _obj(description: str, properties: dict[str, Schema]) -> Schema:
    return {"type": "object", "description": description, "required": list(properties),
            "properties": properties, "additionalProperties": False}


def _text(description: str) -> Schema:
    return {"type": "string", "description": description}


def _count(description: str) -> Schema:
    return {"type": "integer", "minimum": 0, "description": description}


def _list(description: str, items: Schema) -> Schema:
    return {"type": "array", "description": description, "items": items}


def _nullable(schema: Schema) -> Schema:
    return {**schema, "type": [schema["type"], "null"]}


def staffing_schema(schema_id: str) -> Schema:
    finding = _obj("A finding a check would report: what it is and why, not where.", {
        "rule": _text("The rule id (`kpo-rules rules show ID`)."),
        "severity": {"enum": ["error", "warning", "info"],
                     "description": "error: a check of the assignment would fail on it."},
        "category": {"enum": list(CATEGORIES), "description": "The rule's category."},
        "message": _text("What is wrong, naming the staff member and the service."),
        "remediation": _text("How to fix it."),
        "references": _list("The sources the rule rests on.", _text("A citation.")),
    })
    entry = _obj("A staff member judged as the service's only assignee.", {
        "staff": _text("Staff id."),
        "name": _nullable(_text("Full name, when the staff entry gives one.")),
        "roster": _nullable(_text("The roster (metadata.id) defining them; null: inline "
                                  "in the engagement.")),
        "file": _text("The file defining them."),
        "line": _count("The line of their id in that file."),
        "blocking": _count("Errors among their findings: 0 for a candidate."),
        "findings": _list("Their staff-level findings if assigned, most severe first "
                          "(the service's conditions are not repeated here).",
                          {"$ref": "#/$defs/finding"}),
    })
    service = _obj("Who could staff one service.", {
        "engagement": _text("The engagement's metadata.id ('described' for a service "
                            "described on the command line)."),
        "service": _text("The service's id."),
        "task": _text("The service's task."),
        "file": _text("The engagement file, or '(described service)'."),
        "line": _count("The line of the service's id in that file."),
        "considered": _count("Staff judged: the engagement's inline staff and every roster "
                             "member."),
        "staffable": {"type": "boolean",
                      "description": "Whether anyone considered is a candidate."},
        "candidate_count": _count("Staff with no blocking finding."),
        "near_miss_count": _count("Staff with blocking findings."),
        "candidates": _list("Staff with no blocking finding, fewest findings first, then by "
                            "id (at most the limit).", {"$ref": "#/$defs/entry"}),
        "near_misses": _list("Staff with blocking findings, fewest first, then by id (at "
                             "most the limit).", {"$ref": "#/$defs/entry"}),
        "conditions": _list("What the service draws whoever is assigned: no assignment "
                            "changes these.", {"$ref": "#/$defs/finding"}),
    })
    problem = _obj("A file that could not be read or is not valid.", {
        "file": _text("The file."),
        "line": _count("Line."),
        "column": _count("Column."),
        "rule": _text("KPO-SYN-001, KPO-SCH-001, ..."),
        "message": _text("What is wrong."),
    })
    failure = _obj("A plugin that failed to load: its rules did not judge anyone.", {
        "name": _text("Plugin name."),
        "distribution": _nullable(_text("Distribution.")),
        "error": _text("Why."),
    })
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "title": "kpo-rules staffing answer",
        "description": "Output of `kpo-rules staff --format json`: per service, the staff who "
                       "could be assigned to it (candidates), those who nearly could with "
                       "what would stop them (near misses), and its conditions.",
        **_obj("The answer.", {
            "services": _list("One entry per service queried.", {"$ref": "#/$defs/service"}),
            "problems": _list("Files whose staff and services are not in the answer.",
                              problem),
            "limit": _nullable(_count("The most staff listed per service in each list; "
                                      "null: everyone (--all).")),
            "plugin_failures": _list("Plugins that failed to load.", failure),
        }),
        "$defs": {"finding": finding, "entry": entry, "service": service},
    }
