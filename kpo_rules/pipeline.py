"""The check, stage by stage; each stage a public function, read top to bottom.

    load_rules(plugins)         the plugins' catalogues and compiled rules, once per run
    read(source)                bytes -> YAML documents -> schema-valid documents
    read_rosters(files, rules)  the staff every engagement of the run may name
    check_file(run, index)      one file: references resolved, rules evaluated, findings
                                filtered (waivers, selection, baseline: :mod:`.filters`);
                                with ``run.details``, each engagement described for the
                                HTML report (:mod:`kpo_rules.details`)
    settle(run, outcomes)       what only every file together tells: ids used twice
    build_report(...)           one sorted :class:`~kpo_rules.model.Report`

:func:`kpo_rules.check` calls them in this order; worker processes
(:mod:`kpo_rules.parallel`) run :func:`check_file` on their share of the files. Rosters are
read before any file is checked, so a worker inherits them when it is forked and each file
is read once and forgotten once checked: memory does not grow with the number of files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kpo_rules.config import Config, is_selected, missing_plugins
from kpo_rules.core_rules import core_finding
from kpo_rules.errors import FileReadError, YamlSyntaxError
from kpo_rules.filters import Filtered, Filters, apply_filters, capped
from kpo_rules.load.files import SourceFile
from kpo_rules.load.ownership import NOT_PARSED, text_declares_ours, why_not_ours
from kpo_rules.model import (
    Document,
    Finding,
    Report,
    RunRecord,
    sort_findings,
)

if TYPE_CHECKING:
    from kpo_rules.content import Content
    from kpo_rules.details import EngagementDetail
    from kpo_rules.engagement import StaffDef
    from kpo_rules.engine.evaluate import Evaluator
    from kpo_rules.incidents import PluginFailure, SkippedPath
    from kpo_rules.packing import PackedDetail
    from kpo_rules.plugins import PluginSet

CRASHED = "KPO-ENG-002"
INTERNAL_ERROR = "KPO-ENG-003"


# ----------------------------------------------------------------------- the rules


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSet:
    """The plugins' content and its compiled rules: what every file is checked with."""

    content: Content
    evaluator: Evaluator

    @property
    def known(self) -> frozenset[str]:
        """Ids of the plugin rules (what a waiver may name)."""
        return frozenset(rule.id for rule in self.content.rules.rules)


def load_rules(plugins: PluginSet) -> RuleSet:
    from kpo_rules.content import load_content  # noqa: PLC0415
    from kpo_rules.engine.evaluate import evaluator_for  # noqa: PLC0415

    content = load_content(plugins)
    return RuleSet(content=content, evaluator=evaluator_for(content.rules))


# ------------------------------------------------------------------ read, validate


@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    """One file read: its schema-valid documents and the findings of reading it."""

    name: str
    documents: tuple[Document, ...]
    findings: tuple[Finding, ...]
    #: Why the file was not checked (found by a walk, it is not ours), or None.
    skipped: str | None = None


def read(source: SourceFile) -> FileResult:
    """Parse and schema-check one file; every problem becomes a finding, never an exception.

    A file found by a walk (``source.only_ours``) that declares no kpo-rules document is
    skipped, not reported: :mod:`kpo_rules.load.ownership`.
    """
    from kpo_rules.load.schema_check import validate_document  # noqa: PLC0415
    from kpo_rules.load.yaml12 import parse_yaml  # noqa: PLC0415

    raw: bytes | None = None
    try:
        raw = source.read()
        documents = parse_yaml(raw, source.name)
    except YamlSyntaxError as exc:
        if raw is not None and source.only_ours and not text_declares_ours(raw):
            return FileResult(name=source.name, documents=(), findings=(), skipped=NOT_PARSED)
        return FileResult(name=source.name, documents=(), findings=(_syntax(source.name, exc),))
    except OSError as exc:
        error = YamlSyntaxError(f"cannot read the file: {exc.strerror or exc}")
        return FileResult(name=source.name, documents=(), findings=(_syntax(source.name, error),))
    skipped = why_not_ours(d.data for d in documents) if source.only_ours else None
    if skipped is not None:
        return FileResult(name=source.name, documents=(), findings=(), skipped=skipped)
    if not documents:
        return FileResult(name=source.name, documents=(), findings=(core_finding(
            "KPO-SCH-002", message="the file holds no YAML document", file=source.name),))
    valid: list[Document] = []
    findings: list[Finding] = []
    for doc in documents:
        problems = validate_document(doc)
        findings += problems
        if not problems:
            valid.append(doc)
    return FileResult(name=source.name, documents=tuple(valid), findings=tuple(findings))


