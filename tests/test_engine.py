"""The declarative rule engine: compilation errors with lines, negation independent of fact
order, forward chaining, effective dates, engine errors as findings, and many engagements
in one process."""

from __future__ import annotations

import random
import re
import textwrap
from pathlib import Path

import pytest
from conftest import DATA

import kpo_rules
from kpo_rules import PluginMeta, hookimpl
from kpo_rules.engine import evaluate as evaluate_module
from kpo_rules.engine.durable import session as session_module
from kpo_rules.engine.template import compile_template, fill
from kpo_rules.plugins import create_plugin_set

MINIMAL = (DATA / "clean" / "minimal.yaml").read_text()

RULES = """\
apiVersion: kpo-rules/v1
kind: RuleFile
bases:
  base:
    apiVersion: kpo-rules/v1
    kind: Engagement
    metadata: {id: base}
    period: {start: 2026-01-01, end: 2026-12-31}
    client: {name: C, type: corporate, country: US}
    provider:
      name: P
      serves: {finance: [US]}
      delivery_centres: [{id: c, country: IN, timezone: Asia/Kolkata}]
    services: [{id: s, task: finance.billing, delivery_centre: c, assignees: [a]}]
    staff:
      - {id: a, name: Ann, location: {country: IN}, languages: [{code: en, level: B2}]}
derive:
  - id: TST-DRV-001
    description: staff who speak German at C1 or better
    when:
      - lang: {fact: language, code: de, rank: {gte: 5}}
    fact: {type: german_speaker, fields: {staff: $lang.staff}}
rules:
  - id: TST-NEG-001
    category: language
    severity: error
    basis: practice
    title: nobody on the service speaks German
    checks: absence over all assignees
    why: test
    message: "no German speaker on service '{service.id}'"
    remediation: add one
    references: [test]
    when:
      - service: {fact: service}
    unless:
      - speaker: {fact: german_speaker}
    report: {at: service, service: $service.id}
    examples:
      - expect: fail
        base: base
      - expect: pass
        base: base
        patch:
          staff:
            - {id: a, name: Ann, location: {country: IN}, languages: [{code: de, level: C2}]}
  - id: TST-DER-001
    category: language
    severity: warning
    basis: practice
    title: a German speaker is on the engagement
    checks: a derived fact matched in `when`
    why: test
    message: "{who.name} speaks German"
    remediation: none
    references: [test]
    when:
      - speaker: {fact: german_speaker}
      - who: {fact: staff, id: $speaker.staff}
    report: {at: who, staff: $who.id}
    examples:
      - expect: pass
        base: base
      - expect: fail
        base: base
        patch:
          staff:
            - {id: a, name: Ann, location: {country: IN}, languages: [{code: de, level: C1}]}
  - id: TST-EFF-001
    category: eligibility
    severity: info
    basis: law
    title: a rule in force from 2027
    checks: effective dates
    why: test
    message: "in force for engagement {engagement.id}"
    remediation: none
    references: [test]
    effective: {from: 2027-01-01}
    when:
      - engagement: {fact: engagement}
    examples:
      - expect: pass
        base: base
      - expect: fail
        base: base
        patch: {period: {start: 2026-07-01, end: 2027-06-30}}
"""


class RulePlugin:
    """An in-process plugin that ships the rule files it is given."""

    def __init__(self, *files: Path, prefixes: tuple[str, ...] = ("TST",)) -> None:
        self.files, self.prefixes = files, prefixes

    @hookimpl
    def kpo_plugin_meta(self) -> PluginMeta:
        return PluginMeta(api_version=1, rule_prefixes=self.prefixes)

    @hookimpl
    def kpo_rule_files(self) -> list[Path]:
        return list(self.files)


def plugin_set(tmp_path: Path, *texts: str, prefixes: tuple[str, ...] = ("TST",)):
    files = []
    for i, text in enumerate(texts):
        path = tmp_path / f"rules{i}.yaml"
        path.write_text(text)
        files.append(path)
    return create_plugin_set(extra=[("testrules", RulePlugin(*files, prefixes=prefixes))])


