"""Finance rules through the real pipeline: YAML text in, ``kpo_rules.check`` out.

Each engagement is built as a user would write it and checked with every installed plugin,
so a finance verdict is always judged together with the common and country rules (the DE
and US reservations themselves are country data read by the common plugin's COM-ELIG-001).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

import kpo_rules
from kpo_rules.model import Finding, Severity
from kpo_rules.plugins import PluginSet, create_plugin_set

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples" / "finance"

Doc = dict[str, Any]


# ---- building engagements ------------------------------------------------------------------


def person(sid: str, name: str, country: str, tz: str, **fields: Any) -> Doc:
    """A staff member; ``languages`` defaults to English at C1."""
    member: Doc = {"id": sid, "name": name, "location": {"country": country, "timezone": tz}}
    member["languages"] = fields.pop("languages", [{"code": "en", "level": "C1"}])
    member.update(fields)
    return member


def engagement(
    *,
    client: Doc,
    centre: tuple[str, str],
    services: list[Doc],
    staff: list[Doc],
    relationship: str = "third_party",
    period: tuple[str, str] = ("2026-01-01", "2026-12-31"),
) -> Doc:
    country, tz = centre
    domains = sorted({s["task"].split(".", 1)[0] for s in services})
    return {
        "apiVersion": "kpo-rules/v1",
        "kind": "Engagement",
        "metadata": {"id": "test-engagement"},
        "period": {"start": period[0], "end": period[1]},
        "client": client,
        "provider": {
            "name": "Example KPO",
            "relationship": relationship,
            "serves": {d: [client["country"]] for d in domains},
            "delivery_centres": [{"id": "centre", "country": country, "timezone": tz}],
        },
        "services": [{"delivery_centre": "centre", **s} for s in services],
        "staff": staff,
    }


@functools.cache
def installed() -> PluginSet:
    """Every installed plugin, the set ``kpo_rules.check`` makes when given none: made once
    per process instead of per check (each check only reads it)."""
    return create_plugin_set()


def run(doc: Doc) -> list[Finding]:
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    return list(kpo_rules.check(sources=[("x.yaml", text)], plugins=installed()).findings)


def rules_of(findings: Iterable[Finding], prefix: str = "") -> set[str]:
    return {f.rule for f in findings if f.rule.startswith(prefix)}


def only(findings: Iterable[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def changed(doc: Doc, **changes: Any) -> Doc:
    """A copy of ``doc`` with ``client``/``provider``/``period`` merged and ``services``,
    ``staff`` replaced."""
    out = copy.deepcopy(doc)
    for key, value in changes.items():
        if key in ("client", "provider", "period"):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def with_service(doc: Doc, **fields: Any) -> Doc:
    """A copy of ``doc`` whose first service has ``fields`` (None deletes a field)."""
    out = copy.deepcopy(doc)
    service = out["services"][0]
    for key, value in fields.items():
        if value is None:
            service.pop(key, None)
        else:
            service[key] = value
    return out


def with_staff(doc: Doc, **fields: Any) -> Doc:
    """A copy of ``doc`` whose first staff member has ``fields`` (None deletes a field)."""
    out = copy.deepcopy(doc)
    member = out["staff"][0]
    for key, value in fields.items():
        if value is None:
            member.pop(key, None)
        else:
            member[key] = value
    return out


IN = ("IN", "Asia/Kolkata")
PL = ("PL", "Europe/Warsaw")
PH = ("PH", "Asia/Manila")

US_PRACTICE = {
    "name": "Hudson Tax LLP",
    "type": "tax_practice",
    "country": "US",
    "subdivision": "US-NY",
}
DE_GMBH = {"name": "Brenner Maschinenbau GmbH", "type": "corporate", "country": "DE"}
GB_LTD = {"name": "Albion Trading Ltd", "type": "corporate", "country": "GB"}
IN_LTD = {"name": "Deccan Textiles Ltd", "type": "corporate", "country": "IN"}
RETURN_INFO = {"personal_data": True, "categories": ["tax_return_information"]}
NO_PERSONAL_DATA = {"personal_data": False}


# ---- each finance task: a clean engagement and a failing one -------------------------------


def _keying_for_us_practice() -> Doc:
    return engagement(
        client=US_PRACTICE,
        centre=IN,
        services=[
            {
                "id": "keying",
                "task": "finance.data_entry",
                "data": RETURN_INFO,
                "safeguards": ["client_consent"],
                "assignees": ["s-1"],
            }
        ],
        staff=[person("s-1", "Sneha Kulkarni", *IN, languages=[{"code": "en", "level": "B2"}])],
    )


def _de_mechanical(task: str) -> Doc:
    return engagement(
        client=DE_GMBH,
        centre=PL,
        services=[
            {
                "id": "work",
                "task": task,
                "data": {"personal_data": True, "categories": ["payroll"]},
                "assignees": ["s-1"],
            }
        ],
        staff=[
            person(
                "s-1",
                "Anna Nowak",
                *PL,
                languages=[{"code": "de", "level": "B2"}],
                credentials=[{"id": "de.bookkeeper"}],
                familiar_with=["de.gaap"],
            )
        ],
    )


def _gb_billing() -> Doc:
    return engagement(
        client=GB_LTD,
        centre=IN,
        services=[
            {
                "id": "invoices",
                "task": "finance.billing",
                "data": NO_PERSONAL_DATA,
                "assignees": ["s-1"],
            }
        ],
        staff=[person("s-1", "Ravi Iyer", *IN, languages=[{"code": "en", "level": "B2"}])],
    )


def _us_returns() -> Doc:
    return engagement(
        client=US_PRACTICE,
        centre=IN,
        services=[
            {
                "id": "returns",
                "task": "finance.tax_preparation",
                "data": RETURN_INFO,
                "safeguards": ["client_consent"],
                "assignees": ["s-1"],
            }
        ],
        staff=[
            person(
                "s-1",
                "Priya Sharma",
                *IN,
                education=[{"level": "bachelor", "field": "accounting"}],
                credentials=[{"id": "us.ptin", "valid_until": "2026-12-31"}],
                familiar_with=["us.tax"],
            )
        ],
    )


def _degree_task(task: str, client: Doc, framework: str) -> Doc:
    return engagement(
        client=client,
        centre=IN,
        services=[{"id": "work", "task": task, "data": NO_PERSONAL_DATA, "assignees": ["s-1"]}],
        staff=[
            person(
                "s-1",
                "Kavya Menon",
                *IN,
                education=[{"level": "bachelor", "field": "commerce"}],
                familiar_with=[framework],
            )
        ],
    )


def _in_statutory_audit() -> Doc:
    return engagement(
        client=IN_LTD,
        centre=IN,
        services=[
            {
                "id": "opinion",
                "task": "finance.statutory_audit",
                "decision_level": "decision_maker",
                "data": NO_PERSONAL_DATA,
                "assignees": ["s-1"],
            }
        ],
        staff=[
            person(
                "s-1",
                "Arvind Rao",
                *IN,
                education=[{"level": "master", "field": "accounting"}],
                credentials=[{"id": "in.ca"}],
                familiar_with=["in.gaap"],
            )
        ],
    )


def _gb_bank_returns() -> Doc:
    return engagement(
        client={"name": "Severn Building Society", "type": "credit_institution", "country": "GB"},
        centre=PH,
        services=[
            {
                "id": "corep",
                "task": "finance.regulatory_reporting",
                "data": NO_PERSONAL_DATA,
                "outsourcing": {
                    "critical": True,
                    "audit_rights": True,
                    "exit_plan": True,
                    "regulator_notified": True,
                },
                "assignees": ["s-1"],
            }
        ],
        staff=[
            person(
                "s-1",
                "Maria Santos",
                *PH,
                education=[{"level": "bachelor", "field": "accountancy"}],
                familiar_with=["gb.regulatory_reporting"],
            )
        ],
    )


def _b1(doc: Doc) -> Doc:
    code = doc["staff"][0]["languages"][0]["code"]
    return with_staff(doc, languages=[{"code": code, "level": "B1"}])


def _b2(doc: Doc) -> Doc:
    return with_staff(doc, languages=[{"code": "en", "level": "B2"}])


TASK_CASES = {
    # task: (clean engagement, how to break it, the rule that must then fire)
    "finance.data_entry": (_keying_for_us_practice, _b1, "COM-LANG-001"),
    "finance.bookkeeping": (
        lambda: _de_mechanical("finance.bookkeeping"),
        lambda d: with_staff(d, credentials=None),
        "COM-ELIG-001",
    ),
    "finance.payroll": (
        lambda: _de_mechanical("finance.payroll"),
        lambda d: with_staff(d, credentials=None),
        "COM-ELIG-001",
    ),
    "finance.billing": (_gb_billing, _b1, "COM-LANG-001"),
    "finance.tax_preparation": (
        _us_returns,
        lambda d: with_staff(d, credentials=None),
        "COM-ELIG-001",
    ),
    "finance.tax_advice": (
        lambda: _degree_task("finance.tax_advice", IN_LTD, "in.tax"),
        _b2,
        "COM-LANG-001",
    ),
    "finance.financial_statements": (
        lambda: _degree_task("finance.financial_statements", GB_LTD, "gb.gaap"),
        lambda d: with_staff(d, education=None),
        "COM-EDU-001",
    ),
    "finance.audit_preparation": (
        lambda: _degree_task("finance.audit_preparation", IN_LTD, "in.gaap"),
        lambda d: with_staff(d, education=[{"level": "secondary", "field": "commerce"}]),
        "COM-EDU-001",
    ),
    "finance.statutory_audit": (
        _in_statutory_audit,
        lambda d: with_staff(d, credentials=None),
        "COM-ELIG-001",
    ),
    "finance.regulatory_reporting": (
        _gb_bank_returns,
        lambda d: with_service(
            d,
            outsourcing={
                "critical": True,
                "audit_rights": True,
                "exit_plan": True,
                "regulator_notified": False,
            },
        ),
        "FIN-OUT-004",
    ),
}


def test_every_finance_task_has_a_case() -> None:
    catalogue = yaml.safe_load(
        (ROOT / "plugins/finance/kpo_rules_finance/catalogue/tasks.yaml").read_text("utf-8")
    )
    assert {t["id"] for t in catalogue["tasks"]} == set(TASK_CASES)


@pytest.mark.parametrize("task", sorted(TASK_CASES))
def test_task_clean_engagement_has_no_findings(task: str) -> None:
    clean, _, _ = TASK_CASES[task]
    findings = run(clean())
    assert findings == [], [f"{f.rule}: {f.message}" for f in findings]


@pytest.mark.parametrize("task", sorted(TASK_CASES))
def test_task_failing_engagement_reports_its_rule(task: str) -> None:
    clean, breaking, rule = TASK_CASES[task]
    findings = run(breaking(clean()))
    assert rule in rules_of(findings)
    hit = only(findings, rule)[0]
    assert hit.severity is Severity.ERROR
    assert hit.line > 0


@pytest.mark.parametrize("task", ["finance.data_entry", "finance.billing"])
def test_mechanical_work_is_not_flagged_for_degrees_or_licences(task: str) -> None:
    doc = engagement(
        client=GB_LTD,
        centre=IN,
        services=[
            {
                "id": "work",
                "task": task,
                "data": NO_PERSONAL_DATA,
                "decision_level": "reviewer",
                "assignees": ["s-1"],
            }
        ],
        staff=[person("s-1", "Imran Shaikh", *IN, languages=[{"code": "en", "level": "B2"}])],
    )
    assert run(doc) == []


# ---- the German StBerG §6 line: data entry open to all, bookkeeping and payroll reserved ----


def _de_unqualified(task: str, decision_level: str = "preparer") -> Doc:
    return engagement(
        client=DE_GMBH,
        centre=IN,
        services=[
            {
                "id": "belege",
                "task": task,
                "decision_level": decision_level,
                "data": {"personal_data": True, "transfer_mechanism": "scc"},
                "assignees": ["pn-1"],
            }
        ],
        staff=[
            person(
                "pn-1",
                "Vikram Nair",
                *IN,
                languages=[{"code": "de", "level": "B2"}],
                familiar_with=["de.gaap"],
            )
        ],
    )


def test_de_data_entry_is_open_to_all() -> None:
    assert run(_de_unqualified("finance.data_entry")) == []


@pytest.mark.parametrize("task", ["finance.bookkeeping", "finance.payroll"])
def test_de_bookkeeping_and_payroll_need_a_qualified_bookkeeper(task: str) -> None:
    findings = run(_de_unqualified(task))
    [hit] = only(findings, "COM-ELIG-001")
    assert hit.subject.staff == "pn-1" and hit.subject.service == "belege"
    assert "Vikram Nair" in hit.message and "de.bookkeeper" in hit.message


def test_de_bookkeeping_by_a_qualified_bookkeeper_passes() -> None:
    doc = with_staff(_de_unqualified("finance.bookkeeping"), credentials=[{"id": "de.bookkeeper"}])
    assert "COM-ELIG-001" not in rules_of(run(doc))


def test_data_entry_that_decides_is_not_mechanical() -> None:
    findings = run(_de_unqualified("finance.data_entry", decision_level="decision_maker"))
    [hit] = only(findings, "FIN-ELIG-001")
    assert hit.severity is Severity.WARNING
    assert hit.subject.service == "belege"
    assert "StBerG §6 Nr. 3" in hit.message and "finance.bookkeeping" in hit.message


def test_de_data_entry_reviewer_is_still_mechanical() -> None:
    assert run(_de_unqualified("finance.data_entry", decision_level="reviewer")) == []


def test_wage_tax_returns_note_for_a_qualified_bookkeeper() -> None:
    doc = engagement(
        client=DE_GMBH,
        centre=PL,
        services=[
            {
                "id": "lohnsteuer",
                "task": "finance.tax_preparation",
                "data": {"personal_data": True, "categories": ["payroll"]},
                "assignees": ["s-1"],
            }
        ],
        staff=[
            person(
                "s-1",
                "Katarzyna Wójcik",
                *PL,
                languages=[{"code": "de", "level": "C1"}],
                education=[{"level": "bachelor", "field": "accounting"}],
                credentials=[{"id": "de.bookkeeper"}],
                familiar_with=["de.tax"],
            )
        ],
    )
    findings = run(doc)
    assert "COM-ELIG-001" in rules_of(findings)  # the reservation still speaks
    [note] = only(findings, "FIN-ELIG-002")
    assert note.severity is Severity.INFO
    assert "Lohnsteuer-Anmeldungen" in note.message and "finance.payroll" in note.message
    steuerberater = with_staff(doc, credentials=[{"id": "de.bookkeeper"}, {"id": "de.stb"}])
    assert rules_of(run(steuerberater), "FIN-") == set()


# ---- US PTIN: paid preparation reserved, data entry not -------------------------------------


def test_us_data_entry_for_a_tax_practice_needs_no_ptin() -> None:
    assert run(_keying_for_us_practice()) == []


def test_us_return_preparation_without_ptin_is_reported() -> None:
    findings = run(with_staff(_us_returns(), credentials=None))
    [hit] = only(findings, "COM-ELIG-001")
    assert "us.ptin" in hit.message and hit.subject.staff == "s-1"


# ---- German statutory audit: vereidigte Buchprüfer (HGB §319(1) S.2) ------------------------

DE_CENTRE = ("DE", "Europe/Berlin")


def de_audit(credentials: list[Doc], size_class: str | None) -> Doc:
    client: Doc = {"name": "Brenner Maschinenbau AG", "type": "corporate", "country": "DE"}
    if size_class:
        client["size_class"] = size_class
    return engagement(
        client=client, centre=DE_CENTRE,
        services=[{"id": "opinion", "task": "finance.statutory_audit",
                   "delivery_centre": "centre", "assignees": ["m-1"]}],
        staff=[person("m-1", "Klaus Berger", *DE_CENTRE, credentials=credentials,
                      languages=[{"code": "de", "level": "native"}],
                      education=[{"level": "master", "field": "business administration"}],
                      familiar_with=["de.gaap"])],
    )


VBP = [{"id": "de.vbp"}]


@pytest.mark.parametrize(("size_class", "rule", "severity"), [
    ("large", "FIN-ELIG-004", Severity.ERROR),
    ("small", "FIN-ELIG-004", Severity.ERROR),
    (None, "FIN-ELIG-005", Severity.WARNING),
    ("medium", "FIN-ELIG-006", Severity.INFO),
])
def test_a_vbp_signs_statutory_audits_of_medium_sized_companies_only(
    size_class: str | None, rule: str, severity: Severity,
) -> None:
    findings = run(de_audit(VBP, size_class))
    assert rules_of(findings, "FIN-ELIG") == {rule}
    [hit] = only(findings, rule)
    assert hit.severity is severity
    assert (hit.subject.service, hit.subject.staff) == ("opinion", "m-1")
    assert "HGB §319(1) S.2" in hit.message and "Klaus Berger (m-1)" in hit.message
    assert hit.path == "/services/0/assignees/0"
    assert not only(findings, "COM-ELIG-001"), "the DE profile still accepts de.vbp"


@pytest.mark.parametrize("size_class", ["large", "small", None, "medium"])
def test_a_wirtschaftspruefer_signs_for_any_size(size_class: str | None) -> None:
    assert rules_of(run(de_audit([{"id": "de.wp"}], size_class)), "FIN-ELIG") == set()
    both = [{"id": "de.vbp"}, {"id": "de.wp"}]
    assert rules_of(run(de_audit(both, size_class)), "FIN-ELIG") == set()


def test_a_lapsed_wp_does_not_lift_the_vbp_limit() -> None:
    lapsed = [{"id": "de.vbp"}, {"id": "de.wp", "valid_until": "2025-06-30"}]
    assert rules_of(run(de_audit(lapsed, "large")), "FIN-ELIG") == {"FIN-ELIG-004"}


def test_audit_signing_findings_cite_the_clients_country_only() -> None:
    doc = de_audit([{"id": "de.wp"}], "large")
    doc["client"]["type"] = "audit_firm"
    doc["services"][0]["safeguards"] = ["confidentiality_agreement", "secrecy_notice"]
    [hit] = only(run(doc), "FIN-ELIG-003")
    assert hit.references and all("HGB" in r for r in hit.references)
    assert not any("Sarbanes" in r or "Companies Act" in r for r in hit.references)


# ---- regulated clients ---------------------------------------------------------------------

FULL = {"critical": True, "audit_rights": True, "exit_plan": True, "regulator_notified": True}

REGULATED = {
    # id: (client country, client type, centre, working language, framework, regime cited)
    "gb-bank": ("GB", "credit_institution", PH, "en", "gb.regulatory_reporting", "SYSC 8"),
    "gb-investment-firm": ("GB", "investment_firm", IN, "en", "gb.regulatory_reporting", "SYSC 8"),
    "de-bank": ("DE", "credit_institution", PL, "de", "de.regulatory_reporting", "MaRisk AT 9"),
    "de-payment-institution": (
        "DE",
        "payment_institution",
        PL,
        "de",
        "de.regulatory_reporting",
        "ZAG",
    ),
    "de-investment-firm": (
        "DE",
        "investment_firm",
        PL,
        "de",
        "de.regulatory_reporting",
        "EBA/GL/2019/02",
    ),
    "ie-bank": ("IE", "credit_institution", IN, "en", "intl.ifrs", "EBA/GL/2019/02"),
    "in-bank": ("IN", "credit_institution", IN, "en", "in.regulatory_reporting", "RBI"),
    "in-payment-institution": (
        "IN",
        "payment_institution",
        IN,
        "en",
        "in.regulatory_reporting",
        "RBI",
    ),
    "in-investment-firm": ("IN", "investment_firm", IN, "en", "in.regulatory_reporting", "RBI"),
    "gb-payment-institution": (
        "GB",
        "payment_institution",
        PH,
        "en",
        "gb.regulatory_reporting",
        "Payment Services Regulations 2017",
    ),
}


def regulated(
    case: str,
    outsourcing: Doc | None = FULL,
    client_type: str | None = None,
    decision_level: str = "preparer",
    period: tuple[str, str] = ("2026-01-01", "2026-12-31"),
) -> Doc:
    country, kind, centre, language, framework, _ = REGULATED[case]
    service: Doc = {
        "id": "returns",
        "task": "finance.regulatory_reporting",
        "decision_level": decision_level,
        "data": NO_PERSONAL_DATA,
        "assignees": ["s-1"],
    }
    if outsourcing is not None:
        service["outsourcing"] = outsourcing
    client: Doc = {"name": "Example Bank", "type": client_type or kind, "country": country}
    if country == "IN":
        client["regulators"] = ["rbi"]  # the RBI directions bind RBI-regulated entities only
    return engagement(
        client=client,
        centre=centre,
        services=[service],
        period=period,
        staff=[
            person(
                "s-1",
                "Jose Reyes",
                *centre,
                languages=[{"code": language, "level": "C1"}],
                education=[{"level": "master", "field": "finance"}],
                familiar_with=[framework],
            )
        ],
    )


@pytest.mark.parametrize("case", sorted(REGULATED))
def test_regulated_client_with_all_conditions_passes(case: str) -> None:
    assert rules_of(run(regulated(case)), "FIN-") == set()


@pytest.mark.parametrize("case", sorted(REGULATED))
@pytest.mark.parametrize(
    ("condition", "rule"),
    [
        ("audit_rights", "FIN-OUT-002"),
        ("exit_plan", "FIN-OUT-003"),
        ("regulator_notified", "FIN-OUT-004"),
    ],
)
@pytest.mark.parametrize("value", [False, None])
def test_critical_outsourcing_needs_each_condition(
    case: str, condition: str, rule: str, value: bool | None
) -> None:
    conditions = {k: v for k, v in FULL.items() if k != condition}
    if value is not None:
        conditions[condition] = value
    findings = run(regulated(case, outsourcing=conditions))
    assert rules_of(findings, "FIN-OUT") == {rule}
    [hit] = only(findings, rule)
    assert hit.severity is Severity.ERROR and hit.category == "eligibility"
    assert hit.subject.service == "returns"
    assert f"outsourcing.{condition}" in hit.message
    # The finding cites its client's regime, the one its message quotes, and no other.
    assert hit.references and hit.references[0] in hit.message
    assert not foreign_citations(case, hit.references)


#: Words that mark each regime's instruments in a citation.
REGIME_MARKERS = {
    "GB": ("SYSC", "PRA ", "SUP 15", "Payment Services Regulations", "MiFID"),
    "EEA": ("EBA/GL", "MaRisk", "ZAG", "KWG"),
    "IN": ("RBI",),
}


def foreign_citations(case: str, references: tuple[str, ...]) -> list[str]:
    """The citations of ``references`` that belong to another regime than the case's."""
    country = REGULATED[case][0]
    own = country if country in ("GB", "IN") else "EEA"
    return [ref for regime, words in REGIME_MARKERS.items() if regime != own
            for ref in references if any(word in ref for word in words)]


