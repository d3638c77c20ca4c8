"""Input a run must survive, through the real CLI: special files, endless input, numbers too
long to print, documents too big to check, and the YAML people write by mistake.

Each hostile input is one finding on its own file; the files beside it keep their findings.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DATA, ROOT

from kpo_rules.config import Config
from kpo_rules.load import document_checks, reading
from kpo_rules.load.discovery import discover
from kpo_rules.load.files import SourceFile, read_stdin
from kpo_rules.pipeline import read as read_file

MINIMAL = (DATA / "clean" / "minimal.yaml").read_text()
# Two good files with findings of their own, which a hostile neighbour must not cost them.
GOOD = [
    ROOT / "examples" / "finance" / "us-1040-ny-pune-findings.yaml",
    ROOT / "examples" / "legal" / "us-ny-memos-unsupervised.yaml",
]
SECONDS = 30  # "within seconds" on a loaded 2-core machine, start-up included


def kpo(*args: str, stdin: int | None = None, timeout: float = SECONDS
        ) -> tuple[subprocess.CompletedProcess[bytes], float]:
    """``python -m kpo_rules ARGS`` in a real process, killed after ``timeout`` seconds."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "kpo_rules", *args],
        stdin=subprocess.DEVNULL if stdin is None else stdin,
        capture_output=True, timeout=timeout, check=False)
    return proc, time.monotonic() - started


def findings_by_file(report: dict) -> dict[str, list[tuple[str, int, str]]]:
    out: dict[str, list[tuple[str, int, str]]] = {}
    for f in report["findings"]:
        out.setdefault(f["file"], []).append((f["rule"], f["line"], f["message"]))
    return out


@pytest.fixture
def good_findings() -> dict[str, list[tuple[str, int, str]]]:
    """What the good files give on their own."""
    proc, _ = kpo("check", "--format", "json", *map(str, GOOD), timeout=120)
    found = findings_by_file(json.loads(proc.stdout))
    assert set(found) == {str(p) for p in GOOD}  # each has findings to lose
    return found


def check_beside_good(hostile: Path, good_findings: dict) -> tuple[str, int, str]:
    """Check ``hostile`` between the good files; return its one finding."""
    proc, elapsed = kpo("check", "--format", "json", str(GOOD[0]), str(hostile), str(GOOD[1]))
    assert elapsed < SECONDS
    assert proc.returncode == 1, proc.stderr
    assert b"Traceback" not in proc.stderr
    found = findings_by_file(json.loads(proc.stdout))
    assert {k: v for k, v in found.items() if k != str(hostile)} == good_findings
    (only,) = found[str(hostile)]
    return only


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- special files


def test_fifo_named_on_the_command_line_is_a_finding_not_a_hang(tmp_path, good_findings):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # nobody ever writes to it: a blocking open would wait forever
    rule, line, message = check_beside_good(fifo, good_findings)
    assert rule == "KPO-SYN-001" and line == 1
    assert message.startswith("not a regular file: this is a named pipe (FIFO)")


def test_dev_zero_named_on_the_command_line_is_a_finding(good_findings):
    rule, _, message = check_beside_good(Path("/dev/zero"), good_findings)
    assert rule == "KPO-SYN-001"
    assert "character device" in message


def test_endless_standard_input_stops_at_the_size_limit():
    with open("/dev/zero", "rb") as zero:
        proc, elapsed = kpo("check", "--format", "json", "-", stdin=zero.fileno())
    assert elapsed < SECONDS
    assert proc.returncode == 1, proc.stderr
    (finding,) = json.loads(proc.stdout)["findings"]
    assert finding["file"] == "<stdin>"
    assert finding["message"].startswith("file too large: more than 67,108,864 bytes")
    assert "the limit is 64 MiB" in finding["message"]
    assert finding["remediation"].startswith("Name a regular YAML file")


def test_standard_input_is_read_in_bounded_chunks():
    class Endless:
        def __init__(self) -> None:
            self.reads: list[int] = []

        def read(self, size: int) -> bytes:
            self.reads.append(size)
            return b"a" * size

    stream = Endless()
    assert reading.read_at_most(stream, 10) is None  # type: ignore[arg-type]
    assert sum(stream.reads) == 11
    with open(os.devnull, "rb") as empty:
        assert read_stdin("<stdin>", empty).read() == b""


def test_socket_is_a_finding(tmp_path):
    path = tmp_path / "s.yaml"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        result = read_file(SourceFile(name="s.yaml", path=path))
    (finding,) = result.findings
    assert finding.rule == "KPO-SYN-001"
    assert "this is a socket" in finding.message


