"""``kpo_rules.staff``: who could staff each service, stage by stage.

    discover, load_rules, read_rosters   as ``check`` does (:mod:`kpo_rules.pipeline`)
    openings(...)                        the services to staff, each with its pool of staff
    conditions(judge, opening)           per service, what it draws with nobody assigned
    StaffingWork                         the pool in batches, judged in forked workers
    Tally                                per service, the counts and the best entries

Everything a worker needs is built before the workers are forked, as for ``check``; they
receive batch numbers and send back findings per person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kpo_rules.config import Config
from kpo_rules.errors import UsageError
from kpo_rules.model import Document, Finding
from kpo_rules.staffing.answer import (
    ServiceStaffing,
    StaffEntry,
    Staffing,
    Tally,
    blocking,
    rank,
)
from kpo_rules.staffing.copies import (
    Judge,
    Opening,
    conditions,
    failed,
    judge_batch,
    may_see_other_copies,
    selected,
)

if TYPE_CHECKING:
    from kpo_rules.engagement import StaffDef
    from kpo_rules.load.files import SourceFile
    from kpo_rules.plugins import PluginSet
    from kpo_rules.staffing.describe import ServiceSpec

#: Staff judged in one engine session. Measured (CPU of the whole query, best of 3, 500
#: staff of bench/bench_staffing.py against one service, vendored engine): 1.30 s one
#: session a person, 0.56 s in batches of 10, 0.47 s of 25, 0.34 s of 50, 0.36 s of 100,
#: 0.44 s of 250 (the engine's joins grow).
BATCH = 50
#: With ``jobs=0``, (staff, service) pairs from which every available core is used.
AUTO_PARALLEL_PAIRS = 1000
#: Unreadable files a usage error names (the rest are counted).
UNREAD_NAMED = 3
#: Staff listed per service in each list unless told otherwise.
DEFAULT_LIMIT = 10

#: ``progress(people judged, people to judge)`` over every service.
Progress = Callable[[int, int], None]


def staff(
    paths: Iterable[str | Path] = (),
    *,
    service: str | None = None,
    describe: ServiceSpec | None = None,
    limit: int | None = DEFAULT_LIMIT,
    config: Config | None = None,
    plugins: PluginSet | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    batch: int = BATCH,
) -> Staffing:
    """Who could staff each service of the engagements in ``paths``: every roster and
    inline staff member judged by the same rules ``check`` runs, as if they were the
    service's only assignee.

    :param paths: files and directories, as for :func:`kpo_rules.check`; rosters in them
        (and the configuration's ``rosters``) are the staff considered.
    :param service: ``ENGAGEMENT/SERVICE``: only this service.
    :param describe: a service described field by field instead of read from a file; the
        staff considered are the rosters'.
    :param limit: the most candidates and near misses listed per service (the counts are
        always whole); None lists everyone.
    :param config: selection and severities (which rules count, and as what); waivers do
        not apply.
    :param plugins: a plugin set (:func:`kpo_rules.plugins.create_plugin_set`); by default
        every installed plugin the configuration does not disable.
    :param jobs: worker processes; ``0``: one per available core from
        :data:`AUTO_PARALLEL_PAIRS` (staff, service) pairs on. With more than one batch,
        batches are judged in forked workers (where the platform can fork), so a crash in
        the rule engine costs only the batch it happened in.
    :param progress: called as ``progress(judged, to judge)`` as people are judged.
    :param batch: people judged in one engine session; ``1`` judges each alone.
    :raises kpo_rules.errors.UsageError: a path does not exist, ``service`` names no service
        of the run (or is given with ``describe``), the described service is not valid or
        no roster was found to staff it from, or there is nothing to staff.
    """
    from kpo_rules import pipeline  # noqa: PLC0415 - the pipeline imports the loaders
    from kpo_rules.filters import Filters  # noqa: PLC0415
    from kpo_rules.load.discovery import discover  # noqa: PLC0415
    from kpo_rules.plugins import create_plugin_set  # noqa: PLC0415

    if limit is not None and limit < 0:
        raise UsageError("the limit must be 0 or more")
    if batch < 1:
        raise UsageError("a batch holds at least one person")
    if describe is not None and service is not None:
        raise UsageError("--service names a service of a file; a described service is "
                         "the only one staffed")
    config = config or Config()
    found = discover(paths, config)
    files = list(found.files)
    plugin_set = plugins if plugins is not None else create_plugin_set(
        blocked=config.disable_plugins)
    rules = pipeline.load_rules(plugin_set)
    rosters = pipeline.read_rosters(files, rules)
    judge = Judge(rules=rules, roster_staff=rosters.staff,
                  roster_problems=_by_staff(rosters.findings),
                  filters=Filters(config=config, known_rules=rules.known, waivers=False))
    problems = [*found.problems]
    documents: list[Document] = []
    for index, source in enumerate(files):
        result = rosters.read.get(index)
        if result is None:
            if describe is not None and not _may_be_roster(source):
                continue  # a described service needs only the rosters
            result = pipeline.read(source)
        problems += [f for f in result.findings if f.category in ("syntax", "schema")]
        documents += [d for d in result.documents if d.data["kind"] == "Engagement"]
    if describe is not None:
        chosen = [_described(judge, describe, problems)]
    else:
        chosen = _chosen(openings(documents, rosters.staff), service, problems)
    if may_see_other_copies(rules.content.rules):
        batch = 1
    work = StaffingWork.plan(judge, chosen, batch, limit)
    if describe is not None:
        _check_described(work.conditions[0])
    tallies = [Tally(limit) for _ in chosen]
    _judge_all(work, tallies, jobs, progress)
    return Staffing(
        services=tuple(_answer(opening, work.conditions[i], tallies[i], judge)
                       for i, opening in enumerate(chosen)),
        problems=tuple(problems), plugins=tuple(plugin_set.infos),
        plugin_failures=(*plugin_set.failures, *rules.content.failures), limit=limit)


def openings(documents: Sequence[Document], roster_staff: Mapping[str, StaffDef]
             ) -> list[Opening]:
    """Every service of ``documents`` (the first engagement of each id, as a check
    reports), each with its pool: the engagement's inline staff, then the roster staff
    they do not shadow."""
    from kpo_rules.references import resolve_engagement  # noqa: PLC0415

    out: list[Opening] = []
    seen: set[str] = set()
    for document in documents:
        eid = document.data["metadata"]["id"]
        if eid in seen:
            continue
        seen.add(eid)
        engagement, _ = resolve_engagement(document, roster_staff)
        inline = [m for m in engagement.staff.values() if m.roster is None]
        taken = {m.id for m in inline}
        pool = (*inline, *(m for sid, m in roster_staff.items() if sid not in taken))
        for index, service in enumerate(document.data.get("services", ())):
            boss = engagement.staff.get(service.get("supervisor", ""))
            out.append(Opening(document=document, index=index, pool=pool, supervisor=boss))
    return out


def _chosen(found: list[Opening], service: str | None, problems: Sequence[Finding]
            ) -> list[Opening]:
    if service is None:
        if not found:
            raise UsageError("no engagement with a service found: name engagement files, or "
                             "describe a service (--task, --client-country, ...)"
                             + _unread(problems))
        return found
    names = {f"{o.engagement}/{o.service['id']}": o for o in found}
    if service in names:
        return [names[service]]
    raise UsageError(f"--service {service}: no such service in the files given"
                     f"{_suggest(service, names)}; "
                     "name it ENGAGEMENT/SERVICE (metadata.id / services[].id)"
                     + _unread(problems))


def _unread(problems: Sequence[Finding]) -> str:
    """The files left out, for a usage error that may be theirs (the run stops before
    they are named as warnings)."""
    named = "".join(f"; not read: {p.file}:{p.line}:{p.column}: {p.rule} {p.message}"
                    for p in problems[:UNREAD_NAMED])
    more = len(problems) - UNREAD_NAMED
    return named + (f"; and {more} more {'file' if more == 1 else 'files'} not read"
                    if more > 0 else "")


def _may_be_roster(source: SourceFile) -> bool:
    """Whether a file may hold a roster that could not be read (its problem is news)."""
    from kpo_rules.errors import FileReadError  # noqa: PLC0415
    from kpo_rules.pipeline import might_hold_roster  # noqa: PLC0415

    try:
        return might_hold_roster(source.read())
    except (FileReadError, OSError):
        return True  # reading it again names the problem


def _described(judge: Judge, spec: ServiceSpec, problems: Sequence[Finding]) -> Opening:
    catalogue = judge.rules.content.catalogue
    for option, value, known, what in (
            ("--task", spec.task, catalogue.tasks, "no loaded plugin defines this task"),
            ("--client-country", spec.client_country, catalogue.countries,
             "no loaded country plugin covers this country")):
        if value not in known:
            raise UsageError(f"{option} {value}: {what}{_suggest(value, known)}")
    if not judge.roster_staff:
        raise UsageError("no roster found in the paths given: a described service is staffed "
                         "from the rosters (kind: Roster) named with it" + _unread(problems))
    boss = None
    if spec.supervisor is not None:
        boss = judge.roster_staff.get(spec.supervisor)
        if boss is None:
            raise UsageError(f"--supervisor {spec.supervisor}: no roster of the run has this "
                             f"staff member{_suggest(spec.supervisor, judge.roster_staff)}")
    return Opening(document=spec.document(), index=0, pool=tuple(judge.roster_staff.values()),
                   supervisor=boss)


def _check_described(found: Iterable[Finding]) -> None:
    """A described service whose own facts the references reject (an unknown time zone):
    the options are wrong, not the staff, so it is a usage error rather than a condition."""
    wrong = sorted({f"{f.message} ({f.rule})" for f in found if f.category == "reference"})
    if wrong:
        raise UsageError("the described service is not valid: " + "; ".join(wrong))


def _suggest(word: str, choices: Iterable[str]) -> str:
    import difflib  # noqa: PLC0415 - only for a name that matches nothing

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _by_staff(findings: Iterable[Finding]) -> dict[str, tuple[Finding, ...]]:
    out: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.subject.staff is not None:
            out.setdefault(finding.subject.staff, []).append(finding)
    return {sid: tuple(found) for sid, found in out.items()}


# ------------------------------------------------------------------- the batches


#: A batch: (opening, first pool position, position past the last).
Batch = tuple[int, int, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class Judged:
    """What a batch sends back: the findings of the people who may be listed (by
    position in the pool), and how many candidates and near misses it left out."""

    kept: tuple[tuple[int, tuple[Finding, ...]], ...]
    candidates_left: int = 0
    near_misses_left: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffingWork:
    """Every opening's pool cut into batches (a :class:`kpo_rules.parallel.Work`)."""

    judge: Judge
    openings: Sequence[Opening]
    #: Per opening, every finding of the service with nobody assigned.
    conditions: Sequence[tuple[Finding, ...]]
    batches: Sequence[Batch]
    #: The most people of each kind a service lists: a batch sends back no more (the
    #: best of all are among the best of each batch), so neither the pipes nor the
    #: parent's memory grow with the roster.
    limit: int | None = None

    @classmethod
    def plan(cls, judge: Judge, chosen: Sequence[Opening], size: int, limit: int | None
             ) -> StaffingWork:
        batches = [(number, start, min(start + size, len(opening.pool)))
                   for number, opening in enumerate(chosen)
                   for start in range(0, len(opening.pool), size)]
        return cls(judge=judge, openings=chosen, batches=batches, limit=limit,
                   conditions=[conditions(judge, opening) for opening in chosen])

    def __len__(self) -> int:
        return len(self.batches)

    def weight(self, index: int) -> int:
        _, start, stop = self.batches[index]
        return stop - start

    def do(self, index: int) -> Judged:
        number, start, stop = self.batches[index]
        opening = self.openings[number]
        found = judge_batch(self.judge, opening, opening.pool[start:stop],
                            self.conditions[number])
        return self._best(opening, start, found)

    def failed(self, index: int, why: str) -> Judged:
        number, start, stop = self.batches[index]
        opening = self.openings[number]
        return self._best(opening, start, failed(opening, opening.pool[start:stop], why))

    def _best(self, opening: Opening, start: int, found: list[tuple[Finding, ...]]
              ) -> Judged:
        judged = list(enumerate(found, start))
        if self.limit is None:
            return Judged(kept=tuple(judged))
        kinds: tuple[list[tuple[int, tuple[Finding, ...]]], ...] = ([], [])
        for position, findings in judged:
            kinds[blocking(findings) > 0].append((position, findings))
        candidates, near_misses = (sorted(kind, key=lambda item: (
            rank(item[1]), opening.pool[item[0]].id))[:self.limit] for kind in kinds)
        return Judged(kept=(*candidates, *near_misses),
                      candidates_left=len(kinds[0]) - len(candidates),
                      near_misses_left=len(kinds[1]) - len(near_misses))


def _judge_all(work: StaffingWork, tallies: list[Tally], jobs: int,
               progress: Progress | None) -> None:
    """Every batch, in forked workers when there are several (or in this process), each
    person's entry added to their service's tally as results arrive."""
    from kpo_rules import parallel  # noqa: PLC0415
    from kpo_rules.api import available_cores  # noqa: PLC0415

    total = sum(work.weight(i) for i in range(len(work)))
    judged = 0

    def received(index: int, result: Judged) -> None:
        nonlocal judged
        number, _, _ = work.batches[index]
        pool = work.openings[number].pool
        for position, findings in result.kept:
            tallies[number].add(_entry(pool[position], findings))
        tallies[number].left(result.candidates_left, result.near_misses_left)
        judged += work.weight(index)
        if progress is not None:
            progress(judged, total)

    workers = jobs if jobs > 0 else (available_cores() if total >= AUTO_PARALLEL_PAIRS
                                     else 1)
    if len(work) >= 2 and parallel.can_fork():
        parallel.in_workers(work, workers, received)
        return
    for index in range(len(work)):
        received(index, work.do(index))


def _entry(member: StaffDef, findings: tuple[Finding, ...]) -> StaffEntry:
    line, _ = member.document.locate(member.pointer + "/id")
    name = member.data.get("name")
    return StaffEntry(staff=member.id, name=name if isinstance(name, str) else None,
                      roster=member.roster, file=member.document.file, line=line,
                      findings=findings)


def _answer(opening: Opening, given: tuple[Finding, ...], tally: Tally, judge: Judge
            ) -> ServiceStaffing:
    candidates, near_misses = tally.ordered()
    line, _ = opening.document.locate(f"/services/{opening.index}/id")
    return ServiceStaffing(
        engagement=opening.engagement, service=opening.service["id"],
        task=opening.service["task"], file=opening.document.file, line=line,
        considered=len(opening.pool), candidates=candidates, near_misses=near_misses,
        candidate_count=tally.candidate_count, near_miss_count=tally.near_miss_count,
        conditions=selected(judge, given))
