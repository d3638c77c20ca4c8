"""Read what every plugin contributes: catalogue files and rule files.

Provenance matters (which plugin shipped this rule?) and pluggy does not keep
it (pluggy #235), so each hook implementation is called on its own through
``get_hookimpls``. A broken file becomes a recorded failure with its file,
line, rule and kind as fields; that plugin contributes nothing, the other plugins' content
still loads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kpo_rules import shipped_content
from kpo_rules.catalogue import Catalogue, CatalogueBuilder
from kpo_rules.engine.rule_model import Derivation, Rule, RuleBook
from kpo_rules.errors import RuleDefinitionError, YamlSyntaxError
from kpo_rules.model import Document, Finding
from kpo_rules.plugin_api import DataFile, PluginMeta
from kpo_rules.plugins import PluginSet

if TYPE_CHECKING:
    from kpo_rules.cache_codec import Codec
    from kpo_rules.incidents import PluginFailure


@dataclass(frozen=True, slots=True, kw_only=True)
class Content:
    """Everything the loaded plugins contribute to a run."""

    catalogue: Catalogue
    rules: RuleBook
    failures: tuple[PluginFailure, ...]


def content_codec() -> Codec:
    """How content is kept as JSON, in the per-user cache and in the package: the rules'
    examples are read on first use (a check never reads them)."""
    from kpo_rules.cache_codec import Codec  # noqa: PLC0415
    from kpo_rules.engine.rule_model import Condition, Example, Pattern, Ref  # noqa: PLC0415
    from kpo_rules.model import Severity  # noqa: PLC0415

    return Codec([Content, Catalogue, RuleBook, Rule, Derivation, Pattern, Condition, Ref,
                  Example, Severity], later={Rule: ("examples",)})


def _calls(plugins: PluginSet, hook: str) -> Iterator[tuple[str, Callable[[], Any]]]:
    # One implementation at a time, in registration order (installed plugins sorted by
    # entry-point name, then in-process ones): the first to define an id or a rule-id
    # prefix owns it, and a later plugin that clashes is the one reported.
    for impl in getattr(plugins.hook, hook).get_hookimpls():
        yield impl.plugin_name, impl.function


def _files(plugins: PluginSet, hook: str,
           failures: list[PluginFailure]) -> Iterator[tuple[str, DataFile]]:
    for plugin, function in _calls(plugins, hook):
        try:
            files: Iterable[DataFile] = function() or ()
            listed = list(files)
        except Exception as exc:  # noqa: BLE001 - a plugin's bug must not stop the run
            from kpo_rules.incidents import PluginFailure  # noqa: PLC0415

            why = f"{hook}() raised {type(exc).__name__}: {exc}"
            failures.append(PluginFailure(name=plugin, distribution=_dist(plugins, plugin),
                                          error=why, kind="load", why=why,
                                          fix="make the hook return its files"))
            continue
        for file in listed:
            yield plugin, file


def _dist(plugins: PluginSet, name: str) -> str | None:
    return next((i.distribution for i in plugins.infos if i.name == name), None)


def _display(file: DataFile) -> str:
    return str(file)


class _InvalidFile(Exception):
    """A plugin file that does not match its schema: one error per broken part of it."""

    def __init__(self, errors: list[RuleDefinitionError]) -> None:
        super().__init__(str(errors[0]))
        self.errors = errors


def _documents(file: DataFile, schema_for: Callable[[Any], str | None]) -> list[Document]:
    """Parse and validate one plugin file; raises RuleDefinitionError when it cannot be
    read, _InvalidFile when it does not match its schema."""
    from kpo_rules.load.schema_check import validate_as  # noqa: PLC0415
    from kpo_rules.load.yaml12 import parse_yaml  # noqa: PLC0415

    name = _display(file)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise RuleDefinitionError(name, 1, None, f"cannot read: {exc}", kind="syntax",
                                  fix="make the file readable (is it in the package data?)"
                                  ) from None
    memory = _memory_on()
    known = _documents_read.get((schema_for, name, raw)) if memory else None
    if known is not None:
        return list(known)
    try:
        docs = parse_yaml(raw, name)
    except YamlSyntaxError as exc:
        raise RuleDefinitionError(name, exc.line, None, exc.message, kind="syntax",
                                  fix="make the file readable YAML") from None
    for doc in docs:
        schema = schema_for(doc.data)
        if schema is None:
            from kpo_rules.schemas.catalogue import KIND_SCHEMAS  # noqa: PLC0415

            kinds = ", ".join(sorted(KIND_SCHEMAS))
            raise RuleDefinitionError(name, 1, None, f"unknown kind; expected one of {kinds}",
                                      kind="schema", fix=f"set kind: to one of {kinds}")
        problems = validate_as(doc, schema)
        if problems:
            raise _InvalidFile(_schema_errors(doc, schema, problems))
    if memory:
        _documents_read.put((schema_for, name, raw), tuple(docs))
    return docs


def _schema_errors(doc: Document, schema: str, problems: Sequence[Finding]
                   ) -> list[RuleDefinitionError]:
    """One error per broken rule or derivation of a rule file (the whole file otherwise):
    its first unknown key or operator said plainly, else its first schema problem."""
    from kpo_rules.engine.rule_shape import part_of, shape_errors  # noqa: PLC0415

    if schema != "rule":
        problems = problems[:1]
    errors = shape_errors(doc) if schema == "rule" else {}
    for problem in problems:
        errors.setdefault(part_of(problem.path), RuleDefinitionError(
            doc.file, problem.line, _rule_id_at(doc, problem.path), problem.message,
            kind="schema", fix=f"{problem.remediation.rstrip('.')} (`kpo-rules schema "
                               f"{schema}` has the form)"))
    return sorted(errors.values(), key=lambda e: e.line)


def _rule_id_at(doc: Document, pointer: str) -> str | None:
    parts = pointer.split("/")
    if len(parts) > 2 and parts[1] in ("rules", "derive") and parts[2].isdigit():
        items = doc.data.get(parts[1], [])
        index = int(parts[2])
        if index < len(items) and isinstance(items[index], dict):
            rule_id = items[index].get("id")
            return rule_id if isinstance(rule_id, str) else None
    return None


def _catalogue_kind(data: Any) -> str | None:
    from kpo_rules.schemas.catalogue import KIND_SCHEMAS  # noqa: PLC0415

    kind = data.get("kind") if isinstance(data, dict) else None
    return KIND_SCHEMAS.get(kind) if isinstance(kind, str) else None


def _rule_kind(data: Any) -> str | None:
    return "rule" if isinstance(data, dict) and data.get("kind") == "RuleFile" else None


def _prefixes(plugins: PluginSet) -> dict[str, tuple[str, ...]]:
    """Rule-id prefixes per plugin, in registration order: the first to claim one owns it."""
    out: dict[str, tuple[str, ...]] = {}
    for plugin, function in _calls(plugins, "kpo_plugin_meta"):
        meta = function()
        if isinstance(meta, PluginMeta):
            out[plugin] = meta.rule_prefixes
    return out


K = TypeVar("K")
V = TypeVar("V")


class _Memory(Generic[K, V]):
    """The most recently used values, within a budget: an entry costs ``cost(key, value)``
    (one, by default); the least recently used go first. Thread-safe."""

    def __init__(self, budget: int, cost: Callable[[K, V], int] = lambda _k, _v: 1) -> None:
        self.budget = budget
        self._cost = cost
        self._items: dict[K, V] = {}
        self._spent = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.pop(key, None)
            if found is not None:
                self._items[key] = found  # now the most recently used
            return found

    def put(self, key: K, value: V) -> None:
        cost = self._cost(key, value)
        with self._lock:
            if key in self._items:
                self._spent -= self._cost(key, self._items.pop(key))
            if cost > self.budget:
                return
            self._items[key] = value
            self._spent += cost
            while self._spent > self.budget:
                oldest = next(iter(self._items))
                self._spent -= self._cost(oldest, self._items.pop(oldest))

    def items(self) -> list[tuple[K, V]]:
        with self._lock:
            return list(self._items.items())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._spent = 0


#: What this process read before, so that it is not read again while the files it came from
#: are unchanged: a process that checks again (a library caller, an editor integration, a
#: plugin author's test suite, kpo-rules' own) skips the work. Neither is ever written to:
#: values are frozen dataclasses and tuples around the YAML data of catalogue entries and
#: rules, which kpo-rules only reads (typed Mapping and Sequence; kpo-rules' test suite
#: checks that every value it remembered is unchanged when forgotten).
#: ``KPO_RULES_NO_CACHE=1`` turns both off with the on-disk caches,
#: ``KPO_RULES_NO_MEMORY_CACHE=1`` only these; :func:`forget_content` empties them.
#:
#: Plugin sets' content read from the per-user cache or from their files, by the full text
#: of its content key (:func:`kpo_rules.content_cache.content_key`: every file it is made
#: of, as it was when read): a hit skips decoding the cache entry.
_contents: _Memory[str, Content] = _Memory(4)
#: The schema-valid documents of plugin files, by the bytes read from the file (with its
#: name and kind): a plugin set that shares files with one read before (the installed
#: plugins and one being written) parses and validates only the others. Within 1 MiB of
#: YAML (the shipped plugins hold 0.35 MiB; their documents take about 4.5 MB).
_documents_read: _Memory[tuple[Callable[[Any], str | None], str, bytes], tuple[Document, ...]] \
    = _Memory(1 << 20, lambda key, _docs: len(key[2]))
MEMORY_CACHE_OFF_ENV = "KPO_RULES_NO_MEMORY_CACHE"


def _memory_on() -> bool:
    return not (os.environ.get("KPO_RULES_NO_CACHE") or os.environ.get(MEMORY_CACHE_OFF_ENV))


def forget_content() -> None:
    """Forget the plugin content and documents this process read (the on-disk caches stay):
    the next load reads them again."""
    _contents.clear()
    _documents_read.clear()


def load_content(plugins: PluginSet) -> Content:
    """Catalogues and compiled rules of every plugin of ``plugins``, read once per set.

    Installed plugins' content may come built with their package
    (:mod:`kpo_rules.shipped_content`), else from this process's memory of the content it
    read before (:data:`_contents`), else from the per-user cache
    (:mod:`kpo_rules.content_cache`), else from their files.
    """
    if plugins.content_cache is None:
        failures: list[PluginFailure] = []
        listing = _listing(plugins, failures)
        plugin_files = None if failures else described(plugins, listing)
        shipped = shipped_content.load(plugin_files) if plugin_files else None
        if isinstance(shipped, Content):
            plugins.content_cache = shipped
            return shipped
        from kpo_rules import content_cache  # noqa: PLC0415 - not when the content is shipped

        key = content_cache.content_key(plugin_files, ids_checked=not plugins.blocked) \
            if plugin_files else None
        memo = key is not None and _memory_on()
        recalled = _contents.get(key.text) if key and memo else None
        if recalled is not None:
            plugins.content_cache = recalled
            return recalled
        cached = content_cache.load(key) if key else None
        if isinstance(cached, Content):
            content = cached
        else:
            content = _load(plugins, listing, failures, key and content_cache.digest(key))
            if key and not content.failures:
                content_cache.store(key, content)
        plugins.content_cache = content
        if key is not None and memo and not content.failures:
            _contents.put(key.text, content)
    loaded: Content = plugins.content_cache
    return loaded


def load_for_shipping(plugins: PluginSet
                      ) -> tuple[Content, list[shipped_content.Described], Any] | None:
    """What the package build ships (:mod:`kpo_rules.shipped_content`): the content of
    ``plugins`` read from their files, their description, and the compiled rule set; None
    when they cannot be shipped (a plugin without a distribution, an unreadable file)."""
    from kpo_rules.engine.evaluate import plan_of  # noqa: PLC0415

    failures: list[PluginFailure] = []
    listing = _listing(plugins, failures)
    plugin_files = described(plugins, listing)
    key = shipped_content.key_of(plugin_files)
    if key is None:
        return None
    content = _load(plugins, listing, failures, shipped_content.book_digest(key))
    return content, plugin_files, plan_of(content.rules)


Listing = dict[str, list[tuple[str, DataFile]]]


def _listing(plugins: PluginSet, failures: list[PluginFailure]) -> Listing:
    return {hook: list(_files(plugins, hook, failures))
            for hook in ("kpo_catalogue_files", "kpo_rule_files")}


def described(plugins: PluginSet, listing: Listing) -> list[shipped_content.Described]:
    """(name, distribution, version, module, data files) of every plugin: what its
    content is made of, for the caches' keys."""
    out: list[shipped_content.Described] = []
    for info in plugins.infos:
        files = [file for hook in listing.values() for name, file in hook if name == info.name]
        module = plugins.manager.get_plugin(info.name)
        out.append((info.name, info.distribution, info.version, module, files))
    return out