def test_file_swapped_for_a_fifo_mid_run_is_a_finding(tmp_path):
    path = write(tmp_path, "e.yaml", MINIMAL)
    (source,) = discover([path], Config()).files  # found while it was a regular file
    path.unlink()
    os.mkfifo(path)
    started = time.monotonic()
    (finding,) = read_file(source).findings
    assert time.monotonic() - started < 5
    assert "named pipe (FIFO)" in finding.message


def test_what_is_read_is_what_was_checked(tmp_path, monkeypatch):
    """A FIFO that passes the first ``stat`` (swapped in just after it) is caught on the
    open descriptor, and the non-blocking open does not wait for a writer."""
    fifo = tmp_path / "late.yaml"
    os.mkfifo(fifo)
    regular = os.stat(write(tmp_path, "regular.yaml", "a: 1\n"))
    real_stat = os.stat
    monkeypatch.setattr(reading.os, "stat",
                        lambda p, *a, **k: regular if Path(p) == fifo else real_stat(p, *a, **k))
    started = time.monotonic()
    (finding,) = read_file(SourceFile(name="late.yaml", path=fifo)).findings
    assert time.monotonic() - started < 5
    assert "named pipe (FIFO)" in finding.message


def test_file_over_the_limit_is_refused_by_its_size(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 100)
    path = write(tmp_path, "big.yaml", "a: 1\n" * 30)
    (finding,) = read_file(SourceFile(name="big.yaml", path=path)).findings
    assert finding.message.startswith("file too large: 150 bytes")


def test_file_that_grows_past_the_limit_while_read_is_refused(tmp_path):
    path = write(tmp_path, "grows.yaml", "a: 1\n")
    real_fstat = os.fstat

    class Shrunk:  # fstat says 5 bytes; the file holds 1,000
        def __init__(self, fd: int) -> None:
            self._info = real_fstat(fd)

        def __getattr__(self, name: str) -> object:
            return 5 if name == "st_size" else getattr(self._info, name)

    path.write_text("a: 1\n" * 200)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reading.os, "fstat", Shrunk)
        with pytest.raises(reading.FileReadError, match="more than 100 bytes"):
            reading.read_regular_file(path, limit=100)


def test_unreadable_file_says_why(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    path = write(tmp_path, "secret.yaml", MINIMAL)
    path.chmod(0)
    (finding,) = read_file(SourceFile(name="secret.yaml", path=path)).findings
    assert finding.message == "cannot read the file: Permission denied"


# --------------------------------------------------------------------------- integers


def test_hex_integer_too_long_to_print_is_a_finding_beside_good_files(tmp_path, good_findings):
    text = MINIMAL.replace("id: minimal-clean", "id: 0x" + "f" * 3600)
    assert 3_500 < len(text.encode()) < 5_000  # the ~4 KB file of the report
    rule, line, message = check_beside_good(write(tmp_path, "hex.yaml", text), good_findings)
    assert (rule, line) == ("KPO-SYN-001", 4)
    assert message.startswith("integer with 3,600 digits is too long (the limit is 100)")


@pytest.mark.parametrize("number", ["0o" + "7" * 5000, "1" * 5000, "-" + "9" * 101])
def test_every_base_is_bounded_alike(tmp_path, run_cli, number):
    text = MINIMAL.replace("id: minimal-clean", f"id: {number}")
    result = run_cli("check", "--format", "json", str(write(tmp_path, "n.yaml", text)))
    (finding,) = json.loads(result.stdout)["findings"]
    assert "is too long (the limit is 100)" in finding["message"]


def test_binary_looking_text_is_a_string_in_yaml_1_2(tmp_path, run_cli):
    # The core schema has no 0b integers: this is text, and a valid id.
    text = MINIMAL.replace("id: minimal-clean", "id: 0b" + "1" * 3600)
    result = run_cli("check", "--format", "json", str(write(tmp_path, "b.yaml", text)))
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["summary"]["engagements"] == 1


# --------------------------------------------------------------------------- caps


def engagement_with(services: int = 1, staff: int = 1, assignees: int = 1) -> str:
    head = MINIMAL.split("services:\n")[0]
    ids = ", ".join(f"s-{j % staff}" for j in range(assignees))
    lines = [head, "services:\n"]
    lines += [f"  - {{id: v{i}, task: finance.billing, delivery_centre: pune, "
              f"assignees: [{ids}]}}\n" for i in range(services)]
    lines.append("staff:\n")
    lines += [f"  - {{id: s-{j}, name: N, location: {{country: IN}}}}\n" for j in range(staff)]
    return "".join(lines)


SERVICES_LINE = MINIMAL.split("\n").index("services:") + 1


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (engagement_with(services=2_001),
         "services: 2,001 services in one engagement; the limit is 2,000", SERVICES_LINE),
        (engagement_with(staff=2_001),
         "staff: 2,001 staff members written in one engagement; the limit is 2,000",
         SERVICES_LINE + 2),
        (engagement_with(services=2, staff=1, assignees=5_001),
         "services: 10,002 assignees over all services of one engagement; the limit is "
         "10,000", SERVICES_LINE),
        (engagement_with(services=1, staff=1, assignees=10_001),
         "services[0].assignees: 10,001 assignees of one service; the limit is 10,000",
         SERVICES_LINE + 1),
        (MINIMAL + "    credentials:\n" + "      - {id: in.cma}\n" * 1_001,
         "staff[0].credentials: 1,001 items in one list; the limit is 1,000",
         MINIMAL.count("\n") + 1),
        (MINIMAL.replace(
            "  id: minimal-clean\n", "  id: minimal-clean\n  labels:\n"
            + "".join(f"    k{i}: v\n" for i in range(1_001))),
         "metadata.labels: 1,001 keys in one mapping; the limit is 1,000", 5),
    ],
    ids=["services", "staff", "assignments", "assignees", "list", "mapping"],
)
def test_a_document_over_a_limit_is_one_finding_naming_it(tmp_path, run_cli, text, message,
                                                          line):
    started = time.monotonic()
    result = run_cli("check", "--format", "json", str(write(tmp_path, "big.yaml", text)))
    assert time.monotonic() - started < SECONDS
    assert result.exit_code == 1
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["rule"], finding["message"], finding["line"]) == ("KPO-SCH-001", message,
                                                                       line)
    assert "the limit keeps one file from stalling a whole run" in finding["remediation"]


