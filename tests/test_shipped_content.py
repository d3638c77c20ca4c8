"""Plugin content built with the package: used, with the installed files' paths, only for the
plugin set it was built from; anything else (an edited or moved-and-edited file, another set,
a damaged entry) is a miss that reads the files, with the same findings."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, build_wheel

from kpo_rules import content, shipped_content
from kpo_rules.content import Content, load_content, load_for_shipping
from kpo_rules.plugins import create_plugin_set

EXAMPLES = ROOT / "examples"


@pytest.fixture
def shipped(tmp_path, monkeypatch) -> Path:
    """The shipped content of the installed plugins, built as the package build does and
    put where the package keeps it; no per-user cache."""
    monkeypatch.setenv("KPO_RULES_NO_CACHE", "1")
    built = load_for_shipping(create_plugin_set())
    assert built is not None
    entry = tmp_path / shipped_content.FILE_NAME
    shipped_content.write(entry, built[1], built[0], built[2])
    monkeypatch.setattr(shipped_content, "shipped_file", lambda: entry)
    return entry


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The plugin files read and parsed."""
    read: list[str] = []
    real = content._documents
    monkeypatch.setattr(content, "_documents", lambda f, k: read.append(str(f)) or real(f, k))
    return read


def _described(tmp_path: Path, *, copy: bool = False) -> list[shipped_content.Described]:
    plugins = create_plugin_set()
    listing = content._listing(plugins, [])
    found = content.described(plugins, listing)
    if not copy:
        return found
    moved = []
    for name, dist, version, module, files in found:
        folder = tmp_path / "elsewhere" / name
        folder.mkdir(parents=True)
        copies = []
        for file in files:
            copies.append(folder / Path(str(file)).name)
            copies[-1].write_bytes(Path(str(file)).read_bytes())
        moved.append((name, dist, version, module, copies))
    return moved


def test_a_check_reads_no_plugin_file_and_finds_the_same(shipped, reads, run_cli, monkeypatch):
    with_shipped = run_cli("check", "--format", "json", str(EXAMPLES))
    assert reads == []
    monkeypatch.setattr(shipped_content, "shipped_file", lambda: shipped.with_name("absent"))
    without = run_cli("check", "--format", "json", str(EXAMPLES))
    assert reads  # the files were read this time
    assert with_shipped.exit_code == without.exit_code == 1
    assert json.loads(with_shipped.stdout) == json.loads(without.stdout)


def test_content_equals_what_the_files_give(shipped, reads):
    loaded = load_content(create_plugin_set())
    assert reads == []
    read = content._load(create_plugin_set(), content._listing(create_plugin_set(), []), [],
                         loaded.rules.digest)
    assert loaded == read


def test_files_that_moved_get_their_new_paths(shipped, tmp_path):
    moved = _described(tmp_path, copy=True)
    loaded = shipped_content.load(moved, shipped)
    assert isinstance(loaded, Content)
    elsewhere = str(tmp_path / "elsewhere")
    assert all(rule.file.startswith(elsewhere) for rule in loaded.rules.rules)
    assert all(d.file.startswith(elsewhere) for d in loaded.rules.derivations)
    assert str(ROOT / "plugins") not in repr(loaded)


def test_an_edited_file_another_plugin_set_or_version_is_a_miss(shipped, tmp_path):
    moved = _described(tmp_path, copy=True)
    assert shipped_content.load(moved, shipped) is not None
    rule_file = moved[0][4][-1]
    text = rule_file.read_text()
    rule_file.write_text(text.replace("severity: error", "severity: info", 1))
    assert text != rule_file.read_text()
    assert shipped_content.load(moved, shipped) is None
    rule_file.write_text(text)
    assert shipped_content.load(moved[1:], shipped) is None  # a plugin disabled
    name, _, version, module, files = moved[0]
    assert shipped_content.load([(name, None, version, module, files), *moved[1:]],
                                shipped) is None  # registered in-process
    assert shipped_content.load([(name, "kpo-rules", "9.9", module, files), *moved[1:]],
                                shipped) is None
    rule_file.unlink()
    assert shipped_content.load(moved, shipped) is None  # unreadable: the files say why


@pytest.mark.parametrize("where", [0, 10, 200, 5_000, 200_000, -3])
def test_a_damaged_or_truncated_entry_is_a_miss(shipped, tmp_path, where):
    described = _described(tmp_path)
    assert shipped_content.load(described, shipped) is not None
    data = bytearray(shipped.read_bytes())
    flipped = bytes(data[:where] + bytes([data[where] ^ 0x20]) + data[where + 1:]) \
        if where >= 0 else bytes(data[:where])
    shipped.write_bytes(flipped)
    assert shipped_content.load(described, shipped) is None


def test_a_damaged_entry_gives_the_same_findings(shipped, reads, run_cli):
    expected = run_cli("check", "--format", "json", str(EXAMPLES)).stdout
    data = shipped.read_bytes()
    shipped.write_bytes(data[: len(data) // 2])
    assert json.loads(run_cli("check", "--format", "json", str(EXAMPLES)).stdout) == \
        json.loads(expected)
    assert reads


def test_the_plan_is_shipped_with_the_content(shipped, monkeypatch):
    from kpo_rules.engine import evaluate

    compiled: list[int] = []
    real = evaluate._plan
    monkeypatch.setattr(evaluate, "_plan", lambda *a: compiled.append(1) or real(*a))
    loaded = load_content(create_plugin_set())
    evaluate.Evaluator(loaded.rules, "shipped_test", digest=loaded.rules.digest)
    assert compiled == []


@pytest.mark.slow
def test_the_wheel_ships_the_content_and_a_first_check_uses_it(tmp_path):
    wheel = build_wheel(tmp_path)
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    assert (unpacked / "kpo_rules" / shipped_content.FILE_NAME).is_file()
    probe = (
        "import sys, json\n"
        "import kpo_rules.content as c\n"
        "read = []\n"
        "real = c._documents\n"
        "c._documents = lambda f, k: read.append(str(f)) or real(f, k)\n"
        "from kpo_rules.cli import main\n"
        f"sys.argv = ['kpo-rules', 'check', '-q', {str(EXAMPLES)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "print(json.dumps([c.__file__, read, code]))\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(unpacked), "KPO_RULES_NO_CACHE": "1",
           "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, "
                           f"{str(unpacked)!r}); exec({probe!r})"],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    module, read, code = json.loads(done.stdout.splitlines()[-1])
    assert module.startswith(str(unpacked)), done.stderr
    assert read == [] and code == 1, done.stderr
    shutil.rmtree(unpacked)
