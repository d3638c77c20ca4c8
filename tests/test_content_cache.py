"""The on-disk cache of plugin content: written once a key has missed twice, used while nothing
changed, rebuilt when anything did, ignored when broken or disabled."""

from __future__ import annotations

import os

import pytest

from kpo_rules import content, content_cache
from kpo_rules.content import Content, load_content
from kpo_rules.plugins import create_plugin_set


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KPO_RULES_CACHE_DIR", str(tmp_path))
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


def test_key_changes_with_any_module_of_kpo_rules(tmp_path, monkeypatch):
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

    def edited(plugins):
        key = real(plugins)
        return key and key._replace(text=key.text + " edited")

    monkeypatch.setattr(content_cache, "content_key", edited)
    load_content(create_plugin_set())
    assert builds == [1, 1, 1]


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