def _load(plugins: PluginSet, listing: Listing,
          failures: list[PluginFailure], digest: str | None) -> Content:
    """Read and compile every file: only when the content cache has nothing to offer.
    ``digest`` names the rule book when the files it is read from have a cache key.

    All or nothing: a plugin with one broken file contributes nothing (no catalogue entry,
    no rule), so a run never judges with half a plugin. The first round compiles every
    plugin (an author sees every problem at once); then the content is compiled again
    without the failed plugins, and again while leaving them out breaks another plugin
    that used their ids or derived facts. Each failure is recorded once.
    """
    def fail(plugin: str, error: RuleDefinitionError) -> None:
        from kpo_rules.incidents import PluginFailure  # noqa: PLC0415

        failures.append(PluginFailure.of_definition(plugin, _dist(plugins, plugin), error))

    def parse(hook: str, kind: Callable[[Any], str | None]) -> list[tuple[str, Document]]:
        parsed = []
        for plugin, file in listing[hook]:
            try:
                parsed += [(plugin, doc) for doc in _documents(file, kind)]
            except RuleDefinitionError as exc:
                fail(plugin, exc)
            except _InvalidFile as exc:
                for error in exc.errors:
                    fail(plugin, error)
        return parsed

    catalogues = parse("kpo_catalogue_files", _catalogue_kind)
    rule_files = parse("kpo_rule_files", _rule_kind)
    prefixes = _prefixes(plugins)
    owners: dict[str, str] = {}
    for plugin, owned in prefixes.items():
        for prefix in owned:
            if prefix in owners:
                fail(plugin, RuleDefinitionError(
                    "(plugin metadata)", 0, None,
                    f"rule prefix '{prefix}' is already owned by plugin '{owners[prefix]}'",
                    kind="clash", other=owners[prefix]))
            else:
                owners[prefix] = plugin
    mine = {p: tuple(x for x in owned if owners.get(x) == p) for p, owned in prefixes.items()}
    # The first round reads every plugin, so that an author sees every problem at once.
    excluded: set[str] = set()
    while True:
        content = _compile([(p, d) for p, d in catalogues if p not in excluded],
                           [(p, d) for p, d in rule_files if p not in excluded], mine, fail,
                           check_ids=not plugins.blocked,
                           digest=None if excluded else digest)
        failed = {f.name for f in failures}
        if failed == excluded:
            return replace(content, failures=tuple(failures))
        excluded = failed


