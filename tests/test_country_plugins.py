"""Country plugins load alone and can be disabled alone: a disabled country's clients get a
clear reference error, and nothing else changes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from conftest import ROOT

from kpo_rules import PluginMeta, hookimpl
from kpo_rules.content import load_content
from kpo_rules.hookspecs import HOOK_API_VERSION
from kpo_rules.plugins import create_plugin_set

pytest_plugins = ["kpo_rules.testing"]


def findings_by_file(run_cli, env=None) -> dict[str, list[tuple[str, int, int, str]]]:
    result = run_cli("check", "--format", "json", "--jobs", "1", str(ROOT / "examples"), env=env)
    out: dict[str, list[tuple[str, int, int, str]]] = {}
    for f in json.loads(result.stdout)["findings"]:
        out.setdefault(Path(f["file"]).name, []).append((f["rule"], f["line"], f["column"],
                                                         f["message"]))
    return out


def client_country(path: Path) -> set[str]:
    import yaml

    return {doc["client"]["country"] for doc in yaml.safe_load_all(path.read_text())
            if isinstance(doc, dict) and doc.get("kind") == "Engagement"}


def test_disabling_one_country_removes_exactly_that_country(run_cli):
    before = findings_by_file(run_cli)
    after = findings_by_file(run_cli, env={"KPO_RULES_DISABLE_PLUGINS": "country_de"})
    german = {p.name for p in (ROOT / "examples").rglob("*.yaml") if "DE" in client_country(p)}
    assert german, "the examples include German clients"
    for name in german:
        if any(rule.startswith(("KPO-SCH", "KPO-SYN")) for rule, *_ in before.get(name, [])):
            continue  # never reaches the reference stage
        rules = {rule for rule, *_ in after.get(name, [])}
        assert "KPO-REF-010" in rules, name
        (ref,) = [f for f in after[name] if f[0] == "KPO-REF-010"]
        assert "no loaded country plugin covers the client's country 'DE'" in ref[3]
    others = set(before) | set(after)
    for name in others - german:
        assert before.get(name) == after.get(name), name


def test_each_country_is_its_own_plugin(run_cli):
    data = json.loads(run_cli("plugins", "--format", "json").stdout)
    names = {p["name"] for p in data["plugins"]}
    for code in ("us", "de", "in", "gb", "ph", "ie", "fr", "ca", "au", "pl"):
        assert f"country_{code}" in names
    assert all(p["facts_as_of"] for p in data["plugins"] if p["name"].startswith("country_"))


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    from kpo_rules.cli.check import use_color

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Terminal())
    monkeypatch.delenv("NO_COLOR")
    assert not use_color(object())


# ---------------------------------------------- findings cite the profile that produced them


DUTCH_CITATION = "Wet toezicht accountantsorganisaties art. 6 (third-party test citation)"

DUTCH_FILES = {
    "profile.yaml": f"""\
        apiVersion: kpo-rules/v1
        kind: CountryProfile
        metadata: {{id: country-nl, as_of: "2026-01-01"}}
        country: NL
        name: Netherlands
        profile: full
        languages: [nl]
        timezone: Europe/Amsterdam
        timezones: [Europe/Amsterdam]
        eea: true
        data_protection: {{regime: eu_gdpr, references: ["GDPR Chapter V"]}}
        frameworks: [nl.gaap]
        reserved:
          - task: finance.statutory_audit
            credentials: [nl.ra]
            references: ["{DUTCH_CITATION}"]
        references: ["test profile"]
        """,
    "credentials.yaml": """\
        apiVersion: kpo-rules/v1
        kind: CredentialCatalogue
        metadata: {id: nl.credentials, as_of: "2026-01-01"}
        credentials:
          - {id: nl.ra, name: Registeraccountant, country: NL, domain: finance,
             references: ["Wet op het accountantsberoep (test)"]}
        """,
    "frameworks.yaml": """\
        apiVersion: kpo-rules/v1
        kind: FrameworkCatalogue
        metadata: {id: nl.frameworks, as_of: "2026-01-01"}
        frameworks:
          - {id: nl.gaap, name: Dutch GAAP, references: ["BW 2 Titel 9 (test)"]}
        """,
}

DUTCH_AUDIT = """\
apiVersion: kpo-rules/v1
kind: Engagement
metadata: {id: nl-audit}
period: {start: 2026-01-01, end: 2026-12-31}
client: {name: Voorbeeld B.V., type: corporate, country: NL}
provider:
  name: Example KPO
  serves: {finance: [NL]}
  delivery_centres: [{id: amsterdam, country: NL}]
services:
  - id: opinion
    task: finance.statutory_audit
    delivery_centre: amsterdam
    language: nl
    data: {personal_data: false}
    assignees: [s-1]
staff:
  - id: s-1
    name: Sanne de Vries
    location: {country: NL}
    education: [{level: master, field: accounting}]
    credentials: [{id: in.ca}]
    languages: [{code: nl, level: native}]
    familiar_with: [nl.gaap]
"""


class DutchProfile:
    """A third party's country plugin: a profile and catalogues, no rules of its own."""

    def __init__(self, root: Path) -> None:
        self.files = []
        for name, text in DUTCH_FILES.items():
            (root / name).write_text(textwrap.dedent(text), "utf-8")
            self.files.append(root / name)

    @hookimpl
    def kpo_plugin_meta(self) -> PluginMeta:
        return PluginMeta(api_version=HOOK_API_VERSION, rule_prefixes=("NL",),
                          facts_as_of="2026-01-01", description="Netherlands (test)")

    @hookimpl
    def kpo_rule_files(self) -> list[Path]:
        return []

    @hookimpl
    def kpo_catalogue_files(self) -> list[Path]:
        return self.files


def test_a_third_party_profiles_citations_reach_its_clients_findings(tmp_path, kpo_register,
                                                                       kpo_cli):
    kpo_register(DutchProfile(tmp_path), name="country_nl")
    path = tmp_path / "nl-audit.yaml"
    path.write_text(DUTCH_AUDIT, "utf-8")
    result = kpo_cli("check", "--format", "json", str(path))
    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)["findings"]
    [finding] = [f for f in findings if f["rule"] == "COM-ELIG-001"]
    assert finding["subject"] == {"service": "opinion", "staff": "s-1"}
    assert finding["line"] == DUTCH_AUDIT.splitlines().index("    assignees: [s-1]") + 1
    # the Dutch reservation's own citation, and none of the launch countries' statutes
    assert finding["references"] == [DUTCH_CITATION]
    # nothing else is reported: the Amsterdam centre's zone and the staff member's follow
    # from the Netherlands' single zone, and the profile answers every other rule
    assert [f["rule"] for f in findings] == ["COM-ELIG-001"], findings


def test_launch_profiles_cite_only_their_own_country(run_cli):
    countries = load_content(create_plugin_set()).catalogue.countries
    result = run_cli("check", "--format", "json", "--jobs", "1", str(ROOT / "examples"))
    eligibility = [f for f in json.loads(result.stdout)["findings"]
                   if f["rule"] == "COM-ELIG-001"]
    assert {Path(f["file"]).name for f in eligibility} >= {"de-bookkeeping-pune.yaml",
                                                          "us-statutory-audit-hyderabad.yaml"}
    for finding in eligibility:
        (country,) = client_country(Path(finding["file"]))
        cited = {ref for entry in countries[country]["reserved"] for ref in entry["references"]}
        assert finding["references"] and set(finding["references"]) <= cited, finding