@pytest.mark.parametrize("case", sorted(REGULATED))
def test_regulated_client_cannot_outsource_decisions(case: str) -> None:
    findings = run(regulated(case, decision_level="decision_maker"))
    [hit] = only(findings, "FIN-OUT-001")
    assert hit.severity is Severity.ERROR
    assert "decision_maker" in hit.message and REGULATED[case][5] in hit.message
    assert REGULATED[case][5] in " ".join(hit.references)
    assert not foreign_citations(case, hit.references)


def test_uk_banks_are_not_cited_the_investment_firms_regulation() -> None:
    bank = only(run(regulated("gb-bank", decision_level="decision_maker")), "FIN-OUT-001")
    firm = only(run(regulated("gb-investment-firm", decision_level="decision_maker")),
                "FIN-OUT-001")
    payments = only(run(regulated("gb-payment-institution", decision_level="decision_maker")),
                    "FIN-OUT-001")
    assert "MiFID" not in " ".join(bank[0].references) and "PRA SS2/21" in bank[0].message
    assert "MiFID Org Regulation" in " ".join(firm[0].references)
    assert "SYSC" not in " ".join(payments[0].references)
    assert "Payment Services Regulations 2017" in payments[0].message


@pytest.mark.parametrize("kind", ["credit_institution", "investment_firm", "payment_institution"])
def test_indian_clients_are_judged_by_the_rbi_directions_only_when_they_name_the_rbi(
    kind: str,
) -> None:
    unnamed = regulated("in-bank", decision_level="decision_maker", client_type=kind)
    del unnamed["client"]["regulators"]
    report = run(unnamed)
    assert rules_of(report, "FIN-OUT") == {"FIN-OUT-006"}
    [hit] = only(report, "FIN-OUT-006")
    assert hit.severity is Severity.WARNING and "cannot judge" in hit.message
    assert "client.regulators" in hit.message and hit.line > 0

    sebi = regulated("in-bank", decision_level="decision_maker", client_type=kind)
    sebi["client"]["regulators"] = ["sebi"]
    assert rules_of(run(sebi), "FIN-OUT") == set()

    rbi = regulated("in-bank", decision_level="decision_maker", client_type=kind)
    assert rules_of(run(rbi), "FIN-OUT") == {"FIN-OUT-001"}


