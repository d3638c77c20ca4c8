"""Start-up work a one-file check is spared, without changing what it finds: a pyproject.toml
that names kpo-rules only as a project, script or dependency is not parsed as TOML, while each
spelling of a [tool.kpo-rules] table is still found."""

from __future__ import annotations

import json
import os
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


#: What a one-file check with the plugins' content at hand never needs: each is imported
#: where it is used (the rule compiler, failures, packing, waivers, schema findings...).
NOT_IMPORTED = ("jsonschema", "pickle", "tempfile", "importlib.resources", "importlib.metadata",
                "kpo_rules.engine.rulefile", "kpo_rules.engine.durable.rules",
                "kpo_rules.engine.durable.strata", "kpo_rules.incidents", "kpo_rules.packing",
                "kpo_rules.waivers", "kpo_rules.fingerprint", "kpo_rules.load.schema_findings",
                "kpo_rules.parallel")


@pytest.mark.parametrize("name", ["us-1040-ny-pune.yaml", "us-1040-ny-pune-findings.yaml"])
def test_a_one_file_check_imports_only_what_it_uses(tmp_path, name):
    """With the content cached (as a wheel install ships it), a clean file and a file with
    findings are checked without importing anything of the list."""
    target = ROOT / "examples" / "finance" / name
    probe = ("import sys, json\n"
             "from kpo_rules.cli import main\n"
             f"sys.argv = ['kpo-rules', 'check', {str(target)!r}]\n"
             "try:\n    main()\nexcept SystemExit as end:\n    code = end.code\n"
             f"print(json.dumps([code, [m for m in {NOT_IMPORTED!r} if m in sys.modules]]))\n")
    env = {**os.environ, "KPO_RULES_CACHE_DIR": str(tmp_path / "cache")}
    for _ in range(3):  # the second run writes the cache entries, the third reads them
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                             timeout=120, env=env, check=True).stdout
    code, imported = json.loads(out.splitlines()[-1])
    assert code == (1 if "findings" in name else 0)
    assert imported == []
