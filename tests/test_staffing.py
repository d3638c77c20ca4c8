"""``kpo-rules staff`` / ``kpo_rules.staff``: who could staff a service, decided by the rules
``check`` runs (docs/staffing.md)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT, write

import kpo_rules
from kpo_rules.staffing import ServiceSpec, Staffing, staff
from kpo_rules.staffing import copies as copies_module
from kpo_rules.staffing import query as query_module
from kpo_rules.staffing.copies import key

EXAMPLES = str(ROOT / "examples")
ROSTER = ROOT / "examples" / "rosters" / "manila-centre.yaml"
RETURNS = "hudson-tax-1040-fy2026/returns"


@pytest.fixture(scope="module")
def everyone() -> Staffing:
    """Every service of the shipped examples, every staff member listed."""
    return staff([EXAMPLES], limit=None)


def _entries(answer: Staffing, service: str) -> dict[str, object]:
    (found,) = [s for s in answer.services if f"{s.engagement}/{s.service}" == service]
    return {e.staff: e for e in (*found.candidates, *found.near_misses)}


# ---------------------------------------------------------------------- the command


def test_staff_lists_candidates_and_near_misses_with_their_reasons(run_cli):
    result = run_cli("staff", EXAMPLES, "--service", RETURNS)
    assert result.exit_code == 0, result.output
    out = result.stdout
    head, near = out.split("near misses (what would stop them):")
    assert "7 staff members considered: 3 candidates, 4 near misses" in head
    assert [line.split()[0] for line in head.split("candidates:")[1].splitlines()
            if line.strip()] == ["ny-010", "pn-101", "pn-102"]
    # fewest blocking findings first, then by id; each with the rule and the message
    assert [line.split()[0] for line in near.splitlines() if line.startswith("    ")
            and not line.startswith("      ") and line.strip()] == [
        "mnl-101", "mnl-102", "pn-201", "pn-202"]
    assert ("COM-ELIG-001 [error] Maria Santos (mnl-101) on service 'returns' holds none of "
            "the credentials United States (US) reserves task finance.tax_preparation to "
            "(us.ptin)") in near
    assert "mnl-101 Maria Santos (roster manila-centre, " in near
    assert "2 blocking findings, 1 other finding" in near
    # a file of the run that cannot be read is named, on standard error
    assert "misspelt-field.yaml:41:5: KPO-SCH-001" in result.stderr


def test_a_service_nobody_can_staff_is_called_out(run_cli):
    result = run_cli("staff", EXAMPLES, "--service", "liberty-cpas-audit-fy2026/opinion",
                     "--limit", "1")
    assert result.exit_code == 1
    assert "NOBODY CONSIDERED CAN STAFF THIS SERVICE" in result.stdout
    assert "... and 4 more near misses (--limit N, --all)" in result.stdout
    assert result.stdout.rstrip().endswith(
        "1 service: 0 with candidates, 1 nobody can staff: liberty-cpas-audit-fy2026/opinion")


def test_json_answer_follows_its_published_schema(run_cli):
    result = run_cli("staff", EXAMPLES, "--format", "json", "--limit", "2")
    answer = json.loads(result.stdout)
    published = run_cli("schema", "staffing")
    assert published.exit_code == 0
    schema = json.loads(published.stdout)
    assert schema == json.loads((ROOT / "schemas" / "staffing.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(answer)
    assert answer["limit"] == 2
    (opinion,) = [s for s in answer["services"] if s["service"] == "opinion"]
    assert opinion["staffable"] is False and opinion["candidate_count"] == 0
    assert len(opinion["near_misses"]) == 2 and opinion["near_miss_count"] == 5
    first = opinion["near_misses"][0]
    assert first["staff"] == "hy-01" and first["blocking"] == 1
    assert first["findings"][0]["rule"] == "COM-ELIG-001"
    assert [c["rule"] for c in opinion["conditions"]] == ["FIN-ELIG-003"]
    assert result.exit_code == 1  # opinion: nobody


def test_all_lists_every_staff_member(run_cli):
    result = run_cli("staff", EXAMPLES, "--format", "json", "--all", "--service", RETURNS)
    (service,) = json.loads(result.stdout)["services"]
    listed = [e["staff"] for e in service["candidates"] + service["near_misses"]]
    assert len(listed) == len(set(listed)) == service["considered"] == 7


def test_conditions_are_reported_once_per_service_not_per_person(everyone):
    (corep,) = [s for s in everyone.services
                if (s.engagement, s.service) == ("pennine-sb-regreturns-2026", "corep")]
    assert {f.rule for f in corep.conditions} == {"FIN-OUT-003", "FIN-OUT-004"}
    assert corep.candidate_count == corep.considered  # the exit plan is nobody's fault
    assert not any(f.rule.startswith("FIN-OUT") for e in corep.candidates for f in e.findings)


def test_selection_decides_which_rules_count(run_cli):
    result = run_cli("staff", EXAMPLES, "--service", RETURNS, "--ignore", "COM-ELIG,COM-REG",
                     "--format", "json")
    (service,) = json.loads(result.stdout)["services"]
    mnl = [e for e in service["candidates"] if e["staff"] == "mnl-101"]
    assert [f["rule"] for f in mnl[0]["findings"]] == ["COM-SW-001"]  # a warning only


def test_unknown_service_is_a_usage_error_with_a_suggestion(run_cli):
    result = run_cli("staff", EXAMPLES, "--service", "hudson-tax-1040-fy2026/return")
    assert result.exit_code == 2
    assert "did you mean 'hudson-tax-1040-fy2026/returns'?" in result.stderr


#: The options that describe the 2027 returns of a US client prepared in India.
DESCRIBED = {"--task": "finance.tax_preparation", "--client-country": "US",
             "--period": "2027-01-01..2027-04-15", "--delivery-centre": "IN"}


@pytest.mark.parametrize(("changed", "message"), [
    ({"--delivery-centre": None}, "a described service needs --delivery-centre"),
    ({"--task": "finance.tax_prep"}, "--task finance.tax_prep: no loaded plugin defines this "
     "task (did you mean 'finance.tax_preparation'?)"),
    ({"--period": "2027-04-15"}, "--period 2027-04-15: expected START..END"),
    ({"--period": "2027-04-15..2027-01-01"},
     "period: the end 2027-01-01 is before the start 2027-04-15"),
    ({"--client-type": "bank"}, "client.type: expected one of corporate"),
    ({"--business-hours": "0900"}, "--business-hours 0900: expected START-END, e.g. "
     "09:00-17:00"),
    ({"--business-hours": "09:00-17:00", "--business-days": "mon-funday"},
     "--business-days mon-funday: expected days among mon"),
    ({"--business-days": "mon-fri"}, "--business-days needs --business-hours"),
    ({"--delivery-centre": "IN@Asia/Pune"},
     "the described service is not valid: 'Asia/Pune' is not an IANA time zone (KPO-REF-006)"),
    ({"--client-timezone": "US/Gotham"}, "'US/Gotham' is not an IANA time zone"),
    ({"--client-subdivision": "DE-BY"},
     "--client-subdivision DE-BY is not a subdivision of --client-country US"),
    ({"--supervisor": "mnl-11"}, "--supervisor mnl-11: no roster of the run has this staff "
     "member (did you mean 'mnl-101'?)"),
    ({"--service": RETURNS},
     "--service names a service of a file; a described service is the only one staffed"),
])
def test_a_described_service_that_is_not_valid_is_a_usage_error(run_cli, changed, message):
    options = {**DESCRIBED, **changed}
    args = [part for name, value in options.items() if value is not None
            for part in (name, value)]
    result = run_cli("staff", str(ROSTER), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("args", "message"), [
    ([str(ROOT / "examples" / "finance" / "us-1040-ny-pune.yaml"),
      *(part for option in DESCRIBED.items() for part in option)],
     "no roster found in the paths given"),
    ([str(ROSTER)], "no engagement with a service found: name engagement files, or describe "
     "a service"),
    (["no-such-dir/"], "no-such-dir/: no such file or directory"),
    ([EXAMPLES, "--service", "returns"], "--service returns: no such service in the files "
     "given; name it ENGAGEMENT/SERVICE"),
    ([str(ROOT / "examples" / "structure" / "misspelt-field.yaml"), "--service",
      "isar-legal-transcripts-2026/transcripts"], "no such service in the files given; name "
     "it ENGAGEMENT/SERVICE (metadata.id / services[].id); not read: "
     f"{ROOT / 'examples' / 'structure' / 'misspelt-field.yaml'}:41:5: KPO-SCH-001 unknown "
     "field 'sofware'"),
    ([EXAMPLES, "--select", "COM-NOPE"], "--select: unknown rule or prefix 'COM-NOPE'"),
    ([EXAMPLES, "--limit", "-1"], "Invalid value for '--limit'"),
    ([EXAMPLES, "--format", "xml"], "Invalid value for '--format'"),
    ([EXAMPLES, "--hours-overlap", "25"], "Invalid value for '--hours-overlap'"),
])
def test_bad_input_is_a_usage_error_without_a_traceback(run_cli, args, message):
    result = run_cli("staff", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_a_roster_that_cannot_be_read_is_named(run_cli, tmp_path):
    """A described service is staffed from the rosters alone: one that cannot be read is
    named, whether it leaves nobody to consider (exit 2) or others remain (a warning)."""
    broken = write(tmp_path, "rosters/broken.yaml",
                   "apiVersion: kpo-rules/v1\nkind: Roster\nmetadata: {id: r}\nstaff: [\n")
    described = [part for option in DESCRIBED.items() for part in option]
    alone = run_cli("staff", str(broken), *described)
    assert alone.exit_code == 2
    assert "no roster found in the paths given" in alone.stderr
    assert f"not read: {broken}:5:1: KPO-SYN-001" in alone.stderr
    write(tmp_path, "rosters/manila.yaml", ROSTER.read_text())
    write(tmp_path, "rosters/notes.yaml", "not: a roster\n")
    both = run_cli("staff", str(tmp_path / "rosters"), *described)
    assert both.exit_code == 1  # neither Manila analyst holds a PTIN
    assert f"warning: {broken}:5:1: KPO-SYN-001" in both.stderr
    assert "2 staff members considered" in both.stdout
    assert "notes.yaml" not in both.stderr


def test_a_plugin_that_failed_to_load_makes_the_answer_a_usage_error(tmp_path):
    """Some rules are missing, so nobody is known to be a candidate: exit 2, and said."""
    from conftest import run_subprocess
    from test_cli_core import fake_plugin

    site = fake_plugin(tmp_path, "raise RuntimeError('boom at import')\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    text = run_subprocess("staff", EXAMPLES, "--service", RETURNS, env=env)
    assert text.returncode == 2
    assert text.stdout.startswith(b"plugin broken failed to load: RuntimeError: boom at import")
    as_json = run_subprocess("staff", EXAMPLES, "--service", RETURNS, "--format", "json",
                             env=env)
    assert as_json.returncode == 2
    assert json.loads(as_json.stdout)["plugin_failures"][0]["name"] == "broken"
    assert b"plugin broken failed to load: RuntimeError: boom at import" in as_json.stderr
    assert b"Traceback" not in text.stderr + as_json.stderr


def _documented_examples() -> list[tuple[str, str]]:
    """(command, output) of each ``sh`` block of docs/staffing.md followed by ``text``."""
    import re

    page = (ROOT / "docs" / "staffing.md").read_text()
    return re.findall(r"```sh\n(kpo-rules staff [^`]*?)```\n\n```text\n(.*?)```", page, re.S)


@pytest.mark.parametrize(("command", "shown"), _documented_examples())
def test_the_guides_worked_examples_are_what_the_command_prints(run_cli, command, shown):
    """Every line the guide shows is printed (up to a ``...`` where it shortens one)."""
    import shlex

    args = shlex.split(command.replace("\\\n", " "))[1:]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        result = run_cli(*args)
    assert result.exit_code in (0, 1), result.output
    for line in shown.splitlines():
        head = line.split("...")[0].rstrip(" (")
        if head.strip():
            assert head in result.stdout, line


def test_the_guide_shows_every_kind_of_example():
    assert len(_documented_examples()) == 3


# ---------------------------------------------------------------- one source of truth


def _lone(document: dict, service: dict, staff_id: str) -> dict:
    """The engagement with ``staff_id`` alone on ``service``, and no other service."""
    lone = {k: v for k, v in document.items() if k != "waivers"}
    lone["services"] = [{**service, "assignees": [staff_id]}]
    return lone


def test_every_answer_is_what_check_says_of_the_person_assigned_alone(everyone):
    """For every staff member of every shipped example service: assign them alone and run
    `check`. Its findings about the service, the person (or the service's supervisor, or
    nobody in particular) are exactly the service's conditions plus the person's listed
    findings, so there is a staff-level error exactly when they are not a candidate."""
    from kpo_rules.load.files import SourceFile
    from kpo_rules.pipeline import read
    from kpo_rules.plugins import create_plugin_set

    roster = ROSTER.read_text()
    plugins = create_plugin_set()  # what check makes by default, made once for every pair
    pairs = 0
    for service in everyone.services:
        (document,) = [d.data for d in read(SourceFile(name=service.file,
                                                       path=Path(service.file))).documents
                       if d.data["metadata"]["id"] == service.engagement]
        (entry_service,) = [s for s in document["services"] if s["id"] == service.service]
        boss = entry_service.get("supervisor")
        given = {key(f) for f in service.conditions}
        for entry in (*service.candidates, *service.near_misses):
            lone = _lone(document, entry_service, entry.staff)
            # the roster and the engagement in one file: checked in this process
            report = kpo_rules.check(sources=[("lone.yaml", roster + "\n---\n"
                                               + json.dumps(lone))], waivers=False,
                                     plugins=plugins)
            said = {key(f) for f in report.findings
                    if f.subject.service == service.service
                    or (f.subject.service is None and f.subject.staff in (None, entry.staff,
                                                                          boss))}
            mine = {key(f) for f in entry.findings}
            assert said == given | mine, (service.engagement, service.service, entry.staff)
            staff_errors = {k for k in said - given if k[1] == "error"}
            assert bool(staff_errors) == (not entry.is_candidate)
            pairs += 1
    assert pairs == sum(s.considered for s in everyone.services) > 100


def test_batches_give_the_answer_of_one_session_per_person(everyone):
    alone = staff([EXAMPLES], limit=None, batch=1)
    assert alone.as_dict() == everyone.as_dict()


def test_a_limited_answer_is_the_head_of_the_whole_one(everyone):
    """Batches send back only their best: the best of all are still listed, in order."""
    limited = staff([EXAMPLES], limit=1, batch=2)
    for whole, cut in zip(everyone.services, limited.services, strict=True):
        assert cut.candidates == whole.candidates[:1]
        assert cut.near_misses == whole.near_misses[:1]
        assert (cut.candidate_count, cut.near_miss_count) == (whole.candidate_count,
                                                              whole.near_miss_count)


def test_a_batch_sends_back_no_more_people_than_the_answer_can_list():
    """What keeps memory flat on a large roster: whatever the batch size, the parent
    receives at most ``limit`` candidates and ``limit`` near misses a batch, and counts the
    rest."""
    from kpo_rules.config import Config
    from kpo_rules.filters import Filters
    from kpo_rules.load.discovery import discover
    from kpo_rules.pipeline import load_rules, read, read_rosters
    from kpo_rules.plugins import create_plugin_set

    files = list(discover([EXAMPLES], Config()).files)
    rules = load_rules(create_plugin_set())
    rosters = read_rosters(files, rules)
    judge = copies_module.Judge(rules=rules, roster_staff=rosters.staff, roster_problems={},
                                filters=Filters(config=Config(), known_rules=rules.known,
                                                waivers=False))
    documents = [d for source in files for d in
                 (rosters.read.get(files.index(source)) or read(source))
                 .documents if d.data["kind"] == "Engagement"]
    (returns,) = [o for o in query_module.openings(documents, rosters.staff)
                  if f"{o.engagement}/{o.service['id']}" == RETURNS]
    work = query_module.StaffingWork.plan(judge, [returns], 7, limit=1)
    (judged,) = [work.do(i) for i in range(len(work))]
    assert len(judged.kept) == 2  # the best candidate and the best near miss
    assert (judged.candidates_left, judged.near_misses_left) == (2, 3)


def test_a_rule_joining_copies_sends_the_batch_back_to_one_session_each(monkeypatch):
    """Were a rule to join one copy of the service to another copy's assignee, the batch
    could not be told apart by person: each is judged alone instead."""
    real = copies_module._findings

    def crossing(judge, document):
        found = real(judge, document)
        services = document.data["services"]
        if len(services) > 1:  # a batch: a finding about copy 0 naming copy 1's assignee
            first, second = services[0], services[1]
            found.append(kpo_rules.Finding(
                rule="COM-SW-001", severity=kpo_rules.Severity.ERROR, category="qualification",
                message="crossed", file=document.file, line=1, column=1,
                subject=kpo_rules.Subject(service=first["id"], staff=second["assignees"][0])))
        return found

    monkeypatch.setattr(copies_module, "_findings", crossing)
    answer = staff([EXAMPLES], service=RETURNS, limit=None, jobs=1)
    assert "crossed" not in json.dumps(answer.as_dict())
    monkeypatch.setattr(copies_module, "_findings", real)
    assert answer.as_dict() == staff([EXAMPLES], service=RETURNS, limit=None).as_dict()


def test_a_rule_another_copy_could_silence_makes_every_batch_one_person():
    from dataclasses import replace

    from kpo_rules.pipeline import load_rules
    from kpo_rules.plugins import create_plugin_set

    book = load_rules(create_plugin_set()).content.rules
    assert copies_module.may_see_other_copies(book) == ()  # the shipped rules join by copy
    (lang,) = [r for r in book.rules if r.id == "COM-LANG-001"]
    # "unless anyone in the engagement speaks it": another copy's language could silence it
    loose = replace(lang, unless=tuple(replace(p, conditions=tuple(
        c for c in p.conditions if c.name != "staff")) for p in lang.unless))
    rules = tuple(loose if r is lang else r for r in book.rules)
    assert copies_module.may_see_other_copies(replace(book, rules=rules)) == ("COM-LANG-001",)


def test_a_crash_costs_only_its_batch_and_is_never_a_pass(monkeypatch):
    real = query_module.judge_batch

    def judge_batch(judge, opening, members, given):
        if any(m.id == "pn-101" for m in members):
            os.kill(os.getpid(), signal.SIGSEGV)
        return real(judge, opening, members, given)

    monkeypatch.setattr(query_module, "judge_batch", judge_batch)
    answer = staff([EXAMPLES], service=RETURNS, limit=None, batch=2)
    entries = _entries(answer, RETURNS)
    crashed = entries["pn-101"]
    assert not crashed.is_candidate
    assert [f.rule for f in crashed.findings] == ["KPO-ENG-002"]
    assert entries["ny-010"].is_candidate  # another batch


# ------------------------------------------------------------- a described service


SPEC = ServiceSpec(
    task="finance.tax_preparation", client_country="US", client_subdivision="US-NY",
    client_type="tax_practice", period=(dt.date(2026, 1, 1), dt.date(2026, 4, 15)),
    delivery_centre="IN-MH@Asia/Kolkata", business_hours=("09:00", "17:00"),
    hours_overlap=2, language="en", software=("cch_axcess",),
    data_categories=("tax_return_information",), safeguards=("client_consent",))

EQUIVALENT = """\
apiVersion: kpo-rules/v1
kind: Engagement
metadata: {id: described}
period: {start: 2026-01-01, end: 2026-04-15}
client:
  name: described client
  type: tax_practice
  country: US
  subdivision: US-NY
  business_hours: {start: "09:00", end: "17:00", days: [mon, tue, wed, thu, fri]}
