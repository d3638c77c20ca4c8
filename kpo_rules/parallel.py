"""Run two-phase work in forked worker processes, in order, surviving worker crashes.

durable-rules is C code that can take a process down (research note 3.2); a crash must
become a finding for the one file concerned, and the run must go on. Workers are forked
so they inherit the loaded plugins and registered rulesets copy-on-write; only indexes,
summaries and findings travel between processes, and a worker keeps the documents it
parsed for the second phase (pickling every node's position costs more than parsing).
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

from kpo_rules.gc_pause import gc_frozen, gc_paused

T = TypeVar("T")

A = TypeVar("A")  # what the first phase ships to the parent
K = TypeVar("K")  # what a worker keeps from the first phase for the second
C = TypeVar("C")  # the parent's context for the second phase
B = TypeVar("B")  # what the second phase ships to the parent


@dataclass(frozen=True)
class TwoPhases(Generic[A, K, C, B]):
    """Work whose second phase needs something only the first phase of every item gives.

    ``first(i)`` runs in a worker and returns what travels to the parent and what the
    worker keeps; ``between`` runs in the parent once every first result is in; then
    ``second(context, i, kept)`` runs in the worker that ran ``first(i)``, on what it
    kept. So a file is parsed once even though its check needs every other file's
    summary. ``first_crashed``/``second_crashed`` stand in for an item whose worker died
    twice (once among others, once alone).
    """

    first: Callable[[int], tuple[A, K]]
    between: Callable[[list[A]], C]
    second: Callable[[C, int, K], B]
    first_crashed: Callable[[int, str], A]
    second_crashed: Callable[[int, str], B]
    skipped: Callable[[int], B]
    #: The first phase builds data without reference cycles that lives through the second
    #: (parsed documents): a worker then runs its first phase with the cyclic collector
    #: held, and keeps that data out of the collector's walks in its second phase.
    first_builds_trees: bool = False
    #: Called in the parent as ``progress(items done, count)`` as second results arrive.
    progress: Callable[[int, int], None] | None = None


_CRASH = "the worker process checking it died (a crash in the engine)"


def map_two_phases(work: TwoPhases[A, K, C, B], count: int, jobs: int,
                   weights: Sequence[int] | None = None) -> tuple[list[A], list[B]]:
    """Both phases of ``work`` over ``range(count)``, items split over ``jobs`` forked
    workers in contiguous parts of about equal ``weights`` (file sizes), each worker
    keeping its items between the phases. When a worker dies, the items it may have died
    on run each in a process of their own (the one that kills that too gets its
    ``*_crashed`` stand-in) and the rest of its items in a fresh worker; the run goes on."""
    if jobs <= 1 or count < 2 or not can_fork():
        return _in_this_process(work, count)
    workers = [_Worker.start(part, work) for part in _parts(count, jobs, weights)]
    try:
        return _run_phases(work, count, workers)
    finally:
        for worker in workers:
            worker.close()


def _run_phases(work: TwoPhases[A, K, C, B], count: int,
                workers: list[_Worker]) -> tuple[list[A], list[B]]:
    crashed: set[int] = set()  # items whose first phase kills even a process of their own

    def first_alone(index: int) -> A:
        def crashed_too(i: int) -> A:
            crashed.add(i)
            return work.first_crashed(i, _CRASH)

        return _alone_call(lambda i: work.first(i)[0], index, crashed_too)

    first: dict[int, A] = {}
    _collect(workers, "a", first)
    for dead in [w for w in workers if not w.alive]:
        pending = [i for i in dead.part if i not in first]
        while pending:  # it died on one of the first _BATCH (unsent, or in hand)
            for index in pending[:_BATCH]:
                first[index] = first_alone(index)
            rest = pending[_BATCH:]
            if rest:
                fresh = _Worker.start(rest, work)
                workers.append(fresh)
                _collect([fresh], "a", first)
            pending = [i for i in rest if i not in first]
    shipped = [first[i] for i in range(count)]
    context = work.between(shipped)
    for worker in workers:
        worker.send(context)
    second: dict[int, B] = {}

    def received() -> None:
        if work.progress is not None:
            work.progress(len(second), count)

    _collect(workers, "b", second, received)
    # Items no live worker holds (their worker died, or they were run alone above): in a
    # fresh worker; if that dies too, the first _BATCH it did not send alone, and again.
    pending = [i for i in range(count) if i not in second and i not in crashed]
    while pending:
        fresh = _Worker.start(pending, work)
        workers.append(fresh)
        _collect([fresh], "a", {})
        fresh.send(context)
        _collect([fresh], "b", second)
        lost = [i for i in pending if i not in second]
        for index in lost[:_BATCH]:
            second[index] = _alone_call(
                lambda i: work.second(context, i, work.first(i)[1]), index,
                lambda i: work.second_crashed(i, _CRASH))
        pending = lost[_BATCH:]
    for index in crashed:
        second[index] = work.skipped(index)
    return shipped, [second[i] for i in range(count)]


def can_fork() -> bool:
    """Whether this platform forks (not Windows): workers must inherit the loaded rules."""
    return "fork" in multiprocessing.get_all_start_methods()


def _in_this_process(work: TwoPhases[A, K, C, B], count: int) -> tuple[list[A], list[B]]:
    trees = work.first_builds_trees
    with gc_paused() if trees else contextlib.nullcontext():
        firsts = [work.first(i) for i in range(count)]
    context = work.between([shipped for shipped, _ in firsts])
    with gc_frozen() if trees else contextlib.nullcontext():
        seconds = []
        for i, (_, kept) in enumerate(firsts):
            seconds.append(work.second(context, i, kept))
            if work.progress is not None:
                work.progress(i + 1, count)
    return [shipped for shipped, _ in firsts], seconds


def _parts(count: int, jobs: int, weights: Sequence[int] | None) -> list[list[int]]:
    """``range(count)`` in at most ``jobs`` contiguous parts of about equal weight."""
    sizes = [max(1, w) for w in weights] if weights is not None else [1] * count
    total = sum(sizes)
    parts: list[list[int]] = [[]]
    done = 0
    for index, size in enumerate(sizes):
        if parts[-1] and done >= total * len(parts) / jobs and len(parts) < jobs:
            parts.append([])
        parts[-1].append(index)
        done += size
    return parts


class _Worker:
    """A forked process running both phases for its part, over a pipe."""

    def __init__(self, part: list[int], process: multiprocessing.process.BaseProcess,
                 connection: Connection) -> None:
        self.part = part
        self.process = process
        self.connection = connection
        self.alive = True

    @classmethod
    def start(cls, part: list[int], work: TwoPhases[Any, Any, Any, Any]) -> _Worker:
        context = multiprocessing.get_context("fork")
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child, part, work), daemon=True)
        process.start()
        child.close()
        return cls(part, process, parent)

    def send(self, value: object) -> None:
        if self.alive:
            try:
                self.connection.send(value)
            except OSError:  # it died after its first phase
                self.alive = False

    def close(self) -> None:
        """Wait for the process to end (it has sent everything), or end it (the run
        failed before it could finish)."""
        self.connection.close()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


#: Results a worker sends in one message: fewer wake-ups of the parent, which shares the
#: cores with the workers; a crash loses at most this many, which are then run again.
_BATCH = 32


def _serve(connection: Connection, part: list[int],
           work: TwoPhases[Any, Any, Any, Any]) -> None:
    """The worker: first phase, wait for the context, second phase; results in batches,
    then an empty batch when the phase is done. An exception ends the worker after
    reporting it, so the parent raises it too."""
    try:
        kept = {}
        batch: list[tuple[int, Any]] = []
        trees = work.first_builds_trees
        with gc_paused() if trees else contextlib.nullcontext():
            for index in part:
                shipped, kept[index] = work.first(index)
                batch = _send(connection, "a", batch, (index, shipped))
        _send(connection, "a", batch, None)
        context = connection.recv()
        batch = []
        with gc_frozen() if trees else contextlib.nullcontext():
            for index in part:
                outcome = work.second(context, index, kept.pop(index))
                batch = _send(connection, "b", batch, (index, outcome))
        _send(connection, "b", batch, None)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        _report(connection, exc)
    finally:
        connection.close()


def _report(connection: Connection, exc: BaseException) -> None:
    """Tell the parent about an exception, which it raises in turn."""
    with contextlib.suppress(OSError):  # the parent is gone: nobody to tell
        try:
            connection.send(("error", exc))
        except OSError:
            raise
        except Exception:  # noqa: BLE001 - an exception that does not pickle
            connection.send(("error", RuntimeError(repr(exc))))


def _send(connection: Connection, phase: str, batch: list[tuple[int, Any]],
          item: tuple[int, Any] | None) -> list[tuple[int, Any]]:
    """Add ``item`` to the batch and send it when full; ``None`` sends what is left and
    then an empty batch, the end of the phase."""
    if item is None:
        if batch:
            connection.send((phase, batch))
        connection.send((phase, []))
        return []
    batch.append(item)
    if len(batch) < _BATCH:
        return batch
    connection.send((phase, batch))
    return []


def _collect(workers: list[_Worker], phase: str, into: dict[int, Any],
             received: Callable[[], object] = lambda: None) -> None:
    """Read every live worker's results of ``phase`` until it says it is done or dies."""
    waiting: dict[Any, _Worker] = {w.connection: w for w in workers if w.alive}
    while waiting:
        for ready in wait(list(waiting)):
            worker = waiting[ready]
            try:
                kind, batch = worker.connection.recv()
            except (EOFError, OSError):  # the worker died: what it did not send is lost
                worker.alive = False
                del waiting[ready]
                continue
            if kind == "error":
                for other in workers:
                    other.process.kill()  # they may be waiting for a context never sent
                raise batch if isinstance(batch, BaseException) else RuntimeError(batch)
            if not batch:
                del waiting[ready]
            into.update(batch)
            received()


def _alone_call(task: Callable[[int], T], index: int, crashed: Callable[[int], T]) -> T:
    """``task(index)`` in a process of its own; ``crashed(index)`` if that dies too."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=_serve_one, args=(child, task, index), daemon=True)
    process.start()
    child.close()
    try:
        kind, value = parent.recv()
    except (EOFError, OSError):  # it died before it could answer
        return crashed(index)
    finally:
        parent.close()
        process.join()
    if kind == "error":
        raise value if isinstance(value, BaseException) else RuntimeError(value)
    result: T = value
    return result


def _serve_one(connection: Connection, task: Callable[[int], Any], index: int) -> None:
    try:
        connection.send(("done", task(index)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        _report(connection, exc)
    finally:
        connection.close()
