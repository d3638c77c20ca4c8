"""``kpo_rules.check``: the whole pipeline behind one function.

paths -> files -> documents -> schema-valid documents -> resolved engagements
-> rule findings -> waivers -> selection and severities -> one sorted report.
The CLI is a thin layer over this.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpo_rules.config import Config, is_selected, missing_plugins, severity_for
from kpo_rules.errors import YamlSyntaxError
from kpo_rules.gc_pause import gc_frozen, gc_paused
from kpo_rules.load.files import SourceFile, collect
from kpo_rules.model import (
    Document,
    Finding,
    PluginFailure,
    Report,
    Severity,
    sort_findings,
)
from kpo_rules.plugins import PluginSet, create_plugin_set

if TYPE_CHECKING:
    from kpo_rules.content import Content
    from kpo_rules.engine.evaluate import Evaluator

_SYNTAX_REFS = ("YAML 1.2.2 specification", "SPEC §2")
CRASH = "KPO-ENG-002"
#: With ``jobs=0``, files from which workers are used: starting them costs about as much
#: as checking 30 files of the benchmark's size (measured: 32 files take 0.18 s with one
#: process or two), so fewer are checked in this process.
AUTO_PARALLEL_FILES = 32


@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    """What one file contributed before cross-file checks."""

    name: str
    #: Valid documents; from a worker, only the rosters (it keeps the engagements: shipping
    #: every node's position between processes costs more than it saves).
    documents: tuple[Document, ...]
    findings: tuple[Finding, ...]
    #: (document index, metadata.id, its position) of each valid engagement document.
    engagements: tuple[tuple[int, str, tuple[int, int]], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class _FileOutcome:
    findings: tuple[Finding, ...] = ()
    waived: tuple[Finding, ...] = ()
    engagements: tuple[str, ...] = ()


def check(
    paths: Iterable[str | Path] = (),
    *,
    sources: Iterable[tuple[str, str | bytes]] = (),
    plugins: PluginSet | None = None,
    today: dt.date | None = None,
    config: Config | None = None,
    waivers: bool = True,
    jobs: int = 1,
) -> Report:
    """Check engagement files and return a :class:`~kpo_rules.model.Report`.

    :param paths: files, directories (searched for ``*.yaml``/``*.yml``) or ``-`` for stdin.
    :param sources: in-memory files as ``(name, text)`` pairs, checked after ``paths``.
    :param plugins: a plugin set from :func:`kpo_rules.plugins.create_plugin_set`; by
        default every installed plugin not disabled by the config or
        ``KPO_RULES_DISABLE_PLUGINS``.
    :param today: the run date waiver expiry is judged against (default: today).
    :param config: selection, severities, exclusions, plugin requirements
        (:func:`kpo_rules.config.find_config` finds the project's).
    :param waivers: ``False`` is audit mode: nothing is waived.
    :param jobs: worker processes; ``0`` means one per available core once there are
        enough files for workers to pay (:data:`AUTO_PARALLEL_FILES`).
    :raises kpo_rules.errors.UsageError: a named path does not exist.
    """
    config = config or Config()
    files = _without_excluded(collect(paths), config)
    files += [
        SourceFile(name=name, content=text.encode() if isinstance(text, str) else text)
        for name, text in sources
    ]
    plugin_set = plugins if plugins is not None else create_plugin_set(
        blocked=config.disable_plugins)
    workers = jobs
    if jobs <= 0:
        workers = available_cores() if len(files) >= AUTO_PARALLEL_FILES else 1
    run_date = today or dt.date.today()
    if workers > 1 and len(files) > 1:
        return _check_in_workers(files, plugin_set, today=run_date, config=config,
                                 waivers=waivers, jobs=workers)
    with gc_paused():  # documents are trees: nothing for the collector to find
        results = [read_file(f) for f in files]
    with gc_frozen():
        return assemble(results, plugin_set, today=run_date, config=config, waivers=waivers)


def available_cores() -> int:
    """Cores this process may run on (the CPU affinity, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _without_excluded(files: list[SourceFile], config: Config) -> list[SourceFile]:
    if not config.exclude or config.root is None:
        return files
    root = config.root

    def excluded(source: SourceFile) -> bool:
        if source.path is None:
            return False
        try:
            relative = source.path.resolve().relative_to(root)
        except ValueError:
            return False
        return any(relative.match(pattern) or relative.as_posix().startswith(pattern.rstrip("/")
                                                                               + "/")
                   for pattern in config.exclude)

    return [f for f in files if not excluded(f)]


def _check_in_workers(files: Sequence[SourceFile], plugins: PluginSet, *, today: dt.date,
                      config: Config, waivers: bool, jobs: int) -> Report:
    """Check files in ``jobs`` forked workers; each worker reads its files once and keeps
    their documents while the parent settles what needs every file (rosters, engagement
    ids), then checks them. Only summaries and findings travel between processes."""
    from kpo_rules.parallel import TwoPhases, map_two_phases  # noqa: PLC0415 - costly import

    stage = _Stage.load(plugins, today=today, waivers=waivers)  # before the fork: inherited
    cross: list[Finding] = []

    def first(i: int) -> tuple[FileResult, tuple[Document, ...]]:
        result = read_file(files[i])
        return _slimmed(result), result.documents

    def between(results: list[FileResult]) -> _CrossFile:
        context, findings = stage.cross_file(results)
        cross.extend(findings)
        return context

    def second(context: _CrossFile, i: int, documents: tuple[Document, ...]) -> _FileOutcome:
        return stage.check_documents(context, files[i].name, documents)

    work = TwoPhases(
        first=first, between=between, second=second,
        first_crashed=lambda i, why: FileResult(
            name=files[i].name, documents=(), findings=(_crash(files[i].name, why),)),
        second_crashed=lambda i, why: _FileOutcome(findings=(_crash(files[i].name, why),)),
        skipped=lambda i: _FileOutcome(),
        first_builds_trees=True,  # documents: nothing for the collector to find
    )
    results, outcomes = map_two_phases(work, len(files), jobs,
                                       weights=[f.size() for f in files])
    return stage.report(results, outcomes, cross, plugins, config)


def _slimmed(result: FileResult) -> FileResult:
    """The result without its engagement documents, which stay in the worker."""
    if not result.engagements:
        return result
    rosters = tuple(d for d in result.documents if d.data["kind"] == "Roster")
    return replace(result, documents=rosters)


def read_file(source: SourceFile) -> FileResult:
    """Parse and schema-check one file; every problem becomes a finding, never an exception."""
    from kpo_rules.load.schema_check import validate_document  # noqa: PLC0415
    from kpo_rules.load.yaml12 import parse_yaml  # noqa: PLC0415

    try:
        documents = parse_yaml(source.read(), source.name)
    except YamlSyntaxError as exc:
        return FileResult(name=source.name, documents=(), findings=(_syntax(source.name, exc),))
    except OSError as exc:
        error = YamlSyntaxError(f"cannot read the file: {exc.strerror or exc}")
        return FileResult(name=source.name, documents=(), findings=(_syntax(source.name, error),))
    if not documents:
        return FileResult(name=source.name, documents=(), findings=(_empty(source.name),))
    valid: list[Document] = []
    findings: list[Finding] = []
    for doc in documents:
        problems = validate_document(doc)
        findings += problems
        if not problems:
            valid.append(doc)
    engagements = tuple((d.index, d.data["metadata"]["id"], d.locate("/metadata/id"))
                        for d in valid if d.data["kind"] == "Engagement")
    return FileResult(name=source.name, documents=tuple(valid), findings=tuple(findings),
                      engagements=engagements)


def assemble(results: Sequence[FileResult], plugins: PluginSet, *,
             today: dt.date | None = None, config: Config | None = None,
             waivers: bool = True) -> Report:
    """Cross-file stage: references between documents, the plugins' rules, waivers, config.

    What needs every file (rosters, engagement ids) is settled first; then each file's
    engagements are checked.
    """
    config = config or Config()
    stage = _Stage.load(plugins, today=today or dt.date.today(), waivers=waivers)
    context, cross = stage.cross_file(results)
    outcomes = [stage.check_documents(context, r.name, r.documents) for r in results]
    return stage.report(results, outcomes, cross, plugins, config)


@dataclass(frozen=True, slots=True)
class _CrossFile:
    """What checking one file needs to know about every file."""

    roster_staff: Mapping[str, Any]  # staff of every roster, by id
    skipped: frozenset[tuple[str, int]]  # (file, document index) of duplicate engagements


@dataclass(frozen=True, slots=True)
class _Stage:
    """The loaded rules and run settings every file is checked with."""

    content: Content
    evaluator: Evaluator
    run_date: dt.date
    waivers: bool
    known: frozenset[str]

    @classmethod
    def load(cls, plugins: PluginSet, *, today: dt.date, waivers: bool) -> _Stage:
        from kpo_rules.content import load_content  # noqa: PLC0415
        from kpo_rules.engine.evaluate import evaluator_for  # noqa: PLC0415

        content = load_content(plugins)
        return cls(content=content, evaluator=evaluator_for(content.rules), run_date=today,
                   waivers=waivers, known=frozenset(r.id for r in content.rules.rules))

    def cross_file(self, results: Sequence[FileResult]) -> tuple[_CrossFile, list[Finding]]:
        """Rosters and engagement ids across files, and the findings about them."""
        from kpo_rules.references import (  # noqa: PLC0415
            duplicate_engagements,
            index_rosters,
            unknown_ids,
        )

        findings = [f for result in results for f in result.findings]
        rosters = [d for r in results for d in r.documents if d.data["kind"] == "Roster"]
        roster_staff, problems = index_rosters(rosters)
        findings += problems + unknown_ids([], rosters, self.content.catalogue)
        skipped, problems = duplicate_engagements(
            [(r.name, index, eid, at) for r in results for index, eid, at in r.engagements])
        findings += problems
        return _CrossFile(roster_staff=roster_staff, skipped=frozenset(skipped)), findings

    def check_documents(self, context: _CrossFile, name: str,
                        documents: Sequence[Document]) -> _FileOutcome:
        """The rules, then the waivers, for each engagement document of one file."""
        from kpo_rules.references import resolve_engagement, unknown_ids  # noqa: PLC0415
        from kpo_rules.waivers import apply_waivers  # noqa: PLC0415

        catalogue = self.content.catalogue
        found: list[Finding] = []
        waived: list[Finding] = []
        ids: list[str] = []
        for doc in documents:
            if doc.data["kind"] != "Engagement" or (name, doc.index) in context.skipped:
                continue
            engagement, own = resolve_engagement(doc, context.roster_staff)
            own += unknown_ids([engagement], [], catalogue)
            own += self.evaluator.evaluate(engagement, catalogue)
            outcome = apply_waivers(own, [engagement], self.known, self.run_date,
                                    enabled=self.waivers)
            found += outcome.findings
            waived += outcome.waived
            ids.append(engagement.id)
        return _FileOutcome(findings=tuple(found), waived=tuple(waived), engagements=tuple(ids))

    def report(self, results: Sequence[FileResult], outcomes: Sequence[_FileOutcome],
               cross: Sequence[Finding], plugins: PluginSet, config: Config) -> Report:
        """One sorted report of every file's and the cross-file findings."""
        from kpo_rules.core_rules import rule_catalogue  # noqa: PLC0415

        findings = [*cross, *(f for outcome in outcomes for f in outcome.findings)]
        checked: list[tuple[str, str | None]] = []
        for result, outcome in zip(results, outcomes, strict=True):
            checked += [(result.name, eid) for eid in outcome.engagements] or [
                (result.name, None)]
        failures = [*plugins.failures, *self.content.failures]
        failures += [PluginFailure(name="(config)", distribution=None, error=problem)
                     for problem in missing_plugins(config, _loaded(plugins))]
        return Report(
            findings=tuple(sort_findings(_configured(findings, config))),
            files=len(results),
            engagements=sum(len(outcome.engagements) for outcome in outcomes),
            checked=tuple(sorted(checked, key=lambda c: (c[0], c[1] or ""))),
            rules=rule_catalogue(self.content.rules.rules),
            plugins=tuple(plugins.infos),
            plugin_failures=tuple(failures),
            waived=tuple(sort_findings([f for outcome in outcomes for f in outcome.waived])),
        )


def _loaded(plugins: PluginSet) -> list[tuple[str, str | None, str | None]]:
    return [(i.name, i.distribution, i.version) for i in plugins.infos]


def _configured(findings: Iterable[Finding], config: Config) -> list[Finding]:
    """Drop deselected rules and apply severity overrides (the most specific entry wins)."""
    out = []
    for finding in findings:
        if not is_selected(config, finding.rule):
            continue
        level = severity_for(config, finding.rule)
        out.append(replace(finding, severity=Severity(level)) if level else finding)
    return out


def _syntax(name: str, exc: YamlSyntaxError) -> Finding:
    return Finding(
        rule="KPO-SYN-001",
        severity=Severity.ERROR,
        category="syntax",
        message=exc.message,
        file=name,
        line=exc.line,
        column=exc.column,
        remediation=exc.remediation,
        references=_SYNTAX_REFS,
    )


def _empty(name: str) -> Finding:
    return Finding(
        rule="KPO-SCH-002",
        severity=Severity.ERROR,
        category="schema",
        message="the file holds no YAML document",
        file=name,
        line=1,
        column=1,
        remediation="Add an Engagement or Roster document, or remove the file from the run.",
        references=("SPEC §2",),
    )


def _crash(name: str, why: str, engagement: object | None = None) -> Finding:
    from kpo_rules.engagement import Engagement  # noqa: PLC0415

    eid = engagement.id if isinstance(engagement, Engagement) else None
    return Finding(
        rule=CRASH,
        severity=Severity.ERROR,
        category="engine-error",
        message=f"not checked: {why}",
        file=name,
        line=1,
        column=1,
        engagement=eid,
        remediation="Report this file to the kpo-rules maintainers; the other files were "
        "checked.",
        references=("SPEC §8",),
    )
