"""`kpo-rules explain`: the facts an engagement gives the engine and why each rule fired
or not, in agreement with `kpo-rules check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, write

pytest_plugins = ["kpo_rules.testing"]  # kpo_register, kpo_cli

EXAMPLE = ROOT / "examples" / "finance" / "us-1040-ny-pune-findings.yaml"
ENGAGEMENTS = sorted(p for p in (ROOT / "examples").glob("*/*.yaml") if "rosters" not in p.parts)


def explained(run_cli, path: Path, *args: str) -> dict:
    result = run_cli("explain", str(path), "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_explain_shows_facts_and_per_rule_outcomes(run_cli):
    result = run_cli("explain", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("engagement bowery-tax-1040-fy2026 (")
    for fact in ("staff pn-103  /staff/1", "assignment ", "service returns  /services/1"):
        assert f"\n  {fact}" in text, fact
    assert "derived facts (" in text and "\n  com_assignee  /services/1/assignees/0" in text
    assert "(derived by COM-DRV-000)" in text
    assert "\n  fired      COM-DP-010     1 finding" in text
    assert ("\n  not fired  FIN-ELIG-002   stopped at 'engagement': no engagement fact with "
            'client_country = "DE"') in text
    assert ("\n  not fired  COM-REG-001    every match of 'when' (2) is blocked by unless "
            "'known' (familiar with staff = $as.staff, framework = $as.framework)") in text


def test_a_rule_blocked_by_unless_fires_once_the_blocking_fact_is_gone(run_cli, tmp_path):
    data = explained(run_cli, EXAMPLE, "--rule", "COM-REG-001")
    (rule,) = data["engagements"][0]["rules"]
    assert not rule["fired"] and rule["matches"] == 2
    assert [s["matches"] for s in rule["steps"]] == [1, 1, 3, 2]
    assert rule["steps"][-1]["label"] == "'as' with framework present"
    assert rule["unless"] == [{"label": "'known' (familiar with staff = $as.staff, framework = "
                                        "$as.framework)", "line": rule["unless"][0]["line"],
                               "blocks": 2}]
    changed = write(tmp_path, "e.yaml", EXAMPLE.read_text().replace(
        "familiar_with: [us.tax]", "familiar_with: []", 1))
    (rule,) = explained(run_cli, changed, "--rule", "COM-REG-001")["engagements"][0]["rules"]
    assert rule["fired"] and rule["stopped_by"] == ""
    assert [f["rule"] for f in rule["findings"]] == ["COM-REG-001"]


def test_with_rule_the_trace_lists_every_step_and_the_facts_it_reads(run_cli):
    result = run_cli("explain", str(EXAMPLE), "--rule", "FIN-ELIG-002")
    text = result.stdout
    assert "facts of the types the rules read (" in text
    assert "\n  staff pn-103  /staff/1" in text and "\n  serves " not in text
    assert "matches after each step of 'when':" in text
    assert '          0  \'engagement\' with client_country = "DE" (line ' in text


def test_derived_facts_such_as_overlap_are_shown(run_cli):
    path = ROOT / "examples" / "finance" / "de-payroll-krakow-remote.yaml"
    data = explained(run_cli, path)["engagements"][0]
    overlap = [f for f in data["facts"] if f["type"] == "overlap"]
    assert overlap and {"min_hours", "typical_hours", "staff", "service"} <= set(
        overlap[0]["fields"])
    assert {"com_assignee"} <= {f["type"] for f in data["derived"]}


@pytest.mark.parametrize("path", ENGAGEMENTS, ids=lambda p: p.name)
def test_the_rules_explain_says_fired_are_those_check_reports(run_cli, path):
    report = json.loads(run_cli("check", "--format", "json", str(path)).stdout)
    if "KPO-SCH-001" in {f["rule"] for f in report["findings"]}:  # no engagement to explain
        result = run_cli("explain", str(path))
        assert result.exit_code == 2 and "no engagement to explain" in result.stdout
        return
    data = explained(run_cli, path)
    for engagement in data["engagements"]:
        checked = {f["rule"] for f in report["findings"]
                   if f["engagement"] == engagement["id"] and not f["rule"].startswith("KPO-")}
        fired = {r["id"] for r in engagement["rules"] if r["fired"]}
        assert fired == checked
        assert all(r["stopped_by"] for r in engagement["rules"] if not r["fired"])


def test_explain_refuses_what_it_cannot_explain(run_cli, tmp_path):
    unknown = run_cli("explain", str(EXAMPLE), "--engagement", "nope")
    assert unknown.exit_code == 2 and "has no engagement 'nope' (it has: bowery-tax-1040" in \
        unknown.output
    typo = run_cli("explain", str(EXAMPLE), "--rule", "COM-REG-01")
    assert typo.exit_code == 2 and "did you mean COM-REG-001" in typo.output
    broken = write(tmp_path, "broken.yaml", "apiVersion: kpo-rules/v1\nkind: Engagement\n")
    result = run_cli("explain", str(broken))
    assert result.exit_code == 2 and "KPO-SCH-001" in result.output
    assert "no engagement to explain" in result.output


def test_explain_takes_roster_staff(run_cli):
    path = ROOT / "examples" / "structure" / "roster-reference.yaml"
    roster = ROOT / "examples" / "rosters" / "manila-centre.yaml"
    def unknown(data: dict) -> set[str]:
        return {f["subject"]["staff"] for f in data["findings"] if f["rule"] == "KPO-REF-001"}

    def staff(data: dict) -> set[str]:
        return {f["id"] for f in data["engagements"][0]["facts"] if f["type"] == "staff"}

    alone = explained(run_cli, path)
    data = explained(run_cli, path, "--roster", str(roster))
    assert "mnl-101" in unknown(alone) and "mnl-101" not in staff(alone)
    assert "mnl-101" not in unknown(data) and "mnl-101" in staff(data)


def test_explain_traces_a_third_party_rule_to_its_file_and_line(tmp_path, run_cli,
                                                                kpo_register, kpo_cli):
    """The plugin guide's debugging step, on the rule `kpo-rules plugin new` scaffolds."""
    from test_plugin_kit import line_of, scaffold

    root = scaffold(run_cli, tmp_path, "kpo-country-nl")
    rules = root / "src" / "kpo_country_nl" / "rules" / "nl.yaml"
    source = rules.read_text()
    kpo_register(root)
    example = root / "examples" / "engagement.yaml"
    result = kpo_cli("explain", str(example), "--rule", "NL-LANG-001")
    assert result.exit_code == 0, result.output
    when = line_of(source, "- service: {fact: service, language:")
    assert ("\n  not fired  NL-LANG-001    stopped at 'service': no service fact with "
            f'language not in ["nl", "en"] (line {when})\n') in result.stdout
    assert f"\n      {rules}:{line_of(source, '- id: NL-LANG-001')}; matches after" in \
        result.stdout
    text = example.read_text().replace("data: {personal_data: false}",
                                       "language: de\n    data: {personal_data: false}")
    german = tmp_path / "german.yaml"
    german.write_text(text)
    result = kpo_cli("explain", str(german), "--rule", "NL-LANG-001")
    assert ("\n  fired      NL-LANG-001    1 finding\n"
            f"      {german}:{line_of(text, '- id: invoices')}:") in result.stdout
