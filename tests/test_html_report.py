"""``--format html``: one self-contained page, checked as a user sees it.

The static tests read the HTML with the standard library's parser; the browser tests open
the report of the shipped examples in Debian's headless ``chromium`` and drive it through
the DevTools protocol over a pipe (``--remote-debugging-pipe``: no port, no websocket
library), which reports every console message, script error and network request the page
makes. ``--dump-dom`` would show neither the requests nor a blocked inline style.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import itertools
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, write

import kpo_rules
from kpo_rules.report import renderer
from kpo_rules.report.html import asset, policy

EXAMPLES = ROOT / "examples"
DST = EXAMPLES / "finance" / "us-tax-season-pune-krakow.yaml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


# ----------------------------------------------------------------------------- helpers


class Page(HTMLParser):
    """Every element with its attributes, and the text of ``<style>`` and ``<script>``."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in = tag if tag in ("style", "script") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.styles.append(data)
        elif self._in == "script":
            self.scripts.append(data)

    def find(self, tag: str, **wanted: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements
                if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in wanted.items())]


def html_of(*args: str, run_cli: Any, tmp_path: Path) -> str:
    out = tmp_path / "report.html"
    result = run_cli("check", *args, "--format", "html", "-o", str(out), "--today", "2027-01-04")
    assert result.exit_code in (0, 1), result.output
    return out.read_text("utf-8")


@pytest.fixture(scope="module")
def examples_html(tmp_path_factory: pytest.TempPathFactory, shared_cache_dir: Path) -> Path:
    """The report of the shipped examples, written by the real CLI in a subprocess (with
    the session's cache, as every test not about the cache)."""
    out = tmp_path_factory.mktemp("html") / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "kpo_rules", "check", str(EXAMPLES), "--format",
         "html", "-o", str(out), "--today", "2027-01-04"],
        capture_output=True, timeout=300, check=False,
        env={**os.environ, "KPO_RULES_CACHE_DIR": str(shared_cache_dir)})
    assert done.returncode == 1, done.stderr.decode()
    return out


# ------------------------------------------------------------------- the file itself


