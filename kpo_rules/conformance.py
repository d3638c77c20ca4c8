"""Conformance checks of a plugin: what ``kpo-rules plugin check`` reports and what
``kpo-rules test`` runs before the examples.

The loader (:mod:`kpo_rules.content`) already refuses what would break a run: files that
fail their schema, rule ids without the plugin's prefix, duplicate ids, catalogue ids two
plugins define. Its failures are surfaced here with the fix. On top of them come the checks
that keep a plugin honest without breaking anything: metadata, documentation that is
present but blank, fail examples that never expect their own rule, catalogue entries that
cite nothing, hook implementations with default arguments (pluggy drops them silently) or
without ``@hookimpl`` (never called).
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpo_rules import hookspecs
from kpo_rules.content import Content, load_content
from kpo_rules.engine.rule_model import Rule
from kpo_rules.errors import UsageError
from kpo_rules.model import Document
from kpo_rules.plugin_api import DataFile, PluginMeta
from kpo_rules.plugins import PluginSet, create_plugin_set

#: Rule-id prefixes no plugin may own: the core's own findings use them.
RESERVED_PREFIXES = frozenset({"KPO"})
PREFIX = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")
#: What to do about a loader failure of each kind, when the failure does not say.
_FIXES = {
    "schema": "make the file match its schema: `kpo-rules schema rule` for rule files, "
              "`kpo-rules schema KIND` (country, tasks, credentials, frameworks, regime) for "
              "catalogues; `kpo-rules docs plugins` has the rule-file reference",
    "clash": "an id is defined twice in this plugin; keep one definition",
    "rule": "see `kpo-rules docs rule-files` for the patterns, facts and fields a rule may use",
}
#: Catalogue kind -> (table in Catalogue.owners, list key or None, id key, label).
_CATALOGUE = {
    "TaskCatalogue": ("tasks", "tasks", "id", "task"),
    "CredentialCatalogue": ("credentials", "credentials", "id", "credential"),
    "FrameworkCatalogue": ("frameworks", "frameworks", "id", "framework"),
    "CountryProfile": ("countries", None, "country", "country"),
    "Regime": ("regimes", None, "regime", "regime"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing a plugin author must fix: where, what, and how."""

    plugin: str
    check: str  # load, api-version, metadata, prefix, hookimpl, schema, rule-id, docs, ...
    file: str
    line: int | None
    what: str
    fix: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.where}: {self.what} [{self.check}]\n    fix: {self.fix}"

    def as_dict(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "check": self.check, "file": self.file,
                "line": self.line, "what": self.what, "fix": self.fix}


def check_plugin(plugin: object, *, name: str | None = None) -> list[Problem]:
    """Problems of one plugin, judged alongside every installed plugin.

    ``plugin`` is a source directory (:class:`~pathlib.Path`: a project with a
    ``kpo_rules`` entry point, or a package with ``plugin.py``), the name of an installed
    plugin (``str``), or a plugin module or object (registered as ``name``, by default the
    name its entry point gives it).
    """
    name, module, plugins = _resolve(plugin, name)
    checker = _Checker(plugins, load_content(plugins), {name: module} if module else {})
    return checker.check(name)


def check_plugins(plugins: PluginSet, names: Iterable[str] | None = None) -> list[Problem]:
    """Problems of the plugins ``names`` (default: every plugin, loaded or failed) of a set."""
    if names is None:
        names = [*plugins.names(), *(f.name for f in plugins.failures)]
    checker = _Checker(plugins, load_content(plugins))
    return [problem for name in dict.fromkeys(names) for problem in checker.check(name)]


def plugin_set_for(plugin: object, name: str | None = None) -> tuple[str, PluginSet]:
    """``(name, installed plugins plus plugin)`` for the forms :func:`check_plugin` takes."""
    name, _, plugins = _resolve(plugin, name)
    return name, plugins


def _resolve(plugin: object, name: str | None) -> tuple[str, object | None, PluginSet]:
    if isinstance(plugin, Path):
        from kpo_rules.local_plugin import load_local_plugin  # noqa: PLC0415

        found, module = load_local_plugin(plugin)
        name = name or found
        return name, module, create_plugin_set(extra=[(name, module)])
    if isinstance(plugin, str):
        plugins = create_plugin_set()
        known = [*plugins.names(), *(f.name for f in plugins.failures)]
        if plugin not in known:
            raise UsageError(f"no installed plugin is named '{plugin}' (installed: "
                             f"{', '.join(known) or 'none'})")
        return plugin, None, plugins
    name = name or plugin_name(plugin)
    return name, plugin, create_plugin_set(extra=[(name, plugin)])