def _syntax(name: str, exc: YamlSyntaxError) -> Finding:
    return core_finding("KPO-SYN-001", message=exc.message, file=name, line=exc.line,
                        column=exc.column, remediation=exc.remediation)


# ------------------------------------------------------------------------- rosters


@dataclass(frozen=True, slots=True, kw_only=True)
class Rosters:
    """Roster staff, global to a run, read before any engagement is checked."""

    #: Staff of every roster, by id.
    staff: Mapping[str, StaffDef] = field(default_factory=dict)
    #: Problems among the rosters (ids defined twice, unknown credentials...).
    findings: tuple[Finding, ...] = ()
    #: Files read to find them, by index in the run's files: checked without a second read.
    read: Mapping[int, FileResult] = field(default_factory=dict)


def might_hold_roster(raw: bytes) -> bool:
    """Whether a file's bytes could hold a ``kind: Roster`` document.

    The word must appear as written unless a double-quoted escape spells it (``"R\\x6fster"``),
    which needs a backslash; a file with neither cannot hold a roster.
    """
    return b"Roster" in raw or b"\\" in raw


def read_rosters(files: Sequence[SourceFile], rules: RuleSet) -> Rosters:
    """Read the files that may hold rosters (most do not: a byte search tells) and index
    their staff. Files holding a roster are kept, so they are not read twice."""
    from kpo_rules.references import index_rosters, unknown_ids  # noqa: PLC0415

    kept: dict[int, FileResult] = {}
    for index, source in enumerate(files):
        try:
            raw = source.read()
        except FileReadError:
            continue  # reported when the file is checked
        if not might_hold_roster(raw):
            continue
        result = read(replace(source, content=raw))
        if any(d.data["kind"] == "Roster" for d in result.documents):
            kept[index] = result
    rosters = [d for result in kept.values() for d in result.documents
               if d.data["kind"] == "Roster"]
    staff, problems = index_rosters(rosters)
    problems += unknown_ids([], rosters, rules.content.catalogue)
    return Rosters(staff=staff, findings=tuple(problems), read=kept)


# -------------------------------------------------------------------- check a file


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """Everything every file of a run is checked with. Built before worker processes are
    forked, so they inherit it instead of receiving it."""

    files: Sequence[SourceFile]
    rules: RuleSet
    rosters: Rosters
    filters: Filters
    #: Describe each engagement for the HTML report (services, requirements, overlap).
    details: bool = False
    #: What packed findings are compressed against (:func:`kpo_rules.packed.dictionary_for`).
    dictionary: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """The filtered findings of one engagement document of a file, or (``engagement``
    None) of the file itself: reading and schema problems."""

    document: int | None = None
    engagement: str | None = None
    at: tuple[int, int] = (1, 1)  # where metadata.id is
    filtered: Filtered = field(default_factory=Filtered)
    detail: EngagementDetail | None = None  # with ``Run.details`` only
    #: ``detail``, packed for the trip to the report (then ``detail`` is None).
    packed_detail: PackedDetail | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FileOutcome:
    """What checking one file gives the parent: findings only, no documents."""

    name: str
    parts: tuple[Part, ...]
    #: Why the file was not checked (not ours), or None.
    skipped: str | None = None


def check_file(run: Run, index: int) -> FileOutcome:
    """Read file ``index`` of the run (unless the rosters stage did), check every
    engagement in it, filter the findings. An unexpected error is a finding on the file
    (or the engagement) it happened in: the other files are checked all the same."""
    source = run.files[index]
    try:
        result = run.rosters.read.get(index) or read(source)
    except Exception as exc:  # noqa: BLE001 - any error becomes a finding on this file
        return failed(source.name, exc)
    if result.skipped is not None:
        return FileOutcome(name=result.name, parts=(), skipped=result.skipped)
    # the file's own part (reading, schema) only when there is something in it
    parts = [Part(filtered=apply_filters(result.findings, run.filters))] \
        if result.findings else []
    for doc in result.documents:
        if doc.data["kind"] == "Engagement":
            parts.append(_check_engagement(run, doc))
    return FileOutcome(name=result.name, parts=_capped(parts, run.filters.max_per_file))


