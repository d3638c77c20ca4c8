"""The machine formats through the real CLI: SARIF validated against the OASIS schema and
GitHub's requirements, JUnit against the JUnit XSD and the way GitLab and Jenkins read it,
GitLab Code Quality against GitLab's schema and documentation, GitHub annotations.
The schemas' sources are in tests/data/SOURCES.md."""

from __future__ import annotations

import functools
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from conftest import DATA

from kpo_rules.model import Finding, PluginFailure, Report, Severity, Subject
from kpo_rules.report import FORMATS, github, gitlab, junit, sarif

MINIMAL = (DATA / "clean" / "minimal.yaml").read_text()
# An unknown assignee (KPO-REF-001, error) and a tool nobody knows (a warning).
FINDINGS = MINIMAL.replace(
    "    assignees: [s-1]\n", "    assignees: [s-1, s-9]\n    software: [sap]\n"
)
SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())


@functools.cache
def junit_schema():  # an xmlschema.XMLSchema
    """The JUnit XSD, built when a test first needs it: xmlschema's import and the build
    cost ~1 s, which every xdist worker paid at collection."""
    import xmlschema

    return xmlschema.XMLSchema(DATA / "junit-10.xsd")


GITLAB_SCHEMA = json.loads((DATA / "gitlab-codeclimate.json").read_text())
LEVEL = {"error": "error", "warning": "warning", "info": "note"}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from tmp_path so files are named relative to it, as in a repository checkout."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "eng.yaml").write_text(FINDINGS)
    (tmp_path / "clean.yaml").write_text(MINIMAL.replace("minimal-clean", "other-clean"))
    return tmp_path


@pytest.fixture
def fmt(run_cli):
    """``kpo-rules check --format FMT PATHS`` -> (exit code, stdout)."""

    def run(name: str, *paths: str) -> tuple[int, str]:
        result = run_cli("check", "--format", name, *paths)
        return result.exit_code, result.stdout

    return run


def json_findings(fmt, *paths: str) -> list[dict]:
    return json.loads(fmt("json", *paths)[1])["findings"]