def engagement(languages: str, period: str = "{start: 2026-01-01, end: 2026-12-31}",
               staff_count: int = 1) -> str:
    text = MINIMAL.replace("period: {start: 2026-01-01, end: 2026-12-31}", f"period: {period}")
    staff = "".join(
        f"  - id: s-{i}\n    name: Person {i}\n    location: {{country: IN}}\n"
        f"    languages: {languages if i == staff_count else '[{code: en, level: B2}]'}\n"
        for i in range(1, staff_count + 1))
    ids = ", ".join(f"s-{i}" for i in range(1, staff_count + 1))
    head = text.split("staff:\n")[0].replace("assignees: [s-1]", f"assignees: [{ids}]")
    return head + "staff:\n" + staff


def rules_of(report: kpo_rules.Report, prefix: str = "TST") -> list[str]:
    return sorted(f.rule for f in report.findings if f.rule.startswith(prefix))


def test_every_example_of_the_test_rules_holds(tmp_path):
    from kpo_rules.rule_tests import run_examples

    outcomes = list(run_examples(plugin_set(tmp_path, RULES), frozenset({"testrules"})))
    assert len(outcomes) == 6
    assert [o.problem for o in outcomes if not o.ok] == []


def test_negation_and_derivation(tmp_path):
    plugins = plugin_set(tmp_path, RULES)
    nobody = kpo_rules.check(sources=[("e.yaml", engagement("[{code: de, level: B2}]"))],
                             plugins=plugins)
    assert rules_of(nobody) == ["TST-NEG-001"]
    speaker = kpo_rules.check(sources=[("e.yaml", engagement("[{code: de, level: C1}]"))],
                              plugins=plugins)
    assert rules_of(speaker) == ["TST-DER-001"]  # the derived fact fed one rule, blocked another
    (finding,) = [f for f in speaker.findings if f.rule == "TST-DER-001"]
    assert finding.message == "Person 1 speaks German"
    assert finding.subject.staff == "s-1"
    assert (finding.line, finding.column) == (23, 5)


def test_negation_does_not_depend_on_fact_order(tmp_path, monkeypatch):
    plugins = plugin_set(tmp_path, RULES)
    text = engagement("[{code: de, level: C1}]", staff_count=4)
    expected = [(f.rule, f.line, f.message) for f in
                kpo_rules.check(sources=[("e.yaml", text)], plugins=plugins).findings]
    assert ("TST-NEG-001" not in {rule for rule, _, _ in expected})
    original = evaluate_module.build_facts
    for seed in range(20):
        def shuffled(engagement, catalogue, seed=seed):
            facts = original(engagement, catalogue)
            random.Random(seed).shuffle(facts)
            return facts

        monkeypatch.setattr(evaluate_module, "build_facts", shuffled)
        report = kpo_rules.check(sources=[("e.yaml", text)], plugins=plugins)
        assert [(f.rule, f.line, f.message) for f in report.findings] == expected, seed


STRATA = RULES.replace("""rules:
  - id: TST-NEG-001""", """  - id: TST-DRV-002
    description: services nobody on the engagement can serve in German
    when:
      - service: {fact: service}
    unless:
      - speaker: {fact: german_speaker}
    fact: {type: untranslated, fields: {service: $service.id}}
rules:
  - id: TST-STR-001
    category: language
    severity: info
    basis: practice
    title: a service is served in German
    checks: negation over a fact derived through negation
    why: test
    message: "service '{service.id}' is served in German"
    remediation: none
    references: [test]
    when:
      - service: {fact: service}
    unless:
      - gap: {fact: untranslated, service: $service.id}
    report: {at: service, service: $service.id}
    examples:
      - expect: pass
        base: base
      - expect: fail
        base: base
        patch:
          staff:
            - {id: a, name: Ann, location: {country: IN}, languages: [{code: de, level: C2}]}
  - id: TST-NEG-001""")


def test_negation_over_facts_derived_through_negation_in_any_fact_order(tmp_path, monkeypatch):
    plugins = plugin_set(tmp_path, STRATA)
    from kpo_rules.rule_tests import run_examples

    assert [o.problem for o in run_examples(plugins, frozenset({"testrules"})) if not o.ok] == []
    german = engagement("[{code: de, level: C1}]", staff_count=3)
    english = engagement("[{code: en, level: C1}]", staff_count=3).replace(
        "id: minimal-clean", "id: english")
    original = evaluate_module.build_facts
    for seed in range(10):
        def shuffled(engagement, catalogue, seed=seed):
            facts = original(engagement, catalogue)
            random.Random(seed).shuffle(facts)
            return facts

        monkeypatch.setattr(evaluate_module, "build_facts", shuffled)
        report = kpo_rules.check(sources=[("g.yaml", german), ("e.yaml", english)],
                                 plugins=plugins)
        assert sorted((f.file, f.rule) for f in report.findings if f.rule.startswith("TST")) == [
            ("e.yaml", "TST-NEG-001"), ("g.yaml", "TST-DER-001"), ("g.yaml", "TST-STR-001")]