@pytest.mark.parametrize("outsourcing", [None, {"audit_rights": True}])
@pytest.mark.parametrize("case", ["gb-bank", "de-bank", "in-bank"])
def test_regulated_client_without_criticality_cannot_be_judged(
    case: str, outsourcing: Doc | None
) -> None:
    findings = run(regulated(case, outsourcing=outsourcing))
    assert rules_of(findings, "FIN-OUT") == {"FIN-OUT-005"}
    [hit] = only(findings, "FIN-OUT-005")
    assert hit.severity is Severity.WARNING and "outsourcing.critical" in hit.message


def test_a_function_that_is_not_critical_needs_no_conditions() -> None:
    assert rules_of(run(regulated("gb-bank", outsourcing={"critical": False})), "FIN-") == set()


@pytest.mark.parametrize("case", ["gb-bank", "de-bank", "ie-bank", "in-bank"])
@pytest.mark.parametrize("client_type", ["insurer", "corporate"])
def test_insurers_and_corporates_are_not_judged_by_these_rules(case: str, client_type: str) -> None:
    worst = {
        "critical": True,
        "audit_rights": False,
        "exit_plan": False,
        "regulator_notified": False,
    }
    for doc in (
        regulated(
            case, outsourcing=worst, client_type=client_type, decision_level="decision_maker"
        ),
        regulated(case, outsourcing=None, client_type=client_type),
    ):
        assert rules_of(run(doc), "FIN-OUT") == set()


