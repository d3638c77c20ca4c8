"""Rule and plugin authoring: errors at their cause, all-or-nothing plugins, structured
failures, templates. The plugins are scaffolded with `kpo-rules plugin new`, as a third
party starts one, then broken the way people break them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_plugin_kit import line_of, scaffold

import kpo_rules
from kpo_rules import errors
from kpo_rules.conformance import check_plugin
from kpo_rules.content import load_content
from kpo_rules.engine.rule_model import OPERATORS
from kpo_rules.engine.template import ABSENT, TemplateError, compile_template, parse_template
from kpo_rules.local_plugin import load_local_plugin
from kpo_rules.plugins import create_plugin_set

pytest_plugins = ["kpo_rules.testing"]  # kpo_register, kpo_cli

PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*\}")


class Plugin:
    """A scaffolded country plugin (kpo-country-nl) and its files."""

    def __init__(self, run_cli, tmp_path: Path) -> None:
        self.root = scaffold(run_cli, tmp_path, "kpo-country-nl")
        self.package = self.root / "src" / "kpo_country_nl"
        self.rules = self.package / "rules" / "nl.yaml"
        self.profile = self.package / "catalogue" / "profile.yaml"

    def edit(self, path: Path, old: str, new: str) -> str:
        text = path.read_text()
        assert old in text, old
        text = text.replace(old, new, 1)
        path.write_text(text)
        return text


@pytest.fixture
def nl(run_cli, tmp_path) -> Plugin:
    return Plugin(run_cli, tmp_path)


def problems_of(run_cli, plugin: Plugin) -> tuple[int, list[dict]]:
    result = run_cli("plugin", "check", "--format", "json", str(plugin.root))
    return result.exit_code, json.loads(result.stdout)["problems"]


# ====================================================================== errors at the cause


def test_a_mistyped_task_id_in_a_condition_fails_test_and_check_naming_it(run_cli, nl):
    text = nl.edit(nl.rules, "      - service: {fact: service, language:",
                   "      - service: {fact: service, task: finance.payrol, language:")
    code, problems = problems_of(run_cli, nl)
    assert code == 1
    (problem,) = problems
    assert problem["check"] == "catalogue-id"
    assert problem["line"] == line_of(text, "task: finance.payrol")
    assert problem["what"] == ("rule NL-LANG-001: task 'finance.payrol' is not defined by any "
                               "loaded plugin (did you mean 'finance.payroll'?)")
    assert "kpo-rules catalogue tasks" in problem["fix"]
    test = run_cli("test", str(nl.root))
    assert test.exit_code != 0
    assert "task 'finance.payrol' is not defined by any loaded plugin" in test.stdout


@pytest.mark.parametrize(("condition", "said"), [
    ("task: fnance.payroll", "task 'fnance.payroll' is not defined by any loaded plugin "
                             "(did you mean 'finance.payroll'?)"),
    # NL is loaded (the plugin's own profile), so its ids are checked though none exist yet.
    ("framework: nl.payroltax", "framework 'nl.payroltax' is not defined by any loaded plugin"),
])
def test_ids_of_loaded_namespaces_and_countries_are_checked(run_cli, nl, condition, said):
    text = nl.edit(nl.rules, "      - service: {fact: service, language:",
                   f"      - service: {{fact: service, {condition}, language:")
    code, (problem,) = problems_of(run_cli, nl)
    assert code == 1 and problem["check"] == "catalogue-id"
    assert problem["line"] == line_of(text, condition)
    assert said in problem["what"]


def test_an_id_of_a_country_no_loaded_plugin_profiles_is_not_a_mistake(run_cli, nl):
    """It belongs to a plugin that is not installed (or disabled): the condition cannot
    match, and the rule is not broken for it."""
    nl.edit(nl.rules, "      - service: {fact: service, language:",
            "      - service: {fact: service, framework: {not_in: [br.gaap]}, language:")
    code, problems = problems_of(run_cli, nl)
    assert (code, problems) == (0, [])


@pytest.mark.parametrize("disabled", ["legal", "finance", "country_de", "common"])
def test_disabling_a_plugin_breaks_none_of_the_others(run_cli, disabled):
    """Other plugins' rules and examples name its ids; disabled, they are not typos."""
    result = run_cli("catalogue", "--format", "json",
                     env={"KPO_RULES_DISABLE_PLUGINS": disabled})
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["errors"] == []
    assert disabled not in {entry["plugin"] for section in ("tasks", "credentials",
                                                            "frameworks", "countries")
                            for entry in data[section]}


