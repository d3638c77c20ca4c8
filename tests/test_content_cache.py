"""The on-disk cache of plugin content: used when nothing changed, rebuilt when anything did,
ignored when broken or disabled."""

from __future__ import annotations

import os
from pathlib import Path

from kpo_rules import content_cache
from kpo_rules.content import Content, load_content
from kpo_rules.plugins import create_plugin_set


def test_second_plugin_set_loads_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KPO_RULES_CACHE_DIR", str(tmp_path))
    first = load_content(create_plugin_set())
    cached = list(tmp_path.glob("content-*.pickle"))
    assert len(cached) == 1
    calls = []
    real = content_cache.load
    monkeypatch.setattr(content_cache, "load", lambda key: calls.append(key) or real(key))
    second = load_content(create_plugin_set())
    assert isinstance(calls[0], str)
    assert second.rules == first.rules
    assert second.catalogue.tasks == first.catalogue.tasks


def test_key_changes_with_any_data_file(tmp_path):
    data = tmp_path / "rules.yaml"
    data.write_text("a")
    module = type("M", (), {"__file__": str(tmp_path / "plugin.py")})
    (tmp_path / "plugin.py").write_text("")
    before = content_cache.content_key([("p", "dist", "1.0", module, [data])])
    data.write_text("ab")
    after = content_cache.content_key([("p", "dist", "1.0", module, [data])])
    assert before and after and before != after
    bumped = content_cache.content_key([("p", "dist", "1.1", module, [data])])
    assert bumped != after
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
    assert content_cache.content_key(plugins) != before


def test_broken_or_disabled_cache_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("KPO_RULES_CACHE_DIR", str(tmp_path))
    load_content(create_plugin_set())
    (cached,) = tmp_path.glob("content-*.pickle")
    cached.write_bytes(b"not a pickle")
    assert isinstance(load_content(create_plugin_set()), Content)
    monkeypatch.setenv("KPO_RULES_NO_CACHE", "1")
    for leftover in tmp_path.glob("content-*"):
        os.remove(leftover)
    load_content(create_plugin_set())
    assert not list(Path(tmp_path).glob("content-*"))
