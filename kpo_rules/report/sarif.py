"""``--format sarif``: SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.

One run. ``tool.driver.rules`` describes every rule that has a result, sorted by id, and
each result points at its rule by ``ruleIndex``. Rule documentation comes from the
report (``Report.rules``: the core table plus the run's plugin rules); :func:`as_sarif`
takes it as a parameter for callers that hold their own.

``partialFingerprints`` holds the fingerprint baselines use too
(:func:`kpo_rules.fingerprint.fingerprint`): it leaves out the line, so an alert survives
lines being added above it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import PureWindowsPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kpo_rules._version import __version__
from kpo_rules.fingerprint import fingerprint
from kpo_rules.model import Finding, Report, Severity
from kpo_rules.report import PLAIN, RenderOptions
from kpo_rules.report.json_text import pretty_json

if TYPE_CHECKING:
    from kpo_rules.core_rules import CoreRule
    from kpo_rules.engine.rule_model import Rule

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://kpo-rules.dev/"
#: Key of our fingerprint in ``partialFingerprints``; bump the version if the recipe changes.
FINGERPRINT_KEY = "kpoFindingHash/v2"

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def rule_name(title: str) -> str:
    """``"Service names unknown staff"`` -> ``"ServiceNamesUnknownStaff"``."""
    words = re.findall(r"[0-9A-Za-z]+", title)
    return "".join(word[:1].upper() + word[1:] for word in words)


def artifact_location(file: str) -> dict[str, str]:
    """A URI for ``file``: relative paths stay relative to ``%SRCROOT%`` (GitHub's repo root)."""
    posix = file.replace("\\", "/")
    if posix.startswith("/"):
        return {"uri": "file://" + quote(posix)}
    if PureWindowsPath(file).is_absolute():  # a drive path, C:/work/a.yaml
        # by hand: PurePath.as_uri() is deprecated from Python 3.14 on
        return {"uri": "file:///" + quote(PureWindowsPath(file).as_posix(), safe=":/")}
    while posix.startswith("./"):
        posix = posix[2:]
    return {"uri": quote(posix), "uriBaseId": "%SRCROOT%"}


def with_occurrence(mark: str, occurrence: int) -> str:
    """A finding's fingerprint ``mark`` (:func:`~kpo_rules.fingerprint.fingerprint`), told
    apart when one file has the same finding twice (e.g. in two documents): its
    ``occurrence``-th time."""
    return f"{mark}:{occurrence}" if occurrence else mark


def _help(rule: CoreRule | Rule) -> tuple[str, str]:
    """``help.text`` and ``help.markdown``: what ``kpo-rules rules show`` says, minus examples."""
    head = (
        f"Plugin: {rule.plugin}   Category: {rule.category}   "
        f"Severity: {rule.severity.value}   Rests on: {rule.basis}"
    )
    sections = [("What it checks", rule.checks), ("Why", rule.why)]
    if rule.unverified:
        sections.append(("Not verified", rule.unverified))
    sections.append(("Fix", rule.remediation))
    text = [f"{rule.id}: {rule.title}", "", head]
    markdown = [f"**{rule.id}: {rule.title}**", "", head.replace("   ", " · ")]
    for title, body in sections:
        text += ["", f"## {title}", body]
        markdown += ["", f"### {title}", "", body]
    if rule.references:
        text += ["", "## References", *(f"- {ref}" for ref in rule.references)]
        markdown += ["", "### References", "", *(f"- {ref}" for ref in rule.references)]
    return "\n".join(text), "\n".join(markdown)


def _descriptor(rule_id: str, rule: CoreRule | Rule | None, example: Finding) -> dict[str, Any]:
    if rule is None:  # a rule this process cannot describe: say what the finding says
        text = f"{rule_id} ({example.category})"
        return {
            "id": rule_id,
            "name": rule_name(rule_id),
            "shortDescription": {"text": text},
            "help": {"text": example.remediation or text},
            "defaultConfiguration": {"level": LEVELS[example.severity]},
            "properties": {"tags": [example.category, "compliance"]},
        }
    text, markdown = _help(rule)
    return {
        "id": rule.id,
        "name": rule_name(rule.title),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.checks},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": list(dict.fromkeys([rule.category, rule.basis, "compliance"])),
            "plugin": rule.plugin,
        },
    }


