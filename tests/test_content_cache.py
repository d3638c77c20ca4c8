"""The on-disk cache of plugin content: written once a key has missed twice, used while nothing
changed, rebuilt when anything did, ignored when broken or disabled. And the memory of it a
process keeps: used only for the very files it was read from, judging alike, bounded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import DATA, ROOT

import kpo_rules
from kpo_rules import PluginMeta, content, content_cache, hookimpl
from kpo_rules.content import Content, forget_content, load_content
from kpo_rules.hookspecs import HOOK_API_VERSION
from kpo_rules.plugins import PluginSet, create_plugin_set


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache directory of the test's own, read every time: the process's memory of
    content read before is off."""
    monkeypatch.setenv("KPO_RULES_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("KPO_RULES_NO_MEMORY_CACHE", "1")
    return tmp_path


@pytest.fixture
def builds(monkeypatch):
    """Counts the loads that read and compile every plugin file."""
    calls: list[int] = []
    real = content._load
    monkeypatch.setattr(content, "_load", lambda *a: calls.append(1) or real(*a))
    return calls


def test_written_on_the_second_miss_then_loaded_alike(cache, builds):
    first = load_content(create_plugin_set())
    assert not list(cache.glob("content-*.json"))  # a one-off run writes no entry
    assert len(list(cache.glob("content-*.json.seen"))) == 1
    load_content(create_plugin_set())
    assert len(list(cache.glob("content-*.json"))) == 1
    third = load_content(create_plugin_set())
    assert builds == [1, 1]
    assert third == first
    assert [type(r.severity) for r in third.rules.rules] == [type(r.severity)
                                                             for r in first.rules.rules]


def test_key_changes_with_any_data_file(tmp_path):
    data = tmp_path / "rules.yaml"
    data.write_text("a")
    module = type("M", (), {"__file__": str(tmp_path / "plugin.py")})
    (tmp_path / "plugin.py").write_text("")
    before = content_cache.content_key([("p", "dist", "1.0", module, [data])])
    data.write_text("ab")
    after = content_cache.content_key([("p", "dist", "1.0", module, [data])])
    assert before and after and before.text != after.text
    assert before.entry == after.entry  # the new content replaces the old entry
    bumped = content_cache.content_key([("p", "dist", "1.1", module, [data])])
    assert bumped and bumped.text != after.text
    assert content_cache.content_key([("p", None, None, module, [data])]) is None


def test_files_without_a_time_and_size_make_a_plugin_set_uncacheable(tmp_path):
    """A plugin installed as a zip archive: its files have no stamp to compare, so an edit
    would go unseen; such a set is read from its files every time."""
    (tmp_path / "plugin.py").write_text("")
    (tmp_path / "rules.yaml").write_text("a")
    module = type("M", (), {"__file__": str(tmp_path / "plugin.py")})
    zipped = type("M", (), {"__file__": str(tmp_path / "plugin.zip" / "plugin.py")})
    namespace = type("M", (), {"__file__": None})
    in_zip = tmp_path / "plugin.zip" / "rules.yaml"
    assert content_cache.content_key([("p", "dist", "1.0", module, [tmp_path / "rules.yaml"])])
    assert content_cache.content_key([("p", "dist", "1.0", module, [in_zip])]) is None
    assert content_cache.content_key([("p", "dist", "1.0", zipped, [])]) is None
    assert content_cache.content_key([("p", "dist", "1.0", namespace, [tmp_path / "rules.yaml"])])


def test_key_changes_with_any_module_of_kpo_rules(tmp_path, monkeypatch):
    (tmp_path / "plugin.py").write_text("")
    module = type("M", (), {"__file__": str(tmp_path / "plugin.py")})
    plugins = [("p", "dist", "1.0", module, [])]
    before = content_cache.content_key(plugins)
    stamps = content_cache.source_stamp()
    assert any(path.endswith("rulefile.py") for path, _, _ in stamps)
    (path, mtime, size), *rest = stamps
    monkeypatch.setattr(content_cache, "source_stamp",
                        lambda: ((path, mtime + 1, size), *rest))  # an edited module
    after = content_cache.content_key(plugins)
    assert before and after and after.text != before.text


def test_a_changed_plugin_file_is_read_afresh(cache, builds, monkeypatch):
    for _ in range(2):
        load_content(create_plugin_set())
    real = content_cache.content_key

    def edited(plugins, **options):
        key = real(plugins, **options)
        return key and key._replace(text=key.text + " edited")

    monkeypatch.setattr(content_cache, "content_key", edited)
    load_content(create_plugin_set())
    assert builds == [1, 1, 1]


@pytest.mark.parametrize("memory", [False, True])
def test_content_read_with_plugins_disabled_never_serves_a_run_without(cache, monkeypatch,
                                                                       memory):
    """Disabling a plugin turns off the check of catalogue ids (another plugin may use the
    disabled one's); the same plugins read with it on may fail, and must be told so."""
    from kpo_rules.entry_points import entry_points

    if memory:
        monkeypatch.delenv("KPO_RULES_NO_MEMORY_CACHE")
        forget_content()
    without_finance = [ep for ep in entry_points("kpo_rules") if ep.name != "finance"]
    for _ in range(2):  # the second miss writes the entry
        relaxed = load_content(create_plugin_set(installed=without_finance,
                                                 blocked=["not-installed"]))
        assert not relaxed.failures
    assert memory or list(cache.glob("content-*.json"))  # else it was remembered
    strict = load_content(create_plugin_set(installed=without_finance))
    assert strict.failures and {f.name for f in strict.failures} == {"common"}
    assert all("is not defined by any loaded plugin" in f.error for f in strict.failures)
    forget_content()


def test_broken_or_disabled_cache_is_ignored(cache, builds, monkeypatch):
    for _ in range(2):
        load_content(create_plugin_set())
    (cached,) = cache.glob("content-*.json")
    cached.write_bytes(b"not an entry")
    assert isinstance(load_content(create_plugin_set()), Content)
    monkeypatch.setenv("KPO_RULES_NO_CACHE", "1")
    for leftover in cache.glob("content-*"):
        os.remove(leftover)
    for _ in range(2):
        load_content(create_plugin_set())
    assert not list(cache.iterdir())
    assert len(builds) == 5


# --------------------------------------------------------------- the memory of a process

#: The plugin kit tests' rules, as another plugin's.
RULES = (DATA / "kit_rules.yaml").read_text().replace("KIT-", "MEMO-")


class FilePlugin:
    """A plugin shipping one rule file, registered as an installed distribution would be (so
    its content has a cache key)."""

    def __init__(self, rules: Path) -> None:
        self.rules = rules

    @hookimpl
    def kpo_plugin_meta(self) -> PluginMeta:
        return PluginMeta(api_version=HOOK_API_VERSION, rule_prefixes=("MEMO",))

    @hookimpl
    def kpo_rule_files(self) -> list[Path]:
        return [self.rules]


def with_plugin(rules: Path, *, installed: bool = True) -> PluginSet:
    """The installed plugins (unless not ``installed``) and one shipping ``rules``."""
    plugins = create_plugin_set(load_entrypoints=installed)
    plugins.register(FilePlugin(rules), "memo", "kpo-memo-test", "1.0")
    assert not plugins.failures
    return plugins


@pytest.fixture
def reads(tmp_path, monkeypatch):
    """Counts the reads of the on-disk cache (empty, the test's own) and of every plugin
    file; starts with an empty memory."""
    monkeypatch.setenv("KPO_RULES_CACHE_DIR", str(tmp_path / "cache"))
    forget_content()
    calls: list[str] = []
    real_load, real_read = content_cache.load, content._load
    monkeypatch.setattr(content_cache, "load", lambda *a: calls.append("cache") or real_load(*a))
    monkeypatch.setattr(content, "_load", lambda *a: calls.append("files") or real_read(*a))
    yield calls
    forget_content()


def title(loaded: Content) -> str:
    assert not loaded.failures
    return loaded.rules.by_id()["MEMO-SW-001"].title


def test_remembered_only_while_no_plugin_file_changes(tmp_path, reads):
    rules = tmp_path / "memo.yaml"
    rules.write_text(RULES)
    first = load_content(with_plugin(rules))
    assert title(first) == "Service lists no software"
    assert load_content(with_plugin(rules)) is first
    assert reads == ["cache", "files"]  # the second plugin set read nothing
    rules.write_text(RULES.replace("lists no software", "lists no software at all"))
    edited = load_content(with_plugin(rules))
    assert title(edited) == "Service lists no software at all"
    assert reads == ["cache", "files"] * 2
    same_size = RULES.replace("lists no software", "names no software")
    rules.write_text(same_size)
    stamp = rules.stat().st_mtime_ns
    os.utime(rules, ns=(stamp, stamp + 10**9))  # a second later, whatever the clock's grain
    latest = load_content(with_plugin(rules))
    assert title(latest) == "Service names no software"
    assert reads == ["cache", "files"] * 3
    assert load_content(with_plugin(rules)) is latest
    assert reads == ["cache", "files"] * 3


def test_another_plugin_set_is_a_miss(tmp_path, reads):
    rules = tmp_path / "memo.yaml"
    rules.write_text(RULES)
    mine = load_content(with_plugin(rules))
    without = load_content(create_plugin_set(blocked=["legal"]))
    assert "MEMO-SW-001" not in without.rules.by_id()
    assert not {r.plugin for r in without.rules.rules} & {"legal"}
    assert reads[:2] == ["cache", "files"] and len(reads) > 2
    assert load_content(with_plugin(rules)) is mine


def test_remembered_content_judges_alike(reads, monkeypatch):
    files = sorted(str(f) for f in (ROOT / "examples").rglob("*.yaml"))
    monkeypatch.setenv("KPO_RULES_NO_MEMORY_CACHE", "1")
    afresh = kpo_rules.check(files)
    content_afresh = load_content(create_plugin_set())
    monkeypatch.delenv("KPO_RULES_NO_MEMORY_CACHE")
    kpo_rules.check(files)
    read = len(reads)
    remembered = kpo_rules.check(files)
    assert load_content(create_plugin_set()) == content_afresh
    assert len(reads) == read  # nothing read: the memory served
    assert afresh.findings and list(remembered.findings) == list(afresh.findings)
    assert remembered.rules == afresh.rules and remembered.checked == afresh.checked
    assert remembered.waived == afresh.waived


def test_the_memory_is_bounded_and_can_be_turned_off(tmp_path, reads, monkeypatch):
    rules = tmp_path / "memo.yaml"
    rules.write_text(RULES)
    first = load_content(with_plugin(rules))
    for n in range(content._contents.budget):  # as many other plugin sets: the first is forgotten
        other = tmp_path / f"other{n}.yaml"
        other.write_text(RULES)
        load_content(with_plugin(other, installed=False))
    assert len(content._contents.items()) == content._contents.budget
    assert load_content(with_plugin(rules)) is not first
    assert reads.count("cache") == content._contents.budget + 2
    for off in ("KPO_RULES_NO_MEMORY_CACHE", "KPO_RULES_NO_CACHE"):
        with monkeypatch.context() as env:
            env.setenv(off, "1")
            before = len(reads)
            load_content(with_plugin(rules))
            assert len(reads) > before, off
    forget_content()
    assert not content._contents.items() and not content._documents_read.items()


@pytest.fixture
def parses(monkeypatch):
    """The plugin files parsed (not served from memory)."""
    from kpo_rules.load import yaml12

    parsed: list[str] = []
    real = yaml12.parse_yaml
    monkeypatch.setattr(yaml12, "parse_yaml", lambda raw, name: parsed.append(name)
                        or real(raw, name))
    return parsed


def test_only_the_files_not_read_before_are_parsed(tmp_path, reads, parses):
    rules = tmp_path / "memo.yaml"
    rules.write_text(RULES)
    installed = load_content(create_plugin_set(load_entrypoints=True, blocked=["legal"]))
    assert not installed.failures and len(parses) > 20
    parses.clear()
    mine = load_content(with_plugin(rules))  # legal's files, and this one, are new
    assert title(mine) == "Service lists no software"
    assert parses and all("legal" in name for name in parses[:-1])
    assert parses[-1] == str(rules)
    parses.clear()
    rules.write_text(RULES.replace("lists no software", "lists none"))  # the same name
    edited = load_content(with_plugin(rules))
    assert title(edited) == "Service lists none"
    assert parses == [str(rules)]
    catalogue = {kind: dict(getattr(edited.catalogue, kind)) for kind in ("tasks", "countries")}
    forget_content()
    afresh = load_content(with_plugin(rules))
    assert afresh == edited and afresh is not edited
    assert {kind: dict(getattr(afresh.catalogue, kind)) for kind in catalogue} == catalogue


def test_a_broken_file_is_parsed_and_reported_every_time(tmp_path, reads, parses):
    rules = tmp_path / "memo.yaml"
    rules.write_text(RULES.replace("severity: warning", "severity: grave"))
    for _ in range(2):
        loaded = load_content(with_plugin(rules))
        (failure,) = loaded.failures
        assert failure.name == "memo" and "grave" in failure.error
    assert parses.count(str(rules)) == 2


def test_the_memory_keeps_the_most_recently_used_within_its_budget():
    memory = content._Memory(10, lambda key, value: len(value))
    for key in "abc":
        memory.put(key, "xxx")
    assert memory.get("a") == "xxx"  # now the most recently used: b goes first
    memory.put("d", "xxx")
    assert [key for key, _ in memory.items()] == ["c", "a", "d"]
    memory.put("e", "x" * 11)  # more than the whole budget: not kept
    assert memory.get("e") is None and len(memory.items()) == 3
    memory.put("c", "x" * 7)
    assert [key for key, _ in memory.items()] == ["d", "c"]
