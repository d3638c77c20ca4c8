"""The documentation a user reads: generated pages in step with the code, every rule's
page equal to what ``kpo-rules rules show`` prints, ``kpo-rules docs`` working from the
installed package, and the complete examples the field reference quotes valid."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, build_wheel

from kpo_rules import docgen
from kpo_rules.core_rules import CORE_RULES
from kpo_rules.schema_docs import fields
from kpo_rules.schemas import get_schema

DOCS = ROOT / "docs"


def shipped_rule_ids(run_cli) -> list[str]:
    listed = json.loads(run_cli("rules", "list", "--format", "json").stdout)["rules"]
    return sorted({r["id"] for r in listed} | {r.id for r in CORE_RULES})


def test_generated_docs_are_up_to_date():
    stale = docgen.stale(DOCS)
    assert not stale, (f"out of date: {[str(p.relative_to(ROOT)) for p in stale]}; "
                       "run `python -m kpo_rules.docgen`")


def test_every_rule_has_a_page_equal_to_rules_show(run_cli):
    ids = shipped_rule_ids(run_cli)
    assert len(ids) > 40
    pages = {p.stem for p in (DOCS / "rules").glob("*.md")} - {"index"}
    assert pages == set(ids)
    written = {rule_id: (DOCS / "rules" / f"{rule_id}.md").read_text() for rule_id in ids}
    shown = run_cli("rules", "show", *ids)  # every page, in the order asked for
    assert shown.exit_code == 0, shown.stderr
    for rule_id, page in written.items():
        assert page in shown.stdout, rule_id
        assert run_cli("docs", f"rules/{rule_id}").stdout == page, rule_id
    assert shown.stdout == "\n".join(written.values())


def test_rules_show_prints_each_page_asked_for_in_order(run_cli):
    ids = ["LEG-SUP-001", "kpo-syn-001", "COM-ELIG-001", "LEG-SUP-001"]
    pages = [(DOCS / "rules" / f"{rule_id.upper()}.md").read_text() for rule_id in ids]
    shown = run_cli("rules", "show", *ids)
    assert shown.exit_code == 0
    assert shown.stdout == "\n".join(pages)
    assert shown.stdout.count("\n# ") == 3  # a blank line, then the next page's title
    assert run_cli("rules", "show", ids[0]).stdout == pages[0]


def test_an_unknown_rule_among_known_ones_prints_no_page(run_cli):
    result = run_cli("rules", "show", "LEG-SUP-001", "COM-ELIG-01", "KPO-SYN-001", "NOPE-X")
    assert result.exit_code == 2 and result.stdout == ""
    assert "unknown rule 'COM-ELIG-01'; did you mean COM-ELIG-001" in result.stderr
    assert "unknown rule 'NOPE-X'" in result.stderr
    assert "LEG-SUP-001" not in result.stderr and "KPO-SYN-001" not in result.stderr
    assert run_cli("rules", "show").exit_code == 2  # at least one id


def test_rule_pages_have_every_section(run_cli):
    for rule_id in shipped_rule_ids(run_cli):
        page = (DOCS / "rules" / f"{rule_id}.md").read_text()
        assert page.startswith(f"# {rule_id}: "), rule_id
        for section in ("## What it checks", "## Why", "## How to fix"):
            assert section in page, (rule_id, section)
        if not rule_id.startswith("KPO-"):  # plugin rules carry sources and examples
            assert "## Sources" in page and "### Fails" in page and "### Passes" in page, \
                rule_id
    index = (DOCS / "rules" / "index.md").read_text()
    for rule_id in shipped_rule_ids(run_cli):
        assert f"[{rule_id}]({rule_id}.md)" in index


@pytest.mark.parametrize("kind", ["engagement", "roster"])
def test_field_reference_covers_every_schema_field(kind):
    page = (DOCS / "engagement-file.md").read_text()
    for field in fields(get_schema(kind)):
        assert f"| `{field.path}` |" in page, field.path


def test_complete_examples_are_valid_and_pass(run_cli):
    result = run_cli("check", "--format", "json", "--today", "2026-06-01",
                     str(DOCS / "examples" / "engagement.yaml"),
                     str(DOCS / "examples" / "roster.yaml"))
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["findings"] == [], report["findings"]
    assert report["summary"]["waived"] == 2  # the example shows both kinds of waiver at work


def test_docs_command_lists_and_prints_pages(run_cli):
    listed = run_cli("docs")
    assert listed.exit_code == 0
    for page in ("getting-started", "engagement-file", "ci", "configuration",
                 "waivers-and-baselines", "exit-codes", "output", "editors", "plugins"):
        assert page in listed.stdout, page
    assert run_cli("docs", "plugins").stdout == (DOCS / "plugins.md").read_text()
    assert run_cli("docs", "plugins.md").stdout == (DOCS / "plugins.md").read_text()
    shown = Path(run_cli("docs", "--path", "ci").stdout.strip())
    assert shown.is_absolute() and shown.read_text() == (DOCS / "ci.md").read_text()
    missing = run_cli("docs", "plugin")
    assert missing.exit_code == 2 and "did you mean plugins" in missing.stderr


def test_unknown_rule_suggests_close_ids(run_cli):
    result = run_cli("rules", "show", "COM-ELIG-01")
    assert result.exit_code == 2 and "COM-ELIG-001" in result.stderr


@pytest.mark.slow
def test_the_wheel_carries_the_pages(tmp_path):
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for page in DOCS.rglob("*.md"):
        assert f"kpo_rules/_docs/{page.relative_to(DOCS).as_posix()}" in names, page


def test_the_site_config_names_every_guide_page():
    config = (ROOT / "mkdocs.yml").read_text()
    for page in DOCS.glob("*.md"):
        assert page.name in config, f"{page.name} is not in mkdocs.yml's nav"


def test_no_docs_page_links_to_a_missing_page():
    import re

    for page in DOCS.rglob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).resolve().is_file(), (page, target)


def test_the_cli_points_to_docs_by_a_name_that_works_after_pip(run_cli):
    from kpo_rules import conformance
    from kpo_rules.cli import plugin_cmd

    for text in (Path(conformance.__file__).read_text(), Path(plugin_cmd.__file__).read_text()):
        assert "docs/plugins.md" not in text
    assert "kpo-rules docs plugins" in run_cli("plugin", "--help").stdout