def test_shipped_rules_evaluate_negation_in_one_stratified_pass():
    from kpo_rules.content import load_content
    from kpo_rules.engine.evaluate import evaluator_for

    runner = evaluator_for(load_content(create_plugin_set()).rules)._runner
    assert runner is not None
    assert runner.stratified and runner.negation_cycle == ()


def test_a_cycle_through_negation_in_rule_files_is_reported(tmp_path):
    cyclic = RULES.replace("""rules:
  - id: TST-NEG-001""", """  - id: TST-DRV-003
    description: a German speaker unless one is flagged (contradicts itself)
    when:
      - lang: {fact: language, code: de}
    unless:
      - flagged: {fact: flagged}
    fact: {type: flagged, fields: {staff: $lang.staff}}
rules:
  - id: TST-NEG-001""")
    report = kpo_rules.check(sources=[("e.yaml", engagement("[{code: de, level: C1}]"))],
                             plugins=plugin_set(tmp_path, cyclic))
    (error,) = [f for f in report.findings if f.rule == "KPO-ENG-001"]
    assert "rule TST-DRV-003 of plugin 'testrules' failed" in error.message
    assert "did not settle" in error.message


def test_effective_dates_are_judged_at_the_period(tmp_path):
    plugins = plugin_set(tmp_path, RULES)
    before = kpo_rules.check(sources=[("e.yaml", engagement("[{code: de, level: C1}]"))],
                             plugins=plugins)
    assert "TST-EFF-001" not in rules_of(before)
    across = engagement("[{code: de, level: C1}]", period="{start: 2026-07-01, end: 2027-06-30}")
    assert "TST-EFF-001" in rules_of(kpo_rules.check(sources=[("e.yaml", across)],
                                                     plugins=plugins))


BROKEN = RULES.replace("message: \"{who.name} speaks German\"",
                       "message: \"{whom.name} speaks German\"")


def test_broken_rule_file_is_reported_with_file_line_and_rule(tmp_path, run_cli):
    plugins = plugin_set(tmp_path, BROKEN)
    report = kpo_rules.check(sources=[("e.yaml", engagement("[{code: en, level: B2}]"))],
                             plugins=plugins)
    (failure,) = report.plugin_failures
    assert failure.name == "testrules"
    line = BROKEN.splitlines().index('    message: "{whom.name} speaks German"') + 1
    assert failure.error.startswith(f"{tmp_path / 'rules0.yaml'}:{line}: rule TST-DER-001: ")
    assert "'{whom.name}' names 'whom', which the rule does not bind" in failure.error
    # The run still reports: the core and the other plugins' rules are unaffected.
    assert report.findings == () or all(not f.rule.startswith("TST") for f in report.findings)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("id: $speaker.staff}", "id: $speakr.staff}", "refers to 'speakr', which is not bound"),
    ("{fact: language, code: de", "{fact: languages, code: de", "unknown fact type 'languages'"),
    ("{fact: language, code: de", "{fact: language, cod: de", "fact 'language' has no field 'cod'"),
    ("- service: {fact: service}", "- service: {fact: service, software: {contains: $x.y}}",
     "'contains' takes literal values, not a reference"),
    ("report: {at: who, staff: $who.id}", "report: {at: whom, staff: $who.id}",
     "'at: whom' names an alias the rule does not bind"),
])
def test_compile_errors_name_the_problem(tmp_path, old, new, message):
    broken = RULES.replace(old, new, 1)
    assert broken != RULES
    report = kpo_rules.check(sources=[("e.yaml", MINIMAL)], plugins=plugin_set(tmp_path, broken))
    (failure,) = report.plugin_failures
    assert message in failure.error
    line = next(i for i, text in enumerate(broken.splitlines(), 1) if new in text)
    assert f"rules0.yaml:{line}: rule TST-" in failure.error


def test_schema_errors_in_rule_files_are_definition_errors(tmp_path):
    report = kpo_rules.check(sources=[("e.yaml", MINIMAL)],
                             plugins=plugin_set(tmp_path, RULES.replace("severity: info",
                                                                        "severity: fatal")))
    (failure,) = report.plugin_failures
    assert "rule TST-EFF-001" in failure.error and "severity" in failure.error


