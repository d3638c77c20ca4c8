"""Staff judged as if assigned: copies of one service, one assignee each, in one session.

Nothing here judges anyone; the rules do, through the same stages ``check`` runs
(:func:`~kpo_rules.references.resolve_engagement`, :func:`~kpo_rules.references.unknown_ids`,
:meth:`~kpo_rules.engine.evaluate.Evaluator.evaluate`). A batch of staff is checked as
one engagement: the service's own engagement, but holding one copy of the service per
staff member (each its only assignee) and no other service. Findings about a copy, or
about its assignee alone, are that assignee's.

What the service draws with nobody assigned (coverage, the centre's transfer basis, the
outsourcing terms, an unadmitted supervisor...) is what no assignment changes: those are
the service's *conditions*, and they are taken out of every assignee's findings.

One session per batch is about four times cheaper per person than one per person: the
engagement's own facts and derivations are asserted once. It is sound as long as no rule
joins one service to another. A finding that shows otherwise (about one copy but naming
another copy's assignee, or about nobody in particular and not a condition) sends the
batch back to one session per person, where nothing can be shared by mistake; a rule
whose ``unless`` could be met by another copy's facts (which no finding would show) makes
every batch one person (:func:`may_see_other_copies`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kpo_rules.core_rules import core_finding
from kpo_rules.engagement import StaffDef
from kpo_rules.engine.rule_model import Ref
from kpo_rules.filters import Filters, apply_filters
from kpo_rules.model import Document, Finding, Subject

if TYPE_CHECKING:
    from kpo_rules.engine.rule_model import Derivation, Rule, RuleBook
    from kpo_rules.pipeline import RuleSet

#: Separates a service's id from its copy's number; no id may hold it (ids are letters,
#: digits, '.', '_' and '-'), so a copy's id never occurs in a message by chance.
COPY_MARK = "~"
CRASHED = "KPO-ENG-002"
INTERNAL_ERROR = "KPO-ENG-003"

#: rule, severity, message, service, staff: what makes two findings the same finding.
Key = tuple[str, str, str, str | None, str | None]


#: Fact types built from one service or one staff member (:func:`kpo_rules.engine.facts.
#: build_facts`): each copy in a batch has its own.
PER_COPY = frozenset({"service", "tool", "assignment", "supervisor", "site", "overlap",
                      "staff", "degree", "credential", "language", "familiar", "skill"})
#: The fields that say which service or staff member a fact is about.
IDENTITY = frozenset({"id", "service", "staff"})


def may_see_other_copies(book: RuleBook) -> tuple[str, ...]:
    """Rules and derivations with an ``unless`` over facts of one copy that names no fact
    of the copy it matched by its service or staff id (``unless: {fact: language, code:
    $as.language}``: anyone in the engagement who speaks it). In a batch another copy's
    facts could silence them, so such a book is judged one person per session."""
    per_copy = set(PER_COPY)
    derived = list(book.derivations)
    grew = True
    while grew:  # a fact derived from a copy's facts is the copy's too
        grew = False
        for derivation in derived:
            if derivation.fact not in per_copy and any(p.fact in per_copy
                                                       for p in derivation.when):
                per_copy.add(derivation.fact)
                grew = True
    out = []
    items: list[Rule | Derivation] = [*book.rules, *book.derivations]
    for item in items:
        mine = {p.alias for p in item.when if p.fact in per_copy}
        for pattern in item.unless:
            if pattern.fact in per_copy and not any(
                    isinstance(c.value, Ref) and c.op == "eq" and c.value.alias in mine
                    and c.name in IDENTITY and c.value.name in IDENTITY
                    for c in pattern.conditions):
                out.append(item.id)
                break
    return tuple(out)


def copy_id(service: str, number: int) -> str:
    """The id of copy ``number`` of ``service`` in a batch."""
    return f"{service}{COPY_MARK}{number}{COPY_MARK}"


def key(finding: Finding) -> Key:
    return (finding.rule, finding.severity.value, finding.message, finding.subject.service,
            finding.subject.staff)


@dataclass(frozen=True, slots=True, kw_only=True)
class Opening:
    """One service to staff, and who may be considered for it."""

    #: The service's engagement: as written in a file, or described on the command line.
    document: Document
    #: The service's index in the engagement's ``services``.
    index: int
    #: The engagement's inline staff, then every roster member they do not shadow.
    pool: tuple[StaffDef, ...]
    #: The service's supervisor, when it names one the run knows.
    supervisor: StaffDef | None = None

    @property
    def engagement(self) -> str:
        eid: str = self.document.data["metadata"]["id"]
        return eid

    @property
    def service(self) -> Mapping[str, Any]:
        service: Mapping[str, Any] = self.document.data["services"][self.index]
        return service


@dataclass(frozen=True, slots=True, kw_only=True)
class Judge:
    """What every batch is judged with; built before worker processes are forked."""

    rules: RuleSet
    #: Staff of every roster of the run, by id (what an engagement may name).
    roster_staff: Mapping[str, StaffDef]
    #: The rosters' problems (an id defined twice, an unknown credential) by staff id: a
    #: check of any engagement of the run reports them.
    roster_problems: Mapping[str, tuple[Finding, ...]]
    #: Selection and severities of the configuration (waivers are not applied: a waiver
    #: excuses an assignment someone made, the query asks who meets the rules).
    filters: Filters


def conditions(judge: Judge, opening: Opening) -> tuple[Finding, ...]:
    """Every finding of the service with nobody assigned, before selection."""
    try:
        found = _findings(judge, _as_if(opening, ()))
    except Exception as exc:  # noqa: BLE001 - the service is unjudged: an error, never a pass
        found = [_failure(opening, INTERNAL_ERROR, _what(exc))]
    pointers = _pointers(opening, ())
    return tuple(_restored(f, opening, None, pointers) for f in found)


def selected(judge: Judge, findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """``findings`` after the configuration's selection and severities, most severe first."""
    kept = apply_filters(list(findings), judge.filters).findings
    return tuple(sorted(kept, key=lambda f: (-f.severity.rank, f.rule, f.message)))