def validate_sarif(log: dict) -> None:
    cls = jsonschema.validators.validator_for(SCHEMA)
    assert cls is jsonschema.Draft4Validator  # the schema's own "$schema"
    cls.check_schema(SCHEMA)
    errors = sorted(cls(SCHEMA).iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_every_format_is_registered():
    assert {"text", "full", "json", "sarif", "junit", "github", "gitlab"} <= set(FORMATS)


# --------------------------------------------------------------------------- SARIF


def test_sarif_validates_and_matches_the_findings(workdir, fmt):
    code, out = fmt("sarif", "eng.yaml")
    assert code == 1
    log = json.loads(out)
    validate_sarif(log)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "kpo-rules"
    assert driver["version"] and driver["informationUri"].startswith("https://")
    rules = driver["rules"]
    ids = [r["id"] for r in rules]
    assert ids == sorted(set(ids))

    expected = json_findings(fmt, "eng.yaml")
    assert {f["rule"] for f in expected} == set(ids)
    assert "KPO-REF-001" in ids
    assert any(f["severity"] == "warning" for f in expected)
    assert len(run["results"]) == len(expected)
    for result, finding in zip(run["results"], expected, strict=True):
        assert result["ruleId"] == finding["rule"]
        assert rules[result["ruleIndex"]]["id"] == finding["rule"]
        assert result["level"] == LEVEL[finding["severity"]]
        assert result["message"]["text"] == finding["message"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": "eng.yaml", "uriBaseId": "%SRCROOT%"}
        assert physical["region"] == {"startLine": finding["line"],
                                      "startColumn": finding["column"]}
        assert result["properties"]["engagement"] == "minimal-clean"
        assert result["properties"]["path"] == finding["path"]
        assert result["properties"]["category"] == finding["category"]
        assert result["properties"].get("subject", {}) == finding["subject"]


def test_sarif_rules_carry_documentation(workdir, fmt):
    rules = {r["id"]: r for r in json.loads(fmt("sarif", "eng.yaml")[1])["runs"][0]["tool"][
        "driver"]["rules"]}
    core = rules["KPO-REF-001"]
    assert core["name"] == "ServiceNamesUnknownStaff"
    assert core["shortDescription"]["text"] == "Service names unknown staff"
    assert "roster" in core["fullDescription"]["text"]
    assert core["defaultConfiguration"]["level"] == "error"
    assert core["properties"]["tags"] == ["reference", "core", "compliance"]
    warning = next(r for r in rules.values() if r["defaultConfiguration"]["level"] == "warning")
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", warning["name"])
    for section in ("### What it checks", "### Why", "### Fix", "### References"):
        assert section in warning["help"]["markdown"]
    assert "## Fix" in warning["help"]["text"]
    assert "compliance" in warning["properties"]["tags"]


def test_sarif_meets_github_code_scanning_requirements(workdir, fmt, tmp_path):
    (tmp_path / "broken.yaml").write_text("a: [1, 2\n")
    log = json.loads(fmt("sarif", "eng.yaml", "broken.yaml", "clean.yaml")[1])
    validate_sarif(log)
    (run,) = log["runs"]
    assert len(run["tool"]["driver"]["rules"]) <= 25_000
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
        assert len(rule["properties"]["tags"]) <= 20
    for result in run["results"]:
        assert result["ruleId"] and result["message"]["text"]
        assert result["level"] in {"error", "warning", "note"}
        physical = result["locations"][0]["physicalLocation"]
        assert physical["region"]["startLine"] >= 1
        assert physical["region"]["startColumn"] >= 1
        uri = physical["artifactLocation"]["uri"]
        assert uri in {"eng.yaml", "broken.yaml"} and "\\" not in uri
        assert result["partialFingerprints"][sarif.FINGERPRINT_KEY]
    prints = [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in run["results"]]
    assert len(prints) == len(set(prints))


def test_sarif_with_no_findings_is_valid_with_empty_results(workdir, fmt):
    code, out = fmt("sarif", "clean.yaml")
    assert code == 0
    log = json.loads(out)
    validate_sarif(log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    assert "toolExecutionNotifications" not in invocation
    assert "toolConfigurationNotifications" not in invocation


def test_sarif_fingerprints_survive_lines_moving(workdir, fmt):
    before = json.loads(fmt("sarif", "eng.yaml")[1])["runs"][0]["results"]
    (workdir / "eng.yaml").write_text("# a comment pushes everything down\n" + FINDINGS)
    after = json.loads(fmt("sarif", "eng.yaml")[1])["runs"][0]["results"]
    assert [r["ruleId"] for r in after] == [r["ruleId"] for r in before]
    for old, new in zip(before, after, strict=True):
        old_line = old["locations"][0]["physicalLocation"]["region"]["startLine"]
        new_line = new["locations"][0]["physicalLocation"]["region"]["startLine"]
        assert new_line == old_line + 1
        assert new["partialFingerprints"] == old["partialFingerprints"]


def test_sarif_output_is_deterministic(workdir, fmt):
    assert fmt("sarif", "eng.yaml")[1] == fmt("sarif", "eng.yaml")[1]


def finding(**changes) -> Finding:
    values = {
        "rule": "KPO-REF-001", "severity": Severity.ERROR, "category": "reference",
        "message": "service 'invoices' names assignee 's-9'", "file": "eng.yaml",
        "line": 21, "column": 22, "engagement": "e-1",
        "subject": Subject(service="invoices", staff="s-9"), "path": "/services/0/assignees/1",
        "remediation": "Add the person.", "references": ("YAML 1.2.2 specification",),
    }
    return Finding(**{**values, **changes})


def test_sarif_same_node_twice_gets_distinct_fingerprints():
    twice = (finding(), finding(line=40, message="the second document"))
    results = sarif.as_sarif(Report(findings=twice, files=1, engagements=1))["runs"][0]["results"]
    assert results[0]["partialFingerprints"] != results[1]["partialFingerprints"]


def test_sarif_describes_rules_it_has_no_metadata_for_and_plugin_failures():
    report = Report(
        findings=(finding(rule="ACME-001", category="coverage", severity=Severity.INFO),),
        files=1, engagements=1,
        plugin_failures=(PluginFailure(name="acme", distribution="acme-rules", error="boom"),),
        waived=(finding(),),
    )
    log = sarif.as_sarif(report, rules={})
    validate_sarif(log)
    (run,) = log["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["ACME-001", "KPO-REF-001"]
    assert run["tool"]["driver"]["rules"][0]["defaultConfiguration"]["level"] == "note"
    assert run["invocations"][0]["executionSuccessful"] is False
    assert "acme" in run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    waived = [r for r in run["results"] if "suppressions" in r]
    assert [r["ruleId"] for r in waived] == ["KPO-REF-001"]


@pytest.mark.parametrize(("file", "expected"), [
    ("eng.yaml", {"uri": "eng.yaml", "uriBaseId": "%SRCROOT%"}),
    ("./sub/my file.yaml", {"uri": "sub/my%20file.yaml", "uriBaseId": "%SRCROOT%"}),
    ("sub\\win.yaml", {"uri": "sub/win.yaml", "uriBaseId": "%SRCROOT%"}),
    ("<stdin>", {"uri": "%3Cstdin%3E", "uriBaseId": "%SRCROOT%"}),
    ("/abs/a.yaml", {"uri": "file:///abs/a.yaml"}),
    ("C:\\work\\a.yaml", {"uri": "file:///C:/work/a.yaml"}),
])
def test_sarif_artifact_locations_are_uris(file, expected):
    assert sarif.artifact_location(file) == expected


def test_sarif_absolute_paths_validate(tmp_path, fmt):
    (tmp_path / "eng.yaml").write_text(FINDINGS)
    log = json.loads(fmt("sarif", str(tmp_path / "eng.yaml"))[1])
    validate_sarif(log)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": (tmp_path / "eng.yaml").as_uri()}


# --------------------------------------------------------------------------- JUnit


def parse_junit(text: str) -> ET.Element:
    root = ET.fromstring(text.encode())
    assert root.tag == "testsuites"
    return root


def counts(element: ET.Element) -> dict[str, int]:
    return {key: int(element.get(key, "-1")) for key in ("tests", "failures", "errors", "skipped")}


def tally(cases: list[ET.Element]) -> dict[str, int]:
    return {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }


def check_junit_structure(root: ET.Element) -> None:
    """Valid against the JUnit schema; the counts GitLab and Jenkins show; GitLab's key
    (suite, classname, name) unique."""
    junit_schema().validate(ET.tostring(root, encoding="unicode"))
    assert root.get("name") == junit.RUN
    keys = []
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert counts(suite) == tally(cases), suite.get("name")
        keys += [(suite.get("name"), c.get("classname"), c.get("name")) for c in cases]
        for case in cases:
            assert case.get("classname") and case.get("name")
            assert len(case.findall("failure")) + len(case.findall("error")) <= 1
    assert len(keys) == len(set(keys))
    every = tally(root.findall("testsuite/testcase"))
    assert {k: int(root.get(k)) for k in ("tests", "failures", "errors")} == {
        k: every[k] for k in ("tests", "failures", "errors")}


def selected_rules(run_cli) -> set[str]:
    """Every rule a default run evaluates: the plugin rules and the core's."""
    from kpo_rules.core_rules import CORE_RULES

    listed = json.loads(run_cli("rules", "list", "--format", "json").stdout)["rules"]
    return {r["id"] for r in listed} | {r.id for r in CORE_RULES}


def test_junit_validates_and_has_one_case_per_engagement_and_rule(workdir, fmt, run_cli,
                                                                   tmp_path):
    (tmp_path / "broken.yaml").write_text("a: [1, 2\n")
    code, out = fmt("junit", "eng.yaml", "broken.yaml", "clean.yaml")
    assert code == 1
    root = parse_junit(out)
    check_junit_structure(root)
    rules = selected_rules(run_cli)
    expected = json_findings(fmt, "eng.yaml", "broken.yaml", "clean.yaml")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"eng.yaml", "broken.yaml", "clean.yaml"}
    for name, classname in (("eng.yaml", "minimal-clean"), ("clean.yaml", "other-clean"),
                            ("broken.yaml", "broken.yaml")):
        cases = suites[name].findall("testcase")
        assert {c.get("classname") for c in cases} == {classname}
        assert sorted(c.get("name") for c in cases) == sorted(rules)

    eng = {c.get("name"): c for c in suites["eng.yaml"].findall("testcase")}
    for f in (f for f in expected if f["file"] == "eng.yaml"):
        case = eng[f["rule"]]
        if f["severity"] == "error":
            failure = case.find("failure")
            assert failure.get("type") == f["severity"]
            assert failure.get("message") == f["message"]
            assert f"eng.yaml:{f['line']}:{f['column']}" in failure.text
            assert f["remediation"] in failure.text
        else:  # a warning does not fail the run, so it fails no test either
            assert case.find("failure") is None and case.find("skipped") is None
            assert f"eng.yaml:{f['line']}:{f['column']}" in case.find("system-out").text
    broken = {c.get("name"): c for c in suites["broken.yaml"].findall("testcase")}
    assert broken["KPO-SYN-001"].find("failure") is not None
    errors = {(f["file"], f["rule"]) for f in expected if f["severity"] == "error"}
    assert int(root.get("failures")) == len(errors)
    assert counts(suites["clean.yaml"])["failures"] == 0


def test_junit_counts_do_not_depend_on_findings(workdir, fmt):
    with_findings = parse_junit(fmt("junit", "eng.yaml", "clean.yaml")[1])
    (workdir / "eng.yaml").write_text(MINIMAL)
    without = parse_junit(fmt("junit", "eng.yaml", "clean.yaml")[1])
    assert int(with_findings.get("failures")) > 0 and int(without.get("failures")) == 0
    assert with_findings.get("tests") == without.get("tests")


def test_junit_warnings_fail_only_at_fail_on(workdir, run_cli):
    def failures(*extra: str) -> tuple[int, set[str]]:
        result = run_cli("check", "--format", "junit", *extra, "eng.yaml")
        root = parse_junit(result.stdout)
        check_junit_structure(root)
        return result.exit_code, {c.get("name") for c in root.iter("testcase")
                                  if c.find("failure") is not None}

    code, failed = failures()
    assert code == 1 and "KPO-REF-001" in failed and "COM-SW-001" not in failed
    code, failed = failures("--fail-on", "warning")
    assert code == 1 and {"KPO-REF-001", "COM-SW-001"} <= failed
    code, failed = failures("--fail-on", "never")
    assert code == 0 and not failed
    # --report files follow --fail-on too
    run_cli("check", "--fail-on", "warning", "--report", "junit=r.xml", "eng.yaml")
    root = parse_junit(Path("r.xml").read_text())
    assert "COM-SW-001" in {c.get("name") for c in root.iter("testcase")
                            if c.find("failure") is not None}


def test_junit_groups_findings_waivers_and_crashes():
    report = Report(
        findings=(
            finding(),
            finding(line=22, column=5, message="second", path="/services/0/supervisor"),
            finding(file="eng.yaml", engagement="e-2", line=60),
            finding(rule="KPO-ENG-001", category="engine-error", severity=Severity.ERROR,
                    engagement="e-2", line=50, message="rule X of plugin 'p' failed"),
            finding(rule="COM-SW-001", severity=Severity.WARNING, engagement="e-2",
                    message="below"),
        ),
        files=1, engagements=2,
        checked=(("eng.yaml", "e-1"), ("eng.yaml", "e-2")),
        rules={"KPO-REF-001": None, "KPO-ENG-001": None, "COM-SW-001": None},
        waived=(finding(rule="COM-SW-001", severity=Severity.WARNING, message="waived one"),),
        plugin_failures=(PluginFailure(name="acme", distribution=None, error="ImportError"),),
    )
    root = parse_junit(junit.render(report))
    check_junit_structure(root)
    (suite,) = [s for s in root.findall("testsuite") if s.get("name") == "eng.yaml"]
    cases = {(c.get("classname"), c.get("name")): c for c in suite.findall("testcase")}
    assert len(cases) == 6  # two engagements times three rules
    grouped = cases["e-1", "KPO-REF-001"].find("failure")
    assert grouped.get("message").endswith("(+1 more)")
    assert "eng.yaml:21:22" in grouped.text and "eng.yaml:22:5" in grouped.text
    assert cases["e-2", "KPO-ENG-001"].find("error") is not None
    assert cases["e-1", "COM-SW-001"].find("skipped") is not None
    assert "below --fail-on" in cases["e-2", "COM-SW-001"].find("system-out").text
    assert counts(suite) == {"tests": 6, "failures": 2, "errors": 1, "skipped": 1}
    (run,) = [s for s in root.findall("testsuite") if s.get("name") == junit.RUN]
    assert run.find("testcase/error").get("type") == "plugin-load-error"
    assert root.get("errors") == "2"


def test_junit_survives_characters_xml_cannot_hold_and_escapes_markup():
    report = Report(findings=(finding(message="binary \x00\x1b here"),
                              finding(rule="X-1", file='a&b<"c">.yaml', engagement="e&<1>",
                                      message='tags <x> & "quotes"\nand\ttabs')),
                    files=1, engagements=1)
    root = parse_junit(junit.render(report))
    check_junit_structure(root)
    failures = {c.get("name"): c.find("failure") for c in root.iter("testcase")}
    assert failures["KPO-REF-001"].get("message") == "binary \ufffd\ufffd here"
    assert failures["X-1"].get("message") == 'tags <x> & "quotes"\nand\ttabs'
    assert 'a&b<"c">.yaml:21:22' in failures["X-1"].text
    suites = {s.get("name") for s in root.findall("testsuite")}
    assert 'a&b<"c">.yaml' in suites
    assert {c.get("classname") for c in root.iter("testcase")} == {"e-1", "e&<1>"}


# --------------------------------------------------------------------------- GitLab


def validate_gitlab(text: str) -> list[dict]:
    """GitLab's own schema for each issue, plus what its documentation asks beyond it."""
    assert not text.startswith("\ufeff")  # GitLab's parser refuses a byte order mark
    issues = json.loads(text)
    assert isinstance(issues, list)
    validator = jsonschema.Draft202012Validator(GITLAB_SCHEMA)
    for issue in issues:
        errors = list(validator.iter_errors(issue))
        assert not errors, [e.message for e in errors]
        assert issue["check_name"] and issue["description"]
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert not issue["location"]["path"].startswith("/")
        assert isinstance(issue["location"]["lines"]["begin"], int)
        assert issue["location"]["lines"]["begin"] >= 1
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(fingerprints) == len(set(fingerprints))  # GitLab keeps one per fingerprint
    return issues


def test_gitlab_code_quality_validates_and_matches_the_findings(workdir, fmt, tmp_path):
    code, out = fmt("gitlab", "eng.yaml", "clean.yaml")
    assert code == 1
    issues = validate_gitlab(out)
    expected = json_findings(fmt, "eng.yaml", "clean.yaml")
    assert len(issues) == len(expected)
    severity = {"error": "major", "warning": "minor", "info": "info"}
    for issue, f in zip(issues, expected, strict=True):
        assert issue["check_name"] == f["rule"]
        assert f["message"] in issue["description"]
        assert issue["severity"] == severity[f["severity"]]
        assert issue["location"] == {"path": f["file"], "lines": {"begin": f["line"]}}
    # absolute paths given on the command line become paths relative to the job's folder
    absolute = validate_gitlab(fmt("gitlab", str(tmp_path / "eng.yaml"))[1])
    assert {i["location"]["path"] for i in absolute} == {"eng.yaml"}


def test_gitlab_fingerprints_are_unique_and_survive_lines_moving(workdir, fmt):
    twice = Report(findings=(finding(), finding(line=40, message="the second document")),
                   files=1, engagements=1)
    validate_gitlab(gitlab.render(twice))
    before = {i["check_name"]: i["fingerprint"] for i in validate_gitlab(fmt("gitlab",
                                                                             "eng.yaml")[1])}
    (workdir / "eng.yaml").write_text("# a comment moves every line\n" + FINDINGS)
    after = {i["check_name"]: i["fingerprint"] for i in validate_gitlab(fmt("gitlab",
                                                                            "eng.yaml")[1])}
    assert before == after


def test_gitlab_clean_run_is_an_empty_array(workdir, fmt):
    code, out = fmt("gitlab", "clean.yaml")
    assert code == 0 and validate_gitlab(out) == []


# --------------------------------------------------------------------------- GitHub

ANNOTATION = re.compile(
    r"^::(?P<kind>error|warning|notice) file=(?P<file>[^,]*),line=(?P<line>\d+),"
    r"col=(?P<col>\d+),title=(?P<title>[^:]*)::(?P<message>.*)$"
)


def test_github_one_annotation_per_finding_and_a_summary(workdir, fmt):
    code, out = fmt("github", "eng.yaml", "clean.yaml")
    assert code == 1
    *commands, summary = out.splitlines()
    expected = json_findings(fmt, "eng.yaml", "clean.yaml")
    assert len(commands) == len(expected)
    kinds = {"error": "error", "warning": "warning", "info": "notice"}
    for line, f in zip(commands, expected, strict=True):
        match = ANNOTATION.match(line)
        assert match, line
        assert match["kind"] == kinds[f["severity"]]
        assert (match["file"], int(match["line"]), int(match["col"])) == (
            f["file"], f["line"], f["column"])
        assert match["title"].startswith(f["rule"] + " ")
        assert match["message"] == github.escape_data(f["message"])
    assert "KPO-REF-001 Service names unknown staff" in out
    assert not summary.startswith("::")
    severities = [f["severity"] for f in expected]
    n = {s: severities.count(s) for s in ("error", "warning", "info")}
    assert summary.startswith(
        f"kpo-rules: 2 files, 2 engagements checked: {n['error']} error"
        f"{'' if n['error'] == 1 else 's'}, {n['warning']} warning"
    )


def test_github_escapes_messages_and_properties():
    report = Report(
        findings=(finding(rule="X-1", file="dir,a:b.yaml", severity=Severity.INFO,
                          message="100% sure, see: line one\nline two\r"),),
        files=1, engagements=1,
    )
    first = github.render(report).splitlines()[0]
    assert first == (
        "::notice file=dir%2Ca%3Ab.yaml,line=21,col=22,title=X-1"
        "::100%25 sure, see: line one%0Aline two%0D"
    )
    assert github.escape_property("a%b,c:d\n") == "a%25b%2Cc%3Ad%0A"


def test_github_reports_plugin_failures_as_errors():
    report = Report(findings=(), files=0, engagements=0,
                    plugin_failures=(PluginFailure(name="acme", distribution=None,
                                                   error="No module: x"),))
    lines = github.render(report).splitlines()
    assert lines[0] == "::error title=kpo-rules%3A incomplete check::plugin acme failed to load: " \
                       "No module: x"
    assert lines[-1].startswith("kpo-rules: 0 files")


def test_readme_lists_every_core_rule():
    from pathlib import Path

    from kpo_rules.core_rules import CORE_RULES

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for rule in CORE_RULES:
        assert f"| `{rule.id}` | {rule.category} | {rule.severity.value} | {rule.title} |" \
            in readme, rule.id
