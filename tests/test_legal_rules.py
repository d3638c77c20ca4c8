"""Legal rules through the real pipeline: ``kpo_rules.check(sources=...)`` -> Report.

Covers the legal plugin's own rules (supervision LEG-SUP-*, client confidences LEG-CONF-*,
reserved activities outside England and Wales LEG-RES-*) and checks that the generic rules of
the common plugin judge what the legal plugin leaves to them (reserved advice, transcription
language, coverage by subdivision). The shipped examples/legal files are checked against the
findings their header comments announce.
"""

from __future__ import annotations

import copy
import functools
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

import kpo_rules
from kpo_rules.model import Finding
from kpo_rules.plugins import PluginSet, create_plugin_set

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "legal"

# --------------------------------------------------------------------------------- engagements

NY_MEMOS: dict[str, Any] = {
    "apiVersion": "kpo-rules/v1",
    "kind": "Engagement",
    "metadata": {"id": "ny-memos"},
    "period": {"start": "2026-01-01", "end": "2026-12-31"},
    "client": {
        "name": "Hudson & Pine LLP",
        "type": "law_firm",
        "country": "US",
        "subdivision": "US-NY",
        "timezone": "America/New_York",
    },
    "provider": {
        "name": "Saket Legal Process Services Pvt Ltd",
        "relationship": "third_party",
        "serves": {"legal": ["US-NY"]},
        "delivery_centres": [{"id": "gurugram", "country": "IN", "timezone": "Asia/Kolkata"}],
    },
    "services": [
        {
            "id": "memos",
            "task": "legal.memo_drafting",
            "delivery_centre": "gurugram",
            "language": "en",
            "data": {"personal_data": True, "categories": ["client_confidences"]},
            "safeguards": ["client_consent", "confidentiality_agreement"],
            "assignees": ["in-1"],
            "supervisor": "us-9",
        }
    ],
    "staff": [
        {
            "id": "in-1",
            "name": "Rahul Mehta",
            "role": "lawyer",
            "location": {"country": "IN", "timezone": "Asia/Kolkata"},
            "education": [{"level": "master", "field": "law"}],
            "credentials": [{"id": "in.advocate"}],
            "languages": [{"code": "en", "level": "C2"}, {"code": "hi", "level": "native"}],
            "familiar_with": ["us.law", "in.law"],
        },
        {
            "id": "us-9",
            "name": "Laura Chen",
            "role": "lawyer",
            "location": {"country": "US", "subdivision": "US-NY", "timezone": "America/New_York"},
            "education": [{"level": "doctorate", "field": "law"}],
            "credentials": [{"id": "us.attorney", "jurisdiction": "US-NY"}],
            "languages": [{"code": "en", "level": "native"}],
            "familiar_with": ["us.law"],
        },
    ],
}

MUNICH_TRANSCRIPTS: dict[str, Any] = {
    "apiVersion": "kpo-rules/v1",
    "kind": "Engagement",
    "metadata": {"id": "munich-transcripts"},
    "period": {"start": "2026-03-01", "end": "2026-08-31"},
    "client": {
        "name": "Isar Rechtsanwälte PartGmbB",
        "type": "law_firm",
        "country": "DE",
        "subdivision": "DE-BY",
    },
    "provider": {
        "name": "Vistula Legal Services sp. z o.o.",
        "relationship": "third_party",
        "serves": {"legal": ["DE"]},
        "delivery_centres": [{"id": "krakow", "country": "PL", "timezone": "Europe/Warsaw"}],
    },
    "services": [
        {
            "id": "transcripts",
            "task": "legal.court_transcription",
            "delivery_centre": "krakow",
            "language": "de",
            "data": {"personal_data": True, "categories": ["court_records"]},
            "safeguards": ["confidentiality_agreement", "secrecy_notice"],
            "assignees": ["pl-7"],
        }
    ],
    "staff": [
        {
            "id": "pl-7",
            "name": "Anna Kowalska",
            "role": "transcriber",
            "location": {"country": "PL", "timezone": "Europe/Warsaw"},
            "languages": [{"code": "de", "level": "C2"}, {"code": "pl", "level": "native"}],
        }
    ],
}