def test_at_the_limit_is_fine(tmp_path, run_cli):
    text = engagement_with(services=1, staff=1, assignees=1_000)
    result = run_cli("check", "--format", "json", str(write(tmp_path, "ok.yaml", text)))
    messages = [f["message"] for f in json.loads(result.stdout)["findings"]]
    assert not [m for m in messages if "the limit is" in m]


def test_roster_staff_limit(tmp_path, run_cli, monkeypatch):
    monkeypatch.setattr(document_checks, "MAX_ROSTER_STAFF", 3)
    staff = "".join(f"  - {{id: r-{i}, name: N, location: {{country: IN}}}}\n" for i in range(4))
    text = f"apiVersion: kpo-rules/v1\nkind: Roster\nmetadata: {{id: r}}\nstaff:\n{staff}"
    result = run_cli("check", "--format", "json", str(write(tmp_path, "r.yaml", text)))
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["message"] == "staff: 4 staff members in one roster; the limit is 3"
    assert finding["remediation"].startswith("Split the roster into several roster documents")


def test_the_limits_are_documented_as_they_are():
    doc = document_checks.__doc__ or ""
    for limit in (document_checks.MAX_SERVICES, document_checks.MAX_ENGAGEMENT_STAFF,
                  document_checks.MAX_ASSIGNMENTS, document_checks.MAX_ROSTER_STAFF,
                  document_checks.MAX_ITEMS):
        assert f"{limit:,}" in doc
    assert f"{document_checks.MAX_PERIOD_YEARS} years" in doc
    # A document of fewer nodes than the smallest limit is never walked: that needs every
    # per-place limit to be at least the generic one.
    per_place = (document_checks.MAX_SERVICES, document_checks.MAX_ENGAGEMENT_STAFF,
                 document_checks.MAX_ASSIGNMENTS, document_checks.MAX_ROSTER_STAFF)
    assert min(per_place) >= document_checks.MAX_ITEMS


# --------------------------------------------------------------------------- period


@pytest.mark.parametrize(
    ("period", "message", "path"),
    [
        ("{start: 2026-12-31, end: 2026-01-01}",
         "period: the end 2026-01-01 is before the start 2026-12-31", "/period"),
        ("{start: 2026-01-01, end: 9999-12-31}",
         "period.end: 9999-12-31 is outside the years 1900-2999 that kpo-rules judges "
         "engagements in", "/period/end"),
        ("{start: 0001-01-01, end: 0001-12-31}",
         "period.start: 0001-01-01 is outside the years 1900-2999 that kpo-rules judges "
         "engagements in", "/period/start"),
        ("{start: 2026-01-01, end: 2076-01-02}",
         "period: 2026-01-01 to 2076-01-02 is longer than 50 years, the limit", "/period"),
    ],
    ids=["reversed", "open-ended", "year-one", "too-long"],
)
def test_period_problems_are_schema_findings_at_the_period(tmp_path, run_cli, period, message,
                                                           path):
    text = MINIMAL.replace("{start: 2026-01-01, end: 2026-12-31}", period)
    result = run_cli("check", "--format", "json", str(write(tmp_path, "p.yaml", text)))
    assert result.exit_code == 1
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["rule"], finding["message"], finding["path"]) == ("KPO-SCH-001", message,
                                                                      path)
    assert finding["line"] == 5  # the period's line


