"""``kpo-rules plugin new``: a third-party plugin package that passes its own tests.

The package is built from the templates in ``templates/`` (package data): ``common/`` for
every plugin, plus ``country/`` or ``domain/``. ``{{ name }}`` placeholders are filled from a
:class:`Plan`; ``__package__``, ``__lc__`` and ``__domain__`` in paths likewise. Everything a
plan derives (import name, entry-point name, rule prefix, country) is checked against the
installed plugins first, so a fresh scaffold also passes ``kpo-rules plugin check``.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from kpo_rules._version import __version__
from kpo_rules.errors import UsageError
from kpo_rules.hookspecs import HOOK_API_VERSION

if TYPE_CHECKING:
    from kpo_rules.plugin_api import DataFile
    from kpo_rules.plugins import PluginSet
    from kpo_rules.scaffold.countries import Country

KINDS = ("country", "domain")
#: Rule-id prefixes no plugin may own: the core's own findings use them.
RESERVED_PREFIXES = frozenset({"KPO"})
PREFIX = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")
# PEP 508 names (https://packaging.python.org/en/latest/specifications/name-normalization/).
_DIST_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_COUNTRY_IN_NAME = re.compile(r"(?:^|[-_.])country[-_.]([a-z]{2})$", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_OTHER_LANGUAGES = ("de", "fr", "es", "it")


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What ``plugin new`` will write, decided and checked before a file is touched."""

    name: str  # distribution name, also the directory
    kind: str  # "country" | "domain"
    import_name: str
    entry_name: str  # the plugin's name: its kpo_rules entry point
    prefix: str  # rule-id prefix
    variables: Mapping[str, str]


def plan(name: str, kind: str | None = None, *, country: str | None = None,
         prefix: str | None = None, installed: PluginSet | None = None,
         today: dt.date | None = None) -> Plan:
    """Decide names, prefix and content of plugin ``name``; raises UsageError with the fix.

    ``kind`` defaults to ``country`` for names like ``kpo-country-nl``, else ``domain``.
    """
    if not _DIST_NAME.match(name):
        raise UsageError(f"'{name}' is not a valid distribution name: use letters, digits, "
                         "'-', '_' and '.', starting and ending with a letter or digit "
                         "(e.g. kpo-country-nl)")
    import_name = re.sub(r"[-_.]+", "_", name).lower()
    if not import_name.isidentifier() or import_name[0].isdigit():
        raise UsageError(f"'{name}' does not give a Python import name ('{import_name}'); "
                         "start it with a letter (e.g. kpo-country-nl)")
    entry_name = re.sub(r"^kpo_(rules_)?", "", import_name) or import_name
    match = _COUNTRY_IN_NAME.search(name)
    kind = kind or ("country" if match or country else "domain")
    if kind not in KINDS:
        raise UsageError(f"unknown kind '{kind}'; choose from {', '.join(KINDS)}")
    if installed is None:
        from kpo_rules.plugins import create_plugin_set  # noqa: PLC0415

        installed = create_plugin_set()
    _check_free(import_name, entry_name, installed)
    common = {
        "name": name, "kind": kind, "import_name": import_name, "entry_name": entry_name,
        "hook_api": str(HOOK_API_VERSION), "as_of": (today or dt.date.today()).isoformat(),
        "kpo_requirement": "kpo-rules>=" + ".".join(__version__.split(".")[:2]),
    }
    if kind == "country":
        code = country or (match.group(1) if match else None)
        if code is None:
            raise UsageError(f"cannot tell the country from '{name}': name the plugin like "
                             "kpo-country-nl, or pass --country NL")
        from kpo_rules.scaffold.countries import country as country_facts  # noqa: PLC0415

        facts = country_facts(code)
        variables = _country_variables(facts, prefix or facts.code, installed)
    else:
        domain = re.sub(r"^domain_", "", entry_name)
        variables = _domain_variables(domain, prefix, installed)
    chosen = variables["prefix"]
    _check_prefix(chosen, installed)
    return Plan(name=name, kind=kind, import_name=import_name, entry_name=entry_name,
                prefix=chosen, variables={**common, **variables})


def _check_free(import_name: str, entry_name: str, installed: PluginSet) -> None:
    owner = md.packages_distributions().get(import_name)
    if owner:
        raise UsageError(f"the import name '{import_name}' is already taken by the installed "
                         f"distribution {owner[0]}; choose another plugin name")
    if import_name == "kpo_rules" or entry_name in installed.names():
        raise UsageError(f"a plugin named '{entry_name}' is already installed "
                         "(`kpo-rules plugins`); choose another plugin name")


def _owned_prefixes(installed: PluginSet) -> dict[str, str]:
    from kpo_rules.plugin_api import PluginMeta  # noqa: PLC0415

    owners: dict[str, str] = {}
    for impl in installed.hook.kpo_plugin_meta.get_hookimpls():
        meta = impl.function()
        if isinstance(meta, PluginMeta):
            for owned in meta.rule_prefixes:
                owners.setdefault(owned, impl.plugin_name)
    return owners


def _check_prefix(prefix: str, installed: PluginSet) -> None:
    if not PREFIX.match(prefix):
        raise UsageError(f"rule prefix '{prefix}' must be 2-8 capital letters or digits, "
                         "starting with a letter (e.g. NL, INS)")
    owner = "the kpo-rules core" if prefix in RESERVED_PREFIXES else next(
        (f"plugin '{p}'" for p in [_owned_prefixes(installed).get(prefix)] if p), None)
    if owner:
        raise UsageError(f"rule prefix '{prefix}' is already owned by {owner}; "
                         "pass --prefix with one of your own")


def _catalogue_owner(installed: PluginSet, key: str) -> str | None:
    from kpo_rules.content import load_content  # noqa: PLC0415

    return load_content(installed).catalogue.owners.get(key)