DE_GROUP_ADVICE: dict[str, Any] = {
    "apiVersion": "kpo-rules/v1",
    "kind": "Engagement",
    "metadata": {"id": "de-group-advice"},
    "period": {"start": "2026-01-01", "end": "2026-12-31"},
    "client": {
        "name": "Rheinwerk Industrie AG",
        "type": "corporate",
        "country": "DE",
        "subdivision": "DE-NW",
    },
    "provider": {
        "name": "Rheinwerk Shared Services sp. z o.o.",
        "relationship": "captive",
        "serves": {"legal": ["DE"]},
        "delivery_centres": [{"id": "wroclaw", "country": "PL", "timezone": "Europe/Warsaw"}],
    },
    "services": [
        {
            "id": "group-advice",
            "task": "legal.legal_advice",
            "delivery_centre": "wroclaw",
            "language": "de",
            "data": {"personal_data": False},
            "assignees": ["wro-3"],
        }
    ],
    "staff": [
        {
            "id": "wro-3",
            "name": "Katarzyna Zielińska",
            "location": {"country": "PL", "timezone": "Europe/Warsaw"},
            "education": [{"level": "master", "field": "law"}],
            "languages": [{"code": "de", "level": "C2"}, {"code": "pl", "level": "native"}],
            "familiar_with": ["de.law"],
        }
    ],
}


def variant(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with top-level sections or dotted paths replaced.

    ``variant(NY_MEMOS, **{"client.subdivision": None})`` deletes the key; a plain keyword
    (``services=[...]``) replaces the whole section.
    """
    doc = copy.deepcopy(base)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is None:
            node.pop(last, None)
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return doc


@functools.cache
def installed() -> PluginSet:
    """Every installed plugin, the set ``kpo_rules.check`` makes when given none: made once
    per process instead of per check (each check only reads it)."""
    return create_plugin_set()


def check(doc: dict[str, Any]) -> tuple[list[Finding], str]:
    """All findings of one engagement, and the YAML text that was checked."""
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    report = kpo_rules.check(sources=[("x.yaml", text)], plugins=installed())
    broken = [f for f in report.findings
              if f.category in ("syntax", "schema", "reference", "engine-error")]
    assert not broken, f"the test engagement is not valid: {broken[0].rule} {broken[0].message}"
    return list(report.findings), text


def by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def line_of(text: str, pattern: str, after: str = "") -> int:
    """1-based line of the first line matching ``pattern`` below the first match of ``after``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i in range(start, len(lines)) if re.search(pattern, lines[i])) + 1