def test_the_report_is_one_file_that_fetches_nothing(examples_html: Path) -> None:
    text = examples_html.read_text("utf-8")
    page = Page(text)
    # Nothing that loads: no link, img, iframe, object, external script or stylesheet.
    for tag, attrs in page.elements:
        assert tag not in ("link", "img", "iframe", "object", "embed", "audio", "video"), tag
        for name in ("src", "href", "srcset", "action", "data", "poster"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*(https?:|//|ftp:|file:)", value, re.I), (tag, name, value)
            if tag == "a" and name == "href":
                assert value.startswith("#"), value  # every link stays inside the page
    assert not any(re.search(r"@import|url\(", css) for css in page.styles)
    assert not any(re.search(r"fetch\(|XMLHttpRequest|import\(|src\s*=", js)
                   for js in page.scripts)
    # And the page forbids anything else to load: its policy admits only its own style and
    # script, by their hashes.
    (meta,) = page.find("meta", http_equiv="Content-Security-Policy")
    assert meta["content"] == policy(asset("report.css"), "\n" + asset("report.js"))
    assert "default-src 'none'" in (meta["content"] or "")
    assert not [a for _, a in page.elements if "style" in a]  # inline style attributes are refused
    assert [t for t, _ in page.elements].count("script") == 1


def test_the_report_reads_without_javascript(examples_html: Path) -> None:
    """Every finding is in the page as served; the script only hides some. The filter form,
    which does nothing without the script, starts hidden."""
    page = Page(examples_html.read_text("utf-8"))
    report = kpo_rules.check([EXAMPLES])
    articles = [a for a in page.find("article") if "finding" in (a.get("class") or "")]
    assert len(articles) == len(report.findings) > 0
    assert not any("hidden" in a for a in articles)
    (form,) = page.find("form", id="filters")
    assert "hidden" in form
    severities = {a["data-severity"] for a in articles}
    assert severities <= {"error", "warning", "info"}


def test_check_writes_html_through_report_option(tmp_path, run_cli) -> None:
    out = tmp_path / "kpo.html"
    result = run_cli("check", str(DST), "--report", f"html={out}", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["error"] == 2
    assert out.read_text("utf-8").startswith("<!DOCTYPE html>")


def test_values_from_a_file_are_escaped(tmp_path, run_cli) -> None:
    text = DST.read_text("utf-8").replace("name: Vikram Desai",
                                          'name: "<script>alert(1)</script> Desai"')
    path = write(tmp_path, "x.yaml", text)
    page = html_of(str(path), run_cli=run_cli, tmp_path=tmp_path)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Desai" in page


def test_summary_shows_what_was_turned_off(tmp_path, run_cli) -> None:
    page = html_of(str(DST), "--ignore", "COM-SW", "--no-waivers", "--config",
                   str(write(tmp_path, ".kpo-rules.toml",
                             "fail-on = 'warning'\ndisable-plugins = ['legal']\n")),
                   run_cli=run_cli, tmp_path=tmp_path)
    assert "Plugins disabled</dt><dd>legal (config)</dd>" in page
    assert "ignore COM-SW" in page
    assert "off (audit mode: nothing waived)" in page
    assert "2027-01-04" in page  # the run date
    assert ".kpo-rules.toml" in page


def test_every_rule_mentioned_is_documented_in_the_page(examples_html: Path) -> None:
    """A rule id links to its documentation inside the report (no hosted site to link to)."""
    page = Page(examples_html.read_text("utf-8"))
    targets = {a["href"] for a in page.find("a") if (a.get("href") or "").startswith("#rule-")}
    ids = {a.get("id") for _, a in page.elements}
    assert targets and all(t[1:] in ids for t in targets)
    assert all(t[1:] in ids for a in page.find("a") if (t := a.get("href") or "#")[1:])


def test_accessibility_basics(examples_html: Path) -> None:
    """Headings nest without skipping a level, every table has a caption and headers with a
    scope, every chart is an image with a title and a description (and a table saying the
    same), and a severity is always a word, never a colour alone."""
    text = examples_html.read_text("utf-8")
    page = Page(text)
    assert page.find("html", lang="en")
    levels = [int(t[1]) for t, _ in page.elements if re.fullmatch(r"h[1-6]", t)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels
    tags = [t for t, _ in page.elements]
    assert tags.count("table") == tags.count("caption") > 0
    headers = page.find("th")
    assert headers and all(a.get("scope") in ("col", "row") for a in headers)
    ids = {a.get("id") for _, a in page.elements}
    charts = page.find("svg")
    assert charts and all(a.get("role") == "img" for a in charts)
    for chart in charts:
        title, desc = (chart.get("aria-labelledby") or "").split()
        assert title in ids and desc in ids
    # Each chart's figure is followed by the same numbers as a table (closed <details>).
    assert text.count('<details class="alt">') == tags.count("figure") // 2 > 0
    for article in page.find("article"):
        if "finding" in (article.get("class") or ""):
            assert article["data-severity"] in text
    assert re.search(r'<span class="sev error"><span aria-hidden="true">.</span> error</span>',
                     text)
    # A print stylesheet: no navigation or filters on paper.
    (css,) = page.styles
    assert re.search(r"@media print \{[^@]*nav\.toc, \.filters", css)


# ---------------------------------------------------------- charts and coverage matrix


def dst_report() -> kpo_rules.Report:
    return kpo_rules.check([DST], details=True)


def test_details_are_only_computed_when_asked() -> None:
    assert kpo_rules.check([DST]).details == ()
    (detail,) = dst_report().details
    assert [s.id for s in detail.services] == ["returns", "organisers"]


def test_details_travel_packed_from_worker_processes_unchanged() -> None:
    """A run with workers sends each engagement's detail back packed (like its findings) and
    the report unpacks the same details, in the same order, as a run in one process."""
    paths = [DST, *sorted((EXAMPLES / "legal").glob("*.yaml"))]
    alone = kpo_rules.check(paths, details=True, jobs=1)
    workers = kpo_rules.check(paths, details=True, jobs=2)
    assert len(workers.details) == len(alone.details) == alone.engagements > 1
    assert list(workers.details) == list(alone.details)
    assert [(d.file, d.id) for d in alone.details] == sorted((d.file, d.id)
                                                           for d in alone.details)
    assert renderer("html")(workers) == renderer("html")(alone)


def test_the_page_unpacks_the_findings_once(tmp_path) -> None:
    """A run's findings are packed and unpacked on every pass over them: the page must not
    go over them once per engagement (a portfolio of 500 files took minutes)."""
    import dataclasses
    from collections.abc import Sequence

    class Counted(Sequence[kpo_rules.Finding]):
        def __init__(self, items: Sequence[kpo_rules.Finding]) -> None:
            self.items, self.passes = tuple(items), 0

        def __iter__(self):  # type: ignore[no-untyped-def]
            self.passes += 1
            return iter(self.items)

        def __len__(self) -> int:
            return len(self.items)

        def __getitem__(self, index):  # type: ignore[no-untyped-def]
            raise AssertionError("indexing a packed list unpacks all of it")

    report = kpo_rules.check([EXAMPLES], details=True)
    counted = Counted(report.findings)
    page = renderer("html")(dataclasses.replace(report, findings=counted))
    assert counted.passes == 1
    assert page == renderer("html")(report)


def test_other_formats_do_not_pay_for_the_details(monkeypatch, run_cli, tmp_path) -> None:
    """Only a run that writes an html report describes its engagements."""
    import kpo_rules.details

    def refuse(*_args: object) -> None:
        raise AssertionError("details computed for a run without an html report")

    monkeypatch.setattr(kpo_rules.details, "describe", refuse)
    for fmt in ("text", "json", "sarif"):
        result = run_cli("check", str(DST), str(EXAMPLES / "finance" / "us-1040-ny-pune.yaml"),
                         "--format", fmt)
        assert result.exit_code == 1, result.output
        assert "KPO-ENG-003" not in result.output
    # The same stand-in breaks an html run: the test above would notice a run that used it.
    out = tmp_path / "r.html"
    result = run_cli("check", str(DST), "--format", "html", "-o", str(out))
    assert "KPO-ENG-003" in out.read_text("utf-8")


def svg_marks(text: str, cls: str) -> list[dict[str, str | None]]:
    return [a for t, a in Page(text).elements if t == "rect" and a.get("class") == cls]


def test_chart_draws_each_shift_on_the_clients_clock() -> None:
    """New York keeps EST until 14 Mar 2027, Poland CET until 28 Mar: a 17:00-01:00 shift in
    Krakow is 11:00-19:00 in New York, 12:00-20:00 between the changes, then 11:00-19:00
    again: three characteristic days, one per pair of clocks."""
    text = renderer("html")(dst_report())
    bars = [(a["data-staff"], int(a["data-start"] or 0), int(a["data-end"] or 0))
            for t, a in Page(text).elements
            if t == "rect" and (a.get("class") or "").split()[:1] == ["shift"]]
    krakow = [(lo, hi) for staff, lo, hi in bars if staff == "kr-410"]
    assert krakow == [(11 * 60, 19 * 60), (12 * 60, 20 * 60), (11 * 60, 19 * 60)]
    # Pune's 22:30-07:30 is 12:00-21:00 in New York in winter, 13:00-22:00 in summer time.
    assert [(lo, hi) for s, lo, hi in bars if s == "pn-401"] == [(720, 1260), (780, 1320)]
    # The client's business hours, as a bar of their own.
    business = svg_marks(text, "business")
    assert {(a["data-start"], a["data-end"]) for a in business} == {("540", "1020")}


def test_chart_highlights_the_short_weeks_and_marks_both_clock_changes() -> None:
    report = dst_report()
    text = renderer("html")(report)
    rects = [a for t, a in Page(text).elements if t == "rect" and "data-week" in a]
    short = {(a["data-staff"], a["data-week"]) for a in rects
             if "short" in (a.get("class") or "").split()}
    # Pune falls short from the week New York moves its clocks to the end of the season ...
    assert sorted(w for s, w in short if s == "pn-401") == [
        "2027-03-15", "2027-03-22", "2027-03-29", "2027-04-05", "2027-04-12"]
    # ... Krakow only in the two weeks before Poland follows.
    assert sorted(w for s, w in short if s == "kr-410") == ["2027-03-15", "2027-03-22"]
    assert not any(s == "pn-402" for s, _ in short)
    # Every short day the rule counted is in a highlighted week, and no other.
    counted = {f.subject.staff: f for f in report.findings if f.rule == "COM-AVAIL-001"}
    for staff in ("pn-401", "kr-410"):
        days = sum(int(a["data-short"] or 0) for a in rects if a["data-staff"] == staff)
        assert f"short on {days} of 75 working days" in counted[staff].message
    changes = [a["data-change"] for t, a in Page(text).elements if t == "line" and
               "data-change" in a]
    assert sorted(set(changes)) == ["2027-03-14", "2027-03-28"]


def test_characteristic_days_cover_every_working_day_once() -> None:
    (detail,) = dst_report().details
    for service in detail.services:
        a = service.availability
        assert a is not None
        assert sum(p.days for p in a.profiles) + a.other_days == a.lanes[0].working_days == 75
        firsts = [p.first.isoformat() for p in a.profiles]
        assert firsts == sorted(firsts)
    organisers = detail.services[1].availability
    assert organisers is not None
    assert [p.hours for p in organisers.profiles] == [(6.0,), (5.0,), (6.0,)]
    assert [p.clocks for p in organisers.profiles] == [
        ("EST, UTC-05:00", "CET, UTC+01:00"), ("EDT, UTC-04:00", "CET, UTC+01:00"),
        ("EDT, UTC-04:00", "CEST, UTC+02:00")]
    assert [(p.runs, p.days) for p in organisers.profiles][1] == (
        ((dt.date(2027, 3, 15), dt.date(2027, 3, 26)),), 10)


def test_coverage_matrix_cells_come_from_the_findings(tmp_path, run_cli) -> None:
    """Dropping pn-402's PTIN fails her licence cell with the finding's id; her other cells
    stay met, and Vikram's availability cell names his COM-AVAIL-001."""
    text = DST.read_text("utf-8").replace(
        "      - {id: us.ptin, valid_until: 2027-12-31}\n    languages:\n      - {code: en, "
        "level: C1}\n    familiar_with: [us.tax]\n    software: [cch_axcess]\n  - id: kr-410",
        "      - {id: in.ca}\n    languages:\n      - {code: en, level: C1}\n    familiar_with:"
        " [us.tax]\n    software: [cch_axcess]\n  - id: kr-410")
    page = html_of(str(write(tmp_path, "e.yaml", text)), run_cli=run_cli, tmp_path=tmp_path)
    rows = _matrix_rows(page, "returns")
    assert rows["pn-402"][0].startswith("fail") and "COM-ELIG-001" in rows["pn-402"][0]
    assert all(cell.startswith("pass") for cell in rows["pn-402"][1:-2])
    assert rows["pn-401"][0].startswith("pass")
    assert "COM-AVAIL-001" in rows["pn-401"][-2] and rows["pn-401"][-2].startswith("fail")
    # The cell links to the finding itself, by the id the finding has in the page.
    (finding,) = [a for a in Page(page).find("article") if a.get("data-rule") == "COM-ELIG-001"]
    assert f'href="#{finding["id"]}"' in _matrix(page, "returns")


def _matrix(page: str, service: str) -> str:
    start = page.index(f"Service <code>{service}</code> \u2014")
    table = page[page.index('<table class="matrix">', start):]
    return table[: table.index("</table>")]


def _matrix_rows(page: str, service: str) -> dict[str, list[str]]:
    """staff id -> ["pass ...", "fail COM-X", ...] for the matrix of ``service``."""
    table = _matrix(page, service)
    rows = {}
    for row in re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", table, re.S):
        staff = re.search(r"<code>([^<]+)</code>", row).group(1)
        cells = re.findall(r'<td class="cell ?([a-z]*)">(.*?)</td>', row, re.S)
        rows[staff] = [f"{state} {re.sub('<[^>]+>', '', body)}".strip() for state, body in cells]
    return rows


# ------------------------------------------------------------------------- the browser


class Chromium:
    """Headless Debian chromium driven over the DevTools protocol on a pipe (fd 3 in, fd 4
    out, messages ended by NUL). Run as root in CI, hence --no-sandbox; the background
    networking flags stop it calling home, which this machine's network refuses."""

    def __init__(self, profile: Path) -> None:
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()
        # The pipe ends become fds 3 and 4 of chromium, set up by a small Python launcher
        # (no preexec_fn, which is unsafe with threads); moved above 9 first, so that neither
        # is 3 or 4 already when the other is moved there.
        to_browser, from_browser = (_above_nine(to_browser), _above_nine(from_browser))
        launch = (f"import os, sys; os.dup2({to_browser}, 3); os.dup2({from_browser}, 4); "
                  "os.execv(sys.argv[1], sys.argv[1:])")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", launch, CHROMIUM, "--headless", "--no-sandbox",
             "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-extensions", "--hide-scrollbars", "--remote-debugging-pipe",
             f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(to_browser, from_browser), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self.session = ""

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)
        os.close(self._write)
        os.close(self._read)

    def send(self, method: str, params: dict[str, Any] | None = None, *,
             timeout: float = 60) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive(timeout)
            if reply.get("id") == self._next:
                assert "error" not in reply, (method, reply["error"])
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._receive(timeout)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _receive(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._read], [], [], max(left, 0))
            if not ready:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        result: dict[str, Any] = json.loads(message)
        return result

    def open(self, url: str, width: int = 1280, height: int = 900, *,
             scripts: bool = True) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        if not scripts:
            self.send("Emulation.setScriptExecutionDisabled", {"value": True})
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True, "awaitPromise": True})
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def screenshot(self, path: Path, selector: str | None = None) -> None:
        """The viewport, or the whole of the element ``selector`` finds: the viewport is made
        as tall as the element and scrolled to it (an engagement is laid out only near the
        screen, so a clip measured off-screen would be off)."""
        if selector:
            find = f"document.querySelector({json.dumps(selector)})"
            self.evaluate(f"{find}.scrollIntoView()")
            self.evaluate(_FRAMES)
            height = self.evaluate(f"Math.ceil({find}.getBoundingClientRect().height)")
            self.send("Emulation.setDeviceMetricsOverride",
                      {"width": 1280, "height": min(height, 8000), "deviceScaleFactor": 1,
                       "mobile": False})
            self.evaluate(f"{find}.scrollIntoView()")
            self.evaluate(_FRAMES)
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, and browser log errors (a
        refused inline style or script, a failed load) seen so far."""
        out = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Runtime.consoleAPICalled" and params["type"] in (
                    "error", "warning", "assert"):
                out.append(json.dumps(params["args"])[:500])
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                out.append(params["entry"]["text"])
        return out

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events
                if e.get("method") == "Network.requestWillBeSent"]


#: Resolves once the browser has drawn two more frames (layout and paint caught up).
_FRAMES = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _above_nine(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


@pytest.fixture
def browser(tmp_path):
    if CHROMIUM is None:
        if os.environ.get("KPO_RULES_BROWSER_TESTS") == "required":  # set by .ci/run
            pytest.fail("chromium is not installed, and KPO_RULES_BROWSER_TESTS=required "
                        "(.ci/run sets it; its output says why it could not install chromium)")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; "
                    ".ci/run installs it)")
    chromium = Chromium(tmp_path / "profile")
    try:
        yield chromium
    finally:
        chromium.close()
        _keep_artifacts(tmp_path)


def _keep_artifacts(tmp_path: Path) -> None:
    """The screenshots and the PDF a browser test made stay in its tmp dir; with
    ``KPO_RULES_ARTIFACTS`` set (``.ci/run`` sets it) they are copied there as well, where
    pytest's rotation of old tmp dirs cannot remove them, for CI to keep."""
    keep = os.environ.get("KPO_RULES_ARTIFACTS")
    if not keep:
        return
    for made in [*tmp_path.glob("*.png"), *tmp_path.glob("*.pdf")]:
        target = Path(keep) / tmp_path.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(made, target / made.name)