def _flow(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def _country_variables(facts: Country, prefix: str, installed: PluginSet) -> dict[str, str]:
    from kpo_rules.scaffold.countries import language_names  # noqa: PLC0415

    owner = _catalogue_owner(installed, f"countries:{facts.code}")
    if owner:
        raise UsageError(f"country {facts.code} is already covered by the installed plugin "
                         f"'{owner}'; a country has one profile")
    languages = list(facts.languages)
    allowed = [*languages, *([] if "en" in languages else ["en"])]
    other = next(code for code in _OTHER_LANGUAGES if code not in allowed)
    staff = [f"{{code: {code}, level: C1}}" for code in dict.fromkeys([languages[0], "en"])]
    references = {
        "eu_gdpr": "GDPR (Regulation (EU) 2016/679) Chapter V, Art. 44-49: transfers out of "
                   "the EEA; the adequacy list is kept once, in the common plugin's eu_gdpr "
                   "regime",
        "uk_gdpr": "UK GDPR Chapter V and DPA 2018 s.17A: transfers out of the UK",
    }
    return {
        "prefix": prefix, "code": facts.code, "lc": facts.code.lower(),
        "country_name": facts.name, "country_prose": facts.prose,
        "description": f"kpo-rules country plugin for {facts.prose}",
        "languages_flow": _flow(languages),
        "languages_note": "" if facts.languages_known else
        "  # check: the scaffold does not know this country's business languages",
        "timezone": facts.timezone, "eea": "true" if facts.eea else "false",
        "regime": facts.regime,
        "dp_reference": references.get(facts.regime, f"not modelled: {facts.name}'s own "
                                       "data-transfer rules (cite them here)"),
        "staff_languages": _flow(staff), "allowed_flow": _flow(allowed),
        "allowed_text": language_names(allowed), "other_language": other,
        "other_language_name": language_names([other]),
        "rule_id": f"{prefix}-LANG-001", "subject": "invoices",
        "fail_old": json.dumps("    task: finance.billing\n"),
        "fail_new": json.dumps(f"    task: finance.billing\n    language: {other}\n"),
        "catalogue_row": f"| `src/{{{{ import_name }}}}/catalogue/profile.yaml` | the country "
                         f"profile of {facts.code} (`kpo-rules schema country`) |",
    }


def _domain_variables(domain: str, prefix: str | None, installed: PluginSet) -> dict[str, str]:
    if not re.match(r"^[a-z][a-z0-9_]*$", domain):
        raise UsageError(f"'{domain}' is not a domain name (lowercase letters, digits, '_')")
    taken = {key.split(":", 1)[1].split(".")[0] for key in _catalogue_keys(installed, "tasks")}
    if domain in taken:
        raise UsageError(f"the domain '{domain}' already has tasks from an installed plugin; "
                         "choose another plugin name")
    letters = re.sub(r"[^a-z0-9]", "", domain).upper()
    chosen = prefix or letters[:3]
    return {
        "prefix": chosen, "domain": domain, "domain_id": domain.replace("_", "-"),
        "domain_title": domain.replace("_", " ").capitalize(),
        "description": f"kpo-rules domain plugin for {domain.replace('_', ' ')} work",
        "task_id": f"{domain}.analysis", "rule_id": f"{chosen}-DEC-001", "subject": "analysis",
        "fail_old": json.dumps("    decision_level: reviewer\n"),
        "fail_new": json.dumps("    decision_level: decision_maker\n"),
        "catalogue_row": "| `src/{{ import_name }}/catalogue/tasks.yaml` | the task catalogue "
                         "(`kpo-rules schema tasks`) |",
    }


def _catalogue_keys(installed: PluginSet, table: str) -> list[str]:
    from kpo_rules.content import load_content  # noqa: PLC0415

    owners = load_content(installed).catalogue.owners
    return [key for key in owners if key.startswith(f"{table}:")]


def _templates(kind: str) -> Iterator[tuple[str, DataFile]]:
    """``(relative path, template)`` of every file of a ``kind`` plugin."""

    def walk(node: DataFile, prefix: str) -> Iterator[tuple[str, DataFile]]:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.is_dir():
                if child.name != "__pycache__":
                    yield from walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".tmpl"):
                yield f"{prefix}{child.name.removesuffix('.tmpl')}", child

    root = files(__package__) / "templates"
    for part in ("common", kind):
        yield from walk(root / part, "")


def fill(text: str, variables: Mapping[str, str]) -> str:
    """Replace every ``{{ name }}``; a name without a value is a bug in the templates."""

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in variables:
            raise KeyError(f"template variable '{key}' has no value")
        return fill(variables[key], variables) if "{{" in variables[key] else variables[key]

    return _PLACEHOLDER.sub(one, text)


def _path(relative: str, variables: Mapping[str, str]) -> str:
    names = {"__package__": variables["import_name"], "__lc__": variables.get("lc", ""),
             "__domain__": variables.get("domain", "")}
    parts = []
    for part in relative.split("/"):
        named = re.sub("|".join(names), lambda m: names[m.group(0)], part)
        parts.append("." + named if named == "gitignore" else named)
    return "/".join(parts)


def write(chosen: Plan, parent: Path) -> list[Path]:
    """Create ``parent/NAME`` with every file of the plan; refuses an existing directory."""
    target = parent / chosen.name
    if target.exists():
        raise UsageError(f"{target} already exists; remove it or pass --dir with another "
                         "parent directory")
    written = []
    for relative, template in _templates(chosen.kind):
        path = target / _path(relative, chosen.variables)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fill(template.read_text(encoding="utf-8"), chosen.variables),
                        encoding="utf-8")
        written.append(path)
    return written