def test_duplicate_rule_ids_name_both_files(tmp_path):
    report = kpo_rules.check(sources=[("e.yaml", MINIMAL)],
                             plugins=plugin_set(tmp_path, RULES, RULES))
    errors = " ".join(f.error for f in report.plugin_failures)
    assert "duplicate rule id" in errors
    assert "rules0.yaml" in errors and "rules1.yaml" in errors


def test_rule_ids_must_use_the_plugins_own_prefix(tmp_path):
    report = kpo_rules.check(sources=[("e.yaml", MINIMAL)],
                             plugins=plugin_set(tmp_path, RULES, prefixes=("XYZ",)))
    (failure,) = report.plugin_failures
    assert "does not start with a prefix plugin 'testrules' owns (XYZ)" in failure.error


def test_a_prefix_owned_by_another_plugin_is_refused(tmp_path):
    report = kpo_rules.check(sources=[("e.yaml", MINIMAL)],
                             plugins=plugin_set(tmp_path, RULES, prefixes=("COM",)))
    assert any("'COM' is already owned by plugin 'common'" in f.error
               for f in report.plugin_failures)


@pytest.mark.parametrize(("message", "said"), [
    ("{who.__class__} speaks", "fact 'staff' has no field '__class__'"),
    ("{0.__class__} speaks", "'{0.__class__}' is not a placeholder"),
    ("{who.name.__doc__} speaks", "'{who.name.__doc__}' is not a placeholder"),
])
def test_templates_cannot_reach_python_attributes(tmp_path, message, said):
    sneaky = RULES.replace('message: "{who.name} speaks German"', f'message: "{message}"')
    report = kpo_rules.check(sources=[("e.yaml", MINIMAL)], plugins=plugin_set(tmp_path, sneaky))
    (failure,) = report.plugin_failures
    assert failure.kind == "template" and said in failure.error


def test_an_action_that_raises_becomes_an_engine_error_and_other_rules_still_report(
        tmp_path, monkeypatch):
    plugins = plugin_set(tmp_path, RULES)

    real = session_module._build

    def explode(recipe, match):
        if recipe.fact_type == "german_speaker":
            raise ZeroDivisionError("simulated bug")
        return real(recipe, match)

    monkeypatch.setattr(session_module, "_build", explode)
    text = engagement("[{code: de, level: C1}]").replace("    task: finance.billing",
                                                         "    task: finance.billing\n"
                                                         "    software: [sap]")
    report = kpo_rules.check(sources=[("e.yaml", text)], plugins=plugins)
    errors = [f for f in report.findings if f.rule == "KPO-ENG-001"]
    assert errors and all(e.category == "engine-error" for e in errors)
    (mine,) = [e for e in errors if "rule TST-DRV-001 of plugin 'testrules' failed" in e.message]
    assert "ZeroDivisionError: simulated bug" in mine.message
    assert "COM-SW-001" in {f.rule for f in report.findings}  # other rules still ran


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    pytest.skip("no /proc/self/status")
    return 0.0


@pytest.mark.slow  # big input (CI runs it: .ci/run)
def test_thousands_of_engagements_in_one_process_without_growth(tmp_path):
    plugins = plugin_set(tmp_path, RULES)
    base = engagement("[{code: de, level: B2}]", staff_count=3)
    sources = [(f"e{i}.yaml", base.replace("id: minimal-clean", f"id: e-{i}"))
               for i in range(2500)]
    report = kpo_rules.check(sources=sources[:500], plugins=plugins)
    assert report.engagements == 500
    before = rss_mb()
    report = kpo_rules.check(sources=sources, plugins=plugins)
    after = rss_mb()
    assert report.engagements == 2500
    assert sum(f.rule == "TST-NEG-001" for f in report.findings) == 2500
    report = kpo_rules.check(sources=sources, plugins=plugins)
    final = rss_mb()
    # The report itself holds 2,500 findings; a leak per session would show as growth
    # between two identical runs.
    assert final - after < 15, (before, after, final)


def test_rules_show_renders_docs_and_examples(run_cli):
    result = run_cli("rules", "show", "COM-LANG-001")
    assert result.exit_code == 0
    for section in ("## What it checks", "## Why", "## How to fix", "## Sources", "### Passes",
                    "### Fails"):
        assert section in result.stdout