def _check_engagement(run: Run, doc: Document) -> Part:
    from kpo_rules.references import resolve_engagement, unknown_ids  # noqa: PLC0415

    eid = doc.data["metadata"]["id"]
    at = doc.locate("/metadata/id")
    detail = None
    try:
        engagement, findings = resolve_engagement(doc, run.rosters.staff)
        catalogue = run.rules.content.catalogue
        findings += unknown_ids([engagement], [], catalogue)
        findings += run.rules.evaluator.evaluate(engagement, catalogue)
        filtered = apply_filters(findings, run.filters, engagement)
        if run.details:
            from kpo_rules.details import describe  # noqa: PLC0415

            detail = describe(engagement, catalogue)
    except Exception as exc:  # noqa: BLE001 - any error becomes a finding on this engagement
        crash = _internal_error(doc.file, exc, at=at, engagement=eid)
        filtered = Filtered(findings=(crash,))
    return Part(document=doc.index, engagement=eid, at=at, filtered=filtered, detail=detail)


def _capped(parts: list[Part], limit: int) -> tuple[Part, ...]:
    """At most ``limit`` findings in the whole file, in document order."""
    out = []
    budget = limit
    for part in parts:
        findings = part.filtered.findings
        if len(findings) > budget:
            kept = capped(sort_findings(list(findings)), budget)
            out.append(replace(part, filtered=replace(part.filtered, findings=kept)))
        else:
            out.append(part)
        budget = max(0, budget - len(findings))
    return tuple(out)


def failed(name: str, exc: BaseException) -> FileOutcome:
    """The outcome of a file whose check raised ``exc``."""
    return FileOutcome(name=name, parts=(Part(filtered=Filtered(
        findings=(_internal_error(name, exc),))),))


def _internal_error(name: str, exc: BaseException, *, at: tuple[int, int] = (1, 1),
                    engagement: str | None = None) -> Finding:
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return core_finding(INTERNAL_ERROR, message=f"not checked: an unexpected error: {what}",
                        file=name, line=at[0], column=at[1], engagement=engagement,
                        path="/metadata/id" if engagement else "")


def crashed(run: Run, index: int, why: str) -> FileOutcome:
    """The outcome of a file whose worker process died checking it, even alone."""
    name = run.files[index].name
    return FileOutcome(name=name, parts=(Part(filtered=apply_filters(
        [core_finding(CRASHED, message=f"not checked: {why}", file=name)], run.filters)),))


def pack(outcome: FileOutcome, dictionary: bytes = b"", *, compress: bool = True
         ) -> FileOutcome:
    """The outcome with each part's findings sorted and packed, and its engagement detail
    (html reports only) packed: what a run holds until the report is written
    (:mod:`kpo_rules.packed`). Without ``compress`` (a run of one file, which holds
    nothing for long), the findings are only sorted."""
    if not compress:
        return replace(outcome, parts=tuple(replace(part, filtered=replace(
            part.filtered, findings=tuple(sort_findings(list(part.filtered.findings)))))
            for part in outcome.parts))
    return replace(outcome, parts=tuple(_pack_part(part, dictionary) for part in outcome.parts))


def _pack_part(part: Part, dictionary: bytes) -> Part:
    from kpo_rules.packing import Packed, PackedDetail  # noqa: PLC0415

    if part.filtered.findings:
        part = replace(part, filtered=replace(
            part.filtered, findings=(),
            packed=Packed.of(sort_findings(list(part.filtered.findings)), dictionary)))
    if part.detail is not None:
        part = replace(part, detail=None, packed_detail=PackedDetail.of(part.detail))
    return part


# -------------------------------------------------------------- across every file


@dataclass(frozen=True, slots=True, kw_only=True)
class Settled:
    """The files' outcomes without the engagements a run must skip, and the findings
    only every file together tells (rosters, ids used twice), filtered."""

    outcomes: tuple[FileOutcome, ...]
    cross: Filtered


