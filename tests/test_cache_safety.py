"""The on-disk caches as an attacker or an unlucky machine meets them: nothing stored there can
run, a damaged entry is a miss, a directory others can write to is not used, planted links are
never followed, and relative cache paths are ignored. Every check here gives the findings of a
run without any cache."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import ROOT

from kpo_rules import disk_cache
from kpo_rules.cache_codec import Codec
from kpo_rules.cli import cli
from kpo_rules.content import load_content
from kpo_rules.engine import plan_cache
from kpo_rules.engine.evaluate import _plan
from kpo_rules.plugins import create_plugin_set

ENGAGEMENT = str(ROOT / "examples" / "finance" / "us-1040-ny-pune-findings.yaml")


def check(run_cli, cache: Path | None, **env: str) -> tuple[int, str, str]:
    """``kpo-rules check --format json ENGAGEMENT`` -> (exit code, stdout, stderr), with the
    content read from ``cache`` every time: not from what this process read before."""
    settings = {"KPO_RULES_CACHE_DIR": str(cache), "KPO_RULES_NO_MEMORY_CACHE": "1"} if cache \
        else {"KPO_RULES_NO_CACHE": "1"}
    result = run_cli("check", "--format", "json", ENGAGEMENT, env={**settings, **env})
    return result.exit_code, result.stdout, result.stderr


def check_apart(cache: Path | None) -> str:
    """The report of the same check in a process of its own (nothing shared in memory)."""
    env = {**os.environ, "KPO_RULES_CACHE_DIR": str(cache)} if cache else {
        **os.environ, "KPO_RULES_NO_CACHE": "1"}
    return subprocess.run([sys.executable, "-m", "kpo_rules", "check", "--format", "json",
                           ENGAGEMENT], env=env, capture_output=True, text=True, timeout=120,
                          check=False).stdout


@pytest.fixture
def uncached(run_cli) -> tuple[int, str, str]:
    return check(run_cli, None)


@pytest.fixture(scope="module")
def genuine_entries(tmp_path_factory) -> Path:
    """A cache directory holding genuine entries (written on the second miss), made once per
    module: the tests get copies of it (:func:`warm`), never this one."""
    def run_cli(*args: str, env: dict[str, str]) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    cache = tmp_path_factory.mktemp("genuine") / "warm"
    for _ in range(2):
        check(run_cli, cache)
    assert list(cache.glob("content-*.json"))
    return cache


@pytest.fixture
def warm(genuine_entries, tmp_path) -> Path:
    """A cache directory of this test's own holding genuine entries: a copy, modes and all
    (the folder 0700, the entries 0600), of the ones kpo-rules wrote."""
    cache = tmp_path / "warm"
    shutil.copytree(genuine_entries, cache)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert list(cache.glob("content-*.json"))
    return cache


def entry(cache: Path) -> Path:
    (found,) = cache.glob("content-*.json")
    return found


def seal(body: bytes) -> bytes:
    """A well-formed entry around ``body`` (key line, newline, value), hash and all."""
    return b"kpo-rules-cache 1 " + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def body_of(path: Path) -> bytes:
    return path.read_bytes().partition(b"\n")[2]


def firing(report: str, body: bytes) -> list[bytes]:
    """For each finding of ``report``, three words of its message as the content entry
    ``body`` stores them (the rule's template): where damage would show if believed."""
    findings = json.loads(report)["findings"]
    chunks = []
    for finding in findings:
        words = finding["message"].split()
        chunks += [chunk for chunk in (" ".join(words[i:i + 3]).encode()
                                       for i in range(len(words) - 2)) if chunk in body][:1]
    assert findings and len(chunks) == len(findings)
    return chunks


# ------------------------------------------------------------------- nothing that can run

class Payload:
    """Unpickling this writes ``marker``: what a planted cache entry would do to a reader
    that runs pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


def test_a_planted_pickle_in_every_entry_is_never_run(run_cli, warm, uncached, tmp_path):
    marker = tmp_path / "marker"
    payload = pickle.dumps(Payload(marker))
    planted = list(warm.iterdir())
    assert {p.suffix for p in planted} == {".json", ".seen"}
    for path in planted:
        key_line = body_of(path).partition(b"\n")[0]
        path.write_bytes(payload)
        if path.suffix == ".json":  # hash and key right, a pickle where the value goes
            path.write_bytes(seal(key_line + b"\n" + payload))
    for old in ("content-0.pickle", "engine-0.pickle", "entry-points-0.pickle"):
        (warm / old).write_bytes(payload)  # where the pickle caches were
    for _ in range(2):
        assert check(run_cli, warm) == uncached
    assert not marker.exists()


def test_a_planted_entry_naming_other_classes_is_a_miss(run_cli, warm, uncached):
    path = entry(warm)
    key_line = body_of(path).partition(b"\n")[0]
    for value in ('{"\\u0000": "system", "command": "touch /tmp/x"}',
                  '{"\\u0000": "Popen", "args": ["true"]}', '[1, 2', "null"):
        path.write_bytes(seal(key_line + b"\n" + value.encode()))
        assert check(run_cli, warm) == uncached


# ----------------------------------------------------------------------------- damage

def test_a_flipped_bit_or_a_truncation_anywhere_is_a_miss(warm):
    uncached = check_apart(None)
    path = entry(warm)
    pristine = path.read_bytes()
    assert check_apart(warm) == uncached
    # Inside the messages of the rules that fire (a flip there would change the report if
    # the entry were believed), then spread over the whole entry.
    offsets = [pristine.index(words) + 3 for words in firing(uncached, pristine)]
    offsets += range(0, len(pristine), len(pristine) // 7)
    for offset in offsets:
        damaged = bytearray(pristine)
        damaged[offset] ^= 0x04
        path.write_bytes(bytes(damaged))
        assert check_apart(warm) == uncached, offset
    for length in (0, len(pristine) // 2, len(pristine) - 1):
        path.write_bytes(pristine[:length])
        assert check_apart(warm) == uncached, length


def test_a_damaged_plan_is_compiled_afresh(tmp_path, monkeypatch):
    monkeypatch.setenv("KPO_RULES_CACHE_DIR", str(tmp_path))
    book = load_content(create_plugin_set()).rules
    fresh = _plan(book, "damage")
    for _ in range(2):
        plan_cache.cached_plan(book.digest, lambda: fresh)
    (path,) = tmp_path.glob("plan-*.json")
    pristine = path.read_bytes()
    text = next(iter(fresh.texts.values())).encode()
    at = pristine.index(json.dumps(text.decode())[1:20].encode())
    for offset in (at, at + 7, len(pristine) // 3, len(pristine) - 2):
        damaged = bytearray(pristine)
        damaged[offset] ^= 0x01
        path.write_bytes(bytes(damaged))
        assert plan_cache.cached_plan(book.digest, lambda: _plan(book, "damage")) == fresh
    path.write_bytes(pristine[: len(pristine) // 2])
    assert plan_cache.cached_plan(book.digest, lambda: _plan(book, "damage")) == fresh


# -------------------------------------------------------------------- whose directory

@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777])
def test_a_directory_others_may_write_to_is_not_used(run_cli, tmp_path, uncached, mode):
    cache = tmp_path / "shared"
    cache.mkdir()
    cache.chmod(mode)
    runs = [check(run_cli, cache) for _ in range(3)]
    assert [r[:2] for r in runs] == [uncached[:2]] * 3
    assert not list(cache.iterdir())
    note = f"kpo-rules: not using the cache in {cache}: others may write to it (chmod 700"
    assert runs[0][2].count(note) == 1
    assert runs[0][2].count("kpo-rules: not using the cache") == 1
    assert stat.S_IMODE(cache.stat().st_mode) == mode  # left as it was


def test_each_run_says_once_why_the_cache_is_not_used(tmp_path):
    cache = tmp_path / "shared"
    cache.mkdir()
    cache.chmod(0o777)
    env = {**os.environ, "KPO_RULES_CACHE_DIR": str(cache)}
    env.pop("KPO_RULES_NO_CACHE", None)
    uncached = check_apart(None)
    for _ in range(2):  # a process of its own each time, as a user or CI runs it
        done = subprocess.run([sys.executable, "-m", "kpo_rules", "check", "--format", "json",
                               ENGAGEMENT], env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.stdout == uncached
        assert done.stderr.splitlines() == [
            f"kpo-rules: not using the cache in {cache}: others may write to it"
            f" (chmod 700 {cache})"]
    assert not list(cache.iterdir())


def test_a_directory_of_another_user_is_not_used(run_cli, tmp_path, uncached, monkeypatch):
    cache = tmp_path / "theirs"
    cache.mkdir(mode=0o700)
    me = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: me + 1)  # as seen by someone else
    runs = [check(run_cli, cache) for _ in range(3)]
    assert [r[:2] for r in runs] == [uncached[:2]] * 3
    assert not list(cache.iterdir())
    assert runs[0][2].count("kpo-rules: not using the cache") == 1
    assert f"not using the cache in {cache}: it belongs to another user" in runs[0][2]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_directory_chowned_to_another_user_is_not_used(run_cli, tmp_path, uncached):
    cache = tmp_path / "nobody"
    cache.mkdir(mode=0o700)
    os.chown(cache, 65534, 65534)
    assert check(run_cli, cache)[:2] == uncached[:2]
    assert not list(cache.iterdir())


def test_created_folders_are_private_whatever_the_umask(run_cli, tmp_path, uncached):
    cache = tmp_path / "a" / "b" / "cache"
    old = os.umask(0)
    try:
        runs = [check(run_cli, cache) for _ in range(2)]
    finally:
        os.umask(old)
    assert runs == [uncached] * 2
    for folder in (tmp_path / "a", tmp_path / "a" / "b", cache):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in cache.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_cache_directory_that_is_a_symlink_is_not_used(run_cli, tmp_path, uncached):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    code, out, err = check(run_cli, link)
    assert (code, out) == uncached[:2]
    assert "is a symbolic link" in err
    assert not list(real.iterdir())


# ----------------------------------------------------------------------- planted links

def forged(cache: Path, report: str) -> bytes:
    """A well-sealed copy of the content entry whose findings say FORGED."""
    body = body_of(entry(cache))
    words = firing(report, body)[0]
    return seal(body.replace(words, b"FORGED"))


def test_a_symlink_at_the_entry_is_neither_read_nor_written_through(run_cli, warm, uncached,
                                                                    tmp_path):
    bait = tmp_path / "elsewhere.json"
    forgery = forged(warm, uncached[1])
    bait.write_bytes(forgery)
    believed = tmp_path / "believed"
    believed.mkdir(mode=0o700)
    for path in warm.iterdir():
        (believed / path.name).write_bytes(path.read_bytes())
    entry(believed).write_bytes(bait.read_bytes())
    assert "FORGED" in check_apart(believed)  # a regular file there is believed

    name = entry(warm).name
    entry(warm).unlink()
    (warm / name).symlink_to(bait)
    assert "FORGED" not in check_apart(warm)  # read: the link is not followed
    assert check(run_cli, warm) == uncached
    assert not (warm / name).is_symlink()  # written: the link was replaced, not followed
    assert bait.read_bytes() == forgery
    assert check(run_cli, warm) == uncached  # and the entry in its place is genuine


def test_a_symlink_at_the_temporary_name_is_not_followed(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("KPO_RULES_CACHE_DIR", str(cache))
    codec = Codec([])
    disk_cache.write("entry.json", "key", {"v": 1}, codec)  # the first miss: a note only
    victim = tmp_path / "victim"
    victim.write_text("precious")
    monkeypatch.setattr(os, "urandom", lambda n: b"\0" * n)  # a guessable temporary name
    (cache / f".entry.json.{'00' * 8}.tmp").symlink_to(victim)
    disk_cache.write("entry.json", "key", {"v": 1}, codec)
    assert victim.read_text() == "precious"
    assert not (cache / "entry.json").exists()
    monkeypatch.undo()
    monkeypatch.setenv("KPO_RULES_CACHE_DIR", str(cache))
    disk_cache.write("entry.json", "key", {"v": 1}, codec)
    assert disk_cache.read("entry.json", "key", codec) == {"v": 1}


# -------------------------------------------------------------------------- where

def test_relative_cache_paths_are_ignored(tmp_path):
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KPO_RULES", "XDG_CACHE_HOME"))}
    for relative in ({"KPO_RULES_CACHE_DIR": "rel-cache"}, {"XDG_CACHE_HOME": "rel-xdg"},
                     {"KPO_RULES_CACHE_DIR": "rel-cache", "XDG_CACHE_HOME": "rel-xdg"}):
        for _ in range(2):
            subprocess.run([sys.executable, "-m", "kpo_rules", "check", ENGAGEMENT], cwd=work,
                           env={**env, "HOME": str(home), **relative}, capture_output=True,
                           timeout=120, check=False)
        assert not list(work.iterdir()), relative
    assert list((home / ".cache" / "kpo-rules").glob("content-*.json"))
    subprocess.run([sys.executable, "-m", "kpo_rules", "check", ENGAGEMENT], cwd=work,
                   env={**env, "HOME": "relative-home"}, capture_output=True, timeout=120,
                   check=False)
    assert not list(work.iterdir())  # a relative home holds no cache either
