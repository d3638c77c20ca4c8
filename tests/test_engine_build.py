"""The rule engine is compiled from vendor/durable_rules when kpo-rules is installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _build(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``setup.py build_ext`` (what pip runs) into ``tmp_path``, with ``env`` added."""
    return subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "-b", str(tmp_path / "lib"),
         "-t", str(tmp_path / "tmp")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize(
    "env",
    [{"CC": "/nonexistent/cc"}, {"PATH": "/nonexistent"}],
    ids=["CC names no compiler", "no compiler on PATH"],
)
def test_without_a_compiler_the_build_says_what_to_install(tmp_path, env):
    if "PATH" in env:  # keep the interpreter, lose the compiler
        env = {"PATH": os.pathsep.join([env["PATH"], str(Path(sys.executable).parent)])}
        env.pop("CC", None)
    proc = _build(tmp_path, **env)
    assert proc.returncode != 0
    assert "No C compiler was found" in proc.stderr
    assert "sudo apt install gcc python3-dev" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.glob("lib/**/_engine*"))


def test_the_tests_run_the_engine_built_in_the_working_tree():
    from kpo_rules.engine.durable import _engine

    assert Path(_engine.__file__).parent == ROOT / "kpo_rules" / "engine" / "durable"
    assert _engine.error.__module__ == "kpo_rules.engine.durable._engine"