def _result(finding: Finding, index: int, fingerprints: dict[str, int],
            waived: Any) -> dict[str, Any]:
    key = fingerprint(finding)
    occurrence = fingerprints.get(key, 0)
    fingerprints[key] = occurrence + 1
    properties: dict[str, Any] = {"category": finding.category, "path": finding.path}
    if finding.engagement is not None:
        properties["engagement"] = finding.engagement
    if finding.subject.as_dict():
        properties["subject"] = finding.subject.as_dict()
    if finding.remediation:
        properties["remediation"] = finding.remediation
    if finding.references:
        properties["references"] = list(finding.references)
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": artifact_location(finding.file),
                # GitHub rejects startLine 0; findings are 1-based already, this only guards.
                "region": {"startLine": max(1, finding.line),
                           "startColumn": max(1, finding.column)},
            },
        }],
        "partialFingerprints": {FINGERPRINT_KEY: with_occurrence(key, occurrence)},
        "properties": properties,
    }
    if waived is not None:
        suppression: dict[str, Any] = {"kind": "external", "status": "accepted"}
        if waived:  # the waiver that silenced it: who approved it, why, until when
            suppression["justification"] = waived.reason
            suppression["properties"] = {"approvedBy": waived.approved_by,
                                         "expires": waived.expires}
        result["suppressions"] = [suppression]
    return result


def as_sarif(report: Report, rules: Mapping[str, CoreRule | Rule] | None = None
             ) -> dict[str, Any]:
    """The SARIF log of ``report``; ``rules`` defaults to ``report.rules``."""
    tagged = sorted(
        [(f, None) for f in report.findings]
        + [(f, _waiver_of(f, report.waivers) or False) for f in report.waived],
        key=lambda item: item[0].sort_key,
    )
    first: dict[str, Finding] = {}
    for finding, _ in tagged:
        first.setdefault(finding.rule, finding)
    if rules is None:
        rules = report.rules
    ids = sorted(first)
    index = {rule_id: i for i, rule_id in enumerate(ids)}
    fingerprints: dict[str, int] = {}
    results = [_result(f, index[f.rule], fingerprints, waived) for f, waived in tagged]
    driver: dict[str, Any] = {
        "name": "kpo-rules",
        "version": __version__,
        "semanticVersion": __version__,
        "informationUri": INFORMATION_URI,
        "rules": [_descriptor(i, (rules or {}).get(i), first[i]) for i in ids],
    }
    run: dict[str, Any] = {
        "tool": {"driver": driver, "extensions": list(_extensions(report))},
        "invocations": [_invocation(report)],
        # YAML columns count characters, not SARIF's default UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {"files": report.files, "engagements": report.engagements,
                       "waivers": [w.as_dict() for w in report.waivers]},
    }
    if not run["tool"]["extensions"]:
        del run["tool"]["extensions"]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _waiver_of(finding: Finding, waivers: Iterable[Any]) -> Any:
    """The applied waiver that silenced ``finding`` (its engagement, rule and subject)."""
    for waiver in waivers:
        if (waiver.engagement, waiver.rule) == (finding.engagement, finding.rule) and (
                waiver.subject is None
                or waiver.subject in (finding.subject.service, finding.subject.staff)):
            return waiver
    return None


def _extensions(report: Report) -> Iterable[dict[str, Any]]:
    for plugin in report.plugins:
        component: dict[str, Any] = {"name": plugin.name}
        if plugin.version:
            component["version"] = plugin.version
        component["properties"] = {
            k: v for k, v in (("distribution", plugin.distribution),
                              ("factsAsOf", plugin.facts_as_of)) if v is not None
        }
        yield component


def _invocation(report: Report) -> dict[str, Any]:
    # A plugin that failed to load makes the check incomplete (exit code 2): say so in SARIF too.
    invocation: dict[str, Any] = {"executionSuccessful": not report.plugin_failures}
    if report.plugin_failures:
        invocation["toolExecutionNotifications"] = [
            {
                "level": "error",
                "message": {"text": f"plugin {failure.name} failed to load: {failure.error}"},
                "descriptor": {"id": "plugin-load-error"},
                "properties": {"plugin": failure.name,
                               **({"distribution": failure.distribution}
                                  if failure.distribution else {})},
            }
            for failure in report.plugin_failures
        ]
    run = report.run
    # What was turned off shows in a SARIF viewer as configuration notes, not just data.
    notes = [_note(f"plugin {d.name} disabled ({d.by})", "plugin-disabled")
             for d in run.disabled_plugins]
    notes += [_note(f"{s.path} not checked: {s.reason}", "path-skipped") for s in run.skipped]
    if notes:
        invocation["toolConfigurationNotifications"] = notes
    invocation["properties"] = {
        "configFile": run.config_file,
        "disabledPlugins": [d.as_dict() for d in run.disabled_plugins],
        "select": list(run.select),
        "ignore": list(run.ignore),
        "failOn": run.fail_on,
        "runDate": run.run_date,
        "waivers": run.waivers,
        "skipped": [s.as_dict() for s in run.skipped],
    }
    return invocation


def _note(text: str, descriptor: str) -> dict[str, Any]:
    return {"level": "note", "message": {"text": text}, "descriptor": {"id": descriptor}}


def render(report: Report, options: RenderOptions = PLAIN) -> str:
    del options  # SARIF is for machines
    return pretty_json(as_sarif(report)) + "\n"
