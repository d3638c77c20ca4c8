"""``--format junit``: JUnit XML as GitLab, Jenkins and Azure DevOps read it.

One ``<testsuite>`` per file; one ``<testcase>`` per engagement and rule
(``classname`` = engagement id, or the file for findings outside an engagement;
``name`` = rule id). GitLab keys a test by suite, classname and name, so these are
unique (conftest#775 gave every case the same name and broke GitLab's view).

A case holds one ``<failure>`` (``<error>`` for a rule that crashed, KPO-ENG-001)
whose body lists every finding with ``file:line:col`` and its fix: Jenkins reads only
the first failure element of a case and the JUnit XSD allows one.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field

from kpo_rules.model import Finding, Report

PASSED = "all rules"
#: Classname/suite name for what belongs to the run rather than to a file.
RUN = "kpo-rules"
CLEAN = "files without findings"

# Characters XML 1.0 cannot carry at all, not even escaped (a binary file's message may).
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


@dataclass(slots=True)
class _Case:
    findings: list[Finding] = field(default_factory=list)
    waived: list[Finding] = field(default_factory=list)


def _describe(f: Finding) -> str:
    lines = [f"{f.file}:{f.line}:{f.column}: {f.severity.value} {f.rule} {f.message}"]
    if f.remediation:
        lines.append(f"  fix: {f.remediation}")
    if f.references:
        lines.append("  see: " + "; ".join(f.references))
    return "\n".join(lines)


def _testcase(suite: ET.Element, file: str, classname: str, name: str, case: _Case) -> str:
    """Append one ``<testcase>``; returns its outcome: passed, failure, error or skipped."""
    shown = case.findings or case.waived
    attrs = {"classname": classname, "name": name, "file": file}
    if shown:
        attrs["line"] = str(shown[0].line)
    element = ET.SubElement(suite, "testcase", {k: _clean(v) for k, v in attrs.items()})
    if not shown:
        return "passed"
    first = shown[0]
    message = first.message + (f" (+{len(shown) - 1} more)" if len(shown) > 1 else "")
    body = [_describe(f) for f in case.findings]
    body += [f"waived: {_describe(f)}" for f in case.waived]
    if case.findings:
        outcome = "error" if first.category == "engine-error" else "failure"
        worst = max((f.severity for f in case.findings), key=lambda s: s.rank)
        child = ET.SubElement(element, outcome, {"message": _clean(message), "type": worst.value})
    else:
        outcome = "skipped"
        child = ET.SubElement(element, outcome, {"message": _clean("waived: " + message)})
    child.text = _clean("\n".join(body))
    return outcome


def _count(element: ET.Element, outcomes: list[str]) -> None:
    element.set("tests", str(len(outcomes)))
    element.set("failures", str(outcomes.count("failure")))
    element.set("errors", str(outcomes.count("error")))
    element.set("skipped", str(outcomes.count("skipped")))


def as_junit(report: Report, *, checked: Iterable[tuple[str, str | None]] | None = None
             ) -> ET.Element:
    """The ``<testsuites>`` element of ``report``.

    :param checked: every ``(file, engagement id or None)`` of the run, so that clean
        engagements get a passing case each. A :class:`Report` does not list them, so
        without it the clean rest of the run is one passing case under ``kpo-rules``.
    """
    files: dict[str, dict[tuple[str, str], _Case]] = {}
    for waived, findings in ((False, report.findings), (True, report.waived)):
        for f in findings:
            key = (f.engagement or f.file, f.rule)
            bucket = files.setdefault(f.file, {}).setdefault(key, _Case())
            (bucket.waived if waived else bucket.findings).append(f)
    named = {f.engagement for f in (*report.findings, *report.waived) if f.engagement}
    for file, engagement in checked or ():
        cases = files.setdefault(file, {})
        classname = engagement or file
        if not any(c == classname for c, _ in cases):
            cases[(classname, PASSED)] = _Case()

    root = ET.Element("testsuites", {"name": RUN})
    outcomes: list[str] = []
    for file in sorted(files):
        suite = ET.SubElement(root, "testsuite", {"name": _clean(file)})
        results = [_testcase(suite, file, c, n, files[file][c, n]) for c, n in sorted(files[file])]
        _count(suite, results)
        outcomes += results

    run: list[str] = []
    run_suite = ET.Element("testsuite", {"name": RUN})
    for failure in report.plugin_failures:
        element = ET.SubElement(run_suite, "testcase", {"classname": RUN,
                                                        "name": _clean(f"plugin {failure.name}")})
        ET.SubElement(element, "error", {
            "message": _clean(f"plugin {failure.name} failed to load; the check is incomplete"),
            "type": "plugin-load-error",
        }).text = _clean(failure.error)
        run.append("error")
    clean_files = report.files - len(files)
    clean_engagements = max(0, report.engagements - len(named))
    if checked is None and (clean_files > 0 or clean_engagements > 0):
        element = ET.SubElement(run_suite, "testcase", {"classname": RUN, "name": CLEAN})
        ET.SubElement(element, "system-out").text = (
            f"{clean_files} of {report.files} files and {clean_engagements} of "
            f"{report.engagements} engagements had no findings"
        )
        run.append("passed")
    if run:
        _count(run_suite, run)
        root.append(run_suite)
        outcomes += run
    _count(root, outcomes)
    return root


def render(report: Report, *, color: bool) -> str:
    del color  # XML is for machines
    root = as_junit(report, checked=report.checked)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