def judge_batch(judge: Judge, opening: Opening, members: Sequence[StaffDef],
                given: Iterable[Finding]) -> list[tuple[Finding, ...]]:
    """The staff-level findings of each of ``members`` if assigned to the service: its
    findings less the service's conditions ``given``, selected."""
    known = {key(f) for f in given}
    found = _together(judge, opening, members, known) if len(members) > 1 else None
    if found is None:
        found = [_alone(judge, opening, member, known) for member in members]
    return [selected(judge, f) for f in found]


def failed(opening: Opening, members: Sequence[StaffDef], why: str
           ) -> list[tuple[Finding, ...]]:
    """What each of ``members`` gets when the process judging them died: an engine error
    (unjudged is never a pass)."""
    finding = _failure(opening, CRASHED, f"not judged: {why}")
    return [(replace(finding, subject=Subject(service=finding.subject.service,
                                               staff=member.id)),) for member in members]


# ------------------------------------------------------------------------- a batch


def _together(judge: Judge, opening: Opening, members: Sequence[StaffDef], known: set[Key],
              *, alone: bool = False) -> list[list[Finding]] | None:
    """Findings per member of one session holding a copy per member; None when some
    finding cannot be told apart by member (then judge each alone)."""
    service = opening.service["id"]
    copies = {copy_id(service, number): number for number in range(len(members))}
    position = {member.id: number for number, member in enumerate(members)}
    supervisor = opening.supervisor.id if opening.supervisor is not None else None
    pointers = _pointers(opening, members)
    mine: list[list[Finding]] = [list(judge.roster_problems.get(m.id, ())) for m in members]
    try:
        found = _findings(judge, _as_if(opening, members))
    except Exception as exc:  # noqa: BLE001 - one person unjudged: an error on them
        if not alone:
            return None
        found = [_failure(opening, INTERNAL_ERROR, _what(exc))]
    for finding in found:
        number = copies.get(finding.subject.service or "")
        staff = finding.subject.staff
        if number is not None and staff not in (None, members[number].id, supervisor):
            if not alone:
                return None  # a rule joined one copy to another copy's assignee
            number = None
        if number is None and finding.subject.service is None and staff in position:
            number = position[staff]  # about the assignee, whatever the service
        if number is None:
            if key(_restored(finding, opening, None, pointers)) in known:
                continue  # a condition: drawn with nobody assigned
            if not alone:
                return None  # about nobody in particular, yet not a condition
            number = 0
        restored = _restored(finding, opening, copy_id(service, number), pointers)
        if key(restored) not in known:
            mine[number].append(restored)
    return mine


