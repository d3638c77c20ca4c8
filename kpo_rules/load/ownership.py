"""Is a YAML file ours? A repository also holds workflows, compose files, mkdocs.yml, Helm
templates and Kubernetes manifests: a directory walk checks only the files that declare a
kpo-rules document (``apiVersion: kpo-rules/...`` or ``kind: Engagement|Roster``).

A file that declares one but is broken is ours and reported; a file that does not parse and
shows no such declaration in its text (a Helm template, ``!!python/name`` tags) is not. Nor
is a plugin's data (rule files, catalogues: ``apiVersion: kpo-rules/v1`` too), which
``kpo-rules test`` checks; a kind that is neither (a typo) is ours, and reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

API_PREFIX = "kpo-rules/"
KINDS = frozenset({"Engagement", "Roster"})

NOT_DECLARED = "not a kpo-rules file: no document declares apiVersion kpo-rules/... or kind " \
               "Engagement or Roster"
PLUGIN_DATA = "a kpo-rules plugin's data (kind {kinds}): `kpo-rules test` checks it"
NOT_PARSED = "not a kpo-rules file: not readable YAML, and its text declares no apiVersion " \
             "kpo-rules/... or kind Engagement or Roster"

# A key at the start of a line or after '{' or ',' (flow style), its value optionally quoted.
_DECLARATION = (rb"""(?:^|[{,])[ \t]*["']?(?:apiVersion["']?[ \t]*:[ \t]*["']?kpo-rules/"""
                rb"""|kind["']?[ \t]*:[ \t]*["']?(?:Engagement|Roster)\b)""")


def declares_ours(data: Any) -> bool:
    """Whether one parsed document says it is a kpo-rules document."""
    if not isinstance(data, dict):
        return False
    api = data.get("apiVersion")
    return (isinstance(api, str) and api.startswith(API_PREFIX)) or data.get("kind") in KINDS


def why_not_ours(documents: Iterable[Any]) -> str | None:
    """Why a walked file's parsed documents are not for ``check``, or None if they are."""
    from kpo_rules.schemas.catalogue import KIND_SCHEMAS  # noqa: PLC0415

    datas = list(documents)
    if not any(declares_ours(data) for data in datas):
        return NOT_DECLARED
    plugin_kinds = {*KIND_SCHEMAS, "RuleFile"}
    kinds = {data.get("kind") if isinstance(data, dict) else None for data in datas}
    if kinds <= plugin_kinds:
        return PLUGIN_DATA.format(kinds=", ".join(sorted(str(k) for k in kinds)))
    return None


def text_declares_ours(raw: bytes) -> bool:
    """For a file that does not parse: does its text show a kpo-rules declaration?"""
    # Compiled here (re caches it): only a file that does not parse needs it.
    return re.search(_DECLARATION, raw, re.MULTILINE) is not None