def _compile(catalogues: list[tuple[str, Document]], rule_files: list[tuple[str, Document]],
             prefixes: Mapping[str, tuple[str, ...]],
             fail: Callable[[str, RuleDefinitionError], None], *, check_ids: bool = True,
             digest: str | None = None) -> Content:
    """The catalogue and rule book of the given documents; what fails goes to ``fail``.

    ``check_ids``: refuse catalogue ids no plugin defines. Off when plugins were disabled
    (``disable-plugins``): an id may then be a disabled plugin's, and disabling one plugin
    must not break the others.
    """
    from kpo_rules.engine.evaluate import book_digest  # noqa: PLC0415
    from kpo_rules.engine.facts import VOCABULARY  # noqa: PLC0415
    from kpo_rules.engine.rulefile import parse_rule_file  # noqa: PLC0415

    builder = CatalogueBuilder()
    for plugin, doc in catalogues:
        try:
            builder.add(doc, plugin)
        except RuleDefinitionError as exc:
            fail(plugin, exc)
    catalogue = builder.build()
    vocabulary = dict(VOCABULARY)
    # Derived fact types are known before any rule is checked, whichever file derives them.
    for _, doc in rule_files:
        for item in doc.data.get("derive", ()):
            fact = item["fact"]
            # Derivations of one type may give different fields: a rule may read any of them.
            vocabulary[fact["type"]] = vocabulary.get(fact["type"], frozenset()) | set(
                fact["fields"])
    rules: dict[str, Rule] = {}
    derivations: dict[str, Derivation] = {}
    for plugin, doc in rule_files:
        errors: list[RuleDefinitionError] = []
        try:
            file_rules, file_derivations, _ = parse_rule_file(
                doc, plugin, prefixes.get(plugin, ()), vocabulary,
                catalogue if check_ids else None, errors)
            items: list[Rule | Derivation] = [*file_rules, *file_derivations]
            for item in items:
                other = rules.get(item.id) or derivations.get(item.id)
                if other is not None:
                    raise RuleDefinitionError(
                        item.file, item.line, item.id,
                        f"duplicate rule id, first defined at {other.file}:{other.line}",
                        kind="rule-id",
                        fix="give each rule an id of its own; ids are unique across every "
                            "installed plugin")
                if isinstance(item, Rule):
                    rules[item.id] = item
                else:
                    derivations[item.id] = item
        except RuleDefinitionError as exc:
            errors.append(exc)
        for error in errors:
            fail(plugin, error)
    book = RuleBook(rules=tuple(sorted(rules.values(), key=lambda r: r.id)),
                    derivations=tuple(sorted(derivations.values(), key=lambda d: d.id)))
    book = replace(book, digest=digest or book_digest(book))
    return Content(catalogue=catalogue, rules=book, failures=())