def rule_ids(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


# ------------------------------------------------------------------------------- supervision


def test_supervised_memo_engagement_is_clean() -> None:
    findings, _ = check(NY_MEMOS)
    assert findings == []


def test_unsupervised_memo_is_a_supervision_error_at_the_assignee() -> None:
    doc = variant(NY_MEMOS, **{"services.0.supervisor": None})
    findings, text = check(doc)
    (finding,) = by_rule(findings, "LEG-SUP-001")
    assert finding.severity.value == "error"
    assert finding.category == "supervision"
    assert (finding.subject.service, finding.subject.staff) == ("memos", "in-1")
    assert finding.line == line_of(text, r"^\s*- in-1$", after="assignees:")
    assert "Rahul Mehta (in-1)" in finding.message
    assert "US-NY" in finding.message
    assert "08-451" in finding.message
    assert rule_ids(findings) == {"LEG-SUP-001"}


def test_assignee_admitted_in_the_clients_state_needs_no_supervisor() -> None:
    service = {**NY_MEMOS["services"][0], "assignees": ["us-9"]}
    service.pop("supervisor")
    findings, _ = check(variant(NY_MEMOS, services=[service]))
    assert not [f for f in findings if f.category == "supervision"]


def test_new_jersey_attorney_cannot_supervise_for_a_new_york_client() -> None:
    supervisor = {**NY_MEMOS["staff"][1],
                  "location": {"country": "US", "subdivision": "US-NJ",
                               "timezone": "America/New_York"},
                  "credentials": [{"id": "us.attorney", "jurisdiction": "US-NJ"}]}
    findings, text = check(variant(NY_MEMOS, **{"staff.1": supervisor}))
    (finding,) = by_rule(findings, "LEG-SUP-002")
    assert finding.severity.value == "error"
    assert (finding.subject.service, finding.subject.staff) == ("memos", "us-9")
    assert finding.line == line_of(text, r"^\s*supervisor: us-9$")
    assert "Laura Chen (us-9)" in finding.message and "US-NY" in finding.message
    # one gap, one finding: the assignee is not reported a second time by LEG-SUP-001
    assert not by_rule(findings, "LEG-SUP-001")


def test_supervisor_admitted_in_two_states_including_the_clients_is_fine() -> None:
    supervisor = {**NY_MEMOS["staff"][1],
                  "credentials": [{"id": "us.attorney", "jurisdiction": "US-NJ"},
                                  {"id": "us.attorney", "jurisdiction": "US-NY"}]}
    findings, _ = check(variant(NY_MEMOS, **{"staff.1": supervisor}))
    assert not [f for f in findings if f.category == "supervision"]


def test_client_without_a_state_is_a_warning_not_a_guess() -> None:
    doc = variant(NY_MEMOS, **{"client.subdivision": None,
                               "provider.serves": {"legal": ["US"]}})
    findings, _ = check(doc)
    (finding,) = by_rule(findings, "LEG-SUP-003")
    assert finding.severity.value == "warning"
    assert finding.subject.staff == "us-9"
    assert "client names no subdivision" in finding.message
    assert not [f for f in findings if f.category == "supervision" and f.severity.value == "error"]


def test_court_reporter_credential_is_not_an_admission_to_practise() -> None:
    supervisor = {**NY_MEMOS["staff"][1], "credentials": [{"id": "us.court_reporter"}]}
    findings, _ = check(variant(NY_MEMOS, **{"staff.1": supervisor}))
    assert rule_ids(findings) >= {"LEG-SUP-002"}


def test_english_document_review_without_supervisor_is_only_a_warning() -> None:
    doc = variant(
        NY_MEMOS,
        client={"name": "Ashcombe & Reeve LLP", "type": "law_firm", "country": "GB",
                "subdivision": "GB-ENG"},
        **{"provider.serves": {"legal": ["GB"]},
           "services.0": {"id": "review", "task": "legal.document_review",
                          "delivery_centre": "gurugram",
                          "data": {"personal_data": True, "transfer_mechanism": "idta"},
                          "safeguards": ["confidentiality_agreement"], "assignees": ["in-1"]},
           "staff.0.familiar_with": ["gb.law"]},
    )
    findings, _ = check(doc)
    (finding,) = by_rule(findings, "LEG-SUP-004")
    assert finding.severity.value == "warning"
    assert finding.subject.staff == "in-1"
    assert not [f for f in findings if f.severity.value == "error"]


# ------------------------------------------------------------------- no false alarms (mechanical)


def test_court_transcription_needs_no_degree_licence_or_supervisor() -> None:
    findings, _ = check(MUNICH_TRANSCRIPTS)
    assert findings == []


def test_paralegal_support_for_a_us_law_firm_raises_nothing() -> None:
    service = {"id": "docketing", "task": "legal.paralegal_support",
               "delivery_centre": "gurugram", "language": "en",
               "data": {"personal_data": True, "categories": ["case_files"]},
               "safeguards": ["client_consent", "confidentiality_agreement"],
               "assignees": ["in-2"]}
    clerk = {"id": "in-2", "name": "Meera Pillai", "role": "paralegal",
             "location": {"country": "IN", "timezone": "Asia/Kolkata"},
             "languages": [{"code": "en", "level": "B2"}]}
    findings, _ = check(variant(NY_MEMOS, services=[service], staff=[clerk]))
    assert findings == []


def test_transcription_by_a_b1_speaker_is_caught_by_the_language_rule() -> None:
    staff = {**MUNICH_TRANSCRIPTS["staff"][0],
             "languages": [{"code": "de", "level": "B1"}, {"code": "pl", "level": "native"}]}
    findings, _ = check(variant(MUNICH_TRANSCRIPTS, staff=[staff]))
    (finding,) = findings
    assert finding.category == "language"
    assert finding.severity.value == "error"
    assert finding.subject.staff == "pl-7"
    assert not finding.rule.startswith("LEG-")  # the common plugin's rule, not a duplicate


def test_c1_is_not_enough_for_transcription_either() -> None:
    staff = {**MUNICH_TRANSCRIPTS["staff"][0],
             "languages": [{"code": "de", "level": "C1"}, {"code": "pl", "level": "native"}]}
    findings, _ = check(variant(MUNICH_TRANSCRIPTS, staff=[staff]))
    assert [f.category for f in findings] == ["language"]


# ------------------------------------------------------------------------- reserved activities


def advice_service(**extra: Any) -> dict[str, Any]:
    return {"id": "advice", "task": "legal.legal_advice", "delivery_centre": "gurugram",
            "language": "en", "data": {"personal_data": False},
            "safeguards": ["client_consent"], "assignees": ["in-1"], **extra}


def test_advice_by_non_admitted_staff_to_a_us_client_is_an_error_even_when_supervised() -> None:
    doc = variant(NY_MEMOS, services=[advice_service(supervisor="us-9")])
    findings, _ = check(doc)
    errors = [f for f in findings if f.category == "eligibility" and f.severity.value == "error"]
    assert [(f.subject.service, f.subject.staff) for f in errors] == [("advice", "in-1")]
    # the generic reserved-task rule of the common plugin gives it; the legal plugin adds none
    assert not errors[0].rule.startswith("LEG-")


def test_the_same_advice_to_an_english_client_is_no_error() -> None:
    doc = variant(
        NY_MEMOS,
        client={"name": "Example Trading Ltd", "type": "corporate", "country": "GB",
                "subdivision": "GB-ENG"},
        services=[advice_service()],
        **{"provider.serves": {"legal": ["GB"]}, "staff.0.familiar_with": ["gb.law"]},
    )
    findings, _ = check(doc)
    assert not [f for f in findings if f.category == "eligibility"]
    assert not [f for f in findings if f.severity.value == "error"]


@pytest.mark.parametrize("subdivision", ["GB-SCT", "GB-NIR"])
def test_advice_to_a_scottish_or_northern_irish_client_cannot_be_judged(subdivision: str) -> None:
    doc = variant(
        NY_MEMOS,
        client={"name": "Example Distillers Ltd", "type": "corporate", "country": "GB",
                "subdivision": subdivision},
        services=[advice_service()],
        **{"provider.serves": {"legal": ["GB"]}, "staff.0.familiar_with": ["gb.law"]},
    )
    findings, _ = check(doc)
    (finding,) = by_rule(findings, "LEG-RES-001")
    assert finding.severity.value == "warning"
    assert subdivision in finding.message
    assert not [f for f in findings if f.category == "eligibility" and f.severity.value == "error"]


def test_advice_to_a_gb_client_without_a_subdivision_cannot_be_judged() -> None:
    doc = variant(
        NY_MEMOS,
        client={"name": "Example Trading Ltd", "type": "corporate", "country": "GB"},
        services=[advice_service()],
        **{"provider.serves": {"legal": ["GB"]}, "staff.0.familiar_with": ["gb.law"]},
    )
    findings, _ = check(doc)
    assert [f.severity.value for f in by_rule(findings, "LEG-RES-002")] == ["warning"]


def test_advice_by_a_new_jersey_attorney_to_a_new_york_client_is_an_error() -> None:
    lawyer = {**NY_MEMOS["staff"][1],
              "credentials": [{"id": "us.attorney", "jurisdiction": "US-NJ"}]}
    doc = variant(NY_MEMOS, services=[advice_service(assignees=["us-9"])],
                  staff=[lawyer])
    findings, _ = check(doc)
    (finding,) = by_rule(findings, "LEG-RES-003")
    assert finding.severity.value == "error"
    assert finding.subject.staff == "us-9"
    ok, _ = check(variant(NY_MEMOS, services=[advice_service(assignees=["us-9"])],
                          staff=[NY_MEMOS["staff"][1]]))
    assert ok == []


def test_captive_german_legal_centre_may_advise_its_group() -> None:
    findings, _ = check(DE_GROUP_ADVICE)
    assert findings == []
    # the exemption is what makes it pass: the same advice by a third party is reserved
    third, _ = check(variant(DE_GROUP_ADVICE, **{"provider.relationship": "third_party"}))
    errors = [f for f in third if f.category == "eligibility" and f.severity.value == "error"]
    assert [f.subject.staff for f in errors] == ["wro-3"]


# ------------------------------------------------------------------------ client confidences


def test_us_law_firm_sharing_confidences_without_consent_is_a_warning() -> None:
    doc = variant(NY_MEMOS, **{"services.0.safeguards": ["confidentiality_agreement"]})
    findings, _ = check(doc)
    (finding,) = by_rule(findings, "LEG-CONF-001")
    assert finding.severity.value == "warning"
    assert finding.category == "data-protection"
    assert finding.subject.service == "memos"
    assert rule_ids(findings) == {"LEG-CONF-001"}


def test_german_law_firm_needs_a_confidentiality_agreement() -> None:
    doc = variant(MUNICH_TRANSCRIPTS, **{"services.0.safeguards": []})
    findings, _ = check(doc)
    (finding,) = by_rule(findings, "LEG-CONF-003")
    assert finding.severity.value == "error"
    assert "BRAO §43e" in finding.message


def test_german_law_firm_with_a_centre_outside_the_eu_is_warned() -> None:
    doc = variant(MUNICH_TRANSCRIPTS, **{
        "provider.delivery_centres": [{"id": "krakow", "country": "IN",
                                       "timezone": "Asia/Kolkata"}],
        "services.0.data": {"personal_data": True, "categories": ["court_records"],
                            "transfer_mechanism": "scc"},
    })
    findings, _ = check(doc)
    (finding,) = by_rule(findings, "LEG-CONF-004")
    assert finding.severity.value == "warning"
    assert "IN" in finding.message


def test_german_law_firm_billing_provider_needs_the_agreement_too() -> None:
    """BRAO §43e names no task: a billing provider sees whom the firm acts for."""
    billing = {"id": "rechnungen", "task": "finance.billing", "delivery_centre": "krakow",
               "language": "de", "data": {"personal_data": True}, "assignees": ["pl-7"]}
    doc = variant(MUNICH_TRANSCRIPTS, services=[billing],
                  **{"provider.serves": {"finance": ["DE"]}})
    findings, text = check(doc)
    (finding,) = by_rule(findings, "LEG-CONF-003")
    assert finding.severity.value == "error" and finding.subject.service == "rechnungen"
    assert finding.line == line_of(text, r"^\s*- id: rechnungen$")
    with_agreement = variant(doc, **{"services.0.safeguards": ["confidentiality_agreement",
                                                               "secrecy_notice"]})
    assert not [f for f in check(with_agreement)[0] if f.rule.startswith("LEG-CONF")]


def test_german_law_firm_agreement_without_secrecy_notice_is_a_warning() -> None:
    doc = variant(MUNICH_TRANSCRIPTS, **{"services.0.safeguards": ["confidentiality_agreement"]})
    findings, _ = check(doc)
    (finding,) = by_rule(findings, "LEG-CONF-005")
    assert finding.severity.value == "warning" and "§203 StGB" in finding.message
    assert rule_ids(findings) == {"LEG-CONF-005"}


def test_german_law_firm_typist_working_from_india_is_warned_at_her_entry() -> None:
    """The centre is in Krakow, but the data goes where the staff member works."""
    typist = {**MUNICH_TRANSCRIPTS["staff"][0], "location": {"country": "IN"}}
    findings, text = check(variant(MUNICH_TRANSCRIPTS, **{"staff.0": typist}))
    (finding,) = by_rule(findings, "LEG-CONF-004")
    assert (finding.subject.service, finding.subject.staff) == ("transcripts", "pl-7")
    assert "Anna Kowalska (pl-7) in IN" in finding.message
    assert finding.line == line_of(text, r"^\s*- pl-7$", after="assignees:")


def test_us_law_firm_billing_provider_shares_client_confidences() -> None:
    billing = {"id": "invoices", "task": "finance.billing", "delivery_centre": "gurugram",
               "language": "en", "assignees": ["in-1"]}
    doc = variant(NY_MEMOS, services=[billing], **{"provider.serves": {"finance": ["US"]}})
    findings, _ = check(doc)
    (finding,) = by_rule(findings, "LEG-CONF-001")
    assert finding.severity.value == "warning" and finding.subject.service == "invoices"
    consented = variant(doc, **{"services.0.safeguards": ["client_consent"]})
    assert not by_rule(check(consented)[0], "LEG-CONF-001")


@pytest.mark.parametrize("subdivision", ["GB-SCT", "GB-NIR"])
def test_an_english_solicitor_does_not_supervise_for_a_scottish_client(subdivision: str) -> None:
    review = {"id": "review", "task": "legal.document_review", "delivery_centre": "gurugram",
              "data": {"personal_data": True, "transfer_mechanism": "idta"},
              "safeguards": ["confidentiality_agreement"], "assignees": ["in-1"],
              "supervisor": "us-9"}
    solicitor = {**NY_MEMOS["staff"][1], "location": {"country": "GB"},
                 "credentials": [{"id": "gb.solicitor"}], "familiar_with": ["gb.law"]}
    english = variant(
        NY_MEMOS,
        client={"name": "Ashcombe & Reeve LLP", "type": "law_firm", "country": "GB",
                "subdivision": "GB-ENG"},
        services=[review],
        **{"provider.serves": {"legal": ["GB"]}, "staff.0.familiar_with": ["gb.law"],
           "staff.1": solicitor},
    )
    assert not [f for f in check(english)[0] if f.category == "supervision"]
    findings, _ = check(variant(english, **{"client.subdivision": subdivision}))
    (finding,) = by_rule(findings, "LEG-SUP-003")
    assert finding.severity.value == "warning" and finding.subject.staff == "us-9"
    assert "other parts of the client's country" in finding.message
    assert rule_ids(findings) & {"LEG-SUP-004", "LEG-SUP-005"} == set()


# ----------------------------------------------------------------------------------- coverage


@pytest.mark.parametrize(("serves", "covered"), [
    (["US-NJ"], False),
    (["US-NY"], True),
    (["US"], True),
])
def test_legal_coverage_reads_subdivisions(serves: list[str], covered: bool) -> None:
    findings, _ = check(variant(NY_MEMOS, **{"provider.serves": {"legal": serves}}))
    coverage = [f for f in findings if f.category == "coverage"]
    assert (coverage == []) is covered
    if not covered:
        assert [(f.severity.value, f.subject.service) for f in coverage] == [("error", "memos")]


def test_states_served_but_none_named_by_the_client_cannot_be_judged() -> None:
    doc = variant(NY_MEMOS, **{"client.subdivision": None,
                               "provider.serves": {"legal": ["US-MI", "US-OH"]}})
    findings, text = check(doc)
    coverage = [f for f in findings if f.category == "coverage"]
    assert [(f.rule, f.severity.value, f.subject.service) for f in coverage] == [
        ("COM-COV-002", "warning", "memos")]
    assert "cannot judge" in coverage[0].message and "names no subdivision" in coverage[0].message
    assert coverage[0].line == line_of(text, r"^\s*- id: memos$")


# ----------------------------------------------------------------------------------- examples


def announced(path: Path) -> Counter[str]:
    """The rule ids the header comment of an example announces under 'Expected findings'."""
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    text = "\n".join(header)
    assert "Expected findings" in text, f"{path.name}: no 'Expected findings' in the header"
    if re.search(r"Expected findings: none\.", text):
        return Counter()
    section = text.split("Expected findings:", 1)[1]
    return Counter(re.findall(r"^#\s+([A-Z]+(?:-[A-Z0-9]+)*-\d{3})\b", section, re.MULTILINE))


EXPECTED = {
    "us-ny-memos-supervised.yaml": Counter(),
    "us-ny-memos-unsupervised.yaml": Counter({"LEG-SUP-001": 2}),
    "de-hearing-transcripts-krakow.yaml": Counter(),
    "de-hearing-transcripts-b1.yaml": Counter({"COM-LANG-001": 1}),
    "gb-document-review-mumbai.yaml": Counter(),
    "de-captive-legal-advice.yaml": Counter(),
}


def test_every_legal_example_is_listed() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_legal_example_findings(name: str) -> None:
    path = EXAMPLES / name
    report = kpo_rules.check([path])
    found = Counter(f.rule for f in report.findings)
    assert found == EXPECTED[name], [f"{f.rule}: {f.message}" for f in report.findings]
    assert announced(path) == EXPECTED[name]


def test_unsupervised_example_names_each_person_and_the_source() -> None:
    report = kpo_rules.check([EXAMPLES / "us-ny-memos-unsupervised.yaml"])
    staff = sorted(f.subject.staff or "" for f in report.findings)
    assert staff == ["in-201", "in-202"]
    for finding in report.findings:
        assert finding.subject.service == "nycomm-memos"
        assert "ABA Formal Op. 08-451" in finding.message
        assert any("08-451" in ref for ref in finding.references)
