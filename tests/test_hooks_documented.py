"""docs/plugins.md stays true: every hook documented with its arguments and tested, the
rule-file reference generated from the schema, the kit and the conformance checks listed,
and the tutorial's commands run, in order, in a fresh virtualenv (datasette's
test_plugin_hooks_are_documented and test_plugin_hooks_have_tests, tox's schema drift test)."""

from __future__ import annotations

import inspect
import re
import subprocess
import time
from pathlib import Path

import pytest
from conftest import ROOT
from test_plugin_kit import make_venv, venv_env

from kpo_rules import conformance, testing
from kpo_rules.errors import DEFINITION_KINDS
from kpo_rules.plugins import create_plugin_set
from kpo_rules.scaffold.reference import END, START, rule_reference

DOCS = ROOT / "docs" / "plugins.md"
TESTS = Path(__file__).parent


def docs() -> str:
    return DOCS.read_text(encoding="utf-8")


def hooks() -> dict[str, tuple[str, ...]]:
    """Every hook of kpo_rules/hookspecs.py and its argument names, from the plugin manager."""
    hook = create_plugin_set(load_entrypoints=False).hook
    return {name: tuple(caller.spec.argnames) for name, caller in vars(hook).items()
            if name.startswith("kpo_") and caller.spec is not None}


def tutorial_blocks(text: str) -> list[str]:
    """The ```sh blocks that follow a ``<!-- tutorial -->`` marker, in order."""
    return re.findall(r"<!-- tutorial -->\n```sh\n(.*?)```", text, re.DOTALL)


def test_the_hooks_are_the_ones_of_hookspecs():
    assert set(hooks()) == {"kpo_plugin_meta", "kpo_rule_files", "kpo_catalogue_files"}


@pytest.mark.parametrize("name", sorted(hooks()))
def test_every_hook_is_documented_with_its_arguments_and_docstring(name):
    from kpo_rules import hookspecs

    text = docs()
    signature = f"{name}({', '.join(hooks()[name])})"
    assert f"### `{signature}" in text, f"docs/plugins.md has no heading for {signature}"
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    first = doc.split("\n\n")[0].replace("``", "`").replace("\n", " ")
    assert first in text.replace("\n", " "), f"{name}: docstring not in the docs: {first}"


@pytest.mark.parametrize("name", sorted(hooks()))
def test_every_hook_has_a_test(name):
    pattern = re.compile(rf"^def test_hook_{name}\(", re.MULTILINE)
    assert any(pattern.search(path.read_text(encoding="utf-8"))
               for path in TESTS.glob("test_*.py")), f"no test_hook_{name} in tests/"


def test_rule_file_reference_is_generated_from_the_rule_schema():
    text = docs()
    block = text[text.index(START):text.index(END) + len(END)] + "\n"
    assert block == rule_reference(), (
        "docs/plugins.md's rule-file reference differs from the rule schema; regenerate it: "
        "python -m kpo_rules.scaffold.reference --write docs/plugins.md")


def test_the_kit_is_documented():
    text = docs()
    fixtures = [name for name, value in vars(testing).items()
                if name.startswith("kpo_") and callable(value)]
    assert set(fixtures) == {"kpo_plugins", "kpo_register", "kpo_check", "kpo_cli"}
    for name in [*fixtures, "rule_example_params", "kpo_rule_example", "assert_findings",
                 "assert_clean", 'pytest_plugins = ["kpo_rules.testing"]']:
        assert f"`{name}" in text or name in text, name


def test_every_conformance_check_is_documented():
    source = inspect.getsource(conformance)
    used = set(re.findall(r'check="([a-z-]+)"', source))
    used |= set(re.findall(r'(?:problem|yield problem)\("([a-z-]+)"', source))
    used |= set(re.findall(r'return "([a-z-]+)", ', source))
    used |= set(DEFINITION_KINDS)  # the loader's failures, reported under their kind
    assert used >= {"load", "api-version", "metadata", "prefix", "clash", "hookimpl", "schema",
                    "rule-id", "docs", "references", "examples"}
    table = docs().split("## Conformance checks", 1)[1].split("\n## ", 1)[0]
    assert [c for c in sorted(used) if f"| `{c}` |" not in table] == []


def test_the_tutorial_covers_the_whole_journey():
    commands = "\n".join(tutorial_blocks(docs()))
    steps = ["kpo-rules plugin new kpo-country-nl", "catalogue/profile.yaml",
             "kpo-rules catalogue tasks", "rules/nl.yaml", "kpo-rules test ./kpo-country-nl",
             "python -m pytest", "python -m pip install ./kpo-country-nl", "kpo-rules plugins",
             "kpo-rules check", "kpo-rules explain"]
    positions = [commands.find(step) for step in steps]
    found = dict(zip(steps, positions, strict=True))
    assert -1 not in positions and positions == sorted(positions), found


@pytest.mark.slow
def test_the_tutorial_commands_run(tmp_path):
    """Each command of the tutorial, in order, in a fresh virtualenv with kpo-rules."""
    start = time.monotonic()
    bindir = make_venv(tmp_path / "venv")
    work = tmp_path / "work"
    work.mkdir()
    script = "set -euxo pipefail\n" + "\n".join(tutorial_blocks(docs()))
    result = subprocess.run(["bash", "-c", script], cwd=work, env=venv_env(bindir),
                            capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    # What the tutorial says the commands print.
    for expected in ("conformance: 0 problems in 1 plugin\n5 passed, 0 failed",
                     "test_rules.py", "country_nl ", "finance.statutory_audit ",
                     "rules (1): 0 fired, 1 did not\n  not fired  NL-DP-001      stopped at "
                     "'service': no service fact with personal_data = true (line 87)"):
        assert expected in result.stdout, expected
    assert (work / "kpo-country-nl" / "src" / "kpo_country_nl" / "rules" / "nl.yaml").is_file()
    print(f"tutorial in a fresh virtualenv: {time.monotonic() - start:.1f}s")