def plugin_name(plugin: object) -> str:
    """The name kpo-rules gives ``plugin``: its ``kpo_rules`` entry point's, if it has one.

    Looked up among installed distributions, then in the ``pyproject.toml`` of the source
    tree the module lives in; else the module's package name.
    """
    import importlib.metadata as md  # noqa: PLC0415
    import types  # noqa: PLC0415

    from kpo_rules.plugins import ENTRY_POINT_GROUP  # noqa: PLC0415

    if not isinstance(plugin, types.ModuleType):
        return type(plugin).__name__.lower()
    module = plugin.__name__
    for ep in md.entry_points(group=ENTRY_POINT_GROUP):
        if ep.value.split(":")[0] == module:
            return ep.name
    file = getattr(plugin, "__file__", None)
    if file:
        for parent in list(Path(file).resolve().parents)[:4]:
            entries = _pyproject_entry_points(parent / "pyproject.toml")
            for entry, target in entries.items():
                if str(target).split(":")[0] == module:
                    return entry
    parts = module.split(".")
    return parts[-2] if len(parts) > 1 and parts[-1] == "plugin" else parts[-1]


def _pyproject_entry_points(path: Path) -> Mapping[str, Any]:
    import sys  # noqa: PLC0415

    if not path.is_file():
        return {}
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415
    else:
        import tomli as tomllib  # noqa: PLC0415
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entries = data.get("project", {}).get("entry-points", {}).get("kpo_rules", {})
    return entries if isinstance(entries, dict) else {}


def _source(obj: object) -> tuple[str, int | None]:
    """File and first line of a function or module, as far as Python knows them."""
    target: Any = getattr(obj, "__func__", obj)
    if callable(target):
        target = inspect.unwrap(target)
    try:
        file = inspect.getsourcefile(target) or "?"
    except TypeError:
        return f"({type(obj).__name__})", None
    code = getattr(target, "__code__", None)
    return file, code.co_firstlineno if code is not None else None


def _hook_names() -> list[str]:
    marker = f"{hookspecs.PROJECT}_spec"
    return [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
            if hasattr(fn, marker)]


