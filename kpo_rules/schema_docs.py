"""The field reference of the engagement file format, generated from the JSON Schemas.

Every field of a schema becomes one row, ``services[].data.personal_data``, with its
kind of value, whether it is required, the schema's description, and an example taken
from a complete example document (``docs/examples/engagement.yaml``), so the reference
cannot drift from what the validator accepts: a test regenerates it and compares.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: Shown in the example column of a field whose value is a mapping or a list of mappings.
SEE_BELOW = "(fields below)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """One field of a document kind."""

    path: str  # services[].data.personal_data; <domain> stands for a key the user picks
    kind: str
    required: bool
    description: str
    container: bool  # a mapping or a list of mappings: its fields have rows of their own


def fields(schema: Mapping[str, Any]) -> list[Field]:
    """Every field of ``schema``, parents before their children, in schema order."""
    return list(_Walker(schema.get("$defs", {})).object(schema, ""))


class _Walker:
    def __init__(self, defs: Mapping[str, Any]) -> None:
        self.defs = defs

    def resolve(self, node: Mapping[str, Any]) -> dict[str, Any]:
        """``node`` with its ``$ref`` chain merged in; the referring node's keys win."""
        merged = dict(node)
        while "$ref" in merged:
            target = self.defs[merged.pop("$ref").rsplit("/", 1)[-1]]
            merged = {**target, **merged}
        return merged

    def object(self, node: Mapping[str, Any], prefix: str) -> Iterator[Field]:
        required = set(node.get("required", ()))
        for name, raw in node.get("properties", {}).items():
            yield from self.field(f"{prefix}.{name}" if prefix else name, raw, name in required)

    def field(self, path: str, raw: Mapping[str, Any], required: bool) -> Iterator[Field]:
        node = self.resolve(raw)
        inner = self.children(path, node)
        yield Field(path=path, kind=self.kind(node), required=required,
                    description=str(node.get("description", "")), container=inner is not None)
        if inner is not None:
            yield from inner

    def children(self, path: str, node: dict[str, Any]) -> Iterator[Field] | None:
        if "properties" in node:
            return self.object(node, path)
        values = node.get("additionalProperties")
        if isinstance(values, dict) and self.resolve(values).get("type") != "string":
            return self.field(f"{path}.<{self._key_name(node, 'key')}>", values, False)
        if node.get("type") == "array":
            items = self.resolve(node.get("items", {}))
            if "properties" in items:
                return self.object(items, f"{path}[]")
        return None

    def _key_name(self, node: Mapping[str, Any], default: str) -> str:
        ref = str(node.get("propertyNames", {}).get("$ref", ""))
        name = ref.rsplit("/", 1)[-1].removesuffix("Name")
        return name or default

    def kind(self, node: Mapping[str, Any]) -> str:
        from kpo_rules.schemas import PATTERN_HINTS  # noqa: PLC0415

        if "const" in node:
            return f"always `{node['const']}`"
        if "enum" in node:
            return "one of " + ", ".join(f"`{value}`" for value in node["enum"])
        kind = node.get("type")
        if kind == "array":
            items = self.resolve(node.get("items", {}))
            what = "mappings" if "properties" in items else self.kind(items)
            least = node.get("minItems", 0)
            return f"list of {what}" + (f" (at least {least})" if least else "")
        if kind == "object":
            values = node.get("additionalProperties")
            if isinstance(values, dict):
                return f"mapping of {self._key_name(node, 'key')} to " \
                       f"{self.kind(self.resolve(values))}"
            return "mapping"
        if kind == "string":
            if node.get("format") == "date":
                return "a date YYYY-MM-DD"
            pattern = node.get("pattern")
            if pattern:
                return PATTERN_HINTS.get(pattern, f"text matching `{pattern}`")
            return "text"
        if kind == "boolean":
            return "`true` or `false`"
        if kind in ("number", "integer"):
            bounds = [f"{word} {node[key]}" for key, word in (("minimum", "at least"),
                                                              ("maximum", "at most"))
                      if key in node]
            noun = "a whole number" if kind == "integer" else "a number"
            return noun + (f", {' and '.join(bounds)}" if bounds else "")
        return "any value"


def example_of(document: Any, path: str) -> tuple[bool, Any]:
    """``(found, value)`` of ``path`` in ``document``: the first list item or mapping key
    that has it."""
    values = [document]
    for step in path.replace("[]", ".[]").split("."):
        found: list[Any] = []
        for value in values:
            if step == "[]" and isinstance(value, list):
                found += value
            elif step.startswith("<") and isinstance(value, dict):
                found += list(value.values())
            elif isinstance(value, dict) and step in value:
                found.append(value[step])
        values = found
    return (True, values[0]) if values else (False, None)


def _inline(value: Any) -> str:
    import json  # noqa: PLC0415

    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = str(value)
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = json.dumps(value, ensure_ascii=False, default=str).replace('"', "")
    return f"`{text}`".replace("|", "\\|")


def field_table(schema: Mapping[str, Any], example: Any) -> str:
    """The Markdown table of every field of ``schema``, with examples from ``example``.

    :raises LookupError: a field that is not a container has no value in ``example``.
    """
    rows = ["| Field | Required | Value | Meaning | Example |", "|---|---|---|---|---|"]
    missing = []
    for f in fields(schema):
        found, value = example_of(example, f.path)
        if f.container:
            shown = SEE_BELOW
        elif found:
            shown = _inline(value)
        else:
            missing.append(f.path)
            continue
        cells = [f"`{f.path}`", "yes" if f.required else "", f.kind.replace("|", "\\|"),
                 f.description.replace("|", "\\|"), shown]
        rows.append("| " + " | ".join(cells) + " |")
    if missing:
        raise LookupError(", ".join(missing))
    return "\n".join(rows) + "\n"