def _alone(judge: Judge, opening: Opening, member: StaffDef, known: set[Key]
           ) -> list[Finding]:
    found = _together(judge, opening, [member], known, alone=True)
    assert found is not None  # alone, every finding is the member's or a condition
    return found[0]


def _findings(judge: Judge, document: Document) -> list[Finding]:
    """The findings ``check`` gives an engagement document, before filtering."""
    from kpo_rules.references import resolve_engagement, unknown_ids  # noqa: PLC0415

    catalogue = judge.rules.content.catalogue
    engagement, findings = resolve_engagement(document, judge.roster_staff)
    findings += unknown_ids([engagement], [], catalogue)
    findings += judge.rules.evaluator.evaluate(engagement, catalogue)
    return findings


def _as_if(opening: Opening, members: Sequence[StaffDef]) -> Document:
    """The service's engagement with one copy of the service per member, each its only
    assignee (with nobody: the service itself, unassigned), and no other service; inline
    staff are the members and the supervisor defined in the engagement."""
    data = opening.document.data
    service = opening.service
    copies = [{**service, "id": copy_id(service["id"], number), "assignees": [member.id]}
              for number, member in enumerate(members)] or [{**service, "assignees": []}]
    body = {name: value for name, value in data.items()
            if name not in ("services", "staff", "waivers")}
    body["services"] = copies
    inline = _inline(opening, members)
    if inline:
        body["staff"] = [member.data for member in inline]
    return replace(opening.document, data=body)


def _inline(opening: Opening, members: Sequence[StaffDef]) -> list[StaffDef]:
    inline = [member for member in members if member.roster is None]
    boss = opening.supervisor
    if boss is not None and boss.roster is None and all(m.id != boss.id for m in inline):
        inline.append(boss)
    return inline


def _pointers(opening: Opening, members: Sequence[StaffDef]) -> dict[str, str]:
    """Where each part of a batch's document is in the engagement as written."""
    service = f"/services/{opening.index}"
    out = {f"/services/{number}": service for number in range(max(1, len(members)))}
    for number, member in enumerate(_inline(opening, members)):
        if member.document is opening.document:
            out[f"/staff/{number}"] = member.pointer
    return out


def _restored(finding: Finding, opening: Opening, copy: str | None,
              pointers: Mapping[str, str]) -> Finding:
    """``finding`` of a batch as a check of the service as written would give it: the
    copy's id back to the service's, positions in the engagement's file."""
    path = finding.path
    parts = path.split("/", 3)
    head = "/".join(parts[:3])
    if head in pointers:
        path = pointers[head] + path[len(head):]
    subject, message = finding.subject, finding.message
    if copy is not None:
        service = opening.service["id"]
        message = message.replace(copy, service)
        if subject.service == copy:
            subject = Subject(service=service, staff=subject.staff)
    if finding.file != opening.document.file:
        return replace(finding, message=message, subject=subject)
    line, column = opening.document.locate(path)
    return replace(finding, message=message, subject=subject, path=path, line=line,
                   column=column)


def _failure(opening: Opening, rule: str, message: str) -> Finding:
    line, column = opening.document.locate(f"/services/{opening.index}/id")
    return core_finding(rule, message=message, file=opening.document.file, line=line,
                        column=column, engagement=opening.engagement,
                        subject=Subject(service=opening.service["id"]),
                        path=f"/services/{opening.index}/id")


def _what(exc: BaseException) -> str:
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return f"not judged: an unexpected error: {what}"
