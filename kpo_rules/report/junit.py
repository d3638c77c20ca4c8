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


def _attr(text: str) -> str:
    """A quoted XML attribute value."""
    return '"' + _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(
        ">", "&gt;").replace('"', "&quot;").replace("\n", "&#10;").replace(
        "\r", "&#13;").replace("\t", "&#9;") + '"'


def _text(text: str) -> str:
    return _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _element(tag: str, attrs: dict[str, str], body: str) -> str:
    attributes = "".join(f" {key}={_attr(value)}" for key, value in attrs.items())
    return f"      <{tag}{attributes}>{_text(body)}</{tag}>"


def _testcase(head: str, case: _Case, options: RenderOptions) -> tuple[str, list[str]]:
    """The outcome of one ``<testcase>`` (passed, failure, error or skipped) and its lines;
    ``head`` is its start tag without the closing ``>``."""
    if not case.findings and not case.waived:
        return "passed", [head + " />"]
    failing = [f for f in case.findings if options.fails(f.severity)]
    below = [f for f in case.findings if not options.fails(f.severity)]
    outcome = "passed"
    children = []
    if failing:
        first = failing[0]
        outcome = "error" if first.category == "engine-error" else "failure"
        message = first.message + (f" (+{len(failing) - 1} more)" if len(failing) > 1 else "")
        worst = max((f.severity for f in failing), key=lambda s: s.rank)
        children.append(_element(outcome, {"message": message, "type": worst.value},
                                 "\n".join(_describe(f) for f in failing)))
    elif case.waived and not below:
        outcome = "skipped"
        children.append(_element("skipped", {"message": f"waived: {case.waived[0].message}"},
                                 "\n".join(f"waived: {_describe(f)}" for f in case.waived)))
    notes = [f"below --fail-on: {_describe(f)}" for f in below]
    notes += [f"waived: {_describe(f)}" for f in case.waived] if outcome != "skipped" else []
    if notes:
        children.append(_element("system-out", {}, "\n".join(notes)))
    return outcome, [head + ">", *children, "    </testcase>"]


def _counts(outcomes: list[str], *, skipped: bool = True) -> str:
    out = (f'tests="{len(outcomes)}" failures="{outcomes.count("failure")}" '
           f'errors="{outcomes.count("error")}"')
    # The schema allows ``skipped`` on a suite, not on the root.
    return out + (f' skipped="{outcomes.count("skipped")}"' if skipped else "")


def _cases(report: Report) -> dict[str, dict[str, dict[str, _Case]]]:
    """file -> classname -> rule id -> case, for every unit checked and every rule."""
    units: dict[str, dict[str, dict[str, _Case]]] = {}
    rules = sorted(report.rules)

    def unit(file: str, classname: str) -> dict[str, _Case]:
        per_file = units.setdefault(file, {})
        if classname not in per_file:
            per_file[classname] = {rule: _EMPTY for rule in rules}
        return per_file[classname]

    for file, engagement in report.checked:
        unit(file, engagement or file)
    for waived, findings in ((False, report.findings), (True, report.waived)):
        for f in findings:
            cases = unit(f.file, f.engagement or f.file)
            case = cases.get(f.rule)
            if case is None or case is _EMPTY:  # a rule the report has no entry for, or new
                case = cases[f.rule] = _Case()
            (case.waived if waived else case.findings).append(f)
    return units


#: The case of a rule that found nothing: shared, never filled (see :func:`_cases`).
_EMPTY = _Case()


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    """The JUnit XML of ``report``; written directly rather than through ElementTree,
    which took seconds for the 140,000 test cases of 2,000 engagements."""
    suites: list[tuple[str, list[str], list[str]]] = []
    names: dict[str, str] = {}  # rule id -> its attribute, escaped once for every case
    for file, per_file in sorted(_cases(report).items()):
        outcomes: list[str] = []
        lines: list[str] = []
        for classname, cases in sorted(per_file.items()):
            start = f"    <testcase classname={_attr(classname)} name="
            for rule, case in sorted(cases.items()):
                name = names.get(rule) or names.setdefault(rule, _attr(rule))
                outcome, case_lines = _testcase(start + name, case, options)
                outcomes.append(outcome)
                lines += case_lines
        suites.append((file, outcomes, lines))
    if report.plugin_failures:
        suites.append(_plugin_failures(report.plugin_failures))
    every = [outcome for _, outcomes, _ in suites for outcome in outcomes]
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f"<testsuites name={_attr(RUN)} {_counts(every, skipped=False)}>"]
    for name, outcomes, lines in suites:
        out.append(f"  <testsuite name={_attr(name)} {_counts(outcomes)}>")
        out += lines
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


def _plugin_failures(failures: Sequence[PluginFailure]) -> tuple[str, list[str], list[str]]:
    """A suite of its own for plugins that failed to load: the check was incomplete."""
    lines = []
    for failure in failures:
        lines += [f"    <testcase classname={_attr(RUN)} name={_attr(f'plugin {failure.name}')}>",
                  _element("error", {"message": f"plugin {failure.name} failed to load; the "
                                                "check is incomplete",
                                     "type": "plugin-load-error"}, failure.error),
                  "    </testcase>"]
    return RUN, ["error"] * len(failures), lines
