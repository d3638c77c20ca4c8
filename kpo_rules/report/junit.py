"""``--format junit``: JUnit XML as GitLab, Jenkins and Azure DevOps read it.

One ``<testsuite>`` per file; in it one ``<testcase>`` per (engagement, rule) pair the run
evaluated: every engagement of the file (``classname`` = its id; a file that holds no
readable engagement counts as one, named after the file) times every rule the run
selected (``name`` = rule id). So the number of test cases depends on what was checked,
never on what was found. GitLab keys a test by suite, classname and name, so these are
unique (conftest#775 gave every case the same name and broke GitLab's view).

A case fails only for findings at or above ``--fail-on``: one ``<failure>`` (``<error>``
for a rule that crashed, KPO-ENG-001) listing each of them with ``file:line:col`` and its
fix, since Jenkins reads only the first failure element of a case. Findings below
``--fail-on`` leave the case passed and are listed in its ``<system-out>``; a case whose
only findings were waived is ``<skipped>``. A run that exits 0 thus shows no failed test.

The document validates against the JUnit schema of Jenkins' xunit plugin (junit-10.xsd,
the one pytest's ``xunit2`` family follows), which has no ``file`` or ``line`` attribute on
a test case: the locations are in the failure text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

from kpo_rules.model import Finding, PluginFailure, Report
from kpo_rules.report import PLAIN, RenderOptions

#: Suite and classname of what belongs to the run rather than to a file.
RUN = "kpo-rules"

# Characters XML 1.0 cannot carry at all, not even escaped (a binary file's message may).
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


@dataclass(slots=True)
class _Case:
    findings: list[Finding] = field(default_factory=list)
    waived: list[Finding] = field(default_factory=list)


def _describe(f: Finding) -> str:
    lines = [f"{f.file}:{f.line}:{f.column}: {f.rule} [{f.severity.value}] {f.message}"]
    if f.remediation:
        lines.append(f"  fix: {f.remediation}")
    lines += [f"  see: {ref}" for ref in f.references]
    return "\n".join(lines)


def _testcase(suite: ET.Element, classname: str, name: str, case: _Case,
              options: RenderOptions) -> str:
    """Append one ``<testcase>``; returns its outcome: passed, failure, error or skipped."""
    element = ET.SubElement(suite, "testcase", {"classname": _clean(classname),
                                                "name": _clean(name)})
    failing = [f for f in case.findings if options.fails(f.severity)]
    below = [f for f in case.findings if not options.fails(f.severity)]
    outcome = "passed"
    if failing:
        first = failing[0]
        outcome = "error" if first.category == "engine-error" else "failure"
        message = first.message + (f" (+{len(failing) - 1} more)" if len(failing) > 1 else "")
        worst = max((f.severity for f in failing), key=lambda s: s.rank)
        child = ET.SubElement(element, outcome, {"message": _clean(message), "type": worst.value})
        child.text = _clean("\n".join(_describe(f) for f in failing))
    elif case.waived and not below:
        outcome = "skipped"
        ET.SubElement(element, "skipped", {
            "message": _clean(f"waived: {case.waived[0].message}"),
        }).text = _clean("\n".join(f"waived: {_describe(f)}" for f in case.waived))
    notes = [f"below --fail-on: {_describe(f)}" for f in below]
    notes += [f"waived: {_describe(f)}" for f in case.waived] if outcome != "skipped" else []
    if notes:
        ET.SubElement(element, "system-out").text = _clean("\n".join(notes))
    return outcome


def _count(element: ET.Element, outcomes: list[str], *, skipped: bool = True) -> None:
    element.set("tests", str(len(outcomes)))
    element.set("failures", str(outcomes.count("failure")))
    element.set("errors", str(outcomes.count("error")))
    if skipped:  # the schema allows ``skipped`` on a suite, not on the root
        element.set("skipped", str(outcomes.count("skipped")))


def _cases(report: Report) -> dict[str, dict[str, dict[str, _Case]]]:
    """file -> classname -> rule id -> case, for every unit checked and every rule."""
    units: dict[str, dict[str, dict[str, _Case]]] = {}
    rules = sorted(report.rules)

    def unit(file: str, classname: str) -> dict[str, _Case]:
        per_file = units.setdefault(file, {})
        if classname not in per_file:
            per_file[classname] = {rule: _Case() for rule in rules}
        return per_file[classname]

    for file, engagement in report.checked:
        unit(file, engagement or file)
    for waived, findings in ((False, report.findings), (True, report.waived)):
        for f in findings:
            cases = unit(f.file, f.engagement or f.file)
            case = cases.setdefault(f.rule, _Case())  # a rule the report has no entry for
            (case.waived if waived else case.findings).append(f)
    return units


def as_junit(report: Report, options: RenderOptions = PLAIN) -> ET.Element:
    """The ``<testsuites>`` element of ``report``."""
    root = ET.Element("testsuites", {"name": RUN})
    outcomes: list[str] = []
    for file, per_file in sorted(_cases(report).items()):
        suite = ET.SubElement(root, "testsuite", {"name": _clean(file)})
        results = [_testcase(suite, classname, rule, case, options)
                   for classname, cases in sorted(per_file.items())
                   for rule, case in sorted(cases.items())]
        _count(suite, results)
        outcomes += results
    outcomes += _plugin_failures(root, report.plugin_failures)
    _count(root, outcomes, skipped=False)
    return root


def _plugin_failures(root: ET.Element, failures: Sequence[PluginFailure]) -> list[str]:
    """A suite of its own for plugins that failed to load: the check was incomplete."""
    if not failures:
        return []
    suite = ET.SubElement(root, "testsuite", {"name": RUN})
    for failure in failures:
        name = failure.name
        element = ET.SubElement(suite, "testcase", {"classname": RUN,
                                                    "name": _clean(f"plugin {name}")})
        ET.SubElement(element, "error", {
            "message": _clean(f"plugin {name} failed to load; the check is incomplete"),
            "type": "plugin-load-error",
        }).text = _clean(failure.error)
    outcomes = ["error"] * len(failures)
    _count(suite, outcomes)
    return outcomes


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    root = as_junit(report, options)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