def test_period_of_one_day_and_of_fifty_years_are_fine(tmp_path, run_cli):
    for period in ("{start: 2026-03-01, end: 2026-03-01}", "{start: 2024-02-29, end: 2074-02-28}"):
        text = MINIMAL.replace("{start: 2026-01-01, end: 2026-12-31}", period)
        result = run_cli("check", str(write(tmp_path, "p.yaml", text)))
        assert result.exit_code == 0, result.stdout


def test_reversed_period_beside_other_schema_errors(tmp_path, run_cli):
    text = MINIMAL.replace("{start: 2026-01-01, end: 2026-12-31}",
                           "{start: 2026-12-31, end: 2026-01-01}").replace("type: corporate",
                                                                           "type: 7")
    result = run_cli("check", "--format", "json", str(write(tmp_path, "p.yaml", text)))
    messages = [f["message"] for f in json.loads(result.stdout)["findings"]]
    assert messages[0] == "period: the end 2026-01-01 is before the start 2026-12-31"
    assert messages[1].startswith("client.type: expected")


# --------------------------------------------------------------------------- YAML people write

ANCHORED = """\
apiVersion: kpo-rules/v1
kind: Engagement
metadata:
  id: merge
period: {start: 2026-01-01, end: 2026-12-31}
client: &client
  name: Northwind Traders Inc.
  type: corporate
  country: US
provider:
  <<: *client
  serves: {finance: [US]}
"""


def test_merge_key_has_its_own_message(tmp_path, run_cli):
    result = run_cli("check", "--format", "json", str(write(tmp_path, "m.yaml", ANCHORED)))
    (finding,) = json.loads(result.stdout)["findings"]  # no "unknown field", no missing ones
    assert finding["rule"] == "KPO-SYN-001"
    assert (finding["line"], finding["column"]) == (11, 3)
    assert finding["message"].startswith(
        "merge key '<<': merge keys are YAML 1.1, and kpo-rules reads YAML 1.2; write the "
        "fields out")


@pytest.mark.parametrize(
    ("edit", "message", "where"),
    [
        (("period:", "\t\nperiod:"),
         "a blank line holds a tab character; delete it", (5, 1)),
        (("  - id: invoices", "  -\tid: invoices"),
         "tab character after '-'; write a space there instead", (18, 4)),
        (("metadata:\n  id: minimal-clean", "metadata:\n\tid: minimal-clean"),
         "tab character: YAML indents with spaces, never tabs", (4, 1)),
        (("period:", "\t# when\nperiod:"),
         "tab character before a comment; indent comments with spaces", (5, 1)),
    ],
    ids=["blank-line", "after-dash", "indentation", "before-comment"],
)
def test_tabs_get_an_accurate_message(tmp_path, run_cli, edit, message, where):
    text = MINIMAL.replace(*edit)
    result = run_cli("check", "--format", "json", str(write(tmp_path, "t.yaml", text)))
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["rule"] == "KPO-SYN-001"
    assert finding["message"].startswith(message)
    assert (finding["line"], finding["column"]) == where


@pytest.mark.parametrize(
    ("char", "name"),
    [("\u2028", "U+2028 (LINE SEPARATOR)"), ("\u2029", "U+2029 (PARAGRAPH SEPARATOR)"),
     ("\x85", "U+0085 (NEXT LINE)")],
)
def test_yaml_1_1_line_breaks_outside_quotes_are_named(tmp_path, run_cli, char, name):
    text = MINIMAL.replace("name: Ravi Kumar", f"name: Ravi{char}Kumar")
    result = run_cli("check", "--format", "json", str(write(tmp_path, "u.yaml", text)))
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["rule"] == "KPO-SYN-001"
    assert finding["message"].startswith(f"character {name} at line 24, column 15, outside "
                                         "quotes: YAML 1.2 keeps it as text")
    assert (finding["line"], finding["column"]) == (24, 15)


def test_line_separator_inside_quotes_is_text(tmp_path, run_cli):
    text = MINIMAL.replace("name: Ravi Kumar", "name: 'Ravi\u2028Kumar'")
    result = run_cli("check", str(write(tmp_path, "q.yaml", text)))
    assert result.exit_code == 0, result.stdout