provider:
  name: described provider
  relationship: third_party
  serves: {finance: [US-NY]}
  delivery_centres: [{id: IN-MH, country: IN, subdivision: IN-MH, timezone: Asia/Kolkata}]
services:
  - id: finance.tax_preparation
    task: finance.tax_preparation
    delivery_centre: IN-MH
    language: en
    software: [cch_axcess]
    hours_overlap: 2
    data: {personal_data: true, categories: [tax_return_information]}
    safeguards: [client_consent]
    assignees: [mnl-101]
"""


def _pune_roster() -> str:
    """The Pune staff of the 1040 example as a roster."""
    text = (ROOT / "examples" / "finance" / "us-1040-ny-pune.yaml").read_text()
    return ("apiVersion: kpo-rules/v1\nkind: Roster\nmetadata: {id: pune}\n"
            + text[text.index("staff:\n"):])


def test_a_described_service_gets_the_answer_of_its_engagement_file(tmp_path):
    write(tmp_path, "rosters/pune.yaml", _pune_roster())
    write(tmp_path, "rosters/manila.yaml", ROSTER.read_text())
    write(tmp_path, "engagement.yaml", EQUIVALENT)
    described = staff([tmp_path / "rosters"], describe=SPEC, limit=None)
    from_file = staff([tmp_path], service="described/finance.tax_preparation", limit=None)
    (a,), (b,) = described.services, from_file.services
    assert (a.file, b.file) == ("(described service)", str(tmp_path / "engagement.yaml"))
    assert {**a.as_dict(), "file": "", "line": 0} == {**b.as_dict(), "file": "", "line": 0}
    assert a.considered == 7 and a.candidate_count == 3
    assert {e.staff for e in a.candidates} == {"ny-010", "pn-101", "pn-102"}


def test_the_command_line_describes_a_service(run_cli, tmp_path):
    write(tmp_path, "pune.yaml", _pune_roster())
    result = run_cli(
        "staff", str(tmp_path), str(ROSTER), "--format", "json", "--all",
        "--task", "finance.tax_preparation", "--client-country", "US",
        "--client-subdivision", "US-NY", "--client-type", "tax_practice",
        "--period", "2026-01-01..2026-04-15", "--delivery-centre", "IN-MH@Asia/Kolkata",
        "--business-hours", "09:00-17:00", "--business-days", "mon-fri", "--hours-overlap", "2",
        "--language", "en", "--software", "cch_axcess",
        "--data-category", "tax_return_information", "--safeguard", "client_consent")
    assert result.exit_code == 0, result.output
    schema = json.loads((ROOT / "schemas" / "staffing.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads(result.stdout))
    (cli,) = json.loads(result.stdout)["services"]
    (library,) = staff([tmp_path, ROSTER], describe=SPEC, limit=None).services
    assert cli == library.as_dict()


def test_the_library_exposes_the_query():
    assert kpo_rules.staff is staff
    assert "staff" in kpo_rules.__all__
