"""The filter stage: the library gives the CLI's answer (waivers, selection, baseline),
findings that say a file was not fully checked survive prefix selectors, and a file's
findings are capped."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from conftest import DATA

import kpo_rules
from kpo_rules.config import Config
from kpo_rules.report.json_report import as_dict

MINIMAL = (DATA / "clean" / "minimal.yaml").read_text()
WITH_FINDINGS = MINIMAL.replace("    task: finance.billing",
                                "    task: finance.billing\n    software: [sap]").replace(
    "assignees: [s-1]", "assignees: [s-1, s-9]")
WAIVED = WITH_FINDINGS + """waivers:
  - {rule: COM-SW-001, subject: s-1, reason: tooling arrives in May,
     approved_by: lead@example.com, expires: 2031-01-01}
"""


def _portfolio(tmp_path: Path) -> Path:
    folder = tmp_path / "engagements"
    folder.mkdir()
    (folder / "a.yaml").write_text(WITH_FINDINGS.replace("minimal-clean", "a"))
    (folder / "b.yaml").write_text(WAIVED.replace("minimal-clean", "b"))
    (folder / "c.yaml").write_text("apiVersion: kpo-rules/v1\n{{{ not yaml")  # ours, broken
    return folder


def _report_json(result_stdout: str) -> dict:
    data = json.loads(result_stdout)
    del data["tool"]
    return data


def test_the_library_gives_the_cli_answer_with_waivers_selection_and_baseline(
        tmp_path, run_cli):
    folder = _portfolio(tmp_path)
    baseline = tmp_path / "baseline.json"
    (tmp_path / "only-a.yaml").write_text(WITH_FINDINGS.replace("minimal-clean", "a"))
    assert run_cli("check", "--write-baseline", str(baseline),
                   str(folder / "a.yaml")).exit_code == 0
    flags = ("--select", "COM,KPO", "--ignore", "KPO-SYN-001", "--today", "2027-01-01")
    cli = run_cli("check", "--format", "json", "--baseline", str(baseline), *flags,
                  str(folder))
    config = Config(select=("COM", "KPO"), ignore=("KPO-SYN-001",))
    library = kpo_rules.check([folder], config=config, today=dt.date(2027, 1, 1),
                              baseline=baseline)
    library_json = json.loads(json.dumps(as_dict(library)))
    del library_json["tool"]
    assert _report_json(cli.stdout) == library_json
    # ... and the filters did something: b's waiver, a's baseline, c's syntax error ignored
    assert library.baselined == 2 and len(library.waived) == 1
    assert {Path(f.file).name for f in library.findings} == {"b.yaml"}
    assert [f.rule for f in library.findings] == ["KPO-REF-001"]


def test_a_prefix_selector_never_hides_a_file_that_was_not_fully_checked(tmp_path, run_cli):
    folder = _portfolio(tmp_path)
    (folder / "d.yaml").write_text("apiVersion: kpo-rules/v1\nkind: Engagement\n")
    for flags in (("--select", "COM"), ("--ignore", "KPO"), ("--ignore", "KPO-SYN,KPO-SCH")):
        result = run_cli("check", "--format", "json", *flags, str(folder))
        rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
        assert {"KPO-SYN-001", "KPO-SCH-001"} <= rules, flags
        assert result.exit_code == 1
    exact = run_cli("check", "--format", "json", "--ignore", "KPO-SYN-001", str(folder))
    rules = {f["rule"] for f in json.loads(exact.stdout)["findings"]}
    assert "KPO-SYN-001" not in rules and "KPO-SCH-001" in rules


def test_severity_overrides_by_prefix_do_not_downgrade_an_unreadable_file(tmp_path, run_cli):
    folder = _portfolio(tmp_path)
    (tmp_path / ".kpo-rules.toml").write_text('[severity]\n"KPO" = "info"\n')
    result = run_cli("check", "--format", "json", str(folder))
    by_rule = {f["rule"]: f["severity"] for f in json.loads(result.stdout)["findings"]}
    assert by_rule["KPO-SYN-001"] == "error" and by_rule["KPO-REF-001"] == "info"


def test_findings_of_one_file_are_capped_with_a_summary(tmp_path):
    from kpo_rules.filters import MAX_FINDINGS_PER_FILE

    folder = _portfolio(tmp_path)
    count = MAX_FINDINGS_PER_FILE + 50  # each names an unknown assignee: one error each
    services = "".join(
        f"  - {{id: svc-{i}, task: finance.billing, delivery_centre: c1, "
        f"assignees: [nobody-{i}]}}\n" for i in range(count))
    text = WITH_FINDINGS.replace("minimal-clean", "many")
    (folder / "many.yaml").write_text(text.replace("services:\n", "services:\n" + services, 1))
    for jobs in (1, 2):
        report = kpo_rules.check([folder], jobs=jobs)
        mine = [f for f in report.findings if Path(f.file).name == "many.yaml"]
        assert len(mine) == MAX_FINDINGS_PER_FILE + 1
        (summary,) = [f for f in mine if f.rule == "KPO-ENG-004"]
        hidden = int(summary.message.split()[0])
        assert hidden >= 51  # the 1,050 unknown assignees and whatever else the file has
        assert summary.message == (f"{hidden} more findings in this file are not shown (at "
                                   f"most {MAX_FINDINGS_PER_FILE} are reported per file)")
        assert summary.severity.value == "error"  # as severe as the worst it stands for
        # the other files' findings are all there
        assert {Path(f.file).name for f in report.findings} >= {"a.yaml", "b.yaml", "c.yaml"}
