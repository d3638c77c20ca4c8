"""Plugin discovery: the installed entry points, as importlib.metadata finds them, read afresh
on every run; never from the working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kpo_rules import entry_points
from kpo_rules.plugins import PluginSet, create_plugin_set


def install(site: Path, module: str, body: str, entry_points: str, version: str = "1.0") -> Path:
    """A distribution 'installed' the way pip would: a module plus a dist-info."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(body)
    info = site / f"{module}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\n"
                                   f"Version: {version}\n\nName: not-this-one\n")
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


def names(plugin_set: PluginSet) -> dict[str, tuple[str | None, str | None]]:
    return {i.name: (i.distribution, i.version) for i in plugin_set.infos}


def test_installed_changed_and_removed_plugins_are_seen_at_once(site):
    info = install(site, "kpo_fake_one", PLUGIN,
                   "# comment\n[console_scripts]\nx = y\n[kpo_rules]\n fake_one = kpo_fake_one \n")
    found = names(create_plugin_set())
    assert found["fake_one"] == ("kpo-fake-one", "1.0")
    assert "common" in found
    (info / "entry_points.txt").write_text("[kpo_rules]\nrenamed = kpo_fake_one\n")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kpo-fake-one\nVersion: 2.0.1\n")
    found = names(create_plugin_set())
    assert found["renamed"] == ("kpo-fake-one", "2.0.1") and "fake_one" not in found
    for child in info.iterdir():
        child.unlink()
    info.rmdir()
    assert "renamed" not in names(create_plugin_set())


def test_the_same_entry_points_as_importlib_metadata(site, tmp_path, monkeypatch):
    import importlib.metadata as md

    install(site, "kpo_fake_one", PLUGIN, "[kpo_rules]\nfake_one = kpo_fake_one\n")
    shadowed = tmp_path / "later"
    install(shadowed, "kpo_fake_one", PLUGIN, "[kpo_rules]\nold = kpo_fake_one\n", "0.9")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(sys, "path", [*sys.path, str(shadowed)])
    for group in ("kpo_rules", "console_scripts", "pytest11"):
        expected = sorted((ep.name, ep.value, ep.dist.name if ep.dist else None,
                           ep.dist.version if ep.dist else None)
                          for ep in md.entry_points(group=group))
        assert sorted(entry_points.entry_points(group)) == expected
    assert "old" not in {ep.name for ep in entry_points.entry_points("kpo_rules")}


def test_a_plugin_that_fails_to_load_is_reported_every_time(site):
    install(site, "kpo_fake_bad", "raise RuntimeError('boom')\n",
            "[kpo_rules]\nbad = kpo_fake_bad\nattr = kpo_fake_one:missing.name\n")
    install(site, "kpo_fake_one", PLUGIN, "")
    for _ in range(2):
        failures = {f.name: f.error for f in create_plugin_set().failures}
        assert failures == {"bad": "RuntimeError: boom",
                            "attr": "AttributeError: module 'kpo_fake_one' has no attribute "
                                    "'missing'"}


def test_another_finder_of_distributions_is_asked_too(site, tmp_path, monkeypatch):
    hidden = tmp_path / "hidden"  # not on sys.path: only the finder knows it
    info = install(hidden, "kpo_fake_two", PLUGIN, "[kpo_rules]\nfake_two = kpo_fake_two\n")
    (hidden / "kpo_fake_two.py").rename(site / "kpo_fake_two.py")

    class Finder:
        @staticmethod
        def find_distributions(*_args: object) -> list[object]:
            import importlib.metadata as md

            return [md.PathDistribution(info)]

    assert "fake_two" not in names(create_plugin_set())
    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder])
    assert "fake_two" in names(create_plugin_set())


def test_relative_path_entries_are_not_searched(tmp_path, monkeypatch):
    install(tmp_path, "kpo_fake_cwd", PLUGIN, "[kpo_rules]\nfake_cwd = kpo_fake_cwd\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", ["", ".", *sys.path])
    assert "fake_cwd" not in {ep.name for ep in entry_points.entry_points("kpo_rules")}


# ----------------------------------------------------------------- python -m kpo_rules

EVIL = """\
import pathlib
pathlib.Path({marker!r}).write_text("imported")
from kpo_rules import hookimpl
"""


def planted_repository(tmp_path: Path) -> tuple[Path, Path]:
    """A checked repository holding a dist-info whose plugin would write a marker file."""
    repo = tmp_path / "repo"
    marker = tmp_path / "marker"
    install(repo, "kpo_planted", EVIL.format(marker=str(marker)),
            "[kpo_rules]\nplanted = kpo_planted\n")
    (repo / "engagement.yaml").write_text("kind: Engagement\n")
    return repo, marker


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "kpo_rules"],
    [str(Path(sys.executable).with_name("kpo-rules"))],
], ids=["python -m", "console script"])
def test_a_repository_checked_from_its_own_folder_does_not_choose_plugins(tmp_path, command):
    repo, marker = planted_repository(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    for args in (["check", "engagement.yaml"], ["plugins"], ["--version"]):
        proc = subprocess.run([*command, *args], cwd=repo, env=env, capture_output=True,
                              timeout=120, check=False)
        assert b"Traceback" not in proc.stderr
        assert b"planted" not in proc.stdout + proc.stderr
        assert not marker.exists(), args
    listed = subprocess.run([*command, "plugins"], cwd=repo, env=env, capture_output=True,
                            timeout=120, check=True)
    assert b"common" in listed.stdout  # the installed plugins still load
