"""Shared fixtures: run the real CLI in-process (click) or as a subprocess."""

from __future__ import annotations

import faulthandler
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kpo_rules.cli import cli

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent

# pytest's faulthandler is inherited by forked children: a worker a test crashes on purpose
# (to check that the run goes on) would print a "Fatal Python error" dump of its stack.
os.register_at_fork(after_in_child=faulthandler.disable)


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