def test_a_mistyped_id_in_an_example_is_named_where_the_example_writes_it(run_cli, nl):
    # The first service of the file is the one in bases:, which the examples patch.
    text = nl.edit(nl.rules, "task: finance.billing,", "task: finance.biling,")
    assert text.index("task: finance.biling,") < text.index("rules:")
    _, (problem,) = problems_of(run_cli, nl)
    assert problem["check"] == "catalogue-id"
    assert problem["line"] == line_of(text, "task: finance.biling")  # in bases:
    assert "(did you mean 'finance.billing'?)" in problem["what"]


@pytest.mark.parametrize(("old", "new", "said"), [
    ("'{service.id}' for", "'{service.id' for", "unclosed '{'"),
    ("'{service.id}' for", "'{service}' for", "'{service}' is not a placeholder"),
    ("'{service.id}' for", "'{service.id}}' for", "a single '}'"),
])
def test_a_malformed_placeholder_fails_test_and_check_naming_it(run_cli, nl, old, new, said):
    text = nl.edit(nl.rules, old, new)
    code, (problem,) = problems_of(run_cli, nl)
    assert code == 1 and problem["check"] == "template"
    assert problem["line"] == line_of(text, "    message:")
    assert said in problem["what"] and "'{{'" in problem["fix"]
    test = run_cli("test", str(nl.root))
    assert test.exit_code != 0 and said in test.stdout


def test_a_placeholder_naming_a_missing_field_or_alias_says_did_you_mean(run_cli, nl):
    nl.edit(nl.rules, "{engagement.client_name}", "{engagement.client_nme}")
    _, (problem,) = problems_of(run_cli, nl)
    assert "fact 'engagement' has no field 'client_nme' (did you mean 'client_name'?)" in \
        problem["what"]
    nl.edit(nl.rules, "{engagement.client_nme}", "{engagment.client_name}")
    _, (problem,) = problems_of(run_cli, nl)
    assert "names 'engagment', which the rule does not bind (did you mean 'engagement'?)" in \
        problem["what"]


def test_a_full_profile_without_a_law_framework_fails_test_and_check(run_cli, nl):
    text = nl.edit(nl.profile, "profile: basic",
                   "profile: full\nframeworks: [nl.gaap, nl.tax, nl.regulatory_reporting]")
    (nl.package / "catalogue" / "frameworks.yaml").write_text(
        "apiVersion: kpo-rules/v1\nkind: FrameworkCatalogue\n"
        "metadata: {id: nl.frameworks, as_of: '2026-01-01'}\nframeworks:\n"
        + "".join(f"  - {{id: nl.{k}, name: Dutch {k}, references: ['BW 2 Titel 9']}}\n"
                  for k in ("gaap", "tax", "regulatory_reporting")))
    code, (problem,) = problems_of(run_cli, nl)
    assert code == 1 and problem["check"] == "frameworks"
    assert problem["line"] == line_of(text, "frameworks:")
    assert "lists no 'law' framework (nl.law)" in problem["what"]
    assert "legal." in problem["what"]  # the tasks that ask for it
    assert "define nl.law in a FrameworkCatalogue" in problem["fix"]
    test = run_cli("test", str(nl.root))
    assert test.exit_code == 1 and "lists no 'law' framework" in test.stdout
    # Listing an id nobody defines is named too (staff listing it would get KPO-REF-009).
    nl.edit(nl.profile, "nl.regulatory_reporting]", "nl.regulatory_reporting, nl.law]")
    _, (problem,) = problems_of(run_cli, nl)
    assert "the profile lists framework 'nl.law', which no loaded plugin defines" in \
        problem["what"]