def settle(run: Run, outcomes: Sequence[FileOutcome]) -> Settled:
    """An engagement whose id an earlier one of the run already uses is a finding and is
    not reported otherwise (its id would make every waiver and baseline ambiguous)."""
    from kpo_rules.references import duplicate_engagements  # noqa: PLC0415

    entries = [(outcome.name, part.document, part.engagement, part.at)
               for outcome in outcomes for part in outcome.parts
               if part.engagement is not None and part.document is not None]
    skipped, duplicates = duplicate_engagements(entries)
    if skipped:
        outcomes = [FileOutcome(name=o.name, parts=tuple(
            p for p in o.parts if (o.name, p.document) not in skipped)) for o in outcomes]
    cross = apply_filters([*run.rosters.findings, *duplicates], run.filters)
    return Settled(outcomes=tuple(outcomes), cross=cross)


def build_report(run: Run, settled: Settled, plugins: PluginSet, config: Config,
                 baseline: Iterable[Mapping[str, Any]] = ()) -> Report:
    """One sorted report of every file's and the cross-file findings."""
    from kpo_rules.core_rules import rule_catalogue  # noqa: PLC0415
    from kpo_rules.packed import FindingList  # noqa: PLC0415

    parts = [settled.cross, *(p.filtered for o in settled.outcomes for p in o.parts)]
    chunks = [(o.name, p.filtered.packed or p.filtered.findings)
              for o in settled.outcomes for p in o.parts]
    checked: list[tuple[str, str | None]] = []
    skipped: list[SkippedPath] = []
    if any(o.skipped is not None for o in settled.outcomes):
        from kpo_rules.incidents import SkippedPath  # noqa: PLC0415 - only when any

        skipped = [SkippedPath(path=o.name, reason=o.skipped) for o in settled.outcomes
                   if o.skipped is not None]
    for outcome in settled.outcomes:
        if outcome.skipped is not None:
            continue
        ids = [p.engagement for p in outcome.parts if p.engagement is not None]
        checked += [(outcome.name, eid) for eid in ids] or [(outcome.name, None)]
    matched = frozenset().union(*(part.matched for part in parts))
    failures: list[PluginFailure] = [*plugins.failures, *run.rules.content.failures]
    loaded = [(i.name, i.distribution, i.version) for i in plugins.infos]
    missing = missing_plugins(config, loaded)
    if missing:
        from kpo_rules.incidents import PluginFailure  # noqa: PLC0415

        failures += [PluginFailure(name="(config)", distribution=None, error=problem)
                     for problem in missing]
    return Report(
        findings=FindingList(chunks, run.dictionary).plus(settled.cross.findings),
        files=len(settled.outcomes) - len(skipped),
        engagements=sum(1 for _, eid in checked if eid is not None),
        checked=tuple(sorted(checked, key=lambda c: (c[0], c[1] or ""))),
        # The rules the run evaluated (JUnit has one test case per engagement and rule).
        rules={rule_id: rule for rule_id, rule in
               rule_catalogue(run.rules.content.rules.rules).items()
               if is_selected(config, rule_id)},
        plugins=tuple(plugins.infos),
        plugin_failures=tuple(failures),
        waived=tuple(sort_findings([f for part in parts for f in part.waived])),
        waivers=tuple(sorted((w for part in parts for w in part.waivers),
                             key=lambda w: (w.file, w.line))),
        baselined=sum(part.baselined for part in parts),
        baseline_gone=tuple(entry for entry in baseline
                            if entry["fingerprint"] not in matched),
        run=RunRecord(skipped=tuple(skipped)),
        details=_details(settled.outcomes),
    )


def _details(outcomes: Iterable[FileOutcome]) -> Sequence[EngagementDetail]:
    """The engagements' details (html reports only), by file and id, unpacked one at a
    time while the report is written."""
    from kpo_rules.packed import DetailList  # noqa: PLC0415

    return DetailList(((o.name, p.engagement or ""), packed)
                      for o in outcomes for p in o.parts
                      if (packed := p.packed_detail or _pack_detail(p.detail)) is not None)


def _pack_detail(detail: EngagementDetail | None) -> PackedDetail | None:
    if detail is None:  # not an html report
        return None
    from kpo_rules.packing import PackedDetail  # noqa: PLC0415

    return PackedDetail.of(detail)