class _Checker:
    """Runs every check of one plugin against one loaded plugin set."""

    def __init__(self, plugins: PluginSet, content: Content,
                 objects: Mapping[str, object] | None = None) -> None:
        self.plugins, self.content = plugins, content
        #: Plugin objects by name, for those that failed to register (their source file).
        self.objects = dict(objects or {})
        self._documents: dict[str, list[Document]] = {}
        self._definers: dict[str, list[str]] | None = None

    def check(self, name: str) -> list[Problem]:
        problems = list(self._load(name))
        plugin = self.plugins.manager.get_plugin(name)
        if plugin is None:
            return problems
        problems += self._meta(name, plugin)
        problems += self._hookimpls(name, plugin)
        problems += self._content_failures(name)
        problems += self._rules(name)
        problems += self._catalogues(name)
        return problems

    # ---------------------------------------------------------------- loading and metadata

    def _load(self, name: str) -> Iterator[Problem]:
        for failure in self.plugins.failures:
            if failure.name != name:
                continue
            where, line = failure.distribution or f"(plugin {name})", None
            if name in self.objects:
                obj = self.objects[name]
                where, line = _source(getattr(obj, "kpo_plugin_meta", None) or obj)
            if failure.kind == "api-version":
                yield Problem(plugin=name, check="api-version", file=where, line=line,
                              what=failure.why, fix=failure.fix)
            else:
                yield Problem(plugin=name, check="load", file=where, line=line,
                              what=f"the plugin failed to load: {failure.error}",
                              fix="fix the error; hook names and signatures are in "
                                  "`kpo-rules docs plugins` (`kpo-rules plugins` shows load "
                                  "errors)")

    def _meta(self, name: str, plugin: object) -> Iterator[Problem]:
        impls = [i for i in self.plugins.hook.kpo_plugin_meta.get_hookimpls()
                 if i.plugin_name == name]
        if not impls:
            file, _ = _source(plugin)
            yield Problem(plugin=name, check="metadata", file=file, line=None,
                          what="the plugin has no kpo_plugin_meta hook: kpo-rules cannot tell "
                               "its hook API version, rule prefixes or facts date",
                          fix="add `@hookimpl def kpo_plugin_meta(): return PluginMeta("
                              "api_version=HOOK_API_VERSION, rule_prefixes=(...), "
                              "facts_as_of='YYYY-MM-DD', description='...')`")
            return
        file, line = _source(impls[0].function)
        meta = impls[0].function()
        if not isinstance(meta, PluginMeta):  # registration refuses this; kept for safety
            return

        def problem(check: str, what: str, fix: str) -> Problem:
            return Problem(plugin=name, check=check, file=file, line=line, what=what, fix=fix)

        if not meta.description.strip():
            yield problem("metadata", "PluginMeta.description is empty",
                          "describe the plugin in one line, e.g. 'Country plugin: Netherlands'")
        ships = self._files(name, "kpo_rule_files") + self._files(name, "kpo_catalogue_files")
        if ships and not meta.facts_as_of:
            yield problem("metadata", "PluginMeta.facts_as_of is not set",
                          "set facts_as_of='YYYY-MM-DD': the date the facts in the plugin's "
                          "files were last checked (`kpo-rules plugins` shows it)")
        elif meta.facts_as_of and not _is_date(meta.facts_as_of):
            yield problem("metadata", f"PluginMeta.facts_as_of '{meta.facts_as_of}' is not a "
                                      "date", "write it as YYYY-MM-DD")
        if self._files(name, "kpo_rule_files") and not meta.rule_prefixes:
            yield problem("prefix", "the plugin ships rule files but owns no rule-id prefix",
                          "set PluginMeta(rule_prefixes=('XX',)) and start every rule id "
                          "with 'XX-'")
        owners = self._prefix_owners()
        for prefix in meta.rule_prefixes:
            if not PREFIX.match(prefix):
                yield problem("prefix", f"rule prefix '{prefix}' is not 2-8 capital letters or "
                                        "digits starting with a letter",
                              "choose a prefix like NL or INS (rule ids: NL-LANG-001)")
            elif prefix in RESERVED_PREFIXES:
                yield problem("prefix", f"rule prefix '{prefix}' is reserved for the kpo-rules "
                                        "core", "choose a prefix of your own")
            elif owners.get(prefix, name) != name:
                owner = owners[prefix]
                yield problem("clash", f"rule prefix '{prefix}' is already owned by plugin "
                                       f"'{owner}'{self._from(owner)}",
                              "choose a prefix of your own in PluginMeta.rule_prefixes and "
                              "rename the rule ids; one plugin owns each prefix")

    def _prefix_owners(self) -> dict[str, str]:
        # Registration order, as the loader uses: the first plugin to claim a prefix owns it.
        owners: dict[str, str] = {}
        for impl in self.plugins.hook.kpo_plugin_meta.get_hookimpls():
            meta = impl.function()
            for prefix in meta.rule_prefixes if isinstance(meta, PluginMeta) else ():
                owners.setdefault(prefix, impl.plugin_name)
        return owners

    def _from(self, plugin: str) -> str:
        info = next((i for i in self.plugins.infos if i.name == plugin), None)
        return f" (distribution {info.distribution})" if info and info.distribution else ""

    def _files(self, name: str, hook: str) -> list[DataFile]:
        for impl in getattr(self.plugins.hook, hook).get_hookimpls():
            if impl.plugin_name == name:
                try:
                    return list(impl.function() or ())
                except Exception:  # noqa: BLE001 - the loader reports it as a failure
                    return []
        return []

    def _hookimpls(self, name: str, plugin: object) -> Iterator[Problem]:
        callers = self.plugins.manager.get_hookcallers(plugin) or []
        for caller in callers:
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                file, line = _source(impl.function)
                for param in inspect.signature(impl.function).parameters.values():
                    if param.default is not inspect.Parameter.empty:
                        yield Problem(
                            plugin=name, check="hookimpl", file=file, line=line,
                            what=f"hook implementation {caller.name}() gives '{param.name}' a "
                                 "default value, which pluggy never passes through",
                            fix=f"remove the default from '{param.name}': kpo-rules calls "
                                "every hook with all its arguments, by keyword")
        implemented = {caller.name for caller in callers}
        for hook in _hook_names():
            function = getattr(plugin, hook, None)
            if callable(function) and hook not in implemented:
                file, line = _source(function)
                yield Problem(plugin=name, check="hookimpl", file=file, line=line,
                              what=f"{hook} is not marked @hookimpl, so kpo-rules never calls it",
                              fix="decorate it with @kpo_rules.hookimpl")

    # ---------------------------------------------------------------- content

    def _content_failures(self, name: str) -> Iterator[Problem]:
        for failure in self.content.failures:
            if failure.name != name:
                continue
            if failure.other not in (None, name):
                continue  # reported with every clash by _catalogues and _meta
            if failure.file is None:  # a hook that raised: no file to point at
                yield Problem(plugin=name, check=failure.kind, file=f"(plugin {name})",
                              line=None, what=failure.why or failure.error,
                              fix=failure.fix or "make the hook return its files")
                continue
            why = failure.why or failure.error
            yield Problem(plugin=name, check=failure.kind, file=failure.file, line=failure.line,
                          what=f"rule {failure.rule}: {why}" if failure.rule else why,
                          fix=failure.fix or _FIXES.get(failure.kind, _FIXES["rule"]))

    def _rules(self, name: str) -> Iterator[Problem]:
        for rule in self.content.rules.rules:
            if rule.plugin != name:
                continue

            def problem(check: str, what: str, fix: str, line: int, rule: Rule = rule
                        ) -> Problem:
                return Problem(plugin=name, check=check, file=rule.file, line=line,
                               what=f"rule {rule.id}: {what}", fix=fix)

            for section in ("title", "checks", "why", "remediation"):
                if not str(getattr(rule, section)).strip():
                    yield problem("docs", f"'{section}' is blank",
                                  f"write it: `kpo-rules rules show {rule.id}` renders it",
                                  rule.line)
            if "\n" in rule.title.strip():
                yield problem("docs", "the title is more than one line",
                              "keep the title to one line; details go in 'checks'", rule.line)
            if not any(ref.strip() for ref in rule.references):
                yield problem("references", "no reference cites what the rule rests on",
                              "add references: the statute and section, regulator guidance "
                              "with its date, or 'practice: ...'", rule.line)
            for expect, verb in (("fail", "is reported"), ("pass", "is not reported")):
                if not any(e.expect == expect and rule.id in e.rules for e in rule.examples):
                    yield problem("examples", f"no '{expect}' example checks that {rule.id} "
                                              f"{verb}",
                                  f"add an example with expect: {expect} whose 'rules' include "
                                  f"{rule.id} (the default)", rule.line)
        for derivation in self.content.rules.derivations:
            if derivation.plugin == name and not derivation.description.strip():
                yield Problem(plugin=name, check="docs", file=derivation.file,
                              line=derivation.line,
                              what=f"derivation {derivation.id}: 'description' is blank",
                              fix="say what the derived fact means")

    def _catalogue_documents(self, name: str) -> list[Document]:
        from kpo_rules.errors import YamlSyntaxError  # noqa: PLC0415
        from kpo_rules.load.yaml12 import parse_yaml  # noqa: PLC0415

        if name not in self._documents:
            found = []
            for file in self._files(name, "kpo_catalogue_files"):
                try:
                    found += parse_yaml(file.read_bytes(), str(file))
                except (OSError, YamlSyntaxError):
                    continue  # the loader reports it
            self._documents[name] = [d for d in found if isinstance(d.data, dict)
                                     and d.data.get("kind") in _CATALOGUE]
        return self._documents[name]

    def definers(self) -> dict[str, list[str]]:
        """``table:id`` -> every plugin that defines it, whichever the loader let win."""
        if self._definers is None:
            self._definers = {}
            for plugin in self.plugins.names():
                for doc in self._catalogue_documents(plugin):
                    for key, _, _ in _entries(doc):
                        self._definers.setdefault(key, []).append(plugin)
        return self._definers

    def _catalogues(self, name: str) -> Iterator[Problem]:
        for doc in self._catalogue_documents(name):
            yield from _catalogue_document(name, doc, self.definers(), self._from)
            if doc.data["kind"] == "CountryProfile" and doc.data.get("profile") == "full":
                yield from self._frameworks(name, doc)

    def _frameworks(self, name: str, doc: Document) -> Iterator[Problem]:
        """A full profile names a framework id for every kind a loaded task asks for, and
        each id it names is defined: else COM-REG-001 asks staff for a framework nobody can
        list (or one that gives KPO-REF-009), and no engagement can fix the finding."""
        from kpo_rules.engine.rulefile import did_you_mean  # noqa: PLC0415

        own = [d.data for d in self._catalogue_documents(name)]
        tasks = {**self.content.catalogue.tasks, **{
            t["id"]: t for d in own if d["kind"] == "TaskCatalogue" for t in d["tasks"]}}
        defined = {*self.content.catalogue.frameworks, *(
            f["id"] for d in own if d["kind"] == "FrameworkCatalogue" for f in d["frameworks"])}
        code = str(doc.data["country"]).lower()
        listed = [f for f in doc.data.get("frameworks") or () if isinstance(f, str)]
        asked: dict[str, list[str]] = {}
        for task_id, task in sorted(tasks.items()):
            if isinstance(task.get("framework"), str):
                asked.setdefault(task["framework"], []).append(task_id)
        line = doc.locate("/frameworks")[0]
        for kind, by in sorted(asked.items()):
            wanted = f"{code}.{kind}"
            if wanted in listed:
                continue
            shown = ", ".join(by[:3]) + (f" and {len(by) - 3} more" if len(by) > 3 else "")
            yield Problem(
                plugin=name, check="frameworks", file=doc.file, line=line,
                what=f"the full profile of {doc.data['country']} lists no '{kind}' framework "
                     f"({wanted}), which tasks ask for ({shown}): COM-REG-001 would report "
                     "every assignee of such a service, and no engagement could fix it",
                fix=f"define {wanted} in a FrameworkCatalogue of this plugin and list it in "
                    "the profile's frameworks (a full profile needs one per kind: "
                    f"{', '.join(sorted(asked))}), or make the profile basic")
        for i, framework in enumerate(listed):
            if framework not in defined:
                yield Problem(
                    plugin=name, check="frameworks", file=doc.file,
                    line=doc.locate(f"/frameworks/{i}")[0],
                    what=f"the profile lists framework '{framework}', which no loaded plugin "
                         f"defines{did_you_mean(framework, defined)}: staff who list it get "
                         "KPO-REF-009",
                    fix=f"define {framework} in a FrameworkCatalogue of this plugin "
                        "(`kpo-rules schema frameworks`), or correct the id")