def test_us_bank_is_outside_these_regimes() -> None:
    doc = regulated("gb-bank", outsourcing=None)
    doc["client"]["country"] = "US"
    doc["staff"][0]["familiar_with"] = ["us.regulatory_reporting"]
    assert rules_of(run(doc), "FIN-OUT") == set()


def test_eba_guidelines_judge_periods_from_30_september_2019() -> None:
    before = ("2018-01-01", "2018-12-31")
    assert rules_of(run(regulated("de-bank", outsourcing=None, period=before)), "FIN-") == set()
    straddling = ("2019-01-01", "2019-12-31")
    assert rules_of(run(regulated("de-bank", outsourcing=None, period=straddling)), "FIN-") == {
        "FIN-OUT-005"
    }
    # FCA SYSC 8 does not start with the EBA Guidelines
    assert rules_of(run(regulated("gb-bank", outsourcing=None, period=before)), "FIN-") == {
        "FIN-OUT-005"
    }


# ---- captive centres -----------------------------------------------------------------------


def test_captive_payroll_centre_example_is_clean() -> None:
    assert kpo_rules.check([EXAMPLES / "captive-payroll-chennai.yaml"]).findings == ()


def test_captive_centre_of_a_regulated_client_is_still_judged() -> None:
    doc = changed(regulated("gb-bank", outsourcing=None), provider={"relationship": "captive"})
    assert rules_of(run(doc), "FIN-") == {"FIN-OUT-005"}