def test_the_browser_renders_the_examples_without_errors_or_requests(
        browser: Chromium, examples_html: Path, tmp_path: Path) -> None:
    url = examples_html.as_uri()
    browser.open(url)
    time.sleep(0.5)  # let late console messages arrive
    browser.evaluate("1")
    assert browser.problems() == []
    assert browser.requests() == [url]  # the page itself, nothing else
    # The script ran: the filter form shows, and counts what it shows.
    shown = browser.evaluate("document.querySelector('#filters output').value")
    total = browser.evaluate("document.querySelectorAll('#findings .finding').length")
    assert shown == f"Showing {total} of {total} findings" and total > 0
    browser.screenshot(tmp_path / "report-top.png")
    # The availability chart of the DST example, as a person sees it.
    engagement = browser.evaluate(
        "[...document.querySelectorAll('section.engagement')].find(s =>"
        " s.querySelector('h3 code').textContent === 'chelsea-tax-season-2027').id")
    browser.screenshot(tmp_path / "dst-chart.png", f"#{engagement}")
    assert (tmp_path / "dst-chart.png").stat().st_size > 10_000
    bars = browser.evaluate(
        "[...document.querySelectorAll('rect.shift[data-staff=\"kr-410\"]')]"
        ".map(r => [r.dataset.start, r.dataset.end, r.getBBox().width > 0])")
    assert bars == [["660", "1140", True], ["720", "1200", True], ["660", "1140", True]]
    assert browser.problems() == []