def test_rules_list_json(run_cli):
    import json

    result = run_cli("rules", "list", "--format", "json")
    data = json.loads(result.stdout)
    ids = [r["id"] for r in data["rules"]]
    assert ids == sorted(ids) and "COM-LANG-001" in ids
    assert data["errors"] == []


def test_unknown_rule_suggests_close_ids(run_cli):
    result = run_cli("rules", "show", "COM-LNG-001")
    assert result.exit_code == 2
    assert "did you mean COM-LANG-001" in result.stderr


def test_kpo_rules_test_runs_every_shipped_example(run_cli):
    result = run_cli("test")
    assert result.exit_code == 0, result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert last.endswith(", 0 failed") and not last.startswith("0 passed")


def test_kpo_rules_test_on_a_plugin_directory_reports_failures(tmp_path, run_cli):
    package = tmp_path / "kpo_test_rules"
    (package / "rules").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(textwrap.dedent("""
        from kpo_rules import PluginMeta, data_files, hookimpl

        @hookimpl
        def kpo_plugin_meta():
            return PluginMeta(api_version=1, rule_prefixes=("TST",))

        @hookimpl
        def kpo_rule_files():
            return data_files(__package__, "rules")
    """))
    wrong = RULES.replace("      - expect: fail\n        base: base\n      - expect: pass",
                          "      - expect: pass\n        base: base\n      - expect: fail", 1)
    (package / "rules" / "r.yaml").write_text(wrong)
    result = run_cli("test", str(package))
    assert result.exit_code == 1
    assert re.search(r"^FAIL  TST-NEG-001 +0/2 examples$", result.stdout, re.M)  # per rule
    assert "FAIL TST-NEG-001 pass" in result.stdout  # then each failing example
    assert "expected no TST-NEG-001; got: no German speaker on service 's'" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "4 passed, 2 failed"


def test_an_unless_that_re_tests_a_bound_fact_is_refused(tmp_path):
    broken = RULES.replace("""    unless:
      - speaker: {fact: german_speaker}
    report: {at: service, service: $service.id}""", """    unless:
      - same: {fact: service, id: $service.id, software: {contains: sap}}
    report: {at: service, service: $service.id}""")
    report = kpo_rules.check(sources=[("e.yaml", MINIMAL)], plugins=plugin_set(tmp_path, broken))
    (failure,) = report.plugin_failures
    assert "'unless' pattern 'same' re-tests the service bound to 'service'" in failure.error
    assert "rule TST-NEG-001" in failure.error


def test_not_contains_treats_absent_and_empty_lists_as_not_containing(tmp_path):
    rule = RULES.replace("""    when:
      - service: {fact: service}
    unless:
      - speaker: {fact: german_speaker}
    report: {at: service, service: $service.id}""", """    when:
      - service: {fact: service, software: {not_contains: sap}}
    report: {at: service, service: $service.id}""")
    plugins = plugin_set(tmp_path, rule)

    def fired(software: str) -> bool:
        text = MINIMAL.replace("    task: finance.billing",
                               f"    task: finance.billing\n    software: {software}")
        report = kpo_rules.check(sources=[("e.yaml", text)], plugins=plugins)
        return "TST-NEG-001" in rules_of(report)

    assert fired("[]") and fired("[excel]") and not fired("[excel, sap]")
    assert "TST-NEG-001" in rules_of(kpo_rules.check(sources=[("e.yaml", MINIMAL)],
                                                     plugins=plugins))


def test_rules_show_documents_core_rules_too(run_cli):
    result = run_cli("rules", "show", "KPO-WAI-001")
    assert result.exit_code == 0
    assert result.stdout.startswith("# KPO-WAI-001: Waiver expired")
    assert "## Why" in result.stdout


@pytest.mark.parametrize("template", [
    "", "no placeholders", "{who.name}", "{who.name} and {who.id} of {svc.task}.",
    "{who.name}{who.name}", "{who.missing} {nobody.name} stay", "{who.langs}/{who.none}/{who.ok}",
    "{{who.name}} {{{who.name}}} {who.__class__}",
])
def test_a_compiled_template_fills_like_fill(template):
    bindings = {"who": {"name": "Ana", "_id": "s-1", "langs": ["de", True], "none": None,
                        "ok": False},
                "svc": {"task": "finance.payroll"}}
    assert compile_template(template)(bindings) == fill(template, bindings)
