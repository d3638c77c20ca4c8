"""The plugin-author kit: `kpo-rules plugin new`, `kpo_rules.testing`, the conformance checks,
the hooks one by one, and a third-party plugin built outside the repository, installed into a
fresh virtualenv next to kpo-rules, and run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from conftest import DATA, ROOT

from kpo_rules import PluginMeta, hookimpl
from kpo_rules.conformance import Problem, check_plugin, check_plugins
from kpo_rules.hookspecs import HOOK_API_VERSION
from kpo_rules.plugins import create_plugin_set

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

pytest_plugins = ["kpo_rules.testing", "pytester"]

MINIMAL = (DATA / "clean" / "minimal.yaml").read_text()
PYTHON = sys.executable

# Two rules over tests/data/clean/minimal.yaml: its service lists no software, its one
# assignee states no working hours. Both are below error, so the engagement still has no errors.
KIT_RULES = (DATA / "kit_rules.yaml").read_text()


class KitPlugin:
    """An in-process plugin shipping the files it is given."""

    def __init__(self, rules: list[Path], catalogues: list[Path] = (),
                 meta: PluginMeta | None = None) -> None:
        self.rules, self.catalogues = rules, list(catalogues)
        self.meta = meta or PluginMeta(api_version=HOOK_API_VERSION, rule_prefixes=("KIT",),
                                       facts_as_of="2026-01-01", description="kit test plugin")

    @hookimpl
    def kpo_plugin_meta(self) -> PluginMeta:
        return self.meta

    @hookimpl
    def kpo_rule_files(self) -> list[Path]:
        return self.rules

    @hookimpl
    def kpo_catalogue_files(self) -> list[Path]:
        return self.catalogues


@pytest.fixture
def kit_plugin(tmp_path) -> KitPlugin:
    path = tmp_path / "kit_rules.yaml"
    path.write_text(KIT_RULES)
    return KitPlugin([path])


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def scaffold(run_cli, parent: Path, name: str, *args: str) -> Path:
    result = run_cli("plugin", "new", name, "--dir", str(parent), *args)
    assert result.exit_code == 0, result.output
    return parent / name


# ================================================================== kpo-rules plugin new


def test_plugin_new_country_writes_an_installable_package(tmp_path, run_cli):
    from kpo_rules.load.validate import validate_as
    from kpo_rules.load.yaml12 import parse_yaml

    project = scaffold(run_cli, tmp_path, "kpo-country-nl")
    package = project / "src" / "kpo_country_nl"
    for relative in ("pyproject.toml", "README.md", "conftest.py", "tests/test_rules.py",
                     "examples/engagement.yaml", "src/kpo_country_nl/__init__.py",
                     "src/kpo_country_nl/plugin.py", "src/kpo_country_nl/rules/nl.yaml",
                     "src/kpo_country_nl/catalogue/profile.yaml"):
        assert (project / relative).is_file(), relative
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["build-system"]["build-backend"] == "hatchling.build"
    assert pyproject["project"]["name"] == "kpo-country-nl"
    assert any(d.startswith("kpo-rules") for d in pyproject["project"]["dependencies"])
    assert pyproject["project"]["entry-points"]["kpo_rules"] == {
        "country_nl": "kpo_country_nl.plugin"}
    plugin_py = (package / "plugin.py").read_text()
    assert f"api_version={HOOK_API_VERSION}," in plugin_py
    assert 'rule_prefixes=("NL",)' in plugin_py
    (profile,) = parse_yaml((package / "catalogue" / "profile.yaml").read_bytes(), "profile")
    assert validate_as(profile, "country") == []
    data = profile.data
    assert (data["country"], data["name"], data["profile"]) == ("NL", "Netherlands", "basic")
    assert data["languages"] == ["nl"] and data["timezone"] == "Europe/Amsterdam"
    assert data["eea"] is True and data["data_protection"]["regime"] == "eu_gdpr"
    assert set(data["business_hours"]) >= {"start", "end", "days"}


def test_plugin_new_prints_the_next_steps_with_paths_pip_will_not_look_up(tmp_path, run_cli,
                                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    output = run_cli("plugin", "new", "kpo-country-be").output
    assert "country plugin 'country_be' (import kpo_country_be, rule prefix BE)" in output
    assert "  kpo-rules test ./kpo-country-be" in output
    assert "  python -m pip install ./kpo-country-be" in output


@pytest.mark.parametrize(("name", "args", "rule"), [
    ("kpo-country-nl", (), "NL-LANG-001"),
    ("kpo-insurance", ("--kind", "domain"), "INS-DEC-001"),
    ("acme-rules-nordics", ("--country", "NO", "--prefix", "NOR"), "NOR-LANG-001"),
])
def test_scaffolds_pass_their_own_tests(tmp_path, run_cli, name, args, rule):
    project = scaffold(run_cli, tmp_path, name, *args)
    test = subprocess.run([PYTHON, "-m", "kpo_rules", "test", str(project)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert test.returncode == 0, test.stdout + test.stderr
    assert test.stdout.splitlines()[-2:] == ["conformance: 0 problems in 1 plugin",
                                             "2 passed, 0 failed"]
    # As in a plugin author's environment, which has pytest (the scaffold's test extra) but
    # not this repository's pytest plugins (xdist, hypothesis): they cost a second a run.
    own = subprocess.run([PYTHON, "-m", "pytest", "-v", "-p", "no:cacheprovider"],
                         cwd=project, capture_output=True, text=True, timeout=300, check=False,
                         env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert own.returncode == 0, own.stdout + own.stderr
    assert f"test_rule_example[{rule}-fail-0] PASSED" in own.stdout
    assert " 6 passed" in own.stdout.splitlines()[-1]
    assert check_plugin(project) == []


@pytest.mark.parametrize(("args", "message"), [
    (("kpo country nl",), "'kpo country nl' is not a valid distribution name"),
    (("--", "-kpo-nl"), "'-kpo-nl' is not a valid distribution name"),
    (("kpo-nl-",), "is not a valid distribution name"),
    (("9-kpo",), "does not give a Python import name"),
    (("kpo-country-fr",), "a plugin named 'country_fr' is already installed"),
    (("kpo-land-fr", "--country", "FR"), "country FR is already covered by the installed "
                                         "plugin 'country_fr'"),
    (("kpo-insurance", "--kind", "country"), "cannot tell the country from 'kpo-insurance'"),
    (("kpo-country-zz",), "'ZZ' is not an ISO 3166-1 alpha-2 country code"),
    (("kpo-fintech", "--prefix", "FIN"), "rule prefix 'FIN' is already owned by plugin "
                                         "'finance'"),
    (("kpo-fintech", "--prefix", "fin"), "rule prefix 'fin' must be 2-8 capital letters"),
    (("kpo-core", "--prefix", "KPO"), "already owned by the kpo-rules core"),
    (("kpo-legal",), "a plugin named 'legal' is already installed"),
])
def test_plugin_new_refuses_with_a_clear_error(tmp_path, run_cli, args, message):
    result = run_cli("plugin", "new", "--dir", str(tmp_path), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_plugin_new_refuses_an_existing_directory(tmp_path, run_cli):
    (tmp_path / "kpo-country-nl").mkdir()
    result = run_cli("plugin", "new", "kpo-country-nl", "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert f"{tmp_path / 'kpo-country-nl'} already exists" in result.stderr
    assert list((tmp_path / "kpo-country-nl").iterdir()) == []


def test_plugin_new_flags_languages_it_does_not_know(tmp_path, run_cli):
    project = scaffold(run_cli, tmp_path, "kpo-country-bo")
    profile = (project / "src" / "kpo_country_bo" / "catalogue" / "profile.yaml").read_text()
    assert "name: Bolivia" in profile
    assert "languages: [en]  # check: the scaffold does not know" in profile
    assert "regime: not_modelled" in profile and "eea: false" in profile
    assert check_plugin(project) == []


# ================================================================== kpo_rules.testing


def test_kpo_check_reports_a_registered_plugins_findings(kpo_register, kpo_check, kit_plugin):
    assert kpo_register(kit_plugin, name="kit") == "kit"
    result = kpo_check(MINIMAL, name="minimal.yaml")
    assert {"KIT-SW-001", "KIT-HOURS-001"} <= result.rules
    (finding,) = result.assert_findings(rules={"KIT-HOURS-001"}, subjects={("invoices", "s-1")},
                                        lines={line_of(MINIMAL, "assignees: [s-1]")})
    assert finding.message == "Ravi Kumar (s-1) on service 'invoices' states no working hours"
    assert finding.file == "minimal.yaml"
    result.assert_findings(rules="KIT-SW-001", subjects="invoices",
                           lines=line_of(MINIMAL, "- id: invoices"))
    result.assert_findings(rules={"KIT-SW-001", "KIT-HOURS-001"},
                           subjects=[{"service": "invoices"}], exact=True)
    result.assert_clean(severity="error")


def test_kpo_check_takes_text_mappings_and_paths(kpo_register, kpo_check, kit_plugin, tmp_path):
    kpo_register(kit_plugin, name="kit")
    indented = textwrap.indent(MINIMAL, "        ")
    path = tmp_path / "engagement.yaml"
    path.write_text(MINIMAL)
    for source in (indented, yaml.safe_load(MINIMAL), path):
        assert kpo_check(source).rules >= {"KIT-SW-001", "KIT-HOURS-001"}, source
    assert kpo_check(path).findings[0].file == str(path)


def test_failed_assertions_show_every_finding(kpo_register, kpo_check, kit_plugin):
    kpo_register(kit_plugin, name="kit")
    result = kpo_check(MINIMAL, name="minimal.yaml")
    with pytest.raises(AssertionError) as missing:
        result.assert_findings(rules={"KIT-NOPE-001"})
    text = str(missing.value)
    assert "expected KIT-NOPE-001 to be reported" in text
    line = line_of(MINIMAL, "- id: invoices")
    assert f"minimal.yaml:{line}:5  KIT-SW-001  warning  [service=invoices]  service " \
           "'invoices' lists no software" in text
    with pytest.raises(AssertionError, match=r"expected findings about 's-9'"):
        result.assert_findings(rules={"KIT-HOURS-001"}, subjects={"s-9"})
    with pytest.raises(AssertionError, match=r"findings about other subjects"):
        result.assert_findings(rules={"KIT-HOURS-001", "KIT-SW-001"}, subjects={"s-1"})
    with pytest.raises(AssertionError, match=r"expected findings at lines \[1\]; found lines"):
        result.assert_findings(rules={"KIT-SW-001"}, lines=[1])
    with pytest.raises(AssertionError, match="expected nothing else; also reported KIT-HOURS-001"):
        result.assert_findings(rules={"KIT-SW-001"}, exact=True)
    with pytest.raises(AssertionError, match=r"expected no findings of KIT; got 2:\n .*KIT-"):
        result.assert_clean(rules=["KIT"])
    with pytest.raises(AssertionError, match="at warning or above; got 1"):
        result.assert_clean(rules="KIT", severity="warning")


def test_kpo_check_fails_when_a_plugin_does_not_load(kpo_register, kpo_check, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(KIT_RULES.replace("severity: info", "severity: fatal"))
    kpo_register(KitPlugin([broken]), name="kit")
    with pytest.raises(pytest.fail.Exception, match=r"plugins failed to load[^\n]*\n  kit: "
                                                    r".*broken.yaml:\d+: rule KIT-HOURS-001"):
        kpo_check(MINIMAL)
    assert kpo_check(MINIMAL, allow_plugin_failures=True).plugin_failures


def test_kpo_plugins_is_fresh_per_test_part_1(kpo_plugins, kpo_register, kit_plugin):
    kpo_register(kit_plugin, name="kit")
    assert "kit" in kpo_plugins.names()


def test_kpo_plugins_is_fresh_per_test_part_2(kpo_plugins):
    assert "kit" not in kpo_plugins.names()
    assert {"common", "finance", "country_us"} <= set(kpo_plugins.names())


MARKER_TESTS = """
import json

