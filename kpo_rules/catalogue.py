"""What plugins know: tasks, country profiles, credentials, frameworks, regimes.

Each plugin returns catalogue files from ``kpo_catalogue_files``; every file is
validated against the schema of its ``kind`` and merged here. An id defined by
two plugins is a definition error naming both files: one owner per id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kpo_rules.errors import RuleDefinitionError
from kpo_rules.model import Document

#: kind -> (catalogue attribute, list key in the file, id key of each entry)
_LAYOUT = {
    "TaskCatalogue": ("tasks", "tasks", "id"),
    "CredentialCatalogue": ("credentials", "credentials", "id"),
    "FrameworkCatalogue": ("frameworks", "frameworks", "id"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalogue:
    """Merged catalogue data of every loaded plugin, keyed by id."""

    tasks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    countries: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    credentials: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    frameworks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    regimes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    owners: Mapping[str, str] = field(default_factory=dict)  # "kind:id" -> plugin


class CatalogueBuilder:
    """Collects validated catalogue documents; :meth:`build` freezes them."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, Mapping[str, Any]]] = {
            "tasks": {}, "countries": {}, "credentials": {}, "frameworks": {}, "regimes": {},
        }
        self._where: dict[str, tuple[str, str, int]] = {}  # key -> (plugin, file, line)

    def add(self, doc: Document, plugin: str) -> None:
        """Merge one schema-valid catalogue document; raises on an id defined twice."""
        data = doc.data
        kind = data["kind"]
        if kind == "CountryProfile":
            self._put("countries", data["country"], data, doc, plugin, "")
        elif kind == "Regime":
            self._put("regimes", data["regime"], data, doc, plugin, "")
        else:
            table, key, id_key = _LAYOUT[kind]
            for i, entry in enumerate(data[key]):
                self._put(table, entry[id_key], entry, doc, plugin, f"/{key}/{i}")

    def _put(self, table: str, ident: str, entry: Mapping[str, Any], doc: Document,
             plugin: str, pointer: str) -> None:
        key = f"{table}:{ident}"
        line = doc.locate(pointer)[0]
        if key in self._where:
            other_plugin, other_file, other_line = self._where[key]
            raise RuleDefinitionError(
                doc.file, line, None,
                f"{table[:-1] if table != 'countries' else 'country'} '{ident}' is already "
                f"defined by plugin '{other_plugin}' ({other_file}:{other_line})",
                kind="clash", other=other_plugin,
                fix="give every catalogue id one definition: remove this entry or give it an "
                    "id of your own",
            )
        self._where[key] = (plugin, doc.file, line)
        self._tables[table][ident] = entry

    def build(self) -> Catalogue:
        t = self._tables
        return Catalogue(
            tasks=dict(t["tasks"]), countries=dict(t["countries"]),
            credentials=dict(t["credentials"]), frameworks=dict(t["frameworks"]),
            regimes=dict(t["regimes"]),
            owners={key: where[0] for key, where in self._where.items()},
        )