def test_every_broken_rule_of_a_file_is_reported_at_once(run_cli, nl):
    text = nl.rules.read_text()
    second = text.split("\nrules:\n", 1)[1].replace("NL-LANG-001", "NL-LANG-002").replace(
        "{fact: service, language:", "{fact: service, task: finance.payrol, language:")
    text = nl.edit(nl.rules, "'{service.id}' for", "'{service.id' for") + second
    nl.rules.write_text(text)
    code, problems = problems_of(run_cli, nl)
    assert code == 1
    assert [(p["check"], p["line"]) for p in problems] == [
        ("template", line_of(text, "    message:")),
        ("catalogue-id", line_of(text, "task: finance.payrol"))]
    assert problems[1]["what"].startswith("rule NL-LANG-002: task 'finance.payrol'")
    test = run_cli("test", str(nl.root))
    assert test.exit_code != 0
    assert "rule NL-LANG-001: message: unclosed '{'" in test.stdout
    assert "rule NL-LANG-002: task 'finance.payrol'" in test.stdout
    assert "conformance: 2 problems in 1 plugin" in test.stdout
    assert test.stdout.endswith("0 passed, 0 failed\nexamples not run: country_nl failed to "
                                "load (all or nothing: fix the problems above)\n")
    assert test.exit_code == 2


def test_every_rule_that_breaks_the_schema_is_reported_at_once(run_cli, nl):
    text = nl.rules.read_text()
    second = text.split("\nrules:\n", 1)[1].replace("NL-LANG-001", "NL-LANG-002").replace(
        "language: {not_in:", "language: {noteq:")
    third = second.replace("NL-LANG-002", "NL-LANG-003").replace("{noteq:", "{not_in:").replace(
        "    severity: warning", "    severity: fatal")
    text = nl.edit(nl.rules, "    severity: warning", "    severty: warning") + second + third
    nl.rules.write_text(text)
    code, problems = problems_of(run_cli, nl)
    assert code == 1
    assert [(p["check"], p["line"], p["what"].split(":")[0]) for p in problems] == [
        ("schema", line_of(text, "severty: warning"), "rule NL-LANG-001"),
        ("schema", line_of(text, "noteq"), "rule NL-LANG-002"),
        ("schema", line_of(text, "severity: fatal"), "rule NL-LANG-003")]
    assert "unknown operator 'noteq'" in problems[1]["what"]
    assert "fatal" in problems[2]["what"]


def test_a_fail_example_the_rule_misses_says_which_condition_stopped_it(run_cli, nl):
    text = nl.edit(nl.rules, "language: {not_in: [nl, en]}", "language: {not_in: [nl, en, de]}")
    result = run_cli("test", str(nl.root))
    assert result.exit_code == 1
    assert ("expected NL-LANG-001 to be reported; got COM-LANG-001, COM-PROF-001; NL-LANG-001: "
            "stopped at 'service': no service fact with language not in "
            f'["nl", "en", "de"] (line {line_of(text, "not_in: [nl, en, de]")})\n') in \
        result.stdout
    assert result.stdout.endswith("1 passed, 1 failed\n")


def test_a_misspelt_key_is_named_at_its_own_line(run_cli, nl):
    text = nl.edit(nl.rules, "    severity: warning", "    severty: warning")
    _, (problem,) = problems_of(run_cli, nl)
    assert problem["check"] == "schema"
    assert problem["line"] == line_of(text, "severty: warning")
    assert problem["what"] == ("rule NL-LANG-001: unknown key 'severty' in a rule (did you mean "
                               "'severity'?); 'severity' is required and missing")
    assert problem["fix"] == "rename 'severty' to 'severity'"


def test_an_unknown_operator_lists_the_valid_ones(run_cli, nl):
    text = nl.edit(nl.rules, "language: {not_in:", "language: {noteq:")
    _, (problem,) = problems_of(run_cli, nl)
    assert problem["line"] == line_of(text, "noteq")
    assert "unknown operator 'noteq'" in problem["what"]
    assert ", ".join(OPERATORS) in problem["what"]


def test_schema_errors_get_fixes_of_their_own(run_cli, nl):
    nl.edit(nl.rules, "    severity: warning", "    severity: fatal")
    _, (problem,) = problems_of(run_cli, nl)
    assert problem["check"] == "schema" and "fatal" in problem["what"]
    assert problem["fix"].startswith("Use one of: error, warning, info")
    nl.edit(nl.rules, "    severity: fatal\n", "")
    _, (problem,) = problems_of(run_cli, nl)
    assert "missing required field 'severity'" in problem["what"]
    assert problem["fix"].startswith("Add 'severity'")


# ================================================ findings cite the profile that produced them


