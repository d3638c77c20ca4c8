"""``--format html``: the report as one self-contained page (docs/output.md).

Styles and the script are inline, the charts are inline SVG, and the page's
Content-Security-Policy allows nothing else: opened from a CI artifact, a mail attachment or
a laptop offline, it fetches nothing, and a value from a checked file can never make it
fetch anything. Everything is readable without the script, which only filters findings.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from functools import cache
from importlib import resources

from kpo_rules._version import __version__
from kpo_rules.model import Report, Severity
from kpo_rules.report import PLAIN, RenderOptions
from kpo_rules.report.html import engagements, findings, rules, summary
from kpo_rules.report.html.markup import Html, tag
from kpo_rules.report.html.places import Places


@cache
def asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text("utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def policy(css: str, js: str) -> str:
    """Only this page's own style and script, identified by their hashes; nothing else may
    load, connect, frame or be submitted."""
    return (f"default-src 'none'; style-src {_sha256(css)}; script-src {_sha256(js)}; "
            "img-src data:; base-uri 'none'; form-action 'none'")


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    # Read the findings once: a run's findings are packed, unpacked on every pass over them.
    report = replace(report, findings=tuple(report.findings))
    css, js = asset("report.css"), "\n" + asset("report.js")
    ids = findings.anchors([*report.findings, *report.waived])
    places = Places(report)
    titles = rules.titles(report.rules, [*report.findings, *report.waived])
    mentioned = [f.rule for f in (*report.findings, *report.waived)]
    mentioned += [w.rule for w in report.waivers]
    head = tag("head",
               tag("meta", charset="utf-8"),
               tag("meta", http_equiv="Content-Security-Policy", content=policy(css, js)),
               tag("meta", name="viewport", content="width=device-width, initial-scale=1"),
               tag("meta", name="generator", content=f"kpo-rules {__version__}"),
               tag("title", _title(report)),
               Html(f"<style>{css}</style>"))
    body = tag("body",
               _masthead(report, options),
               _nav(report),
               tag("main",
                   summary.section(report, places),
                   findings.section(report, ids, titles, places),
                   findings.waived_section(report, ids, titles, places),
                   engagements.section(report, ids, places),
                   rules.section(report.rules, mentioned),
                   tag("footer", f"Written by kpo-rules {__version__}. This page is "
                       "self-contained: it loads no file, font or script from anywhere, and "
                       "reads the same without its script (which only filters the findings)."),
                   class_="page"),
               Html(f"<script>{js}</script>"))
    return f"<!DOCTYPE html>\n{tag('html', head, body, lang='en')}\n"


def _counts(report: Report) -> str:
    return ", ".join(findings.counted(report.count(s), s.value)
                     for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))


def _title(report: Report) -> str:
    return f"kpo-rules report: {_counts(report)} ({report.engagements} engagements)"


def _masthead(report: Report, options: RenderOptions) -> Html:
    failing = [f for f in report.findings if options.fails(f.severity)]
    incomplete = bool(report.plugin_failures)
    if failing or incomplete:
        why = f"{len(failing)} findings at or above {options.fail_on}" if failing else ""
        if incomplete:
            why = ", ".join(p for p in (why, "a plugin failed to load") if p)
        verdict = tag("span", "\u2716 Fails: ", why, class_="verdict fail")
    else:
        verdict = tag("span", "\u2713 Passes: nothing at or above ", options.fail_on,
                      class_="verdict pass")
    when = report.run.run_date or "not recorded"
    return tag("header", tag("div",
               tag("h1", "Engagement compliance report"),
               tag("p", f"{report.files} files, {report.engagements} engagements checked: "
                        f"{_counts(report)}. Run date {when}. kpo-rules {__version__}."),
               verdict, class_="page"), class_="masthead")


def _nav(report: Report) -> Html:
    links = [("#summary", "Summary"), ("#findings", f"Findings ({len(report.findings)})")]
    if report.waived or report.waivers:
        links.append(("#waived", f"Waived ({len(report.waived)})"))
    links.append(("#engagements", "Engagements, coverage and availability"))
    if report.findings or report.waived or report.waivers:
        links.append(("#rules", "Rules"))
    return tag("nav", tag("ul", [tag("li", tag("a", text, href=href)) for href, text in links]),
               class_="toc", aria_label="Contents")
