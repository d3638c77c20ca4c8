"""The core pipeline through the real CLI: syntax, schema and reference findings with exact
positions, exit codes, the JSON report, stdin, and hostile files next to good ones."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import DATA, ROOT, run_subprocess, write

MINIMAL = (DATA / "clean" / "minimal.yaml").read_text()


def only(report: dict, rule: str) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == rule]


# --------------------------------------------------------------------------- clean and exit 0


def test_clean_engagement_passes_with_exit_0(run_cli):
    result = run_cli("check", str(DATA / "clean" / "minimal.yaml"))
    assert result.exit_code == 0, result.stdout
    assert "1 file, 1 engagement checked: 0 errors, 0 warnings, 0 info" in result.stdout


# ------------------------------------------------------------------ categories with positions


def test_duplicate_key_is_a_syntax_error_at_the_second_key(tmp_path, check_json):
    path = write(tmp_path, "dup.yaml", MINIMAL.replace("  type: corporate\n",
                                                       "  type: corporate\n  type: insurer\n"))
    code, report = check_json(str(path))
    assert code == 1
    (finding,) = report["findings"]
    assert finding["rule"] == "KPO-SYN-001"
    assert finding["category"] == "syntax"
    assert (finding["line"], finding["column"]) == (9, 3)
    assert "duplicate key 'type' (first defined on line 8)" in finding["message"]


def test_unknown_field_points_at_the_key(tmp_path, check_json):
    path = write(tmp_path, "typo.yaml", MINIMAL.replace("    assignees: [s-1]",
                                                        "    asignees: [s-1]"))
    code, report = check_json(str(path))
    assert code == 1
    messages = {(f["line"], f["column"], f["message"]) for f in only(report, "KPO-SCH-001")}
    assert (21, 5, "unknown field 'asignees' in services[0] (did you mean 'assignees'?)") \
        in messages
    assert (18, 5, "services[0] is missing required field 'assignees'") in messages


def test_wrong_enum_value_names_the_field_and_the_choices(tmp_path, check_json):
    path = write(tmp_path, "enum.yaml", MINIMAL.replace("type: corporate", "type: bank"))
    _, report = check_json(str(path))
    (finding,) = report["findings"]
    assert (finding["line"], finding["column"]) == (8, 9)
    assert finding["path"] == "/client/type"
    assert finding["message"].startswith("client.type: expected one of corporate, law_firm")
    assert "found 'bank'" in finding["message"]


def test_unknown_assignee_is_a_reference_error_at_the_list_item(tmp_path, check_json):
    path = write(tmp_path, "ref.yaml", MINIMAL.replace("assignees: [s-1]",
                                                       "assignees: [s-1, s-2]"))
    code, report = check_json(str(path))
    assert code == 1
    (finding,) = only(report, "KPO-REF-001")
    assert finding["category"] == "reference"
    assert (finding["line"], finding["column"]) == (21, 22)
    assert finding["subject"] == {"service": "invoices", "staff": "s-2"}
    assert finding["path"] == "/services/0/assignees/1"
    assert "did you mean 's-1'" in finding["message"]


def test_unknown_delivery_centre_and_time_zone(tmp_path, check_json):
    text = MINIMAL.replace("delivery_centre: pune", "delivery_centre: puna").replace(
        "timezone: America/New_York", "timezone: America/Gotham")
    _, report = check_json(str(write(tmp_path, "refs.yaml", text)))
    (centre,) = only(report, "KPO-REF-002")
    assert (centre["line"], centre["column"]) == (20, 22)
    assert "did you mean 'pune'" in centre["message"]
    (zone,) = only(report, "KPO-REF-006")
    assert (zone["line"], zone["column"]) == (10, 13)


def test_roster_staff_are_global_and_shadowing_is_reported(tmp_path, check_json):
    roster = """apiVersion: kpo-rules/v1
kind: Roster
metadata: {id: pune-team}
staff:
  - id: r-1
    name: Meera Iyer
    location: {country: IN, timezone: Asia/Kolkata}
    languages: [{code: en, level: C1}]
  - id: s-1
    name: Shadowed
    location: {country: IN, timezone: Asia/Kolkata}
    languages: [{code: en, level: C1}]
