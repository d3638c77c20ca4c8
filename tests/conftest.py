"""Shared fixtures: run the real CLI in-process (click) or as a subprocess."""

from __future__ import annotations

import faulthandler
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kpo_rules import content
from kpo_rules.cli import cli

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent

# pytest's faulthandler is inherited by forked children: a worker a test crashes on purpose
# (to check that the run goes on) would print a "Fatal Python error" dump of its stack.
os.register_at_fork(after_in_child=faulthandler.disable)


_BYTECODE_SETTINGS = ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
#: What :func:`pytest_configure` changed: the environment's settings, then this process's.
_saved_bytecode_settings: list[tuple[dict[str, str | None], tuple[bool, str | None]]] = []


def pytest_configure(config: pytest.Config) -> None:
    """Bytecode outside the tree, where a user asked for none in it.

    With ``PYTHONDONTWRITEBYTECODE`` set, every process of the suite compiled every module
    it imports from source, every time: each xdist worker its collection (pytest rewriting
    the test modules, kpo-rules, hypothesis: 6.5 s instead of 2 s, measured), each
    ``python -m kpo_rules`` a test starts its imports (0.66 s instead of 0.27 s). The
    setting keeps ``__pycache__`` folders out of the tree; ``PYTHONPYCACHEPREFIX`` (Python
    3.8+) does too, by writing the bytecode to one folder elsewhere, here pytest's cache
    (``.pytest_cache/d/pycache``, which ``pytest --cache-clear`` empties). So for this
    session the first stands aside for the second: in this process (its imports from now
    on) and, through the environment, in the xdist workers and every subprocess a test
    starts. Bytecode is checked against its source's modification time and size, as in any
    ``__pycache__``; nothing a test checks depends on it. A user who set
    ``PYTHONPYCACHEPREFIX`` or runs without pytest's cache (``-p no:cacheprovider``) gets
    what they set. Restored when the session ends, when the bytecode of modules the tests
    wrote in temporary folders is removed (only the checkout's, the virtualenv's and
    Python's own are worth keeping: about 35 MB, pip's included).
    """
    if not os.environ.get("PYTHONDONTWRITEBYTECODE") or os.environ.get("PYTHONPYCACHEPREFIX") \
            or getattr(config, "cache", None) is None:
        return
    prefix = str(config.cache.mkdir("pycache"))
    _saved_bytecode_settings.append(({name: os.environ.get(name) for name in _BYTECODE_SETTINGS},
                                     (sys.dont_write_bytecode, sys.pycache_prefix)))
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ["PYTHONPYCACHEPREFIX"] = prefix
    sys.dont_write_bytecode, sys.pycache_prefix = False, prefix


def pytest_unconfigure(config: pytest.Config) -> None:
    while _saved_bytecode_settings:
        prefix = sys.pycache_prefix
        environment, (sys.dont_write_bytecode, sys.pycache_prefix) = \
            _saved_bytecode_settings.pop()
        if prefix:
            temporary = Path(tempfile.gettempdir()).resolve()
            shutil.rmtree(Path(prefix, *temporary.parts[1:]), ignore_errors=True)
        for name, value in environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def shared_cache_dir(tmp_path_factory) -> Path:
    """One cache for the session's tests (per xdist worker), never ``~/.cache``: entries are
    keyed by every plugin file they are made of, so sharing them changes no verdict, and
    the shipped plugins are read and compiled a few times per session instead of per run.
    Tests of the cache itself set a directory of their own."""
    return tmp_path_factory.mktemp("kpo-cache")


@pytest.fixture(autouse=True)
def private_cache(shared_cache_dir, monkeypatch):
    """Every test runs with the session's cache directory, not the user's."""
    monkeypatch.setenv("KPO_RULES_CACHE_DIR", str(shared_cache_dir))


class _Witnessed(content._Memory):
    """A memory of :mod:`kpo_rules.content` that checks each value it lets go of (and, at the
    session's end, each it still holds) against a copy made when the value was put in."""

    def __init__(self, memory: content._Memory, copy, same) -> None:
        super().__init__(memory.budget, memory._cost)
        self._copy, self._same, self._copies = copy, same, {}

    def put(self, key, value) -> None:
        self._copies[key] = (value, self._copy(key, value))
        super().put(key, value)
        held = {k for k, _ in self.items()}
        for gone in [k for k in self._copies if k not in held]:
            self.check(gone)

    def check(self, key) -> None:
        value, copy = self._copies.pop(key)
        assert self._same(key, value, copy), f"a remembered value was changed: {key!r:.200}"

    def clear(self) -> None:
        super().clear()
        self.check_all()

    def check_all(self) -> None:
        for key in list(self._copies):
            self.check(key)


@pytest.fixture(scope="session", autouse=True)
def remembered_content_is_never_changed():
    """What a process remembers of plugin content (``kpo_rules.content``) serves every later
    check of the session, so nothing may change it: each value, when it is forgotten or at
    the session's end, must equal what it was when first remembered. (A check never writes
    to it; this proves no test or code under test does.)"""
    from kpo_rules.load.yaml12 import parse_yaml

    codec = content.content_codec()
    contents = _Witnessed(content._contents, lambda _key, value: codec.dumps(value),
                          lambda _key, value, copy: value == codec.loads(copy))
    documents = _Witnessed(content._documents_read, lambda _key, _docs: None,
                           lambda key, docs, _copy: docs == tuple(parse_yaml(key[2], key[1])))
    saved = content._contents, content._documents_read
    content._contents, content._documents_read = contents, documents
    yield
    content._contents, content._documents_read = saved
    contents.check_all()
    documents.check_all()


@pytest.fixture
def run_cli():
    """Invoke ``kpo-rules ARGS`` in-process; returns click's Result."""

    def run(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
            ) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)

    return run


@pytest.fixture
def check_json(run_cli):
    """``kpo-rules check --format json PATHS`` -> (exit code, parsed report)."""

    def run(*paths: str, extra: tuple[str, ...] = ()) -> tuple[int, dict]:
        result = run_cli("check", "--format", "json", *extra, *paths)
        return result.exit_code, json.loads(result.stdout)

    return run


def run_subprocess(*args: str, input: bytes | None = None, env: dict[str, str] | None = None
                   ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "kpo_rules", *args], input=input,
                          capture_output=True, env=env, timeout=120, check=False)


def write(root: Path, name: str, content: str | bytes) -> Path:
    """Write ``content`` to ``root/name``, making the folders it needs."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def build_wheel(dest: Path) -> Path:
    """kpo-rules' wheel, built from this checkout as ``pip install .`` builds it."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                    "--disable-pip-version-check", "-w", str(dest), str(ROOT)],
                   check=True, timeout=900, capture_output=True)
    (wheel,) = dest.glob("*.whl")
    return wheel
