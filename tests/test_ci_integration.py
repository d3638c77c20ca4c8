"""What a CI pipeline relies on: configuration and its precedence, waivers in every case,
baselines, parallel runs identical to serial ones, and exit codes with --fail-on."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from pathlib import Path

import pytest
from conftest import DATA

MINIMAL = (DATA / "clean" / "minimal.yaml").read_text()
# The assignee does not list 'sap' (COM-SW-001, a warning) and the service names an unknown
# staff id (KPO-REF-001, an error).
WITH_FINDINGS = MINIMAL.replace("    task: finance.billing",
                                "    task: finance.billing\n    software: [sap]").replace(
    "assignees: [s-1]", "assignees: [s-1, s-9]")


def project(tmp_path: Path, config: str | None = None, *, name: str = ".kpo-rules.toml",
            text: str = WITH_FINDINGS) -> Path:
    (tmp_path / "engagements").mkdir(exist_ok=True)
    (tmp_path / "engagements" / "e.yaml").write_text(text)
    if config is not None:
        (tmp_path / name).write_text(config)
    return tmp_path / "engagements"


def rules(result) -> list[str]:
    return sorted(f["rule"] for f in json.loads(result.stdout)["findings"])


# --------------------------------------------------------------------------- configuration


def test_without_config_everything_is_reported(tmp_path, run_cli):
    result = run_cli("check", "--format", "json", str(project(tmp_path)))
    assert rules(result) == ["COM-SW-001", "KPO-REF-001"]
    assert result.exit_code == 1


def test_config_is_found_upwards_and_ignore_applies(tmp_path, run_cli):
    target = project(tmp_path, 'ignore = ["KPO-REF"]\n')
    result = run_cli("check", "--format", "json", str(target / "e.yaml"))
    assert rules(result) == ["COM-SW-001"]
    assert result.exit_code == 0  # a warning does not fail by default


def test_pyproject_table(tmp_path, run_cli):
    target = project(tmp_path, '[project]\nname = "x"\n\n[tool.kpo-rules]\n'
                               'select = ["COM"]\nfail-on = "warning"\n', name="pyproject.toml")
    result = run_cli("check", "--format", "json", str(target))
    assert rules(result) == ["COM-SW-001"]
    assert result.exit_code == 1  # fail-on from the file


def test_pyproject_table_spelt_with_an_escape_is_still_found(tmp_path, run_cli):
    target = project(tmp_path, '[tool."kpo\\u002drules"]\nselect = ["COM"]\n',
                     name="pyproject.toml")
    assert rules(run_cli("check", "--format", "json", str(target))) == ["COM-SW-001"]


def test_pyproject_without_our_table_is_skipped_for_the_next_folder_up(tmp_path, run_cli):
    target = project(tmp_path, 'ignore = ["KPO-REF"]\n')
    (target / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.other]\nk = 1\n')
    assert rules(run_cli("check", "--format", "json", str(target))) == ["COM-SW-001"]


def test_the_more_specific_selector_wins(tmp_path, run_cli):
    target = project(tmp_path, 'ignore = ["COM"]\nselect = ["ALL", "COM-SW-001"]\n')
    assert rules(run_cli("check", "--format", "json", str(target))) == ["COM-SW-001",
                                                                        "KPO-REF-001"]
    target = project(tmp_path, 'select = ["COM"]\nignore = ["COM-SW"]\n')
    assert rules(run_cli("check", "--format", "json", str(target))) == []


def test_flags_override_the_file(tmp_path, run_cli):
    target = project(tmp_path, 'ignore = ["COM"]\nfail-on = "never"\n')
    result = run_cli("check", "--format", "json", "--ignore", "kpo-ref", "--fail-on", "warning",
                     str(target))
    assert rules(result) == ["COM-SW-001"]
    assert result.exit_code == 1


def test_severity_overrides(tmp_path, run_cli):
    target = project(tmp_path, '[severity]\n"COM" = "info"\n"COM-SW-001" = "error"\n'
                               '"KPO-REF" = "warning"\n')
    report = json.loads(run_cli("check", "--format", "json", str(target)).stdout)
    assert {f["rule"]: f["severity"] for f in report["findings"]} == {
        "COM-SW-001": "error", "KPO-REF-001": "warning"}


def test_exclude_globs(tmp_path, run_cli):
    target = project(tmp_path, 'exclude = ["engagements/drafts/**", "engagements/old-*.yaml"]\n')
    (target / "drafts").mkdir()
    (target / "drafts" / "broken.yaml").write_text("kind: Engagement\n{{{")  # ours, broken
    (target / "old-1.yaml").write_text("kind: Engagement\n{{{")
    report = json.loads(run_cli("check", "--format", "json", str(target)).stdout)
    assert report["summary"]["files"] == 1


@pytest.mark.parametrize(("config", "key"), [
    ('selekt = ["COM"]\n', "selekt"),
    ('fail-on = "sometimes"\n', "fail-on"),
    ('[severity]\n"COM" = "fatal"\n', "severity.COM"),
    ('require-plugins = ["not a requirement!!"]\n', "require-plugins"),
    ("select = [\n", "-"),
])
def test_config_errors_exit_2_naming_file_and_key(tmp_path, run_cli, config, key):
    target = project(tmp_path, config)
    result = run_cli("check", str(target))
    assert result.exit_code == 2
    assert f"{tmp_path / '.kpo-rules.toml'}: {key}:" in result.stderr


def test_required_plugins(tmp_path, run_cli):
    target = project(tmp_path, 'require-plugins = ["common", "kpo-rules>=0.1", "nl"]\n')
    result = run_cli("check", "--format", "json", str(target))
    assert result.exit_code == 2
    errors = json.loads(result.stdout)["plugin_errors"]
    assert [e["error"] for e in errors] == ["required plugin 'nl' is not loaded"]
    target = project(tmp_path, 'require-plugins = ["kpo-rules>=99"]\n')
    errors = json.loads(run_cli("check", "--format", "json", str(target)).stdout)["plugin_errors"]
    assert "required plugin 'kpo-rules>=99' is loaded in version" in errors[0]["error"]


def test_disabled_plugins_from_config(tmp_path, run_cli):
    target = project(tmp_path, 'disable-plugins = ["common"]\n')
    report = json.loads(run_cli("check", "--format", "json", str(target)).stdout)
    assert "common" not in {p["name"] for p in report["plugins"]}
    assert "COM-SW-001" not in {f["rule"] for f in report["findings"]}


def test_config_schema_is_published(run_cli):
    schema = json.loads(run_cli("schema", "config").stdout)
    assert "require-plugins" in schema["properties"]


# --------------------------------------------------------------------------- waivers


def with_waivers(waivers: str, text: str = WITH_FINDINGS) -> str:
    return text + "waivers:\n" + waivers


WAIVER = """  - rule: COM-SW-001
    subject: {subject}
    reason: SAP training booked for March
    approved_by: compliance@example.com
    expires: {expires}
