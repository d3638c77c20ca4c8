"""What a person at a terminal reads: one line per finding, ``--format full`` with the
source line, ``--statistics``, colour as click/rich tools decide it, a progress line only
on a terminal, and control characters from a file shown as escapes, never obeyed."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import DATA, ROOT

import kpo_rules
from kpo_rules.cli.color import should_color
from kpo_rules.cli.progress import Progress, wanted
from kpo_rules.report.terminal import printable

MINIMAL = (DATA / "clean" / "minimal.yaml").read_text()
FINDINGS = MINIMAL.replace(
    "    assignees: [s-1]\n", "    assignees: [s-1, s-9]\n    software: [sap]\n"
)
LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<rule>[A-Z0-9-]+) "
    r"\[(?P<severity>error|warning|info)\] (?P<message>.*?)(?: \((?P<subject>[^()]*)\))?$"
)
ANSI = "\033["
# A staff name that would clear the screen, move the cursor home, and print a fake summary
# on a fresh line, reversed by a bidi override.
EVIL_NAME = r"Eve\e[2J\e[H\r\n1 file, 1 engagement checked: 0 errors\u202e"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM", "CI", "PRE_COMMIT"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "eng.yaml").write_text(FINDINGS)
    (tmp_path / "clean.yaml").write_text(MINIMAL.replace("minimal-clean", "other-clean"))
    return tmp_path


def json_findings(run_cli, *args: str) -> list[dict]:
    return json.loads(run_cli("check", "--format", "json", *args).stdout)["findings"]


def subject(f: dict) -> str | None:
    parts = [f"{k} {f['subject'][k]}" for k in ("service", "staff") if k in f["subject"]]
    return ", ".join(parts) or None


# --------------------------------------------------------------------------- concise text


def test_text_is_one_line_per_finding_then_a_summary(workdir, run_cli):
    result = run_cli("check", "eng.yaml", "clean.yaml")
    assert result.exit_code == 1
    expected = json_findings(run_cli, "eng.yaml", "clean.yaml")
    lines = result.stdout.splitlines()
    parsed = [LINE.match(line) for line in lines[: len(expected)]]
    assert all(parsed), lines
    for match, f in zip(parsed, expected, strict=True):
        assert (match["file"], int(match["line"]), int(match["column"])) == (
            f["file"], f["line"], f["column"])
        assert (match["rule"], match["severity"], match["message"]) == (
            f["rule"], f["severity"], f["message"])
        assert match["subject"] == subject(f)
    n = Counter(f["severity"] for f in expected)
    assert lines[len(expected)] == ""
    assert lines[len(expected) + 1] == (
        f"2 files, 2 engagements checked: {n['error']} error{'s' * (n['error'] != 1)}, "
        f"{n['warning']} warning{'s' * (n['warning'] != 1)}, {n['info']} info")
    assert ANSI not in result.stdout


def test_the_shipped_examples_print_one_line_per_finding(run_cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run_cli("check", "examples/")
    expected = json_findings(run_cli, "examples/")
    lines = result.stdout.splitlines()
    assert [LINE.match(line)["rule"] for line in lines[: len(expected)]] == [
        f["rule"] for f in expected]
    assert re.match(r"^\d+ files, \d+ engagements checked: \d+ errors?, ", lines[len(expected) + 1])
    # the old report's fix and sources (about 1 KB a finding) are for --format full only
    assert "fix:" not in result.stdout and "see:" not in result.stdout


def test_clean_run_prints_only_the_summary(workdir, run_cli):
    result = run_cli("check", "clean.yaml")
    assert result.exit_code == 0
    assert result.stdout == "1 file, 1 engagement checked: 0 errors, 0 warnings, 0 info\n"


def test_show_waived_lists_waived_findings_as_lines(workdir, run_cli):
    waiver = ("waivers:\n  - {rule: COM-SW-001, subject: s-1, reason: training booked,\n"
              "     approved_by: lead@example.com, expires: 2026-12-31}\n")
    (workdir / "eng.yaml").write_text(FINDINGS + waiver)
    result = run_cli("check", "--today", "2026-06-01", "--show-waived", "eng.yaml")
    lines = result.stdout.splitlines()
    waived = lines[lines.index("waived findings:") + 1]
    assert LINE.match(waived)["rule"] == "COM-SW-001"
    assert "(1 waived)" in result.stdout


# --------------------------------------------------------------------------- full


def test_full_shows_the_source_line_a_caret_the_fix_and_the_sources(workdir, run_cli):
    result = run_cli("check", "--format", "full", "eng.yaml")
    assert result.exit_code == 1
    source = (workdir / "eng.yaml").read_text().splitlines()
    out = result.stdout.splitlines()
    for f in json_findings(run_cli, "eng.yaml"):
        head = out.index(next(line for line in out if line.startswith(
            f"eng.yaml:{f['line']}:{f['column']}: {f['rule']} ")))
        gutter = " " * len(str(f["line"]))
        assert out[head + 2] == f"{f['line']} | {source[f['line'] - 1]}"
        assert out[head + 3] == f"{gutter} | " + " " * (f["column"] - 1) + "^"
        block = out[head: out.index("", head)]
        assert f"  = fix: {f['remediation']}" in block
        assert [line[len("  = see: "):] for line in block if line.startswith("  = see: ")] \
            == f["references"]
        assert f"  = rule: kpo-rules rules show {f['rule']}" in block
    assert out[-1].startswith("1 file, 1 engagement checked: ")


def test_full_without_a_readable_file_has_no_snippet(run_cli):
    result = run_cli("check", "--format", "full", "-", input=FINDINGS)
    assert result.exit_code == 1
    assert " | " not in result.stdout and "= fix:" in result.stdout


# --------------------------------------------------------------------------- statistics


@pytest.mark.parametrize("fmt", ["text", "full"])
def test_statistics_count_findings_per_rule(workdir, run_cli, fmt):
    result = run_cli("check", "--statistics", "--format", fmt, "eng.yaml", "clean.yaml")
    assert result.exit_code == 1
    expected = Counter(f["rule"] for f in json_findings(run_cli, "eng.yaml", "clean.yaml"))
    rows = [line.split() for line in result.stdout.splitlines()
            if line[:1] in " 0123456789" and " checked: " not in line and line.strip()]
    assert {row[1]: int(row[0]) for row in rows} == expected
    assert "KPO-REF-001" in result.stdout and "Service names unknown staff" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("2 files, 2 engagements checked: ")


def test_statistics_as_json_and_refused_for_other_formats(monkeypatch, run_cli, tmp_path):
    monkeypatch.chdir(ROOT)
    result = run_cli("check", "--statistics", "--format", "json", "examples/")
    rows = json.loads(result.stdout)
    expected = Counter(f["rule"] for f in json_findings(run_cli, "examples/"))
    assert {r["rule"]: r["count"] for r in rows} == expected
    assert [r["count"] for r in rows] == sorted(expected.values(), reverse=True)
    refused = run_cli("check", "--statistics", "--format", "sarif", "examples/")
    assert refused.exit_code == 2 and "--statistics" in refused.stderr


# --------------------------------------------------------------------------- hostile values


def evil(workdir: Path) -> Path:
    text = MINIMAL.replace("name: Ravi Kumar", f'name: "{EVIL_NAME}"').replace(
        "level: B2", "level: A2")  # COM-LANG-001 quotes the staff name
    path = workdir / "evil.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("fmt", ["text", "full", "github"])
def test_control_characters_from_a_file_are_shown_escaped(workdir, run_cli, fmt):
    evil(workdir)
    result = run_cli("check", "--format", fmt, "--color", "never", "evil.yaml")
    assert result.exit_code == 1
    out = result.stdout
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out
    assert "\\x1b[2J\\x1b[H" in out and "\\u202e" in out
    assert "Eve" in out
    # the forged summary never stands on a line of its own
    assert not any(line.startswith("1 file, 1 engagement checked: 0 errors")
                   for line in out.splitlines())
    if fmt != "github":
        assert "\\r\\n1 file" in out


def test_printable_escapes_every_control_and_bidi_character():
    controls = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
    bidi = ["\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)),
            *map(chr, range(0x2066, 0x206A)), "\u2028", "\u2029"]
    for char in controls + bidi:
        shown = printable(f"a{char}b")
        assert char not in shown and shown.startswith("a\\") and shown.endswith("b"), repr(char)
    assert printable("Zürich 東京 €") == "Zürich 東京 €"


# --------------------------------------------------------------------------- colour


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("setting", "env", "tty", "expected"), [
    ("auto", {}, True, True),
    ("auto", {}, False, False),
    ("auto", {"NO_COLOR": "1"}, True, False),
    ("auto", {"NO_COLOR": ""}, True, True),           # empty means unset (no-color.org)
    ("auto", {"FORCE_COLOR": "1"}, False, True),
    ("auto", {"FORCE_COLOR": ""}, False, False),
    ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, True, False),  # as rich decides
    ("auto", {"TERM": "dumb"}, True, False),
    ("auto", {"TERM": "dumb", "FORCE_COLOR": "1"}, True, True),
    ("always", {"NO_COLOR": "1", "TERM": "dumb"}, False, True),
    ("never", {"FORCE_COLOR": "1"}, True, False),
    ("auto", {"PRE_COMMIT": "1", "PRE_COMMIT_COLOR": "always"}, False, True),
    ("auto", {"PRE_COMMIT": "1", "PRE_COMMIT_COLOR": "never"}, True, False),
    ("auto", {"PRE_COMMIT_COLOR": "always"}, False, False),  # not under pre-commit
])
def test_colour_is_decided_like_click_and_rich_tools(setting, env, tty, expected):
    stream = Tty() if tty else io.StringIO()
    assert should_color(setting, stream, env) is expected


def test_color_option_and_force_color_through_the_cli(workdir, run_cli):
    plain = run_cli("check", "eng.yaml")
    assert ANSI not in plain.stdout  # CliRunner's output is not a terminal
    forced = run_cli("check", "--color", "always", "eng.yaml")
    assert ANSI in forced.stdout
    assert re.sub(r"\033\[[0-9;]*m", "", forced.stdout) == plain.stdout
    assert ANSI in run_cli("check", "eng.yaml", env={"FORCE_COLOR": "1"}).stdout
    assert ANSI not in run_cli("check", "eng.yaml",
                               env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert ANSI not in run_cli("check", "--color", "never", "eng.yaml",
                               env={"FORCE_COLOR": "1"}).stdout
    assert ANSI in run_cli("check", "--format", "full", "eng.yaml",
                           env={"FORCE_COLOR": "1"}).stdout
    # machine formats never carry colour
    for fmt in ("json", "sarif", "junit", "github", "gitlab"):
        assert ANSI not in run_cli("check", "--format", fmt, "--color", "always",
                                   "eng.yaml").stdout, fmt


def test_output_file_is_plain_unless_asked(workdir, run_cli):
    run_cli("check", "-o", "a.txt", "eng.yaml", env={"FORCE_COLOR": "1"})
    assert ANSI not in Path("a.txt").read_text()
    run_cli("check", "-o", "b.txt", "--color", "always", "eng.yaml")
    assert ANSI in Path("b.txt").read_text()


def run_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``kpo-rules ARGS`` with stdout and stderr on a pseudo-terminal, the way
    pre-commit runs a hook when its own colour is on; returns (exit code, output)."""
    reader, writer = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "kpo_rules", *args], stdin=subprocess.DEVNULL,
                            stdout=writer, stderr=writer, env=env)
    os.close(writer)
    out = b""
    while True:
        try:
            chunk = os.read(reader, 65536)
        except OSError:  # EIO: the other end closed
            break
        if not chunk:
            break
        out += chunk
    os.close(reader)
    return proc.wait(timeout=120), out.decode()