import pytest


@pytest.mark.kpo_plugins(installed=False)
def test_without_installed_plugins(kpo_plugins):
    assert kpo_plugins.names() == []


@pytest.mark.kpo_plugins(disable=["legal", "country_de"])
def test_disabled(kpo_plugins, kpo_cli):
    assert not {"legal", "country_de"} & set(kpo_plugins.names())
    assert "common" in kpo_plugins.names()
    listed = json.loads(kpo_cli("plugins", "--format", "json").stdout)
    assert "legal" not in [p["name"] for p in listed["plugins"]]
    assert "legal" in listed["disabled"]


def test_missing_marker(kpo_rule_example):
    pass
"""


def test_kpo_plugins_marker_in_an_authors_test_suite(pytester):
    """Markers need the kit registered before test modules load: the root conftest.py."""
    pytester.makeconftest('pytest_plugins = ["kpo_rules.testing"]')
    pytester.makepyfile(test_markers=MARKER_TESTS)
    result = pytester.runpytest("--strict-markers", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*test_missing_marker takes kpo_rule_example: mark it "
                                 "@pytest.mark.kpo_rule_examples(plugin, name=...)*"])
    result.assert_outcomes(errors=1)
    pytester.makepyfile(test_markers=MARKER_TESTS.split("def test_missing_marker", maxsplit=1)[0])
    pytester.runpytest("--strict-markers", "-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_kpo_register_replaces_an_installed_plugin(kpo_plugins, kpo_register, kit_plugin):
    kpo_register(kit_plugin, name="country_fr")
    assert kpo_plugins.names().count("country_fr") == 1
    assert kpo_plugins.manager.get_plugin("country_fr") is kit_plugin
    kpo_register(kit_plugin, name="kit")  # the same object again, under another name
    assert "country_fr" not in kpo_plugins.names() and "kit" in kpo_plugins.names()


def test_kpo_register_fails_the_test_when_the_plugin_does_not_register(kpo_plugins,
                                                                       kpo_register, tmp_path):
    future = KitPlugin([], meta=PluginMeta(api_version=99))
    with pytest.raises(pytest.fail.Exception, match=r"plugin 'future' did not register: "
                                                    r".*written for kpo-rules hook API 99"):
        kpo_register(future, name="future")
    kpo_register(future, name="future", strict=False)
    assert [f.name for f in kpo_plugins.failures] == ["future"]


def test_kpo_register_takes_a_source_directory(kpo_plugins, kpo_register, kpo_check, tmp_path):
    package = tmp_path / "kpo_kit_dir_plugin"
    (package / "rules").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(textwrap.dedent("""
        from kpo_rules import PluginMeta, data_files, hookimpl

        @hookimpl
        def kpo_plugin_meta():
            return PluginMeta(api_version=1, rule_prefixes=("KIT",))

        @hookimpl
        def kpo_rule_files():
            return data_files(__package__, "rules")
    """))
    (package / "rules" / "kit.yaml").write_text(KIT_RULES)
    assert kpo_register(package) == "kpo_kit_dir_plugin"
    assert "KIT-SW-001" in kpo_check(MINIMAL).rules


def test_kpo_cli_runs_commands_with_the_tests_plugins(kpo_register, kpo_cli, kit_plugin,
                                                      tmp_path):
    kpo_register(kit_plugin, name="kit")
    plugins = kpo_cli("plugins")
    assert plugins.exit_code == 0 and "kit" in plugins.output
    path = tmp_path / "e.yaml"
    path.write_text(MINIMAL)
    checked = kpo_cli("check", "--format", "json", str(path))
    assert checked.exit_code == 0, checked.output  # a warning and an info only
    assert {"KIT-SW-001", "KIT-HOURS-001"} <= {f["rule"] for f in
                                              json.loads(checked.stdout)["findings"]}
    assert kpo_cli("check", "--fail-on", "warning", str(path)).exit_code == 1
    shown = kpo_cli("rules", "show", "KIT-SW-001")
    assert shown.exit_code == 0 and "Service lists no software" in shown.output


def test_rule_example_params_of_an_installed_plugin():
    params = rule_example_ids("common")
    assert "COM-LANG-001-pass-0" in params and "COM-LANG-001-fail-0" in params
    assert len(params) == len(set(params))


def rule_example_ids(plugin, **kwargs) -> list[str]:
    from kpo_rules.testing import rule_example_params

    return [p.id for p in rule_example_params(plugin, **kwargs)]


# KIT_RULES with a wrong example: without software, the service *is* reported.
NO_SOFTWARE = ("patch: {services: [{id: s, task: finance.billing,\n"
               "                                                       delivery_centre: c, "
               "assignees: [a]}]}}")
AUTHOR_RULES = KIT_RULES.replace(
    "      - {expect: fail, base: base, " + NO_SOFTWARE,
    "      - {expect: pass, name: wrong, base: base, " + NO_SOFTWARE + "\n"
    "      - {expect: fail, base: base, " + NO_SOFTWARE)
assert AUTHOR_RULES != KIT_RULES

AUTHOR_PLUGIN = '''
from pathlib import Path

from kpo_rules import PluginMeta, hookimpl

HERE = Path(__file__).parent


@hookimpl
def kpo_plugin_meta():
    return PluginMeta(api_version=1, rule_prefixes=("KIT",), facts_as_of="2026-01-01",
                      description="an author's plugin")


@hookimpl
def kpo_rule_files():
    return sorted(HERE.glob("*.yaml"))
'''

AUTHOR_TESTS = '''
import pytest
from kpo_rules.testing import rule_example_params

import {module}


@pytest.mark.parametrize("example", rule_example_params({module}, name="author"))
def test_example(example):
    example.check()


@pytest.mark.kpo_rule_examples({module}, name="author")
def test_generated(kpo_rule_example):
    kpo_rule_example.check()


def test_check(kpo_register, kpo_check):
    kpo_register({module}, name="author")
    kpo_check("""{engagement}""").assert_findings(rules={{"KIT-SW-001"}}, subjects={{"nobody"}})
'''


def test_the_kit_from_a_plugin_authors_test_suite(pytester):
    """Per-example test ids, failure messages with the findings, both parametrize styles."""
    module = "kpo_kit_author_plugin"
    pytester.makeconftest('pytest_plugins = ["kpo_rules.testing"]')
    (pytester.path / module).mkdir()
    (pytester.path / module / "__init__.py").write_text(AUTHOR_PLUGIN)
    (pytester.path / module / "rules.yaml").write_text(AUTHOR_RULES)
    pytester.makepyfile(test_author=AUTHOR_TESTS.format(module=module,
                                                        engagement=MINIMAL.replace('"', "'")))
    pytester.syspathinsert()
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([  # in rule-id order
        "*test_example?KIT-HOURS-001-pass-0? PASSED*",
        "*test_example?KIT-HOURS-001-fail-0? PASSED*",
        "*test_example?KIT-SW-001-pass-0? PASSED*",
        "*test_example?KIT-SW-001-pass-1? FAILED*",
        "*test_example?KIT-SW-001-fail-0? PASSED*",
        "*test_generated?KIT-SW-001-pass-1? FAILED*",
    ])
    # Each failure says which example, what went wrong, and shows the example's findings.
    result.stdout.fnmatch_lines([
        "*KIT-SW-001 pass: wrong (*rules.yaml:*)",
        "*expected no KIT-SW-001; got: service 's' lists no software",
        "*findings of the example:",
        "*<example wrong>:*  KIT-SW-001  warning  ?service=s?  service 's' lists no software",
    ])
    result.stdout.fnmatch_lines(["*expected findings about 'nobody'*"])
    result.assert_outcomes(passed=8, failed=3)


def test_rule_example_params_report_a_plugin_that_does_not_load(tmp_path):
    from kpo_rules.testing import rule_example_params

    broken = tmp_path / "broken.yaml"
    broken.write_text(KIT_RULES.replace("      - {expect: pass, base: base}\n      - {expect: fail",
                                        "      - {expect: fail, base: base}\n      - {expect: fail",
                                        1))
    (param,) = rule_example_params(KitPlugin([broken]), name="kit")
    assert param.id == "kit-load"
    with pytest.raises(pytest.fail.Exception, match=r"plugin 'kit' did not load:\n.*broken.yaml"
                                                    r":.*at least one 'pass' and one 'fail'"):
        param.values[0].check()
    (empty,) = rule_example_params(KitPlugin([]), name="kit")
    assert empty.id == "kit-no-rules" and empty.marks[0].name == "skip"


# ================================================================== the hooks, one by one


def test_hook_kpo_plugin_meta(kpo_register, kpo_cli, kit_plugin):
    kpo_register(kit_plugin, name="kit")
    listed = json.loads(kpo_cli("plugins", "--format", "json").stdout)
    (kit,) = [p for p in listed["plugins"] if p["name"] == "kit"]
    assert kit["facts_as_of"] == "2026-01-01"
    assert "kpo_plugin_meta" in kit["hooks"]
    # The version it was written for is checked: an unknown one is a load error, not a crash.
    kpo_register(KitPlugin([], meta=PluginMeta(api_version=0)), name="old", strict=False)
    result = kpo_cli("plugins")
    assert result.exit_code == 2
    assert "old: FAILED TO LOAD: HookApiError: written for kpo-rules hook API 0; this " \
           "kpo-rules supports 1" in result.output
    # A check says the same, with what to do about it.
    example = ROOT / "examples" / "finance" / "us-1040-ny-pune-findings.yaml"
    checked = kpo_cli("check", str(example))
    assert checked.exit_code == 2
    assert "plugin old failed to load: HookApiError: written for kpo-rules hook API 0" \
        in checked.output
    assert "(fix: if the plugin works with hook API 1, set PluginMeta(api_version=" \
        in checked.output


def test_hook_kpo_rule_files(kpo_register, kpo_check, kit_plugin):
    assert "KIT-SW-001" not in kpo_check(MINIMAL).rules
    kpo_register(kit_plugin, name="kit")
    kpo_check(MINIMAL).assert_findings(rules={"KIT-SW-001", "KIT-HOURS-001"})


def test_hook_kpo_catalogue_files(kpo_register, kpo_check, tmp_path):
    profile = tmp_path / "profile.yaml"
    profile.write_text(textwrap.dedent("""\
        apiVersion: kpo-rules/v1
        kind: CountryProfile
        metadata: {id: country-nl, as_of: "2026-01-01"}
        country: NL
        name: Netherlands
        profile: basic
        languages: [nl]
        timezone: Europe/Amsterdam
        eea: true
        data_protection: {regime: eu_gdpr, references: ["GDPR Chapter V"]}
    """))
    dutch = MINIMAL.replace("country: US\n  timezone: America/New_York",
                            "country: NL").replace("serves: {finance: [US]}",
                                                   "serves: {finance: [NL]}")
    assert "KPO-REF-010" in kpo_check(dutch).rules  # no plugin knows the client's country
    kpo_register(KitPlugin([], [profile]), name="kit")
    assert "KPO-REF-010" not in kpo_check(dutch).rules


# ================================================================== conformance


def write_plugin(root: Path, name: str, plugin_py: str, files: dict[str, str]) -> Path:
    package = root / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(textwrap.dedent(plugin_py))
    for relative, text in files.items():
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text(text)
    return package


PLUGIN_PY = """
    from kpo_rules import PluginMeta, data_files, hookimpl

    @hookimpl
    def kpo_plugin_meta():
        return PluginMeta(api_version={api}, rule_prefixes=({prefixes}), {extra})

    @hookimpl
    def kpo_rule_files():
        return data_files(__package__, "rules")

    @hookimpl
    def kpo_catalogue_files():
        return data_files(__package__, "catalogue")