# ---- German tax advisers and auditors: secrecy (StBerG §62a, WPO §50a) ---------------------


def de_professional(
    client_type: str,
    centre: tuple[str, str] = PL,
    safeguards: list[str] | None = None,
    period: tuple[str, str] = ("2026-01-01", "2026-12-31"),
) -> Doc:
    service: Doc = {
        "id": "akten",
        "task": "finance.data_entry",
        "data": {"personal_data": True, "transfer_mechanism": "scc"},
        "assignees": ["s-1"],
    }
    if safeguards is not None:
        service["safeguards"] = safeguards
    return engagement(
        client={"name": "Huber & Partner", "type": client_type, "country": "DE"},
        centre=centre,
        services=[service],
        period=period,
        staff=[person("s-1", "Anna Nowak", *centre, languages=[{"code": "de", "level": "C1"}])],
    )


SECURED = ["confidentiality_agreement", "secrecy_notice"]


@pytest.mark.parametrize(
    ("client_type", "law"), [("tax_practice", "StBerG §62a"), ("audit_firm", "WPO §50a")]
)
def test_de_professional_without_confidentiality_agreement(client_type: str, law: str) -> None:
    findings = run(de_professional(client_type, safeguards=["secrecy_notice"]))
    assert rules_of(findings, "FIN-") == {"FIN-CONF-001"}
    [hit] = only(findings, "FIN-CONF-001")
    assert hit.severity is Severity.ERROR and hit.category == "data-protection"
    assert law in hit.message and "'akten'" in hit.message
    assert "confidentiality_agreement" in hit.message