NL_CITATION = "Wet toezicht accountantsorganisaties art. 6 (scaffolded plugin test)"


def test_a_scaffolded_profiles_citations_reach_its_clients_findings(nl, kpo_register,
                                                                     kpo_cli):
    """The plugin author makes the scaffold's profile a full one with a reserved activity;
    a finding for its client cites the profile's reference, not a launch country's."""
    nl.edit(nl.profile, "profile: basic", "profile: full\nframeworks: [nl.gaap]\nreserved:\n"
            "  - task: finance.statutory_audit\n    credentials: [nl.ra]\n"
            f"    references: [\"{NL_CITATION}\"]")
    catalogue = nl.package / "catalogue"
    (catalogue / "credentials.yaml").write_text(
        "apiVersion: kpo-rules/v1\nkind: CredentialCatalogue\n"
        "metadata: {id: nl.credentials, as_of: '2026-01-01'}\ncredentials:\n"
        "  - {id: nl.ra, name: Registeraccountant, country: NL, domain: finance,\n"
        "     references: ['Wet op het accountantsberoep']}\n")
    (catalogue / "frameworks.yaml").write_text(
        "apiVersion: kpo-rules/v1\nkind: FrameworkCatalogue\n"
        "metadata: {id: nl.frameworks, as_of: '2026-01-01'}\nframeworks:\n"
        "  - {id: nl.gaap, name: Dutch GAAP, references: ['BW 2 Titel 9']}\n")
    text = (nl.root / "examples" / "engagement.yaml").read_text().replace(
        "task: finance.billing", "task: finance.statutory_audit")
    audit = nl.root / "audit.yaml"
    audit.write_text(text)
    kpo_register(nl.root)
    result = kpo_cli("check", "--format", "json", str(audit))
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["plugin_errors"] == []
    (finding,) = [f for f in report["findings"] if f["rule"] == "COM-ELIG-001"]
    assert (finding["file"], finding["line"]) == (str(audit), line_of(text, "assignees: [s-1]"))
    assert "nl.ra" in finding["message"]
    assert finding["references"] == [NL_CITATION]


# ============================================================= all or nothing, reported once


def test_a_plugin_that_fails_to_load_contributes_nothing(nl):
    text = (nl.root / "examples" / "engagement.yaml").read_text()

    def check() -> kpo_rules.Report:
        name, module = load_local_plugin(nl.root)
        return kpo_rules.check(sources=[("e.yaml", text)],
                               plugins=create_plugin_set(extra=[(name, module)]))

    working = check()
    assert not working.plugin_failures
    # The profile applies: the client's country is known and basic (COM-PROF-001).
    assert {f.rule for f in working.findings} == {"COM-PROF-001"}
    nl.edit(nl.rules, "'{service.id}' for", "'{service.id' for")
    report = check()
    plugins = create_plugin_set(extra=[load_local_plugin(nl.root)])
    (failure,) = report.plugin_failures  # reported once
    assert (failure.name, failure.kind, failure.rule) == ("country_nl", "template", "NL-LANG-001")
    assert failure.file == str(nl.rules) and failure.line == line_of(nl.rules.read_text(),
                                                                     "    message:")
    # Not its profile either: the client's country is one no loaded plugin covers.
    assert "NL" not in load_content(plugins).catalogue.countries
    rules = {f.rule for f in report.findings}
    assert "KPO-REF-010" in rules and "COM-PROF-001" not in rules