"""


def check_waivers(tmp_path, run_cli, waivers: str, *args: str) -> tuple[int, dict]:
    target = project(tmp_path, text=with_waivers(waivers))
    result = run_cli("check", "--format", "json", "--today", "2026-06-01", *args, str(target))
    return result.exit_code, json.loads(result.stdout)


def test_waiver_silences_until_expiry(tmp_path, run_cli):
    _, report = check_waivers(tmp_path, run_cli, WAIVER.format(subject="s-1",
                                                               expires="2026-12-31"))
    assert [f["rule"] for f in report["findings"]] == ["KPO-REF-001"]
    assert report["summary"]["waived"] == 1


def test_expired_waiver_is_an_error_and_the_finding_comes_back(tmp_path, run_cli):
    _, report = check_waivers(tmp_path, run_cli, WAIVER.format(subject="s-1",
                                                               expires="2026-05-31"))
    found = {f["rule"]: f for f in report["findings"]}
    assert "COM-SW-001" in found
    expired = found["KPO-WAI-001"]
    assert expired["severity"] == "error" and expired["category"] == "waiver"
    assert "expired on 2026-05-31" in expired["message"]
    assert expired["path"] == "/waivers/0/expires"
    assert report["summary"]["waived"] == 0


def test_waiver_for_another_subject_does_not_apply_and_is_unused(tmp_path, run_cli):
    waivers = WAIVER.format(subject="invoices", expires="2026-12-31")
    _, report = check_waivers(tmp_path, run_cli, waivers)
    # The subject is the service: the finding names service 'invoices', so it is waived.
    assert "COM-SW-001" not in {f["rule"] for f in report["findings"]}
    extra = "  - {id: s-2, name: Other, location: {country: IN}, " \
            "languages: [{code: en, level: B2}]}\n"
    text = WITH_FINDINGS.replace("staff:\n", "staff:\n" + extra)
    target = project(tmp_path, text=with_waivers(WAIVER.format(subject="s-2",
                                                               expires="2026-12-31"), text))
    report = json.loads(run_cli("check", "--format", "json", "--today", "2026-06-01",
                                str(target)).stdout)
    found = {f["rule"]: f for f in report["findings"]}
    assert "COM-SW-001" in found
    assert found["KPO-WAI-003"]["severity"] == "warning"


def test_waiver_of_an_unknown_rule_or_subject(tmp_path, run_cli):
    waivers = WAIVER.format(subject="s-1", expires="2026-12-31").replace("COM-SW-001",
                                                                         "COM-SWW-001")
    waivers += WAIVER.format(subject="s-77", expires="2026-12-31")
    code, report = check_waivers(tmp_path, run_cli, waivers)
    found = {f["rule"]: f for f in report["findings"]}
    assert "did you mean COM-SW-001?" in found["KPO-WAI-002"]["message"]
    assert "'s-77', which is neither a staff member nor a service" in \
        found["KPO-WAI-004"]["message"]
    assert code == 1


def test_no_waivers_is_audit_mode(tmp_path, run_cli):
    _, report = check_waivers(tmp_path, run_cli, WAIVER.format(subject="s-1",
                                                               expires="2026-12-31"),
                              "--no-waivers")
    assert "COM-SW-001" in {f["rule"] for f in report["findings"]}
    assert report["summary"]["waived"] == 0


def test_a_waiver_without_subject_must_state_its_engagement_scope(tmp_path, run_cli):
    unscoped = WAIVER.format(subject="s-1", expires="2026-12-31").replace(
        "    subject: s-1\n", "")
    code, report = check_waivers(tmp_path, run_cli, unscoped)
    found = {f["rule"]: f for f in report["findings"]}
    assert "COM-SW-001" in found  # it waives nothing until it says so
    assert "say `scope: engagement` if that is meant" in found["KPO-WAI-005"]["message"]
    assert found["KPO-WAI-005"]["path"] == "/waivers/0" and code == 1
    scoped = unscoped.replace("    reason:", "    scope: engagement\n    reason:")
    code, report = check_waivers(tmp_path, run_cli, scoped)
    assert [f["rule"] for f in report["findings"]] == ["KPO-REF-001"]
    assert report["waivers"][0]["scope"] == "engagement"


def test_a_configured_horizon_refuses_long_waivers(tmp_path, run_cli):
    (tmp_path / ".kpo-rules.toml").write_text("max-waiver-days = 90\n")
    _, report = check_waivers(tmp_path, run_cli, WAIVER.format(subject="s-1",
                                                               expires="2026-12-31"))
    found = {f["rule"]: f for f in report["findings"]}
    assert "more than the 90 days this project allows" in found["KPO-WAI-006"]["message"]
    assert "COM-SW-001" in found and found["KPO-WAI-006"]["path"] == "/waivers/0/expires"
    _, report = check_waivers(tmp_path, run_cli, WAIVER.format(subject="s-1",
                                                               expires="2026-08-30"))
    assert [f["rule"] for f in report["findings"]] == ["KPO-REF-001"]  # 90 days: allowed
    (tmp_path / ".kpo-rules.toml").write_text("max-waiver-days = 0\n")
    result = run_cli("check", str(tmp_path / "engagements"))
    assert result.exit_code == 2 and "max-waiver-days" in result.stderr


def test_reports_list_every_waiver_applied_for_an_auditor(tmp_path, run_cli):
    from conftest import DATA as data

    _, report = check_waivers(tmp_path, run_cli, WAIVER.format(subject="s-1",
                                                               expires="2026-12-31"))
    (applied,) = report["waivers"]
    assert applied == {"file": applied["file"], "line": applied["line"],
                       "engagement": "minimal-clean", "rule": "COM-SW-001", "subject": "s-1",
                       "scope": "subject", "reason": "SAP training booked for March",
                       "approved_by": "compliance@example.com", "expires": "2026-12-31",
                       "waived": 1}
    assert applied["file"].endswith("e.yaml") and applied["line"] > 1
    sarif = json.loads(run_cli("check", "--format", "sarif", "--today", "2026-06-01",
                               str(tmp_path / "engagements")).stdout)
    (run,) = sarif["runs"]
    (suppressed,) = [r for r in run["results"] if "suppressions" in r]
    assert suppressed["suppressions"] == [{
        "kind": "external", "status": "accepted",
        "justification": "SAP training booked for March",
        "properties": {"approvedBy": "compliance@example.com", "expires": "2026-12-31"}}]
    assert run["properties"]["waivers"][0]["approved_by"] == "compliance@example.com"
    import jsonschema

    schema = json.loads((data / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft7Validator(schema).validate(sarif)


def test_text_report_lists_waived_findings(tmp_path, run_cli):
    target = project(tmp_path, text=with_waivers(WAIVER.format(subject="s-1",
                                                                expires="2026-12-31")))
    result = run_cli("check", "--today", "2026-06-01", "--show-waived", str(target))
    assert "(1 waived)" in result.stdout
    assert "waived findings:" in result.stdout and "COM-SW-001" in result.stdout


# --------------------------------------------------------------------------- baseline


def test_baseline_round_trip(tmp_path, run_cli):
    target = project(tmp_path)
    baseline = tmp_path / "baseline.json"
    written = run_cli("check", "--write-baseline", str(baseline), str(target))
    assert written.exit_code == 0
    assert len(json.loads(baseline.read_text())["findings"]) == 2

    # Lines move (a comment on top): nothing is new.
    (target / "e.yaml").write_text("# moved\n# down\n" + WITH_FINDINGS)
    same = run_cli("check", "--format", "json", "--baseline", str(baseline), str(target))
    assert same.exit_code == 0
    report = json.loads(same.stdout)
    assert report["findings"] == [] and report["baseline"]["known"] == 2

    # A new problem is reported; a fixed one is noted as gone.
    text = WITH_FINDINGS.replace("software: [sap]", "software: [sap, xero]").replace(
        "assignees: [s-1, s-9]", "assignees: [s-1]")
    (target / "e.yaml").write_text(text)
    changed = run_cli("check", "--baseline", str(baseline), str(target))
    assert changed.exit_code == 0  # the new finding is a warning
    assert "xero" in changed.stdout and "sap among" not in changed.stdout
    assert "1 baseline entry no longer occurs" in changed.stdout


def test_unreadable_baseline_is_a_usage_error(tmp_path, run_cli):
    bad = tmp_path / "b.json"
    bad.write_text("[]")
    result = run_cli("check", "--baseline", str(bad), str(project(tmp_path)))
    assert result.exit_code == 2 and "not a kpo-rules baseline" in result.stderr


# --------------------------------------------------------------------------- several outputs


def test_text_to_console_and_reports_to_files(tmp_path, run_cli):
    target = project(tmp_path)
    out = tmp_path / "r.json"
    result = run_cli("check", "--report", f"json={out}", str(target))
    assert "KPO-REF-001" in result.stdout
    assert json.loads(out.read_text())["summary"]["error"] == 1
    assert run_cli("check", "--report", "pdf=x", str(target)).exit_code == 2


# --------------------------------------------------------------------------- parallel runs


def many(tmp_path: Path, count: int = 40) -> Path:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(count):
        text = WITH_FINDINGS.replace("minimal-clean", f"e-{i}")
        if i % 7 == 0:
            text = text.replace("type: corporate", "type: bank")
        if i % 11 == 0:  # ours (it says so), but broken
            text = "apiVersion: kpo-rules/v1\n{{{ not yaml"
        (folder / f"e{i:03d}.yaml").write_text(text)
    return folder


def _count_pools(monkeypatch) -> list[int]:
    from kpo_rules import parallel

    pools: list[int] = []
    real = parallel.check_in_workers
    monkeypatch.setattr(parallel, "check_in_workers",
                        lambda run, jobs, progress=None: pools.append(jobs)
                        or real(run, jobs, progress))
    return pools


def test_jobs_2_output_equals_jobs_1(tmp_path, run_cli, monkeypatch):
    pools = _count_pools(monkeypatch)
    folder = many(tmp_path)
    one = run_cli("check", "--format", "json", "--jobs", "1", str(folder))
    assert pools == [1]  # one worker: a crash still costs only its file
    two = run_cli("check", "--format", "json", "--jobs", "2", str(folder))
    assert pools == [1, 2]
    assert one.exit_code == two.exit_code == 1
    assert one.stdout == two.stdout
    assert json.loads(one.stdout)["summary"]["files"] == 40


def test_by_default_several_workers_are_used_only_where_they_pay(tmp_path, run_cli,
                                                                  monkeypatch):
    from kpo_rules import api

    pools = _count_pools(monkeypatch)
    monkeypatch.setattr(api, "available_cores", lambda: 2)
    few = many(tmp_path, api.AUTO_PARALLEL_FILES - 1)
    assert run_cli("check", "--format", "json", str(few)).exit_code == 1
    assert pools == [1]
    (few / "one-more.yaml").write_text((few / "e001.yaml").read_text().replace("e-1", "e-x"))
    assert run_cli("check", "--format", "json", str(few)).exit_code == 1
    assert pools == [1, 2]
    # a single file has no other file's findings to lose: checked in this process
    assert run_cli("check", "--jobs", "2", str(tmp_path / "many" / "e001.yaml")).exit_code == 1
    assert pools == [1, 2]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_worker_that_dies_reading_becomes_a_finding_for_its_file(tmp_path, monkeypatch, jobs):
    import kpo_rules
    from kpo_rules import pipeline

    folder = many(tmp_path, 12)
    real = pipeline.read

    def crash_on_e005(source):
        if source.name.endswith("e005.yaml"):
            os.kill(os.getpid(), signal.SIGSEGV)
        return real(source)

    monkeypatch.setattr(pipeline, "read", crash_on_e005)
    report = kpo_rules.check([folder], jobs=jobs)
    crashed = [f for f in report.findings if f.rule == "KPO-ENG-002"]
    assert [Path(f.file).name for f in crashed] == ["e005.yaml"]
    assert "worker process checking it died" in crashed[0].message
    assert report.files == 12
    others = {Path(f.file).name for f in report.findings if f.rule == "KPO-REF-001"}
    # Every readable, valid file but the crashed one still has its finding (e000, e007 and
    # e011 are broken on purpose).
    assert len(others) == 8


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_worker_that_dies_while_checking_costs_only_that_file(tmp_path, monkeypatch, jobs):
    import kpo_rules
    from kpo_rules.engine.evaluate import Evaluator

    folder = many(tmp_path, 12)
    real = Evaluator.evaluate

    def crash_on_e_5(self, engagement, catalogue):
        if engagement.id == "e-5":
            os.kill(os.getpid(), signal.SIGSEGV)
        return real(self, engagement, catalogue)

    monkeypatch.setattr(Evaluator, "evaluate", crash_on_e_5)
    report = kpo_rules.check([folder], jobs=jobs)
    crashed = [f for f in report.findings if f.rule == "KPO-ENG-002"]
    assert [Path(f.file).name for f in crashed] == ["e005.yaml"]
    others = {Path(f.file).name for f in report.findings if f.rule == "KPO-REF-001"}
    assert len(others) == 8  # e000, e007, e011 are broken on purpose; e005 crashed
    assert report.engagements == 8


def test_an_unexpected_error_is_a_finding_on_its_engagement(tmp_path, monkeypatch):
    import kpo_rules
    from kpo_rules.engine.evaluate import Evaluator

    folder = many(tmp_path, 4)
    real = Evaluator.evaluate

    def fail_on_e_2(self, engagement, catalogue):
        if engagement.id == "e-2":
            raise ValueError("Exceeds the limit (4300 digits) for integer string conversion")
        return real(self, engagement, catalogue)

    monkeypatch.setattr(Evaluator, "evaluate", fail_on_e_2)
    for jobs in (1, 2):
        report = kpo_rules.check([folder], jobs=jobs)
        (internal,) = [f for f in report.findings if f.rule == "KPO-ENG-003"]
        assert Path(internal.file).name == "e002.yaml" and internal.engagement == "e-2"
        assert "ValueError: Exceeds the limit" in internal.message
        assert internal.line > 1  # at the engagement's metadata.id
        assert {Path(f.file).name for f in report.findings if f.rule == "KPO-REF-001"} == {
            "e001.yaml", "e003.yaml"}


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return [int(p) for p in listing.read().split()]
    except OSError:
        return []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_the_run_and_every_worker(tmp_path, sig, status):
    import subprocess
    import time

    folder = many(tmp_path, 400)
    command = [sys.executable, "-m", "kpo_rules", "check", "--jobs", "2", str(folder)]
    # Started as from a terminal: a pytest started in the background by a shell without job
    # control ignores SIGINT, and a child inherits that (Python then never raises
    # KeyboardInterrupt), so handle it here while the run is started, whatever pytest had.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    deadline = time.monotonic() + 30
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline and run.poll() is None:
        workers = _children(run.pid)
        time.sleep(0.01)
    if run.poll() is not None:
        pytest.skip("the run ended before it could be interrupted")
    run.send_signal(sig)
    _, stderr = run.communicate(timeout=30)
    assert run.returncode == status, stderr
    assert "Traceback" not in stderr
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(
            f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]


# --------------------------------------------------------------------------- exit codes


@pytest.mark.parametrize(("fail_on", "code"), [("error", 1), ("warning", 1), ("never", 0)])
def test_exit_codes_with_fail_on(tmp_path, run_cli, fail_on, code):
    assert run_cli("check", "--fail-on", fail_on, str(project(tmp_path))).exit_code == code


# --------------------------------------------------------------------------- init, pre-commit


def test_init_writes_a_starter_that_passes(tmp_path, run_cli):
    from kpo_rules import __version__

    result = run_cli("init", str(tmp_path))
    assert result.exit_code == 0
    for written in ("engagements/example.yaml", ".kpo-rules.toml",
                    ".github/workflows/kpo-rules.yml"):
        assert (tmp_path / written).is_file()
    # The whole directory, workflow included: the workflow is not ours, so it is skipped.
    checked = run_cli("check", "--format", "json", str(tmp_path))
    assert checked.exit_code == 0, checked.stdout
    report = json.loads(checked.stdout)
    assert report["findings"] == [] and report["summary"]["files"] == 1
    assert [s["path"] for s in report["run"]["skipped"]] == [
        f"{tmp_path.as_posix()}/.github/workflows/kpo-rules.yml"]
    summary = run_cli("check", str(tmp_path)).stdout.splitlines()[-1]
    assert summary.endswith("; 1 file skipped (--show-files lists them)]"), summary
    assert "turned off" not in summary  # skipping what is not ours narrows nothing
    workflow = (tmp_path / ".github" / "workflows" / "kpo-rules.yml").read_text()
    assert f"pip install kpo-rules=={__version__}\n" in workflow
    again = run_cli("init", str(tmp_path))
    assert again.exit_code == 2 and "not overwriting" in again.stderr


MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.M)


def modelines(path: Path) -> list[tuple[str, Path]]:
    """(kind, schema file the modeline names) of each document of ``path``; the modeline
    must open the document, as the YAML language server reads it from its header."""
    import yaml

    out = []
    for text in path.read_text().split("\n---\n"):
        match = MODELINE.match(text)
        assert match, f"{path}: a document without a modeline"
        out.append((yaml.safe_load(text)["kind"], (path.parent / match[1]).resolve()))
    return out


def test_examples_name_their_schema_by_a_path_that_works_offline():
    root = Path(__file__).parent.parent
    files = sorted((root / "examples").rglob("*.yaml")) + sorted(
        (root / "docs" / "examples").glob("*.yaml"))
    assert len(files) > 10
    for path in files:
        for kind, schema in modelines(path):
            assert schema == root / "schemas" / f"{kind.lower()}.schema.json", path


def test_init_writes_the_schemas_its_starter_names(tmp_path, run_cli):
    from kpo_rules.schemas import dump_schema

    assert run_cli("init", str(tmp_path)).exit_code == 0
    ((kind, schema),) = modelines(tmp_path / "engagements" / "example.yaml")
    assert schema.read_text() == dump_schema(kind.lower())
    roster = tmp_path / ".kpo-rules" / "roster.schema.json"
    assert roster.read_text() == run_cli("schema", "roster").stdout


def test_the_readme_pins_pre_commit_to_the_version_the_workflow_pins():
    from kpo_rules import __version__

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert f"rev: v{__version__}" in readme
    assert f"kpo-rules=={__version__}" in readme


def test_pre_commit_hook_definition():
    import yaml

    (hook,) = yaml.safe_load((Path(__file__).parent.parent / ".pre-commit-hooks.yaml")
                             .read_text())
    assert hook["id"] == "kpo-rules" and hook["entry"] == "kpo-rules check --force-exclude"
    assert hook["language"] == "python" and hook.get("pass_filenames", True) is True
    assert hook["types"] == ["yaml"] and hook["require_serial"] is True


# --------------------------------------------------------------------------- what was in force


def test_json_sarif_and_text_show_what_was_turned_off(tmp_path, run_cli, monkeypatch):
    import jsonschema

    monkeypatch.chdir(tmp_path)
    project(tmp_path, 'disable-plugins = ["country_fr"]\nignore = ["COM-SW"]\n'
                      'fail-on = "never"\n')
    env = {"KPO_RULES_DISABLE_PLUGINS": "legal"}
    args = ("check", "--today", "2026-06-01", "--no-waivers", "engagements")
    run = json.loads(run_cli(*args, "--format", "json", env=env).stdout)["run"]
    assert run == {
        "config": ".kpo-rules.toml",
        "disabled_plugins": [{"name": "country_fr", "by": "config"},
                             {"name": "legal", "by": "environment"}],
        "select": ["ALL"], "ignore": ["COM-SW"], "fail_on": "never",
        "run_date": "2026-06-01", "waivers": False, "skipped": [],
    }
    log = json.loads(run_cli(*args, "--format", "sarif", env=env).stdout)
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["properties"]["configFile"] == ".kpo-rules.toml"
    assert invocation["properties"]["disabledPlugins"] == run["disabled_plugins"]
    assert [n["message"]["text"] for n in invocation["toolConfigurationNotifications"]] == [
        "plugin country_fr disabled (config)", "plugin legal disabled (environment)"]
    (text,) = [line for line in run_cli(*args, env=env).stdout.splitlines()
               if " checked: " in line]
    assert text.endswith(
        "[config: .kpo-rules.toml; turned off: plugin country_fr disabled (config), "
        "plugin legal disabled (environment), ignore COM-SW, fail-on never, waivers off]")


def test_sarif_says_the_execution_failed_when_a_plugin_is_missing(tmp_path, run_cli):
    target = project(tmp_path, 'require-plugins = ["nl"]\n')
    result = run_cli("check", "--format", "sarif", str(target))
    assert result.exit_code == 2
    (invocation,) = json.loads(result.stdout)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False


def test_text_summary_is_unchanged_when_nothing_is_turned_off(tmp_path, run_cli):
    result = run_cli("check", str(project(tmp_path)))
    assert "1 file, 1 engagement checked: 1 error, 1 warning, 0 info\n" in result.stdout


# --------------------------------------------------------------------------- outputs


def test_an_output_onto_an_input_is_refused_and_the_input_kept(tmp_path, run_cli,
                                                               monkeypatch):
    target = project(tmp_path)
    before = (target / "e.yaml").read_text()
    for args in (("-o", str(target / "e.yaml")), ("--report", f"json={target / 'e.yaml'}"),
                 ("--write-baseline", str(target / "e.yaml"))):
        result = run_cli("check", "--format", "json", *args, str(target))
        assert result.exit_code == 2, args
        assert "is an input of this run" in result.stderr
    # Found by walking the directory, not named: still an input.
    monkeypatch.chdir(target)
    result = run_cli("check", "-o", "e.yaml", ".")
    assert result.exit_code == 2 and "is an input of this run" in result.stderr
    assert (target / "e.yaml").read_text() == before


def test_an_output_that_is_a_directory_or_named_twice_is_refused(tmp_path, run_cli):
    target = project(tmp_path)
    result = run_cli("check", "-o", str(tmp_path), str(target))
    assert result.exit_code == 2 and "is a directory" in result.stderr
    out = tmp_path / "r.json"
    result = run_cli("check", "-o", str(out), "--report", f"sarif={out}", str(target))
    assert result.exit_code == 2 and "is written twice" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("option", ["-o", "--report", "--write-baseline"])
def test_an_output_that_cannot_be_written_is_one_line_and_exit_2(tmp_path, run_cli, option):
    target = project(tmp_path)
    missing = tmp_path / "no" / "such" / "dir" / "out.json"
    value = f"json={missing}" if option == "--report" else str(missing)
    result = run_cli("check", option, value, str(target))
    assert result.exit_code == 2
    assert result.stderr == f"kpo-rules: error: cannot write {missing}: No such file or " \
                            "directory\n"
    full = run_cli("check", option, "json=/dev/full" if option == "--report" else "/dev/full",
                   str(target))
    assert full.exit_code == 2
    assert full.stderr == "kpo-rules: error: cannot write /dev/full: No space left on device\n"


def test_a_failed_baseline_write_keeps_the_previous_baseline(tmp_path, run_cli, monkeypatch):
    import errno

    from kpo_rules import atomic_write

    target = project(tmp_path)
    baseline = tmp_path / "baseline.json"
    assert run_cli("check", "--write-baseline", str(baseline), str(target)).exit_code == 0
    before = baseline.read_bytes()
    (target / "e.yaml").write_text(MINIMAL)  # nothing to record now

    def disk_full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic_write.os, "fsync", disk_full)
    result = run_cli("check", "--write-baseline", str(baseline), str(target))
    assert result.exit_code == 2
    assert result.stderr == f"kpo-rules: error: cannot write {baseline}: No space left on " \
                            "device\n"
    assert baseline.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline.json", "engagements"]


def test_outputs_replace_the_previous_file_whole(tmp_path, run_cli):
    target = project(tmp_path)
    out = tmp_path / "r.json"
    out.write_text("x" * 100_000)
    out.chmod(0o640)
    assert run_cli("check", "-o", str(out), "--format", "json", str(target)).exit_code == 1
    assert json.loads(out.read_text())["summary"]["files"] == 1
    assert out.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(("content", "message"), [
    ('{"version": 1, "findings": [{"fingerprint": "a"}, {"rule": "X"}]}',
     'findings[1]: expected an object with a "fingerprint" string, got {"rule": "X"}'),
    ('{"version": 1, "findings": {}}', "findings: expected a list of entries"),
    ('{"version": 1,\n "findings": [}', ":2:15: not a kpo-rules baseline: Expecting value"),
])
def test_a_malformed_baseline_names_the_file_and_the_entry(tmp_path, run_cli, content, message):
    bad = tmp_path / "b.json"
    bad.write_text(content)
    result = run_cli("check", "--baseline", str(bad), str(project(tmp_path)))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"kpo-rules: error: {bad}")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