@pytest.mark.parametrize("client_type", ["tax_practice", "audit_firm"])
def test_de_professional_with_agreement_in_the_eu_is_clean(client_type: str) -> None:
    assert run(de_professional(client_type, safeguards=SECURED)) == []


@pytest.mark.parametrize("centre", [IN, ("GB", "Europe/London"), PH])
def test_de_professional_outside_the_eu_eea_is_warned(centre: tuple[str, str]) -> None:
    findings = run(de_professional("tax_practice", centre=centre, safeguards=SECURED))
    [hit] = only(findings, "FIN-CONF-002")
    assert hit.severity is Severity.WARNING
    assert centre[0] in hit.message and "comparable" in hit.message


def test_de_professional_outside_the_eu_with_client_consent() -> None:
    doc = de_professional("audit_firm", centre=IN, safeguards=[*SECURED, "client_consent"])
    assert rules_of(run(doc), "FIN-") == set()


def test_de_professional_in_the_eea_but_not_the_eu() -> None:
    doc = de_professional("tax_practice", centre=("NO", "Europe/Oslo"), safeguards=SECURED)
    assert "FIN-CONF-002" not in rules_of(run(doc))


def test_agreement_without_secrecy_notice() -> None:
    findings = run(de_professional("tax_practice", safeguards=["confidentiality_agreement"]))
    assert rules_of(findings, "FIN-") == {"FIN-CONF-003"}
    assert only(findings, "FIN-CONF-003")[0].severity is Severity.WARNING