def test_check_catalogue_and_explain_report_a_broken_plugin_once_and_use_none_of_it(
        nl, kpo_register, kpo_cli):
    example = nl.root / "examples" / "engagement.yaml"
    kpo_register(nl.root)
    listed = kpo_cli("catalogue", "countries")
    assert listed.exit_code == 0 and "NL  Netherlands  [country_nl]" in listed.stdout
    text = nl.edit(nl.rules, "'{service.id}' for", "'{service.id' for")
    kpo_register(nl.root)  # read again, as a new run would
    result = kpo_cli("check", "--format", "json", str(example))
    assert result.exit_code == 2  # an incomplete check never passes
    where = f"{nl.rules}:{line_of(text, '    message:')}: rule NL-LANG-001: message: unclosed"
    assert result.stderr.count("failed to load") == 1
    assert f"kpo-rules: plugin country_nl failed to load: {where}" in result.stderr
    report = json.loads(result.stdout)
    assert [e["kind"] for e in report["plugin_errors"]] == ["template"]
    rules = {f["rule"] for f in report["findings"]}
    assert "KPO-REF-010" in rules and "COM-PROF-001" not in rules  # not even its profile
    listed = kpo_cli("catalogue", "countries")
    assert listed.exit_code == 2 and "country_nl" not in listed.stdout
    assert f"error: plugin country_nl: {where}" in listed.stderr
    data = json.loads(kpo_cli("catalogue", "countries", "--format", "json").stdout)
    (error,) = data["errors"]
    assert (error["kind"], error["file"], error["line"], error["rule"]) == (
        "template", str(nl.rules), line_of(text, "    message:"), "NL-LANG-001")
    explained = kpo_cli("explain", "--format", "json", str(example))
    assert explained.exit_code == 2
    assert explained.stderr.count("failed to load") == 1
    data = json.loads(explained.stdout)
    assert [e["kind"] for e in data["plugin_errors"]] == ["template"]
    assert not any(r["id"].startswith("NL-") for r in data["engagements"][0]["rules"])


def test_a_plugin_that_relied_on_a_failed_plugin_fails_in_turn(tmp_path, run_cli):
    base = Plugin(run_cli, tmp_path / "a")
    other = scaffold(run_cli, tmp_path / "b", "kpo-insurance", "--kind", "domain")
    (tasks,) = (other / "src" / "kpo_insurance" / "catalogue").glob("*.yaml")
    task = re.search(r"- id: (\S+)", tasks.read_text())[1]
    # The NL rule asks for a task of the insurance plugin, which fails to load.
    base.edit(base.rules, "      - service: {fact: service, language:",
                          f"      - service: {{fact: service, task: {task}, language:")
    (rules,) = (other / "src" / "kpo_insurance" / "rules").glob("*.yaml")
    rules.write_text(rules.read_text().replace("    severity:", "    severty:", 1))
    plugins = create_plugin_set(extra=[load_local_plugin(base.root), load_local_plugin(other)])
    failures = load_content(plugins).failures
    assert [(f.name, f.kind) for f in failures] == [("insurance", "schema"),
                                                    ("country_nl", "catalogue-id")]
    assert not {r.plugin for r in load_content(plugins).rules.rules} & {"insurance",
                                                                          "country_nl"}


# ============================================================== structured errors to the end


def test_kpo_rules_test_classifies_failures_from_fields_not_words(run_cli, nl, monkeypatch):
    """Rewording every rule-definition message changes no check, file, line or rule."""
    nl.edit(nl.rules, "'{service.id}' for", "'{service.id' for")
    (nl.package / "rules" / "more.yaml").write_text(
        nl.rules.read_text().replace("NL-LANG-001", "XX-LANG-001")
        .replace("'{service.id' for", "'{service.id}' for"))

    def seen() -> list[tuple[str, str, int | None, str]]:
        return sorted((p.check, p.file, p.line, p.what) for p in check_plugin(nl.root))

    before = seen()
    assert {check for check, *_ in before} == {"template", "rule-id"}
    original = errors.RuleDefinitionError.__init__

    def reworded(self, file, line, rule, why, **fields):
        original(self, file, line, rule, f"Reworded: {why.upper()}", **fields)

    monkeypatch.setattr(errors.RuleDefinitionError, "__init__", reworded)
    after = seen()
    assert [p[:3] for p in after] == [p[:3] for p in before]
    assert all(p[3].split(": ", 1)[-1].startswith("Reworded: ") for p in after)
    result = run_cli("test", str(nl.root))
    assert "Reworded: " in result.stdout and "[template]" in result.stdout


def test_the_json_report_carries_the_failure_fields(nl, run_cli):
    nl.edit(nl.rules, "'{service.id}' for", "'{service.id' for")
    name, module = load_local_plugin(nl.root)
    report = kpo_rules.check(sources=[("e.yaml", "{}")],
                             plugins=create_plugin_set(extra=[(name, module)]))
    (failure,) = [f.as_dict() for f in report.plugin_failures]
    assert {k: failure[k] for k in ("name", "kind", "file", "rule")} == {
        "name": "country_nl", "kind": "template", "file": str(nl.rules), "rule": "NL-LANG-001"}
    assert failure["line"] == line_of(nl.rules.read_text(), "    message:")


