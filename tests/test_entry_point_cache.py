"""The on-disk cache of installed entry points: the same plugins as a fresh scan, served only
while nothing that scan reads has changed, ignored when broken or disabled."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from kpo_rules import entry_point_cache, plugins
from kpo_rules.plugins import create_plugin_set


def install(site: Path, module: str, body: str, entry_points: str, version: str = "1.0") -> Path:
    """A distribution 'installed' the way pip would: a module plus a dist-info."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(body)
    info = site / f"{module}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\n"
                                   f"Version: {version}\n")
    (info / "entry_points.txt").write_text(entry_points)
    return info


PLUGIN = "from kpo_rules import hookimpl\n"


@pytest.fixture
def site(tmp_path, monkeypatch):
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in [m for m in sys.modules if m.startswith("kpo_fake_")]:
        del sys.modules[name]


@pytest.fixture
def scans(monkeypatch):
    """Counts the real (importlib.metadata) scans."""
    calls: list[int] = []
    real = plugins._scan
    monkeypatch.setattr(plugins, "_scan", lambda: calls.append(1) or real())
    return calls


def names(plugin_set: plugins.PluginSet) -> dict[str, tuple[str | None, str | None]]:
    return {i.name: (i.distribution, i.version) for i in plugin_set.infos}


def test_second_plugin_set_comes_from_the_cache_and_equals_a_scan(site, scans):
    install(site, "kpo_fake_one", PLUGIN, "[kpo_rules]\nfake_one = kpo_fake_one\n")
    first = names(create_plugin_set())
    second = names(create_plugin_set())
    assert scans == [1]
    assert second == first
    assert first["fake_one"] == ("kpo-fake-one", "1.0")
    assert "common" in first


def test_an_installed_changed_or_removed_plugin_is_never_served_stale(site, scans):
    info = install(site, "kpo_fake_one", PLUGIN, "[kpo_rules]\nfake_one = kpo_fake_one\n")
    create_plugin_set()
    install(site, "kpo_fake_two", PLUGIN, "[kpo_rules]\nfake_two = kpo_fake_two\n")
    assert "fake_two" in names(create_plugin_set())
    (info / "entry_points.txt").write_text("[kpo_rules]\nrenamed = kpo_fake_one\n")
    found = names(create_plugin_set())
    assert "renamed" in found and "fake_one" not in found
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kpo-fake-one\n"
                                   "Version: 2.0.1\n")
    assert names(create_plugin_set())["renamed"] == ("kpo-fake-one", "2.0.1")
    for child in info.iterdir():
        child.unlink()
    info.rmdir()
    assert "renamed" not in names(create_plugin_set())
    assert len(scans) == 5


def test_a_plugin_that_fails_to_load_fails_again_from_the_cache(site, scans):
    install(site, "kpo_fake_bad", "raise RuntimeError('boom')\n",
            "[kpo_rules]\nbad = kpo_fake_bad\nattr = kpo_fake_one:missing.name\n")
    install(site, "kpo_fake_one", PLUGIN, "")
    for _ in range(2):
        failures = {f.name: f.error for f in create_plugin_set().failures}
        assert failures == {"bad": "RuntimeError: boom",
                            "attr": "AttributeError: module 'kpo_fake_one' has no attribute "
                                    "'missing'"}
    assert scans == [1]


def test_broken_or_disabled_cache_is_ignored(site, scans, tmp_path, monkeypatch):
    monkeypatch.setenv("KPO_RULES_CACHE_DIR", str(tmp_path / "cache"))
    install(site, "kpo_fake_one", PLUGIN, "[kpo_rules]\nfake_one = kpo_fake_one\n")
    create_plugin_set()
    (cached,) = (tmp_path / "cache").glob("entry-points-*.pickle")
    cached.write_bytes(b"not a pickle")
    assert "fake_one" in names(create_plugin_set())
    monkeypatch.setenv("KPO_RULES_NO_CACHE", "1")
    for leftover in (tmp_path / "cache").iterdir():
        os.remove(leftover)
    assert "fake_one" in names(create_plugin_set())
    assert not list((tmp_path / "cache").iterdir())
    assert len(scans) == 3


def test_another_finder_of_distributions_turns_the_cache_off(monkeypatch):
    class Finder:
        @staticmethod
        def find_distributions(*_args: object) -> list[object]:
            return []

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder])
    assert entry_point_cache.fingerprint() is None


def test_a_relative_path_entry_ties_the_fingerprint_to_the_working_directory(
        tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", ["", *[p for p in sys.path if p]])
    monkeypatch.chdir(tmp_path)
    here = entry_point_cache.fingerprint()
    monkeypatch.chdir(tmp_path.parent)
    assert entry_point_cache.fingerprint() != here
    # only absolute entries (an editable install adds setuptools' relative-looking path hook)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if os.path.isabs(p)])
    absolute = entry_point_cache.fingerprint()
    monkeypatch.chdir(tmp_path)
    assert entry_point_cache.fingerprint() == absolute


def test_a_removed_working_directory_only_turns_the_cache_off(tmp_path, monkeypatch):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.setattr(sys, "path", ["", *[p for p in sys.path if p]])
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert entry_point_cache.fingerprint() is None
    assert "common" in names(create_plugin_set())