"""
    write(tmp_path, "roster.yaml", roster)
    write(tmp_path, "eng.yaml", MINIMAL.replace("assignees: [s-1]", "assignees: [s-1, r-1]"))
    _, report = check_json(str(tmp_path))
    assert not only(report, "KPO-REF-001")  # r-1 comes from the roster
    (shadow,) = only(report, "KPO-REF-005")
    assert shadow["file"].endswith("eng.yaml")
    assert (shadow["line"], shadow["column"]) == (23, 9)
    assert "roster.yaml:9" in shadow["message"]


def test_two_rosters_defining_one_id_and_duplicate_engagement_ids(tmp_path, check_json):
    roster = """apiVersion: kpo-rules/v1
kind: Roster
metadata: {id: %s}
staff:
  - id: r-1
    location: {country: IN}
    languages: [{code: en, level: C1}]
"""
    write(tmp_path, "a.yaml", roster % "team-a")
    write(tmp_path, "b.yaml", roster % "team-b")
    write(tmp_path, "c.yaml", MINIMAL)
    write(tmp_path, "d.yaml", MINIMAL)
    _, report = check_json(str(tmp_path))
    (twice,) = only(report, "KPO-REF-004")
    assert twice["file"].endswith("b.yaml") and (twice["line"], twice["column"]) == (5, 9)
    (dup,) = only(report, "KPO-REF-003")
    assert dup["file"].endswith("d.yaml") and "c.yaml:4" in dup["message"]


# --------------------------------------------------------------------------- YAML 1.2 scalars


def test_yaml_1_2_scalars_stay_strings(tmp_path, check_json):
    # In YAML 1.1 `NO` is false and 18:30 the number 1110: both would be schema errors here.
    text = MINIMAL.replace("country: US\n", "country: US\n  languages: [en]\n").replace(
        "    languages:\n      - {code: en, level: B2}",
        "    working_hours: {start: 18:30, end: 03:30}\n"
        "    languages:\n      - {code: en, level: B2}\n      - {code: 'no', level: native}")
    code, report = check_json(str(write(tmp_path, "scalars.yaml", text)))
    assert report["findings"] == [] and code == 0


# --------------------------------------------------------------------------- report shape, formats


def test_json_report_shape(check_json):
    code, report = check_json(str(ROOT / "examples"))
    assert set(report) >= {"version", "tool", "plugins", "summary", "run", "findings"}
    assert report["version"] == 1
    assert report["tool"]["name"] == "kpo-rules"
    assert set(report["summary"]) == {"files", "engagements", "error", "warning", "info",
                                      "waived", "skipped"}
    assert set(report["run"]) == {"config", "disabled_plugins", "select", "ignore", "fail_on",
                                  "run_date", "waivers", "skipped"}
    assert report["summary"]["error"] == sum(f["severity"] == "error"
                                             for f in report["findings"])
    names = {p["name"] for p in report["plugins"]}
    assert {"common", "finance", "legal", "country_us", "country_de"} <= names
    for finding in report["findings"]:
        assert set(finding) == {"rule", "severity", "category", "message", "file", "line",
                                "column", "engagement", "subject", "path", "remediation",
                                "references"}
    keys = [(f["file"], f["line"], f["column"], f["rule"]) for f in report["findings"]]
    assert keys == sorted(keys)
    assert code == 1


def test_text_report_groups_by_file_without_colour_when_not_a_tty(tmp_path, run_cli):
    path = write(tmp_path, "ref.yaml", MINIMAL.replace("assignees: [s-1]", "assignees: [s-9]"))
    result = run_cli("check", str(path))
    assert result.exit_code == 1
    assert "\033[" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        f"{path.as_posix()}:21:17: KPO-REF-001 [error] service 'invoices' names assignee")


def test_output_file(tmp_path, run_cli):
    out = tmp_path / "report.json"
    result = run_cli("check", "--format", "json", "--output", str(out),
                     str(DATA / "clean" / "minimal.yaml"))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text())["summary"]["engagements"] == 1


def test_stdin(run_cli):
    result = run_cli("check", "--format", "json", "-", input=MINIMAL.replace("s-1]", "s-3]"))
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert {f["file"] for f in report["findings"]} == {"<stdin>"}


# --------------------------------------------------------------------------- exit codes


@pytest.mark.parametrize(("fail_on", "expected"), [("error", 0), ("warning", 1), ("info", 1),
                                                    ("never", 0)])
def test_fail_on_threshold(tmp_path, run_cli, fail_on, expected):
    # An unknown field in a waiver is an error; a date-less roster is none: use a warning rule.
    text = MINIMAL.replace("    task: finance.billing", "    task: finance.billing\n"
                           "    software: [sap]")
    result = run_cli("check", "--fail-on", fail_on, str(write(tmp_path, "w.yaml", text)))
    assert "COM-SW-001" in result.stdout  # a warning: the assignee does not list sap
    assert result.exit_code == expected


def test_missing_path_is_a_usage_error(run_cli):
    result = run_cli("check", "does/not/exist.yaml")
    assert result.exit_code == 2
    assert "does/not/exist.yaml: no such file or directory" in result.stderr


def test_no_paths_is_a_usage_error(run_cli):
    assert run_cli("check").exit_code == 2


# --------------------------------------------------------------------------- hostile files

BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

WRONG_TYPES = """apiVersion: kpo-rules/v1
kind: Engagement
metadata: {id: 42}
period: yesterday
client: [not, a, mapping]
provider: {name: 7, serves: [US], delivery_centres: {}}
services: {id: x}
staff: "nobody"
"""

HOSTILE = {
    "bomb.yaml": (BOMB, "KPO-SYN-001", "alias"),
    "deep.yaml": ("[" * 20000 + "]" * 20000, "KPO-SYN-001", "nesting deeper than"),
    "latin1.yaml": ("apiVersion: kpo-rules/v1\nname: Caf\xe9\n".encode("latin-1"),
                    "KPO-SYN-001", "not UTF-8"),
    "binary.yaml": (b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)), "KPO-SYN-001",
                    "binary"),
    "empty.yaml": ("", "KPO-SCH-002", "no YAML document"),
    "scalar.yaml": ("just a sentence\n", "KPO-SCH-001", "found a string"),
    "list.yaml": ("- a\n- b\n", "KPO-SCH-001", "found a list"),
    "tabs.yaml": ("apiVersion: kpo-rules/v1\nmetadata:\n\tid: x\n", "KPO-SYN-001", "tab"),
    "wrong.yaml": (WRONG_TYPES, "KPO-SCH-001", "expected"),
    "kind.yaml": ("apiVersion: kpo-rules/v9\nkind: Contract\n", "KPO-SCH-001", "kind"),
}


def test_hostile_files_each_get_a_finding_and_good_files_keep_theirs(tmp_path):
    for name, (content, _, _) in HOSTILE.items():
        write(tmp_path, name, content)
    shutil.copy(DATA / "clean" / "minimal.yaml", tmp_path / "good.yaml")
    write(tmp_path, "good-ref.yaml", MINIMAL.replace("minimal-clean", "with-ref").replace(
        "assignees: [s-1]", "assignees: [s-404]"))
    started = time.monotonic()
    # Named, each file is checked as named: only a directory walk skips files not ours.
    proc = run_subprocess("check", "--format", "json",
                          *sorted(str(p) for p in tmp_path.iterdir()))
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    assert b"Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    by_file: dict[str, list[dict]] = {}
    for finding in report["findings"]:
        by_file.setdefault(Path(finding["file"]).name, []).append(finding)
    for name, (_, rule, words) in HOSTILE.items():
        found = by_file.get(name, [])
        assert any(f["rule"] == rule and words in f["message"] for f in found), (name, found)
    assert "good.yaml" not in by_file
    assert [f["rule"] for f in by_file["good-ref.yaml"]] == ["KPO-REF-001"]
    assert report["summary"]["files"] == len(HOSTILE) + 2
    assert elapsed < 60


def test_wrong_types_give_one_finding_per_bad_node(tmp_path, check_json):
    _, report = check_json(str(write(tmp_path, "wrong.yaml", WRONG_TYPES)))
    paths = {f["path"] for f in report["findings"]}
    assert {"/metadata/id", "/period", "/client", "/provider/name", "/provider/serves",
            "/provider/delivery_centres", "/services", "/staff"} <= paths


# --------------------------------------------------------------------------- plugins


def fake_plugin(tmp_path: Path, body: str) -> Path:
    """A plugin 'installed' the way pip would: a module plus a dist-info with entry points."""
    site = tmp_path / "site"
    (site / "kpo_broken_plugin.py").parent.mkdir(parents=True)
    (site / "kpo_broken_plugin.py").write_text(body)
    info = site / "kpo_broken_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kpo-broken-plugin\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text("[kpo_rules]\nbroken = kpo_broken_plugin\n")
    return site


def test_a_plugin_that_raises_on_import_is_reported_and_the_run_goes_on(tmp_path):
    site = fake_plugin(tmp_path, "raise RuntimeError('boom at import')\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    bad = write(tmp_path, "ref.yaml", MINIMAL.replace("assignees: [s-1]", "assignees: [s-7]"))
    proc = run_subprocess("check", "--format", "json", str(bad), env=env)
    assert proc.returncode == 2  # an incomplete check never passes CI
    report = json.loads(proc.stdout)
    assert report["plugin_errors"] == [{"name": "broken", "distribution": "kpo-broken-plugin",
                                        "error": "RuntimeError: boom at import", "kind": "load",
                                        "file": None, "line": None, "rule": None}]
    assert [f["rule"] for f in report["findings"]] == ["KPO-REF-001"]
    assert b"broken failed to load: RuntimeError: boom at import" in proc.stderr
    assert b"Traceback" not in proc.stderr

    listed = run_subprocess("plugins", "--format", "json", env=env)
    assert listed.returncode == 2
    data = json.loads(listed.stdout)
    assert data["errors"][0]["name"] == "broken"
    assert "common" in {p["name"] for p in data["plugins"]}


def test_disabling_a_plugin_by_environment(run_cli):
    result = run_cli("plugins", "--format", "json",
                     env={"KPO_RULES_DISABLE_PLUGINS": "legal, country_fr"})
    data = json.loads(result.stdout)
    names = {p["name"] for p in data["plugins"]}
    assert "legal" not in names and "country_fr" not in names and "finance" in names
    assert data["disabled"] == ["country_fr", "legal"]


def test_plugins_text_lists_distribution_version_hooks_and_facts_date(run_cli):
    result = run_cli("plugins")
    assert result.exit_code == 0
    assert "country_us" in result.stdout and "kpo-rules" in result.stdout
    assert "facts as of 2026-11-27" in result.stdout
    assert "kpo_catalogue_files" in result.stdout


def test_version_lists_loaded_plugins_via_python_m():
    proc = run_subprocess("--version")
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert out.startswith("kpo-rules ")
    assert "registered plugins:" in out and "country_de from kpo-rules" in out


# --------------------------------------------------------------------------- schema export


@pytest.mark.parametrize("name", ["engagement", "roster", "rule", "country", "tasks"])
def test_schema_command_prints_valid_json_schema(run_cli, name):
    from jsonschema import Draft202012Validator

    result = run_cli("schema", name)
    assert result.exit_code == 0
    Draft202012Validator.check_schema(json.loads(result.stdout))


@pytest.mark.slow  # big input (CI runs it: .ci/run)
def test_big_roster_loads_and_validates_in_seconds(tmp_path, check_json):
    member = """  - id: p-{i}
    name: Person {i}
    role: analyst
    location: {{country: IN, timezone: Asia/Kolkata}}
    working_hours: {{start: "18:30", end: "03:30"}}
    education: [{{level: bachelor, field: accounting}}]
    credentials: [{{id: in.ca}}]
    languages: [{{code: en, level: C1}}, {{code: hi, level: native}}]
    familiar_with: [us.tax]
    software: [excel]
"""
    body = "".join(member.format(i=i) for i in range(20_000))
    path = write(tmp_path, "big.yaml",
                 f"apiVersion: kpo-rules/v1\nkind: Roster\nmetadata: {{id: big}}\nstaff:\n{body}")
    started = time.monotonic()
    code, report = check_json(str(path))
    elapsed = time.monotonic() - started
    assert code == 0 and report["findings"] == []
    assert elapsed < 60, f"20,000-staff roster took {elapsed:.1f} s"