# ================================================================================ templates


@pytest.mark.parametrize(("template", "shown"), [
    ("{{literal}} {who.name}", "{literal} Ana"),
    ("{{{who.name}}}", "{Ana}"),
    ("{who.missing}, {who.empty}, {who.none}", f"{ABSENT}, {ABSENT}, {ABSENT}"),
    ("{who.langs} {who.ok}", "de, en no"),
])
def test_templates_escape_braces_and_show_absent_fields(template, shown):
    bindings = {"who": {"name": "Ana", "empty": [], "none": None, "langs": ["de", "en"],
                        "ok": False}}
    assert compile_template(template)(bindings) == shown


def test_the_rule_file_docs_show_what_a_message_prints():
    from conftest import ROOT

    text = (ROOT / "docs" / "rule-files.md").read_text(encoding="utf-8")
    table = text.split("\n## Messages\n", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| ([^|]+?) \| ([^|]+?) \|$", table, re.MULTILINE))
    render = compile_template("{x.v}")
    assert rows["nothing (absent, null, an empty list)"] == f"`{ABSENT}`"
    assert all(render({"x": value}) == ABSENT for value in ({}, {"v": None}, {"v": []}))
    assert rows["`true` / `false`"] == f"`{render({'x': {'v': True}})}` / " \
                                       f"`{render({'x': {'v': False}})}`"
    assert rows["a list"] == "its items, comma-separated"
    assert render({"x": {"v": ["a", "b"]}}) == "a, b"


@pytest.mark.parametrize("template", ["{service.id", "{staff}", "a } b", "{ who.name }",
                                      "{who.name}}", "{1.x}"])
def test_a_malformed_template_does_not_parse(template):
    with pytest.raises(TemplateError):
        parse_template(template)


def shipped_rules():
    return load_content(create_plugin_set()).rules.rules


def test_no_shipped_rule_message_can_print_a_placeholder():
    """Whatever its facts lack, a shipped rule's message never shows a placeholder."""
    for rule in shipped_rules():
        aliases = {p.alias for p in rule.when}
        message = compile_template(rule.message)({alias: {} for alias in aliases})
        assert not PLACEHOLDER.search(message), (rule.id, message)


def test_every_rule_for_a_country_no_plugin_covers_prints_no_placeholder():
    """Each rule's fail examples with the client moved to a country without a profile."""
    plugins = create_plugin_set()
    import yaml

    sources = []
    for rule in shipped_rules():
        for i, example in enumerate(e for e in rule.examples if e.expect == "fail"):
            document = json.loads(json.dumps(example.document))
            document["client"]["country"] = "BR"
            document["client"].pop("subdivision", None)
            document["metadata"]["id"] = f"{rule.id.lower()}-{i}"  # each one checked
            sources.append((f"{rule.id}-{i}.yaml", yaml.safe_dump(document)))
    report = kpo_rules.check(sources=sources, plugins=plugins)
    plugin_findings = [f for f in report.findings if not f.rule.startswith("KPO-")]
    assert len({f.rule for f in plugin_findings}) > 10  # the rules that still fire
    assert "KPO-REF-010" in {f.rule for f in report.findings}
    # The language a client without a profile works in is unknown: shown as such.
    assert any(ABSENT in f.message for f in plugin_findings if f.rule == "COM-LANG-001")
    bad = [(f.rule, f.message) for f in report.findings if PLACEHOLDER.search(f.message)]
    assert bad == []


# ============================================================================ the rule docs


def test_the_fact_table_of_the_rule_file_docs_names_every_fact_type_and_field():
    from conftest import ROOT

    from kpo_rules.engine.facts import VOCABULARY

    text = (ROOT / "docs" / "rule-files.md").read_text(encoding="utf-8")
    table = text.split("\n## Facts\n", 1)[1].split("\n## ", 1)[0]
    rows = {m[1]: m[0] for m in re.finditer(r"^\| `([a-z_]+)` \|.*$", table, re.MULTILINE)}
    assert set(rows) == set(VOCABULARY)
    missing = [(fact, name) for fact, fields in VOCABULARY.items() for name in sorted(fields)
               if f"`{name}`" not in rows[fact] and f"`{name.rsplit('_date', 1)[0]}`" not in
               rows[fact]]
    assert missing == []