def _entries(doc: Document) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """``(table:id, pointer, entry)`` of each identified entry of a catalogue document."""
    table, list_key, id_key, _ = _CATALOGUE[doc.data["kind"]]
    items = (enumerate(doc.data.get(list_key) or []) if list_key else [(None, doc.data)])
    for i, entry in items:
        if isinstance(entry, dict) and isinstance(entry.get(id_key), str):
            yield f"{table}:{entry[id_key]}", f"/{list_key}/{i}" if list_key else "", entry


def _catalogue_document(name: str, doc: Document, definers: Mapping[str, list[str]],
                        dist: Callable[[str], str]) -> Iterator[Problem]:
    kind = doc.data["kind"]
    _, _, id_key, label = _CATALOGUE[kind]

    def problem(check: str, pointer: str, what: str, fix: str) -> Problem:
        return Problem(plugin=name, check=check, file=doc.file, line=doc.locate(pointer)[0],
                       what=what, fix=fix)

    meta = doc.data.get("metadata")
    if not (isinstance(meta, dict) and meta.get("as_of")):
        yield problem("metadata", "/metadata", f"{kind} has no metadata.as_of",
                      "add as_of: YYYY-MM-DD, the date its facts were last checked")
    for key, pointer, entry in _entries(doc):
        ident = key.split(":", 1)[1]
        others = [p for p in definers.get(key, ()) if p != name]
        if others:
            yield problem("clash", pointer or f"/{id_key}",
                          f"{label} '{ident}' is already defined by plugin '{others[0]}'"
                          f"{dist(others[0])}",
                          f"remove the entry or give it an id of your own: every {label} id "
                          "has one owner (extend another plugin's data in that plugin)")
        yield from _references(kind, label, ident, pointer, entry, problem)