"""


def plugin_py(api: int = 1, prefixes: str = '"KIT",',
              extra: str = 'facts_as_of="2026-01-01", description="kit"') -> str:
    return PLUGIN_PY.format(api=api, prefixes=prefixes, extra=extra)


TASKS = """\
apiVersion: kpo-rules/v1
kind: TaskCatalogue
metadata: {id: kit.tasks, as_of: "2026-01-01"}
tasks:
  - id: kit.review
    title: Review
    language_level: B2
    references: ["practice: kit"]
"""


def checks(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.check, p.what) for p in problems]


DOCS_PLUGIN = """
    from kpo_rules import PluginMeta, data_files, hookimpl

    @hookimpl
    def kpo_plugin_meta():
        return PluginMeta(api_version=1, rule_prefixes=("KIT",))

    @hookimpl
    def kpo_rule_files(verbose=False):
        return data_files(__package__, "rules")

    def kpo_catalogue_files():  # not marked: never called
        return data_files(__package__, "catalogue")
"""


def test_conformance_reports_documentation_examples_references_and_hookimpls(tmp_path):
    rules = (KIT_RULES
             .replace("why: Staff must know the tools of the work.", 'why: "  "')
             .replace('references: ["practice: kit test"]', 'references: [" "]', 1)
             # KIT-HOURS-001's fail example expects another rule only
             .replace("      - expect: fail\n        base: base\n        patch:\n          staff:",
                      "      - expect: fail\n        rules: [KIT-SW-001]\n        base: base\n"
                      "        patch:\n          staff:"))
    assert rules.count("rules: [KIT-SW-001]") == 1
    package = write_plugin(tmp_path, "kpo_kit_docs", DOCS_PLUGIN,
                           {"rules/kit.yaml": rules, "catalogue/tasks.yaml": TASKS})
    problems = check_plugin(package)
    found = checks(problems)
    rules_file = str(package / "rules" / "kit.yaml")
    expected = [
        ("metadata", "PluginMeta.description is empty"),
        ("metadata", "PluginMeta.facts_as_of is not set"),
        ("hookimpl", "hook implementation kpo_rule_files() gives 'verbose' a default value, "
                     "which pluggy never passes through"),
        ("hookimpl", "kpo_catalogue_files is not marked @hookimpl, so kpo-rules never calls it"),
        ("docs", "rule KIT-SW-001: 'why' is blank"),
        ("references", "rule KIT-SW-001: no reference cites what the rule rests on"),
        ("examples", "rule KIT-HOURS-001: no 'fail' example checks that KIT-HOURS-001 is "
                     "reported"),
    ]
    assert [e for e in expected if e not in found] == [], "\n".join(map(str, problems))
    by_what = {p.what: p for p in problems}
    why = by_what["rule KIT-SW-001: 'why' is blank"]
    assert (why.file, why.line) == (rules_file, line_of(rules, "- id: KIT-SW-001"))
    default = by_what["hook implementation kpo_rule_files() gives 'verbose' a default value, "
                      "which pluggy never passes through"]
    assert default.file == str(package / "plugin.py") and default.line
    assert "remove the default" in default.fix
    assert all(p.fix and p.file for p in problems)
    # The task catalogue is not loaded at all (its hook is not marked), so it is not judged.
    assert not [p for p in problems if "kit.review" in p.what]


def test_conformance_reports_catalogue_references_and_dates(tmp_path):
    tasks = TASKS.replace('    references: ["practice: kit"]\n', "").replace(
        ', as_of: "2026-01-01"', "")
    package = write_plugin(tmp_path, "kpo_kit_refs", plugin_py(),
                           {"rules/kit.yaml": KIT_RULES, "catalogue/tasks.yaml": tasks})
    problems = check_plugin(package)
    assert checks(problems) == [
        ("metadata", "TaskCatalogue has no metadata.as_of"),
        ("references", "task 'kit.review' cites nothing"),
    ]
    assert problems[1].line == line_of(tasks, "- id: kit.review")
    assert problems[1].file == str(package / "catalogue" / "tasks.yaml")


def test_conformance_reports_clashes_with_installed_plugins(tmp_path):
    us = textwrap.dedent("""\
        apiVersion: kpo-rules/v1
        kind: CountryProfile
        metadata: {id: country-us-again, as_of: "2026-01-01"}
        country: US
        name: United States
        profile: basic
        languages: [en]
        timezone: America/New_York
        data_protection: {regime: not_modelled, references: ["none"]}
    """)
    tasks = TASKS + ('  - {id: finance.bookkeeping, title: Books, language_level: B2,\n'
                     '     references: ["practice"]}\n')
    package = write_plugin(tmp_path, "kpo_kit_clash", plugin_py(prefixes='"FIN",'),
                           {"catalogue/us.yaml": us, "catalogue/tasks.yaml": tasks,
                            "rules/kit.yaml": KIT_RULES})
    problems = check_plugin(package)
    found = checks(problems)
    assert ("clash", "rule prefix 'FIN' is already owned by plugin 'finance' (distribution "
                     "kpo-rules)") in found
    assert ("clash", "country 'US' is already defined by plugin 'country_us' (distribution "
                     "kpo-rules)") in found
    assert ("clash", "task 'finance.bookkeeping' is already defined by plugin 'finance' "
                     "(distribution kpo-rules)") in found
    bookkeeping = next(p for p in problems if "finance.bookkeeping" in p.what)
    assert bookkeeping.line == line_of(tasks, "finance.bookkeeping")
    # With FIN owned by the finance plugin, this plugin's KIT- rules belong to no prefix.
    assert any(p.check == "rule-id" and "KIT-SW-001" in p.what for p in problems)


def test_conformance_names_the_supported_hook_api_versions(tmp_path, run_cli):
    package = write_plugin(tmp_path, "kpo_kit_future", plugin_py(api=7),
                           {"rules/kit.yaml": KIT_RULES})
    (problem,) = check_plugin(package)
    assert problem.check == "api-version"
    assert problem.what == ("the plugin was written for hook API 7; kpo-rules "
                            f"{kpo_version()} supports hook API version(s) 1")
    assert "api_version=kpo_rules.hookspecs.HOOK_API_VERSION" in problem.fix
    assert problem.file == str(package / "plugin.py")
    assert problem.line == line_of(plugin_py(api=7), "def kpo_plugin_meta") - 1  # @hookimpl
    result = run_cli("plugin", "check", str(package))
    assert result.exit_code == 1
    assert "written for hook API 7" in result.output and "fix: " in result.output


def test_conformance_reports_a_misspelt_hook(tmp_path):
    source = plugin_py().replace("def kpo_rule_files():", "def kpo_rule_file():")
    package = write_plugin(tmp_path, "kpo_kit_typo", source, {"rules/kit.yaml": KIT_RULES})
    (problem,) = check_plugin(package)
    assert problem.check == "load" and problem.file == str(package / "plugin.py")
    assert "unknown hook 'kpo_rule_file'" in problem.what
    assert "kpo-rules docs plugins" in problem.fix


def kpo_version() -> str:
    from kpo_rules import __version__

    return __version__


def test_conformance_surfaces_schema_and_id_errors_with_file_and_line(tmp_path):
    profile = textwrap.dedent("""\
        apiVersion: kpo-rules/v1
        kind: CountryProfile
        metadata: {id: country-xk, as_of: "2026-01-01"}
        country: XK
        name: Kosovo
        profile: basic
        languages: [sq]
        timezone: Europe/Belgrade
        eea: maybe
    """)
    duplicated = KIT_RULES.replace("  - id: KIT-HOURS-001", "  - id: KIT-SW-001")
    package = write_plugin(tmp_path, "kpo_kit_schema", plugin_py(),
                           {"catalogue/profile.yaml": profile, "rules/kit.yaml": duplicated})
    problems = check_plugin(package)
    schema = next(p for p in problems if p.check == "schema")
    assert schema.file == str(package / "catalogue" / "profile.yaml")
    assert schema.line == line_of(profile, "eea: maybe") and "eea" in schema.what
    assert "kpo-rules schema" in schema.fix
    duplicate = next(p for p in problems if p.check == "rule-id")
    assert "rule KIT-SW-001: duplicate rule id, first defined at" in duplicate.what
    second = [i for i, t in enumerate(duplicated.splitlines(), 1) if "- id: KIT-SW-001" in t]
    assert duplicate.line == second[1]


def test_shipped_plugins_conform():
    problems = check_plugins(create_plugin_set())
    assert problems == [], "\n".join(map(str, problems))


def test_check_plugin_takes_an_installed_name_or_a_module():
    import kpo_rules_country_fr.plugin as fr

    assert check_plugin("country_fr") == []
    assert check_plugin(fr) == []  # its name comes from its entry point
    with pytest.raises(Exception, match="no installed plugin is named 'country_xx'"):
        check_plugin("country_xx")


def test_kpo_rules_test_runs_the_conformance_checks_first(tmp_path, run_cli):
    rules = KIT_RULES.replace("remediation: List the software.", 'remediation: " "')
    package = write_plugin(tmp_path, "kpo_kit_test_cmd", plugin_py(), {"rules/kit.yaml": rules})
    result = run_cli("test", "-v", str(package))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("PROBLEM ") and "rule KIT-SW-001: 'remediation' is blank" in \
        lines[0]
    assert lines[1].startswith("    fix: write it")
    assert lines[2].startswith("ok    KIT-")
    assert lines[-2:] == ["conformance: 1 problem in 1 plugin", "4 passed, 0 failed"]


def test_plugin_check_cli(tmp_path, run_cli):
    package = write_plugin(tmp_path, "kpo_kit_cli", plugin_py(extra=""),
                           {"rules/kit.yaml": KIT_RULES})
    result = run_cli("plugin", "check", str(package))
    assert result.exit_code == 1
    assert "PluginMeta.description is empty [metadata]" in result.output
    assert result.output.splitlines()[-1] == "2 problems"
    data = json.loads(run_cli("plugin", "check", "--format", "json", str(package)).stdout)
    assert {p["check"] for p in data["problems"]} == {"metadata"}
    assert run_cli("plugin", "check", "country_us").output.strip() == "0 problems"
    missing = run_cli("plugin", "check", str(tmp_path / "nothing"))
    assert missing.exit_code == 2 and "no installed plugin is named" in missing.stderr


# ================================================================== a real third party


def make_venv(path: Path) -> Path:
    """A fresh virtualenv with kpo-rules installed from this checkout; returns its bin dir.

    pip reuses its cache of built wheels, so durable-rules compiles once per machine.
    """
    subprocess.run([PYTHON, "-m", "venv", str(path)], check=True, timeout=300)
    bindir = path / ("Scripts" if os.name == "nt" else "bin")
    pip = [str(bindir / "python"), "-m", "pip", "install", "--disable-pip-version-check",
           "--quiet"]
    result = subprocess.run([*pip, str(ROOT)], capture_output=True, text=True, timeout=900,
                            check=False, env=venv_env(bindir))
    assert result.returncode == 0, result.stdout + result.stderr
    return bindir


def venv_env(bindir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTEST_ADDOPTS", "KPO_RULES_DISABLE_PLUGINS")}
    env["VIRTUAL_ENV"] = str(bindir.parent)
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_NO_INPUT"] = "1"
    return env


@pytest.mark.slow
def test_third_party_plugin_in_a_fresh_virtualenv(tmp_path):
    timings: dict[str, float] = {}
    start = time.monotonic()
    bindir = make_venv(tmp_path / "venv")
    timings["venv + pip install kpo-rules"] = time.monotonic() - start
    work = tmp_path / "work"  # outside the repository
    work.mkdir()
    env = venv_env(bindir)

    def run(*args: str, cwd: Path = work, expect: int = 0) -> str:
        began = time.monotonic()
        result = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True,
                                timeout=900, check=False)
        timings[" ".join([Path(args[0]).name, *args[1:3]])] = time.monotonic() - began
        assert result.returncode == expect, f"{args}: {result.stdout}\n{result.stderr}"
        return result.stdout

    kpo = str(bindir / "kpo-rules")
    python = str(bindir / "python")
    run(kpo, "plugin", "new", "kpo-country-nl")  # the templates ship inside the wheel
    run(python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
        "./kpo-country-nl[test]")
    listed = json.loads(run(kpo, "plugins", "--format", "json"))
    (nl,) = [p for p in listed["plugins"] if p["name"] == "country_nl"]
    assert (nl["distribution"], nl["version"]) == ("kpo-country-nl", "0.1.0")
    assert listed["errors"] == []
    assert "country_nl" in run(kpo, "plugins")
    example = work / "kpo-country-nl" / "examples" / "engagement.yaml"
    assert run(kpo, "check", str(example)).strip().splitlines()[-1]
    german = work / "german.yaml"
    # Delivered in German by staff who speak it: only the plugin's warning is left.
    german.write_text(example.read_text()
                      .replace("    task: finance.billing\n",
                               "    task: finance.billing\n    language: de\n")
                      .replace("{code: en, level: C1}]", "{code: en, level: C1}, "
                                                          "{code: de, level: C1}]"))
    assert "NL-LANG-001" in run(kpo, "check", str(german))  # a warning: exit 0
    text = run(kpo, "check", "--fail-on", "warning", str(german), expect=1)
    assert "NL-LANG-001" in text
    report = json.loads(run(kpo, "check", "--format", "json", str(german)))
    (finding,) = [f for f in report["findings"] if f["rule"] == "NL-LANG-001"]
    assert finding["subject"] == {"service": "invoices"}
    tested = run(kpo, "test", "./kpo-country-nl")
    assert tested.splitlines()[-2:] == ["conformance: 0 problems in 1 plugin",
                                        "2 passed, 0 failed"]
    own = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
              cwd=work / "kpo-country-nl")
    assert "6 passed" in own
    timings["total"] = time.monotonic() - start
    print("\n".join(f"{seconds:7.1f}s  {step}" for step, seconds in timings.items()))