def test_the_filters_hide_and_show_findings(browser: Chromium, examples_html: Path) -> None:
    browser.open(examples_html.as_uri())
    visible = ("[...document.querySelectorAll('#findings .finding')]"
               ".filter(e => e.offsetParent !== null).map(e => e.dataset.severity)")
    everything = browser.evaluate(visible)
    assert {"error", "warning"} <= set(everything)
    browser.evaluate("(() => { const box = document.querySelector("
                     "'#filters input[value=error]'); box.click(); })()")
    assert set(browser.evaluate(visible)) == set(everything) - {"error"}
    browser.evaluate("(() => { const s = document.querySelector('#filters select[name=rule]');"
                     " s.value = 'COM-AVAIL-001'; s.dispatchEvent(new Event('change',"
                     " {bubbles: true})); })()")
    assert browser.evaluate(visible) == []
    assert browser.evaluate("document.getElementById('no-match').hidden") is False
    browser.evaluate("document.querySelector('#filters button[type=reset]').click()")
    assert browser.evaluate(visible) == everything
    assert browser.problems() == []


def test_without_javascript_everything_shows_and_the_filters_do_not(
        browser: Chromium, examples_html: Path) -> None:
    browser.open(examples_html.as_uri(), scripts=False)
    shown = browser.evaluate(
        "[...document.querySelectorAll('#findings .finding')].map(e => e.offsetParent !== null)")
    assert shown and all(shown)
    assert browser.evaluate("document.getElementById('filters').offsetParent") is None
    assert browser.evaluate("document.querySelectorAll('svg rect.shift').length") > 0
    assert browser.problems() == []


def test_printed_the_navigation_goes_and_the_tables_behind_the_charts_open(
        browser: Chromium, examples_html: Path, tmp_path: Path) -> None:
    browser.open(examples_html.as_uri())
    browser.send("Emulation.setEmulatedMedia", {"media": "print"})
    assert browser.evaluate("document.querySelector('nav.toc').offsetParent") is None
    assert browser.evaluate("document.getElementById('filters').offsetParent") is None
    heights = browser.evaluate("[...document.querySelectorAll('details.alt table')]"
                               ".map(t => t.getBoundingClientRect().height)")
    assert heights and all(h > 0 for h in heights)
    pdf = browser.send("Page.printToPDF", {"printBackground": True}, timeout=120)["data"]
    (tmp_path / "report.pdf").write_bytes(base64.b64decode(pdf))
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    assert browser.problems() == []