@pytest.mark.parametrize("client_type", ["corporate", "law_firm"])
def test_other_german_clients_are_not_judged_by_finance_secrecy(client_type: str) -> None:
    assert rules_of(run(de_professional(client_type, centre=IN)), "FIN-CONF") == set()


def test_de_professional_own_captive_centre_is_not_a_provider() -> None:
    doc = changed(de_professional("tax_practice", centre=IN), provider={"relationship": "captive"})
    assert rules_of(run(doc), "FIN-CONF") == set()


def test_secrecy_rules_start_with_the_2017_act() -> None:
    before = de_professional("tax_practice", centre=IN, period=("2016-01-01", "2016-12-31"))
    assert rules_of(run(before), "FIN-CONF") == set()


# ---- statutory audit opinions --------------------------------------------------------------


def _us_audit_firm(relationship: str) -> Doc:
    return engagement(
        client={
            "name": "Liberty CPAs LLP",
            "type": "audit_firm",
            "country": "US",
            "subdivision": "US-NY",
        },
        centre=IN,
        relationship=relationship,
        services=[
            {
                "id": "opinion",
                "task": "finance.statutory_audit",
                "data": NO_PERSONAL_DATA,
                "assignees": ["s-1"],
            }
        ],
        staff=[
            person(
                "s-1",
                "Meera Rao",
                *IN,
                education=[{"level": "master", "field": "accounting"}],
                credentials=[{"id": "us.cpa", "jurisdiction": "US-NY"}],
                familiar_with=["us.gaap"],
            )
        ],
    )


def test_audit_opinion_by_a_third_party_provider_is_warned() -> None:
    findings = run(_us_audit_firm("third_party"))
    assert rules_of(findings) == {"FIN-ELIG-003"}
    [hit] = findings
    assert hit.severity is Severity.WARNING and "PCAOB" in hit.message


def test_audit_opinion_by_the_audit_firms_captive_centre_passes() -> None:
    assert run(_us_audit_firm("captive")) == []


