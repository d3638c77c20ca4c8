"""``kpo_rules.check``: the whole pipeline behind one function.

paths -> files -> documents -> schema-valid documents -> resolved engagements
-> rule findings -> waivers -> selection and severities -> one sorted report.
The CLI is a thin layer over this.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from kpo_rules.config import Config, is_selected, missing_plugins, severity_for
from kpo_rules.errors import YamlSyntaxError
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

_SYNTAX_REFS = ("YAML 1.2.2 specification", "SPEC §2")
T = TypeVar("T")
CRASH = "KPO-ENG-002"


@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    """What one file contributed before cross-file checks."""

    name: str
    documents: tuple[Document, ...]
    findings: tuple[Finding, ...]


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
    :param jobs: worker processes; ``0`` means one per available core.
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
    workers = jobs if jobs > 0 else available_cores()
    results = _read_all(files, workers)
    return assemble(results, plugin_set, today=today or dt.date.today(), config=config,
                    waivers=waivers, jobs=workers)


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


def _map(task: Callable[[int], T], count: int, jobs: int, on_crash: Callable[[int, str], T]
         ) -> list[T]:
    """``task`` over ``range(count)``; in worker processes only when that can pay."""
    if jobs <= 1 or count < 2:
        return [task(i) for i in range(count)]
    from kpo_rules.parallel import map_isolated  # noqa: PLC0415 - multiprocessing is costly

    return map_isolated(task, count, jobs, on_crash)


def _read_all(files: Sequence[SourceFile], jobs: int) -> list[FileResult]:
    def crashed(index: int, why: str) -> FileResult:
        return FileResult(name=files[index].name, documents=(),
                          findings=(_crash(files[index].name, why),))

    return _map(lambda i: read_file(files[i]), len(files), jobs, crashed)


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
    return FileResult(name=source.name, documents=tuple(valid), findings=tuple(findings))


def assemble(results: Sequence[FileResult], plugins: PluginSet, *,
             today: dt.date | None = None, config: Config | None = None,
             waivers: bool = True, jobs: int = 1) -> Report:
    """Cross-file stage: references between documents, the plugins' rules, waivers, config."""
    from kpo_rules.content import load_content  # noqa: PLC0415
    from kpo_rules.core_rules import rule_catalogue  # noqa: PLC0415
    from kpo_rules.engine.evaluate import evaluator_for  # noqa: PLC0415
    from kpo_rules.references import resolve, unknown_ids  # noqa: PLC0415
    from kpo_rules.waivers import apply_waivers  # noqa: PLC0415

    config = config or Config()
    content = load_content(plugins)
    findings = [f for result in results for f in result.findings]
    documents = [doc for result in results for doc in result.documents]
    engagement_docs = [d for d in documents if d.data["kind"] == "Engagement"]
    roster_docs = [d for d in documents if d.data["kind"] == "Roster"]
    engagements, problems = resolve(engagement_docs, roster_docs)
    findings += problems
    findings += unknown_ids(engagements, roster_docs, content.catalogue)
    evaluator = evaluator_for(content.rules)

    def crashed(index: int, why: str) -> list[Finding]:
        return [_crash(engagements[index].file, why, engagements[index])]

    per_engagement = _map(
        lambda i: evaluator.evaluate(engagements[i], content.catalogue),
        len(engagements), jobs, crashed)
    findings += [f for group in per_engagement for f in group]

    known = {r.id for r in content.rules.rules}
    outcome = apply_waivers(findings, engagements, known, today or dt.date.today(),
                            enabled=waivers)
    failures = [*plugins.failures, *content.failures]
    failures += [PluginFailure(name="(config)", distribution=None, error=problem)
                 for problem in missing_plugins(config, _loaded(plugins))]
    with_engagement = {e.file for e in engagements}
    checked: list[tuple[str, str | None]] = [(e.file, e.id) for e in engagements]
    checked += [(r.name, None) for r in results if r.name not in with_engagement]
    return Report(
        findings=tuple(sort_findings(_configured(outcome.findings, config))),
        files=len(results),
        engagements=len(engagements),
        checked=tuple(sorted(checked, key=lambda c: (c[0], c[1] or ""))),
        rules=rule_catalogue(content.rules.rules),
        plugins=tuple(plugins.infos),
        plugin_failures=tuple(failures),
        waived=tuple(sort_findings(list(outcome.waived))),
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
        remediation="Fix the YAML at this position; the rest of the file was not checked.",
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
