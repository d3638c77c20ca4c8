"""``kpo_rules.check``: the whole pipeline behind one function.

paths -> files -> documents -> schema-valid documents -> resolved engagements
-> rule findings -> one sorted report. The CLI is a thin layer over this.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kpo_rules.errors import YamlSyntaxError
from kpo_rules.load.files import SourceFile, collect
from kpo_rules.model import Document, Finding, Report, Severity, sort_findings
from kpo_rules.plugins import PluginSet, create_plugin_set

_SYNTAX_REFS = ("YAML 1.2.2 specification", "SPEC §2")


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
) -> Report:
    """Check engagement files and return a :class:`~kpo_rules.model.Report`.

    :param paths: files, directories (searched for ``*.yaml``/``*.yml``) or ``-`` for stdin.
    :param sources: in-memory files as ``(name, text)`` pairs, checked after ``paths``.
    :param plugins: a plugin set from :func:`kpo_rules.plugins.create_plugin_set`;
        by default every installed plugin not disabled by ``KPO_RULES_DISABLE_PLUGINS``.
    :param today: the run date that waiver expiry is judged against (default: today).
    :raises kpo_rules.errors.UsageError: a named path does not exist.
    """
    files = collect(paths)
    files += [
        SourceFile(name=name, content=text.encode() if isinstance(text, str) else text)
        for name, text in sources
    ]
    plugin_set = plugins if plugins is not None else create_plugin_set()
    del today  # waivers arrive with the waiver stage; the parameter is part of the API now
    results = [read_file(source) for source in files]
    return assemble(results, plugin_set)


def read_file(source: SourceFile) -> FileResult:
    """Parse and schema-check one file; every problem becomes a finding, never an exception."""
    from kpo_rules.load.validate import validate_document  # noqa: PLC0415 - jsonschema is heavy
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


def assemble(results: Sequence[FileResult], plugins: PluginSet) -> Report:
    """Cross-file stage: references between documents, then the rules of the plugins."""
    from kpo_rules.content import load_content  # noqa: PLC0415
    from kpo_rules.engine.evaluate import evaluator_for  # noqa: PLC0415
    from kpo_rules.references import resolve, unknown_ids  # noqa: PLC0415

    content = load_content(plugins)
    findings = [f for result in results for f in result.findings]
    documents = [doc for result in results for doc in result.documents]
    engagement_docs = [d for d in documents if d.data["kind"] == "Engagement"]
    roster_docs = [d for d in documents if d.data["kind"] == "Roster"]
    engagements, problems = resolve(engagement_docs, roster_docs)
    findings += problems
    findings += unknown_ids(engagements, roster_docs, content.catalogue)
    evaluator = evaluator_for(content.rules)
    for engagement in engagements:
        findings += evaluator.evaluate(engagement, content.catalogue)
    return Report(
        findings=tuple(sort_findings(findings)),
        files=len(results),
        engagements=len(engagements),
        plugins=tuple(plugins.infos),
        plugin_failures=(*plugins.failures, *content.failures),
    )


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