def test_audit_opinion_without_the_reserved_licence() -> None:
    findings = run(with_staff(_us_audit_firm("captive"), credentials=[{"id": "in.ca"}]))
    [hit] = only(findings, "COM-ELIG-001")
    assert "us.cpa" in hit.message


# ---- the shipped examples ------------------------------------------------------------------

#: file -> the findings it must produce, as (rule, service, staff).
EXPECTED: dict[str, list[tuple[str, str | None, str | None]]] = {
    "us-1040-ny-pune.yaml": [],
    "us-1040-ny-pune-findings.yaml": [
        ("COM-DP-010", "returns", None),
        ("COM-ELIG-001", "returns", "pn-303"),
    ],
    "de-bookkeeping-pune.yaml": [("COM-ELIG-001", "fibu", "pn-402")],
    "de-payroll-london.yaml": [("FIN-CONF-002", "fibu", None), ("FIN-CONF-002", "lohn", None)],
    "de-audit-prep-pune.yaml": [
        ("FIN-CONF-001", "arbeitspapiere", None),
        ("FIN-CONF-002", "arbeitspapiere", None),
    ],
    "uk-bank-returns-manila.yaml": [
        ("FIN-OUT-003", "corep", None),
        ("FIN-OUT-004", "corep", None),
        ("FIN-OUT-005", "liquidity", None),
    ],
    "captive-payroll-chennai.yaml": [],
    "de-payroll-krakow-remote.yaml": [
        ("COM-AVAIL-001", "lohn", "mnl-31"),
        ("COM-DP-001", "lohn", "mnl-31"),
    ],
    "us-statutory-audit-hyderabad.yaml": [
        ("FIN-ELIG-003", "opinion", None),
        ("COM-ELIG-001", "opinion", "hy-02"),
    ],
    "us-tax-season-pune-krakow.yaml": [
        ("COM-AVAIL-001", "returns", "pn-401"),
        ("COM-AVAIL-001", "organisers", "kr-410"),
    ],
}


def test_every_example_has_expectations() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_findings(name: str) -> None:
    findings = kpo_rules.check([EXAMPLES / name]).findings
    got = sorted((f.rule, f.subject.service, f.subject.staff) for f in findings)
    assert got == sorted(EXPECTED[name]), [f"{f.rule}: {f.message}" for f in findings]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_header_states_its_expected_findings(name: str) -> None:
    text = (EXAMPLES / name).read_text("utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    stated = re.search(r"Expected findings: (.*)", header, re.DOTALL)
    assert stated, f"{name}: the header comment has no 'Expected findings:'"
    expected_rules = {rule for rule, _, _ in EXPECTED[name]}
    assert set(re.findall(r"\b[A-Z]{2,8}(?:-[A-Z0-9]{2,8})+-\d{3}\b", stated.group(1))) == (
        expected_rules
    )
    if not expected_rules:
        assert stated.group(1).strip().startswith("none")


def test_example_messages_name_the_subject_and_the_source() -> None:
    findings = kpo_rules.check([EXAMPLES]).findings
    assert findings
    for finding in findings:
        named = [x for x in (finding.subject.service, finding.subject.staff) if x]
        assert named and all(x in finding.message for x in named), finding.message
        assert finding.line > 0 and finding.references


def test_examples_check_together_with_the_whole_examples_tree() -> None:
    """The README's main job (`kpo-rules check examples/`) sees the same finance findings."""
    alone = kpo_rules.check([EXAMPLES]).findings
    together = [
        f
        for f in kpo_rules.check([ROOT / "examples"]).findings
        if Path(f.file).parent.name == "finance"
    ]
    key = sorted((Path(f.file).name, f.line, f.rule) for f in alone)
    assert sorted((Path(f.file).name, f.line, f.rule) for f in together) == key


# ---- citations users read (kpo-rules rules show) --------------------------------------------


def test_outsourcing_rules_cite_each_uk_regime_for_the_firms_it_governs(run_cli) -> None:
    shown = run_cli("rules", "show", "FIN-OUT-001")
    assert shown.exit_code == 0
    text = shown.output
    references = text[text.index("## Sources"):text.index("## Examples")]
    mifid = [line for line in references.splitlines() if "MiFID" in line]
    assert mifid and all(line.startswith("- UK investment firms:") for line in mifid)
    assert "UK payment institutions: Payment Services Regulations 2017" in references
    unverified = text[text.index("## Not verified"):text.index("## How to fix")]
    assert "Payment Services Regulations 2017" in unverified
    assert "SPEC" not in text


def test_credential_expiry_cites_no_section_the_facts_do_not_give(run_cli) -> None:
    text = run_cli("rules", "show", "COM-CRED-001").output
    assert "GDolmG §2" not in text and "GDolmG (10 Dec 2019" in text
    assert "section of the GDolmG" in text[text.index("## Not verified"):]
