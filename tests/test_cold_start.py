"""Start-up work a one-file check is spared, without changing what it finds: a pyproject.toml
that names kpo-rules only as a project, script or dependency is not parsed as TOML, while each
spelling of a [tool.kpo-rules] table is still found."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from kpo_rules.config import find_config

ENGAGEMENT = ROOT / "examples" / "finance" / "us-1040-ny-pune-findings.yaml"


def project(tmp_path: Path, pyproject: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    target = tmp_path / "e.yaml"
    target.write_bytes(ENGAGEMENT.read_bytes())
    return target


@pytest.mark.parametrize("table", [
    '[tool.kpo-rules]\nfail-on = "never"\n',
    '[ "tool" . \'kpo-rules\' ]\nfail-on = "never"\n',
    'tool.kpo-rules.fail-on = "never"\n',
    '[tool]\nkpo-rules = { fail-on = "never" }\n',
    '[tool]\n"kpo-rules".fail-on = "never"\n',
    'tool = { kpo-rules = { fail-on = "never" } }\n',
    '[tool.kpo-rules.severity]\n"COM" = "info"\n',
])
def test_every_spelling_of_the_table_is_found(tmp_path, table, run_cli):
    target = project(tmp_path, table + '[project]\nname = "kpo-rules"\n')
    assert find_config([target]).file == str(tmp_path / "pyproject.toml")
    assert run_cli("check", str(target)).exit_code == 0


def test_a_project_that_only_names_kpo_rules_is_not_parsed(tmp_path):
    target = project(tmp_path, '[project]\nname = "kpo-rules-user"\ndependencies = ["kpo-rules"]'
                               '\n[project.scripts]\nkpo-rules = "x:y"\n'
                               '[tool.poetry.dependencies]\nkpo-rules = "^1"\n')
    probe = ("import sys, json; from kpo_rules.config import find_config; "
             f"c = find_config([{str(target)!r}]); "
             "print(json.dumps([str(c.file), 'tomllib' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert json.loads(out) == ["None", False]