def _references(kind: str, label: str, ident: str, pointer: str, entry: Mapping[str, Any],
                problem: Callable[[str, str, str, str], Problem]) -> Iterator[Problem]:
    fix = ("add references: the statute and section, regulator guidance with its date, or "
           "'practice: ...'")

    def cited(node: Any) -> bool:
        refs = node.get("references") if isinstance(node, Mapping) else None
        return isinstance(refs, list) and any(isinstance(r, str) and r.strip() for r in refs)

    if kind == "CountryProfile":
        protection = entry.get("data_protection")
        if isinstance(protection, Mapping) and not cited(protection):
            yield problem("references", "/data_protection",
                          f"the data-protection regime of {label} '{ident}' cites nothing", fix)
        elif not cited(entry) and not cited(protection):
            yield problem("references", "", f"the profile of {label} '{ident}' cites nothing",
                          fix)
        for i, reserved in enumerate(entry.get("reserved") or []):
            if not cited(reserved):
                yield problem("references", f"/reserved/{i}",
                              f"reserved activity {i} of {label} '{ident}' cites nothing", fix)
    elif kind == "Regime":
        for i, adequacy in enumerate(entry.get("adequacy") or []):
            if not cited(adequacy):
                yield problem("references", f"/adequacy/{i}",
                              f"adequacy entry {i} of regime '{ident}' cites nothing", fix)
    elif not cited(entry):
        yield problem("references", pointer, f"{label} '{ident}' cites nothing", fix)


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