def test_colour_on_a_terminal_and_under_pre_commit(workdir):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "CI", "PRE_COMMIT")}
    env["TERM"] = "xterm"
    code, out = run_on_a_terminal(["check", "eng.yaml"], env)
    assert code == 1 and ANSI in out
    code, out = run_on_a_terminal(["check", "eng.yaml"], {**env, "PRE_COMMIT": "1"})
    assert code == 1 and ANSI in out and "checked 1/1" not in out
    code, out = run_on_a_terminal(["check", "eng.yaml"], {**env, "TERM": "dumb"})
    assert code == 1 and ANSI not in out


# --------------------------------------------------------------------------- progress


def test_progress_only_for_a_person_at_a_terminal():
    assert wanted(Tty(), {})
    assert not wanted(io.StringIO(), {})
    assert not wanted(Tty(), {"CI": "true"})
    assert not wanted(Tty(), {"PRE_COMMIT": "1"})
    assert not wanted(Tty(), {"TERM": "dumb"})


def test_progress_line_counts_files_and_is_erased():
    stream = Tty()
    progress = Progress(stream, delay=0)
    for done in range(1, 4):
        progress(done, 3)
    drawn = stream.getvalue()
    assert drawn.startswith("\rchecked 1/3 files") and drawn.endswith("\rchecked 3/3 files")
    progress.clear()
    assert stream.getvalue().endswith("\r" + " " * len("checked 3/3 files") + "\r")
    quiet = Tty()
    Progress(quiet)(1, 3)  # within the first second: nothing drawn
    assert quiet.getvalue() == ""


@pytest.mark.parametrize("jobs", [1, 2])
def test_check_reports_progress_file_by_file(jobs):
    calls: list[tuple[int, int]] = []
    sources = [(f"e{i}.yaml", MINIMAL.replace("minimal-clean", f"e-{i}")) for i in range(4)]
    report = kpo_rules.check(sources=sources, jobs=jobs,
                             progress=lambda done, total: calls.append((done, total)))
    assert report.engagements == 4
    assert calls[-1] == (4, 4)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert {total for _, total in calls} == {4}


def test_no_progress_into_a_pipe(workdir, run_cli):
    result = run_cli("check", "eng.yaml")
    assert "checked 1/1" not in result.stderr
