"""The common plugin's cross-domain rules, through the real pipeline (``kpo_rules.check``).

Each test writes an engagement, checks it with every installed plugin and asserts the common
plugin's findings: rule id, severity, the subject and that the message names the staff member
or service. Clean engagements assert that the rule under test stays silent, so false alarms
are caught as surely as misses.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import pytest
import yaml

import kpo_rules
from kpo_rules.content import load_content
from kpo_rules.model import Finding, Report
from kpo_rules.plugins import PluginSet, create_plugin_set

ERROR, WARNING = "error", "warning"


@pytest.fixture(scope="module")
def plugins() -> PluginSet:
    found = create_plugin_set()
    assert "common" in found.names()
    return found


def run(plugins: PluginSet, doc: dict[str, Any]) -> Report:
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    report = kpo_rules.check(sources=[("engagement.yaml", text)], plugins=plugins)
    broken = [f for f in report.findings
              if f.category in ("syntax", "schema", "reference", "engine-error")]
    assert not broken, [f"{f.rule}: {f.message}" for f in broken]
    return report


def only(report: Report, *rules: str) -> list[Finding]:
    return [f for f in report.findings if f.rule in rules]


def ids(findings: Iterable[Finding]) -> set[str]:
    return {f.rule for f in findings}


def common(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.rule.startswith("COM-")]


def one(report: Report, rule: str, **subject: str) -> Finding:
    found = [f for f in only(report, rule)
             if all(getattr(f.subject, k) == v for k, v in subject.items())]
    assert len(found) == 1, (rule, subject, [f.message for f in report.findings])
    return found[0]


# ------------------------------------------------------------------------------ engagements


def person(sid: str, name: str, *, country: str = "IN", zone: str = "Asia/Kolkata",
           languages: list[dict[str, str]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": sid, "name": name, "location": {"country": country, "timezone": zone},
            "languages": languages or [{"code": "en", "level": "C1"}], **extra}


def engagement(*, client: dict[str, Any], services: list[dict[str, Any]],
               staff: list[dict[str, Any]], serves: dict[str, list[str]],
               centre: tuple[str, str] = ("IN", "Asia/Kolkata"),
               relationship: str = "third_party",
               period: tuple[str, str] = ("2026-01-01", "2026-12-31")) -> dict[str, Any]:
    return {
        "apiVersion": "kpo-rules/v1", "kind": "Engagement",
        "metadata": {"id": "test-engagement"},
        "period": {"start": period[0], "end": period[1]},
        "client": client,
        "provider": {"name": "Example KPO", "relationship": relationship, "serves": serves,
                     "delivery_centres": [{"id": "centre", "country": centre[0],
                                           "timezone": centre[1]}]},
        "services": services,
        "staff": staff,
    }


def service(sid: str, task: str, assignees: list[str], **extra: Any) -> dict[str, Any]:
    return {"id": sid, "task": task, "delivery_centre": "centre", "assignees": assignees,
            **extra}


def us_tax(**changes: Any) -> dict[str, Any]:
    """A clean US tax-preparation engagement served from Pune."""
    doc = engagement(
        client={"name": "Example Tax LLP", "type": "tax_practice", "country": "US",
                "subdivision": "US-NY"},
        serves={"finance": ["US"]},
        services=[service("returns", "finance.tax_preparation", ["s-1"],
                          safeguards=["client_consent"],
                          data={"personal_data": True,
                                "categories": ["tax_return_information"]})],
        staff=[person("s-1", "Priya Sharma",
                      education=[{"level": "bachelor", "field": "accounting"}],
                      credentials=[{"id": "us.ptin", "valid_until": "2026-12-31"}],
                      familiar_with=["us.tax"])],
    )
    doc.update(changes)
    return doc


def de_client(services: list[dict[str, Any]], staff: list[dict[str, Any]],
              **kw: Any) -> dict[str, Any]:
    return engagement(client={"name": "Beispiel GmbH", "type": "corporate", "country": "DE"},
                      serves={"finance": ["DE"], "legal": ["DE"]}, services=services,
                      staff=staff, **kw)


GERMAN = [{"code": "de", "level": "C1"}]
EU_DATA = {"personal_data": True, "transfer_mechanism": "scc"}


# ------------------------------------------------------------------------------ qualification


def test_clean_us_tax_engagement_has_no_common_findings(plugins: PluginSet) -> None:
    assert common(run(plugins, us_tax())) == []


def test_degree_below_the_tasks_level_is_an_error_naming_the_assignee(plugins: PluginSet
                                                                        ) -> None:
    doc = us_tax()
    doc["staff"][0]["education"] = [{"level": "secondary"}]
    finding = one(run(plugins, doc), "COM-EDU-001", service="returns", staff="s-1")
    assert finding.severity.value == ERROR
    assert finding.category == "qualification"
    assert "Priya Sharma (s-1)" in finding.message and "'returns'" in finding.message
    assert "bachelor" in finding.message and "accounting" in finding.message
    assert finding.path == "/services/0/assignees/0" and finding.line > 0


@pytest.mark.parametrize(("field", "flagged"), [("History", True), ("Accountancy", False),
                                               ("LAW", True), ("Economics", False)])
def test_degree_field_must_be_one_the_task_accepts(plugins: PluginSet, field: str,
                                                   flagged: bool) -> None:
    doc = us_tax()
    doc["staff"][0]["education"] = [{"level": "master", "field": field}]
    found = only(run(plugins, doc), "COM-EDU-001")
    assert bool(found) is flagged
    if flagged:
        assert "in a field task finance.tax_preparation accepts" in found[0].message


MECHANICAL = ["finance.payroll", "finance.bookkeeping", "finance.billing",
              "legal.court_transcription", "legal.paralegal_support"]


@pytest.mark.parametrize("client_country", ["US", "IN", "GB"])
def test_mechanical_work_outside_germany_raises_no_degree_or_licence_finding(
        plugins: PluginSet, client_country: str) -> None:
    doc = engagement(
        client={"name": "Example Corp", "type": "law_firm", "country": client_country},
        serves={"finance": [client_country], "legal": [client_country]},
        centre=("PH", "Asia/Manila"),
        services=[service(f"svc-{i}", task, ["s-9"],
                          data={"personal_data": True, "transfer_mechanism": "idta"})
                  for i, task in enumerate(MECHANICAL)],
        staff=[person("s-9", "Maria Santos", country="PH", zone="Asia/Manila",
                      languages=[{"code": "en", "level": "native"}],
                      education=[{"level": "secondary"}],
                      familiar_with=[f"{client_country.lower()}.gaap"])],
    )
    report = run(plugins, doc)
    flagged = ids(common(report))
    assert not flagged & {"COM-EDU-001", "COM-SEN-001", "COM-ELIG-001", "COM-PROF-001",
                          "COM-CRED-001", "COM-CRED-002", "COM-CRED-003"}, flagged


def test_mechanical_data_entry_is_open_to_all_even_in_germany(plugins: PluginSet) -> None:
    if "finance.data_entry" not in load_content(plugins).catalogue.tasks:
        pytest.skip("the finance catalogue has no finance.data_entry task")
    staff = [person("s-1", "Anna Weber", languages=GERMAN)]
    report = run(plugins, de_client(
        [service("keying", "finance.data_entry", ["s-1"], data=EU_DATA)], staff))
    assert not only(report, "COM-ELIG-001", "COM-EDU-001", "COM-SEN-001")
    booking = run(plugins, de_client(
        [service("booking", "finance.bookkeeping", ["s-1"], data=EU_DATA)], staff))
    assert one(booking, "COM-ELIG-001", staff="s-1").severity.value == ERROR


def test_decision_maker_needs_a_masters_degree_or_a_domain_credential(plugins: PluginSet
                                                                        ) -> None:
    doc = us_tax()
    doc["services"][0]["decision_level"] = "decision_maker"
    finding = one(run(plugins, doc), "COM-SEN-001", service="returns", staff="s-1")
    assert finding.severity.value == ERROR
    assert "Priya Sharma (s-1)" in finding.message and "finance" in finding.message

    with_master = copy.deepcopy(doc)
    with_master["staff"][0]["education"] = [{"level": "master", "field": "finance"}]
    assert not only(run(plugins, with_master), "COM-SEN-001")

    with_ea = copy.deepcopy(doc)
    with_ea["staff"][0]["credentials"].append({"id": "us.ea"})
    assert not only(run(plugins, with_ea), "COM-SEN-001")

    lapsed_cpa = copy.deepcopy(doc)
    lapsed_cpa["staff"][0]["credentials"].append(
        {"id": "us.cpa", "jurisdiction": "US-NY", "valid_until": "2025-06-30"})
    assert only(run(plugins, lapsed_cpa), "COM-SEN-001"), "an expired credential counts"


def test_credential_expired_before_the_period_is_an_error(plugins: PluginSet) -> None:
    doc = us_tax()
    doc["staff"][0]["credentials"] = [{"id": "us.ptin", "valid_until": "2025-12-31"}]
    report = run(plugins, doc)
    finding = one(report, "COM-CRED-001", staff="s-1")
    assert finding.severity.value == ERROR
    assert "Priya Sharma (s-1)" in finding.message and "us.ptin" in finding.message
    assert "2025-12-31" in finding.message
    assert not only(report, "COM-CRED-002")
    # the lapsed PTIN no longer licenses paid preparation either
    assert one(report, "COM-ELIG-001", staff="s-1").severity.value == ERROR


def test_credential_expiring_during_the_period_is_a_warning(plugins: PluginSet) -> None:
    doc = us_tax()
    doc["staff"][0]["credentials"] = [{"id": "us.ptin", "valid_until": "2026-06-30"}]
    report = run(plugins, doc)
    finding = one(report, "COM-CRED-002", staff="s-1")
    assert finding.severity.value == WARNING
    assert "Priya Sharma (s-1)" in finding.message and "2026-06-30" in finding.message
    assert not only(report, "COM-CRED-001", "COM-ELIG-001")


def test_credential_valid_to_the_period_end_is_clean(plugins: PluginSet) -> None:
    assert not only(run(plugins, us_tax()), "COM-CRED-001", "COM-CRED-002", "COM-CRED-003")


def test_credential_that_must_carry_an_end_date_cannot_be_judged_without_one(
        plugins: PluginSet) -> None:
    doc = us_tax()
    doc["staff"][0]["credentials"] = [{"id": "us.ptin"}, {"id": "in.ca"}]
    report = run(plugins, doc)
    finding = one(report, "COM-CRED-003", staff="s-1")
    assert finding.severity.value == WARNING
    assert "cannot judge" in finding.message and "us.ptin" in finding.message
    assert "in.ca" not in finding.message
    assert not only(report, "COM-ELIG-001"), "held but undated: a warning, not an error"


def test_lapsed_credential_nothing_relies_on_is_only_a_warning(plugins: PluginSet) -> None:
    """An expired CMA on a preparer of returns: the returns rest on her PTIN, not on it."""
    doc = us_tax()
    doc["staff"][0]["credentials"].append({"id": "in.cma", "valid_until": "2024-03-31"})
    report = run(plugins, doc)
    assert not only(report, "COM-CRED-001")
    finding = one(report, "COM-CRED-004", staff="s-1")
    assert finding.severity.value == WARNING
    assert "in.cma" in finding.message and "nothing in this engagement relies on it" in (
        finding.message)
    # the finding cites the lapsed credential's own catalogue entry, not the PTIN's statute
    assert any("ICMAI" in r for r in finding.references)
    assert not any("6109" in r for r in finding.references)


def test_lapsed_credential_is_an_error_where_the_work_relies_on_it(plugins: PluginSet) -> None:
    # a decision-maker's qualification
    decider = us_tax()
    decider["services"][0]["decision_level"] = "decision_maker"
    decider["staff"][0]["education"] = [{"level": "master", "field": "accounting"}]
    decider["staff"][0]["credentials"].append(
        {"id": "us.cpa", "jurisdiction": "US-NY", "valid_until": "2025-06-30"})
    finding = one(run(plugins, decider), "COM-CRED-001", staff="s-1")
    assert finding.severity.value == ERROR and "us.cpa" in finding.message
    assert any("boards of accountancy" in r for r in finding.references)
    # a supervisor's admission
    lawyer = person("s-2", "Laura Chen", country="US", zone="America/New_York",
                    credentials=[{"id": "us.attorney", "jurisdiction": "US-NY",
                                  "valid_until": "2025-06-30"}])
    research = engagement(
        client={"name": "Hudson & Pine LLP", "type": "law_firm", "country": "US",
                "subdivision": "US-NY"},
        serves={"legal": ["US"]},
        services=[service("memos", "legal.research", ["s-1"], supervisor="s-2")],
        staff=[person("s-1", "Rahul Mehta", education=[{"level": "bachelor", "field": "law"}],
                      familiar_with=["us.law"]), lawyer])
    assert one(run(plugins, research), "COM-CRED-001", staff="s-2").severity.value == ERROR


def test_decision_maker_credentials_must_be_professional_ones(plugins: PluginSet) -> None:
    bookkeeping = de_client(
        [service("fibu", "finance.bookkeeping", ["s-1"], data=EU_DATA,
                 decision_level="decision_maker")],
        [person("s-1", "Anna Weber", languages=GERMAN, credentials=[{"id": "de.bookkeeper"}],
                familiar_with=["de.gaap"])])
    report = run(plugins, bookkeeping)
    assert one(report, "COM-SEN-001", staff="s-1").severity.value == ERROR
    assert not only(report, "COM-ELIG-001"), "the bookkeeper may still book"
    steuerberater = copy.deepcopy(bookkeeping)
    steuerberater["staff"][0]["credentials"] = [{"id": "de.stb"}]
    assert not only(run(plugins, steuerberater), "COM-SEN-001", "COM-ELIG-001")


# ------------------------------------------------------------------------------ language


def test_working_language_below_the_tasks_level_is_an_error(plugins: PluginSet) -> None:
    doc = us_tax()
    doc["staff"][0]["languages"] = [{"code": "en", "level": "B1"}]
    finding = one(run(plugins, doc), "COM-LANG-001", service="returns", staff="s-1")
    assert finding.severity.value == ERROR and "Priya Sharma (s-1)" in finding.message


def _proves(plugins: PluginSet, credential: str) -> str | None:
    entry = load_content(plugins).catalogue.credentials.get(credential, {})
    return entry.get("proves_language")


def test_court_reporter_credential_proves_c2_in_its_language(plugins: PluginSet) -> None:
    if _proves(plugins, "us.court_reporter") != "en":
        pytest.skip("the legal credential catalogue does not give us.court_reporter a "
                    "proves_language yet")
    doc = engagement(
        client={"name": "Example LLP", "type": "law_firm", "country": "US"},
        serves={"legal": ["US"]},
        services=[service("transcripts", "legal.court_transcription", ["s-1"])],
        staff=[person("s-1", "Dana Cruz", languages=[{"code": "en", "level": "B2"}],
                      credentials=[{"id": "us.court_reporter"}])],
    )
    assert not only(run(plugins, doc), "COM-LANG-001")
    doc["staff"][0]["credentials"] = []
    assert only(run(plugins, doc), "COM-LANG-001")


def test_interpreter_credential_proves_c2_in_the_language_its_entry_names(plugins: PluginSet
                                                                         ) -> None:
    def transcripts(credential: dict[str, Any]) -> dict[str, Any]:
        return engagement(
            client={"name": "Isar Rechtsanwälte PartGmbB", "type": "law_firm", "country": "DE"},
            serves={"legal": ["DE"]},
            services=[service("hearing", "legal.court_transcription", ["s-1"], language="de",
                              safeguards=["confidentiality_agreement", "secrecy_notice"],
                              data={"personal_data": True, "transfer_mechanism": "scc"})],
            staff=[person("s-1", "Anna Kowalska", credentials=[credential],
                          languages=[{"code": "de", "level": "B2"},
                                     {"code": "pl", "level": "native"}])])

    german = run(plugins, transcripts({"id": "de.court_interpreter", "language": "de"}))
    assert not only(german, "COM-LANG-001")
    polish = run(plugins, transcripts({"id": "de.court_interpreter", "language": "pl"}))
    assert "de at C2" in one(polish, "COM-LANG-001", staff="s-1").message
    unnamed = run(plugins, transcripts({"id": "de.court_interpreter"}))
    assert only(unnamed, "COM-LANG-001"), "an entry that names no language proves none"


# ------------------------------------------------------------------------------ eligibility


def test_german_legal_advice_by_a_captive_centre_is_exempt(plugins: PluginSet) -> None:
    staff = [person("s-1", "Anna Weber", languages=GERMAN,
                    education=[{"level": "master", "field": "law"}],
                    familiar_with=["de.law"])]
    services = [service("advice", "legal.legal_advice", ["s-1"], data=EU_DATA)]
    captive = run(plugins, de_client(services, staff, relationship="captive"))
    assert not only(captive, "COM-ELIG-001")

    third_party = run(plugins, de_client(services, staff))
    finding = one(third_party, "COM-ELIG-001", service="advice", staff="s-1")
    assert finding.severity.value == ERROR
    assert finding.category == "eligibility"
    assert finding.path == "/services/0/assignees/0"
    for part in ("Anna Weber (s-1)", "'advice'", "legal.legal_advice", "Germany (DE)",
                 "de.rechtsanwalt"):
        assert part in finding.message


def test_german_payroll_is_reserved_to_qualified_bookkeepers(plugins: PluginSet) -> None:
    services = [service("pay", "finance.payroll", ["s-1", "s-2"], data=EU_DATA)]
    staff = [person("s-1", "Anna Weber", languages=GERMAN,
                    credentials=[{"id": "de.bookkeeper"}]),
             person("s-2", "Jonas Roth", languages=GERMAN, credentials=[{"id": "in.ca"}])]
    report = run(plugins, de_client(services, staff))
    assert [f.subject.staff for f in only(report, "COM-ELIG-001")] == ["s-2"]
    finding = one(report, "COM-ELIG-001", staff="s-2")
    assert finding.severity.value == ERROR
    assert "Jonas Roth (s-2)" in finding.message
    assert "de.bookkeeper, de.stb, de.stbv, de.wp, de.vbp, de.rechtsanwalt" in finding.message


@pytest.mark.parametrize("credential", ["de.stbv", "de.vbp", "de.rechtsanwalt"])
def test_german_payroll_and_bookkeeping_by_persons_stberg_3_authorises(plugins: PluginSet,
                                                                       credential: str) -> None:
    services = [service("pay", "finance.payroll", ["s-1"], data=EU_DATA),
                service("fibu", "finance.bookkeeping", ["s-1"], data=EU_DATA)]
    staff = [person("s-1", "Jonas Roth", languages=GERMAN, credentials=[{"id": credential}],
                    familiar_with=["de.gaap"])]
    report = run(plugins, de_client(services, staff))
    assert not only(report, "COM-ELIG-001")
    # the finding of an unqualified assignee cites StBerG §3 from the DE profile
    staff[0]["credentials"] = [{"id": "in.ca"}]
    finding = one(run(plugins, de_client(services, staff)), "COM-ELIG-001", service="pay")
    assert any("StBerG §3" in r for r in finding.references)


def test_indian_legal_advice_needs_an_advocate(plugins: PluginSet) -> None:
    doc = engagement(
        client={"name": "Example Pvt Ltd", "type": "corporate", "country": "IN"},
        serves={"legal": ["IN"]},
        services=[service("advice", "legal.legal_advice", ["s-1", "s-2"])],
        staff=[person("s-1", "Arjun Rao", education=[{"level": "bachelor", "field": "law"}],
                      credentials=[{"id": "in.advocate"}], familiar_with=["in.law"]),
               person("s-2", "Meera Iyer", education=[{"level": "bachelor", "field": "law"}],
                      familiar_with=["in.law"])],
    )
    findings = only(run(plugins, doc), "COM-ELIG-001")
    assert [f.subject.staff for f in findings] == ["s-2"]


def test_us_legal_advice_accepts_an_attorney_of_any_state(plugins: PluginSet) -> None:
    doc = engagement(
        client={"name": "Example LLP", "type": "law_firm", "country": "US",
                "subdivision": "US-NY"},
        serves={"legal": ["US-NY"]},
        services=[service("advice", "legal.legal_advice", ["s-1"], supervisor="s-1")],
        staff=[person("s-1", "Sam Lee", education=[{"level": "doctorate", "field": "law"}],
                      credentials=[{"id": "us.attorney", "jurisdiction": "US-CA"}],
                      familiar_with=["us.law"])],
    )
    assert not only(run(plugins, doc), "COM-ELIG-001")


def test_legal_advice_is_not_reserved_in_england_but_representation_is(plugins: PluginSet
                                                                         ) -> None:
    doc = engagement(
        client={"name": "Example Ltd", "type": "corporate", "country": "GB"},
        serves={"legal": ["GB"]}, centre=("GB", "Europe/London"),
        services=[service("advice", "legal.legal_advice", ["s-1"]),
                  service("hearing", "legal.court_representation", ["s-1"])],
        staff=[person("s-1", "Tom Hughes", country="GB", zone="Europe/London",
                      education=[{"level": "bachelor", "field": "law"}],
                      familiar_with=["gb.law"])],
    )
    report = run(plugins, doc)
    assert [f.subject.service for f in only(report, "COM-ELIG-001")] == ["hearing"]

    # Scotland and Northern Ireland: the GB profile models England and Wales only, so the
    # generic rule does not apply the English answer (the legal plugin says it cannot judge)
    for nation in ("GB-SCT", "GB-NIR"):
        doc["client"]["subdivision"] = nation
        assert not only(run(plugins, doc), "COM-ELIG-001")
    doc["client"]["subdivision"] = "GB-WLS"
    assert [f.subject.service for f in only(run(plugins, doc), "COM-ELIG-001")] == ["hearing"]


# ------------------------------------------------------------------------------ profile-only


def test_profile_only_client_country_warns_instead_of_passing_silently(plugins: PluginSet
                                                                         ) -> None:
    doc = engagement(
        client={"name": "Exemple SARL", "type": "corporate", "country": "FR"},
        serves={"finance": ["FR"]},
        services=[service("books", "finance.bookkeeping", ["s-1"], data=EU_DATA),
                  service("invoices", "finance.billing", ["s-1"], data=EU_DATA)],
        staff=[person("s-1", "Claire Martin", languages=[{"code": "fr", "level": "C1"}],
                      education=[{"level": "bachelor", "field": "accounting"}])],
    )
    report = run(plugins, doc)
    reserved = only(report, "COM-PROF-001")
    assert {f.subject.service for f in reserved} == {"books", "invoices"}
    assert all(f.severity.value == WARNING and f.category == "eligibility" for f in reserved)
    assert all("cannot judge" in f.message and "France (FR)" in f.message for f in reserved)
    framework = one(report, "COM-PROF-002", service="books")
    assert framework.severity.value == WARNING and framework.category == "regulation"
    assert "fr.gaap" in framework.message
    assert [f.subject.service for f in only(report, "COM-PROF-002")] == ["books"]  # billing: none
    assert not only(report, "COM-REG-001", "COM-ELIG-001")
    assert all(f.severity.value != ERROR for f in common(report))


def test_full_profile_client_has_no_profile_warnings(plugins: PluginSet) -> None:
    assert not only(run(plugins, us_tax()), "COM-PROF-001", "COM-PROF-002")


def test_unmodelled_regime_with_personal_data_abroad_cannot_be_judged(plugins: PluginSet
                                                                        ) -> None:
    doc = engagement(
        client={"name": "Example Pty Ltd", "type": "corporate", "country": "AU"},
        serves={"finance": ["AU"]}, centre=("PH", "Asia/Manila"),
        services=[service("invoices", "finance.billing", ["s-1"],
                          data={"personal_data": True}),
                  service("unstated", "finance.billing", ["s-1"]),
                  service("anonymous", "finance.billing", ["s-1"],
                          data={"personal_data": False})],
        staff=[person("s-1", "Maria Santos", country="PH", zone="Asia/Manila")],
    )
    found = only(run(plugins, doc), "COM-DP-009")
    assert {f.subject.service for f in found} == {"invoices", "unstated"}
    assert all(f.severity.value == WARNING and "cannot judge" in f.message for f in found)


# ------------------------------------------------------------------------------ data protection


@pytest.fixture
def send(plugins: PluginSet):
    def go(client_country: str, centre: tuple[str, str], mechanism: str | None, *,
           period: tuple[str, str] = ("2026-01-01", "2026-12-31"),
           personal_data: bool | None = True) -> Report:
        data: dict[str, Any] = {}
        if personal_data is not None:
            data["personal_data"] = personal_data
        if mechanism is not None:
            data["transfer_mechanism"] = mechanism
        svc = service("pay", "finance.payroll", ["s-1"])
        if data:
            svc["data"] = data
        language = "de" if client_country == "DE" else "en"
        doc = engagement(
            client={"name": "Example Employer", "type": "corporate", "country": client_country},
            serves={"finance": [client_country]}, centre=centre, period=period,
            services=[svc],
            staff=[person("s-1", "Alex Kim", country=centre[0], zone=centre[1],
                          languages=[{"code": language, "level": "C1"}],
                          credentials=[{"id": "de.bookkeeper"}])],
        )
        return run(plugins, doc)
    return go


DP_RULES = tuple(f"COM-DP-{n:03d}" for n in range(1, 12))
INDIA = ("IN", "Asia/Kolkata")
US = ("US", "America/New_York")


def dp(report: Report) -> dict[str, str]:
    return {f.rule: f.severity.value for f in only(report, *DP_RULES)}


def test_eu_transfer_with_sccs_is_clean(send) -> None:
    assert dp(send("DE", INDIA, "scc")) == {}
    assert dp(send("DE", INDIA, "bcr")) == {}


@pytest.mark.parametrize("mechanism", ["none", "adequacy"])
def test_eu_transfer_to_a_country_without_adequacy_needs_sccs(send, mechanism: str) -> None:
    report = send("DE", INDIA, mechanism)
    assert dp(report) == {"COM-DP-001": ERROR}
    finding = one(report, "COM-DP-001", service="pay")
    assert finding.category == "data-protection" and finding.path == "/services/0"
    assert "'pay'" in finding.message and "IN" in finding.message
    assert "scc or bcr" in finding.message


def test_eu_transfer_inside_the_eea_needs_nothing(send) -> None:
    assert dp(send("DE", ("PL", "Europe/Warsaw"), "none")) == {}


@pytest.mark.parametrize(("start", "expected"), [
    ("2025-07-01", {"COM-DP-001": ERROR}),  # before the decision of 26 Jan 2026
    ("2026-01-26", {}),
    ("2026-02-01", {}),
])
def test_eu_adequacy_for_brazil_is_judged_at_the_period_start(send, start: str,
                                                               expected: dict[str, str]
                                                               ) -> None:
    end = f"{int(start[:4]) + 1}{start[4:]}"
    report = send("DE", ("BR", "America/Sao_Paulo"), "adequacy", period=(start, end))
    assert dp(report) == expected


@pytest.mark.parametrize(("start", "expected"), [
    ("2026-01-01", {}),
    ("2031-12-27", {}),  # the renewed decision's last day
    ("2032-01-01", {"COM-DP-001": ERROR}),  # after it ends
])
def test_eu_adequacy_for_the_uk_ends_on_27_december_2031(send, start: str,
                                                         expected: dict[str, str]) -> None:
    end = f"{int(start[:4]) + 1}{start[4:]}"
    report = send("DE", ("GB", "Europe/London"), "adequacy", period=(start, end))
    assert dp(report) == expected


def test_eu_adequacy_for_the_us_covers_certified_recipients_only(send) -> None:
    report = send("DE", US, "adequacy")
    assert dp(report) == {"COM-DP-004": WARNING}
    assert "certified" in one(report, "COM-DP-004", service="pay").message
    assert dp(send("DE", US, "scc")) == {}
    assert dp(send("DE", ("CA", "America/Toronto"), "none")) == {"COM-DP-004": WARNING}


@pytest.mark.parametrize(("start", "expected"), [
    ("2023-01-01", {"COM-DP-002": ERROR}),  # before SI 2023/1028 (12 Oct 2023)
    ("2023-10-12", {"COM-DP-004": WARNING}),
    ("2024-01-01", {"COM-DP-004": WARNING}),
])
def test_uk_data_bridge_to_the_us_starts_on_12_october_2023(send, start: str,
                                                            expected: dict[str, str]) -> None:
    end = f"{int(start[:4]) + 1}{start[4:]}"
    assert dp(send("GB", US, "adequacy", period=(start, end))) == expected


def test_uk_adequacy_for_korea_is_judged_at_the_period_start(send) -> None:
    korea = ("KR", "Asia/Seoul")
    assert dp(send("GB", korea, "adequacy", period=("2022-06-01", "2023-05-31"))) == {
        "COM-DP-002": ERROR}
    assert dp(send("GB", korea, "adequacy")) == {}


def test_uk_transfer_needs_idta_or_scc(send) -> None:
    assert dp(send("GB", INDIA, "idta")) == {}
    assert dp(send("GB", INDIA, "scc")) == {}
    assert dp(send("GB", INDIA, "none")) == {"COM-DP-002": ERROR}
    assert dp(send("GB", INDIA, "bcr")) == {"COM-DP-006": WARNING}
    assert dp(send("GB", ("IE", "Europe/Dublin"), "none")) == {}


def test_idta_is_no_basis_for_an_eu_client(send) -> None:
    assert dp(send("DE", INDIA, "idta")) == {"COM-DP-005": ERROR}


@pytest.mark.parametrize("mechanism", ["consent", "derogation"])
def test_art_49_derogations_are_a_warning(send, mechanism: str) -> None:
    assert dp(send("DE", INDIA, mechanism)) == {"COM-DP-003": WARNING}
    assert dp(send("GB", INDIA, mechanism)) == {"COM-DP-003": WARNING}


def test_missing_data_fields_cannot_be_judged_where_they_matter(send) -> None:
    unstated = send("DE", INDIA, None, personal_data=None)
    assert dp(unstated) == {"COM-DP-007": WARNING}
    assert "cannot judge" in one(unstated, "COM-DP-007", service="pay").message
    assert dp(send("DE", INDIA, None)) == {"COM-DP-008": WARNING}
    assert dp(send("DE", INDIA, None, personal_data=False)) == {}
    # where they do not matter: inside the EU, or to a country with full adequacy
    assert dp(send("DE", ("PL", "Europe/Warsaw"), None, personal_data=None)) == {}
    assert dp(send("DE", ("CH", "Europe/Zurich"), None)) == {}


def test_tax_return_information_offshore_needs_the_taxpayers_consent(plugins: PluginSet
                                                                       ) -> None:
    assert not only(run(plugins, us_tax()), "COM-DP-010", "COM-DP-011")

    no_consent = us_tax()
    no_consent["services"][0]["safeguards"] = ["confidentiality_agreement"]
    finding = one(run(plugins, no_consent), "COM-DP-010", service="returns")
    assert finding.severity.value == ERROR and finding.category == "data-protection"
    assert "'returns'" in finding.message and "IRC §7216" in finding.message
    assert any("Rev. Proc. 2013-14" in r for r in finding.references)
    assert any("301.7216-3" in r for r in finding.references)

    onshore = copy.deepcopy(no_consent)
    onshore["provider"]["delivery_centres"][0].update(country="US", timezone="America/Chicago")
    onshore["staff"][0]["location"] = {"country": "US", "timezone": "America/Chicago"}
    assert not only(run(plugins, onshore), "COM-DP-010", "COM-DP-011")

    # A US centre does not keep the return information onshore when the preparer works from
    # India: the finding points at her entry in the assignees.
    remote = copy.deepcopy(onshore)
    remote["staff"][0]["location"] = {"country": "IN"}
    finding = one(run(plugins, remote), "COM-DP-010", service="returns", staff="s-1")
    assert "Priya Sharma (s-1) in IN" in finding.message
    assert finding.path == "/services/0/assignees/0"

    corporate = copy.deepcopy(no_consent)
    corporate["client"]["type"] = "corporate"
    assert not only(run(plugins, corporate), "COM-DP-010", "COM-DP-011")

    unlisted = copy.deepcopy(no_consent)
    del unlisted["services"][0]["data"]
    report = run(plugins, unlisted)
    assert not only(report, "COM-DP-010")
    assert one(report, "COM-DP-011", service="returns").severity.value == WARNING


def test_section_7216_rule_states_what_is_unverified(plugins: PluginSet) -> None:
    rule = load_content(plugins).rules.by_id()["COM-DP-010"]
    assert rule.basis == "law"
    assert "offshore paragraph" in rule.unverified and "not read" in rule.unverified


# ------------------------------------------------------------------------------ metadata


def test_every_common_rule_has_basis_references_and_both_kinds_of_example(plugins: PluginSet
                                                                           ) -> None:
    rules = [r for r in load_content(plugins).rules.rules if r.id.startswith("COM-")]
    assert {r.id for r in rules} >= {
        "COM-EDU-001", "COM-SEN-001", "COM-CRED-001", "COM-CRED-002", "COM-CRED-003",
        "COM-ELIG-001", "COM-PROF-001", "COM-PROF-002", "COM-LANG-001",
        "COM-REG-001", "COM-SW-001", "COM-COV-001", *DP_RULES}
    for rule in rules:
        assert rule.basis in ("law", "practice")
        assert rule.references
        assert {e.expect for e in rule.examples} == {"pass", "fail"}
        # A rule resting on practice says so in its references: what it cites is the
        # practice itself, never an internal document.
        if rule.basis == "practice":
            assert any(r.startswith("practice") for r in rule.references), rule.id
        assert not any("SPEC" in text for text in (*rule.references, rule.why, rule.checks,
                                                   rule.unverified, rule.message)), rule.id
