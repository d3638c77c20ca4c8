"""Check files in forked worker processes, surviving crashes, leaving nothing behind.

durable-rules is C code that can take a process down; a crash must become a finding for
the one file concerned and the run must go on. Workers are forked after the run is set
up (:class:`kpo_rules.pipeline.Run`: rules, rosters, filters), so they inherit it
copy-on-write and receive nothing but file indexes: each takes the next chunk of files
from a pipe the parent filled before forking them, runs
:func:`kpo_rules.pipeline.check_file` on them and sends back the outcomes (findings only)
in batches. A worker that gets less of the machine than another (a shared CI runner, a
noisy neighbour) takes fewer chunks instead of holding up the run with a fixed share.

The pool knows nothing of files: it does the items of a :class:`Work` by index
(:class:`FileChecks` are the check's; the staffing query has its own), so every use
gets the same crash isolation and clean-up.

Nothing outlives the run: a worker holds no pipe end but its own (so it never waits on a
sibling), asks the kernel to kill it when its parent dies (``PR_SET_PDEATHSIG`` on Linux)
and ignores Ctrl-C, which the parent handles by killing and reaping every worker.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import struct
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol, TypeVar

from kpo_rules.pipeline import FileOutcome, Run, check_file, crashed, pack

CRASH = "the worker process checking it died (a crash in the engine)"
#: Results a worker sends in one message: fewer wake-ups of the parent, which shares the
#: cores with the workers; a crash loses at most this many, which are then run again.
BATCH = 32

#: Chunks per worker: enough that the workers end within a chunk of each other.
CHUNKS_PER_WORKER = 8
#: Chunks in one pipe at most: 8-byte records within the 4 KB a pipe always holds.
MAX_CHUNKS = 512
_RECORD = struct.Struct("=II")  # a chunk: start and stop positions in the round's items

#: ``progress(files checked, files in the run)``, called as files are checked.
Progress = Callable[[int, int], None]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Work(Protocol[T_co]):
    """Items forked workers do by index. Built before the workers are forked, so they
    inherit it; only indexes go to them and only results come back."""

    def __len__(self) -> int: ...

    def weight(self, index: int) -> int:
        """The relative cost of item ``index``: chunks are of about equal total weight."""
        ...

    def do(self, index: int) -> T_co:
        """Item ``index``'s result; an error in it is part of the result, never raised."""
        ...

    def failed(self, index: int, why: str) -> T_co:
        """The result of item ``index`` when its worker died doing it, even alone."""
        ...


@dataclass(frozen=True, slots=True)
class FileChecks:
    """The check's work: :func:`~kpo_rules.pipeline.check_file` for each file of a run."""

    run: Run

    def __len__(self) -> int:
        return len(self.run.files)

    def weight(self, index: int) -> int:
        return self.run.files[index].size()

    def do(self, index: int) -> FileOutcome:
        return pack(check_file(self.run, index), self.run.dictionary)

    def failed(self, index: int, why: str) -> FileOutcome:
        return crashed(self.run, index, why)


def can_fork() -> bool:
    """Whether workers can be forked here: not on Windows (no fork), and not from a
    process running other threads (a fork copies locks other threads may hold)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def check_in_workers(run: Run, jobs: int, progress: Progress | None = None
                     ) -> list[FileOutcome]:
    """:func:`~kpo_rules.pipeline.check_file` for every file of ``run``, in ``jobs``
    forked workers (:func:`in_workers`). Outcomes come back in file order."""
    done: dict[int, FileOutcome] = {}

    def received(index: int, outcome: FileOutcome) -> None:
        done[index] = outcome
        if progress is not None:
            progress(len(done), len(run.files))

    in_workers(FileChecks(run), jobs, received)
    return [done[i] for i in range(len(run.files))]


def in_workers(work: Work[T], jobs: int, received: Callable[[int, T], None]) -> None:
    """Every item of ``work``, in ``jobs`` forked workers taking contiguous chunks of about
    equal weight as they become free; ``received(index, result)`` is called in this process
    as results arrive, each item once. When a worker dies, the items it may have died on
    are done each in a process of its own (the one that kills that too gets
    :meth:`Work.failed`) and the rest of its items in fresh workers."""
    done: set[int] = set()
    workers: list[_Worker] = []

    def take(batch: list[tuple[int, Any]]) -> None:
        for index, result in batch:
            if index not in done:
                done.add(index)
                received(index, result)

    pending = list(range(len(work)))
    try:
        while pending:
            queue = _Queue.of(pending, [work.weight(i) for i in pending], jobs)
            try:
                active = [_Worker.start(work, queue, workers)
                          for _ in range(min(jobs, queue.chunks))]
            finally:
                queue.close()  # the workers hold it now; none forked later inherits it
            _collect(active, take)
            # Every item was taken: the live workers' are done, so what is left was a dead
            # worker's, in the order it did them: it died on one of the first BATCH
            # (unsent, or in hand).
            lost = [i for i in pending if i not in done]
            for index in lost[:BATCH]:
                take([(index, _alone(work, index, workers))])
            pending = lost[BATCH:]
    except BaseException:
        for worker in workers:
            worker.kill()
        raise
    for worker in workers:
        worker.reap()


@dataclass(frozen=True, slots=True)
class _Queue:
    """The chunks of one round's items, in a pipe the workers read one record at a time
    (a read of a whole record is atomic, so no two take the same chunk); the parent wrote
    them all before forking and closed its end, so an empty pipe reads as the end."""

    items: list[int]
    reader: int
    chunks: int

    @classmethod
    def of(cls, items: list[int], weights: Sequence[int], jobs: int) -> _Queue:
        bounds = _chunks(weights, jobs)
        reader, writer = os.pipe()
        try:
            os.write(writer, b"".join(_RECORD.pack(start, stop) for start, stop in bounds))
        finally:
            os.close(writer)
        return cls(items=items, reader=reader, chunks=len(bounds))

    @classmethod
    def single(cls, index: int) -> _Queue:
        return cls.of([index], [1], 1)

    def take(self) -> Iterator[int]:
        """In a worker: the items of each chunk it takes, until none is left."""
        while True:
            record = os.read(self.reader, _RECORD.size)
            if len(record) < _RECORD.size:  # empty: the last chunk was taken
                return
            start, stop = _RECORD.unpack(record)
            yield from self.items[start:stop]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.reader)


def _chunks(weights: Sequence[int], jobs: int) -> list[tuple[int, int]]:
    """(start, stop) of contiguous chunks: about :data:`CHUNKS_PER_WORKER` per worker by
    weight and at most :data:`BATCH` items, but never more than :data:`MAX_CHUNKS` (half
    closed by weight at most, half by count: then larger chunks)."""
    sizes = [max(1, weight) for weight in weights]
    half = MAX_CHUNKS // 2
    target = sum(sizes) / min(max(1, jobs) * CHUNKS_PER_WORKER, half)
    most = max(BATCH, -(-len(sizes) // (half - 1)))
    bounds: list[tuple[int, int]] = []
    start, weight = 0, 0
    for position, size in enumerate(sizes):
        weight += size
        if weight >= target or position + 1 - start >= most:
            bounds.append((start, position + 1))
            start, weight = position + 1, 0
    if start < len(sizes):
        bounds.append((start, len(sizes)))
    return bounds


class _Worker:
    """A forked process checking chunks of files, sending outcomes over a pipe."""

    def __init__(self, process: multiprocessing.process.BaseProcess,
                 connection: Connection) -> None:
        self.process = process
        self.connection = connection

    @classmethod
    def start(cls, work: Work[Any], queue: _Queue, workers: list[_Worker]) -> _Worker:
        """Fork a worker taking chunks from ``queue`` and add it to ``workers``, with no
        moment in between when a signal could end the run without it being known (and
        killed)."""
        with _signals_held():
            process, connection = _fork(work, queue, workers)
            worker = cls(process, connection)
            workers.append(worker)
        return worker

    def reap(self) -> None:
        """Wait for the process, which has sent everything (or died) and is exiting."""
        self.connection.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.kill()

    def kill(self) -> None:
        """End the process now: the run is ending without it."""
        self.connection.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()


def _fork(work: Work[Any], queue: _Queue, workers: Sequence[_Worker]
          ) -> tuple[multiprocessing.process.BaseProcess, Connection]:
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    inherited = [reader, *(w.connection for w in workers if not w.connection.closed)]
    process = context.Process(target=_serve, args=(writer, inherited, os.getpid(), work, queue),
                              daemon=True)
    process.start()
    writer.close()
    return process, reader


def _collect(workers: list[_Worker], received: Callable[[list[tuple[int, Any]]], None]
             ) -> None:
    """Read every worker's batches until it says it is done (an empty batch) or dies."""
    waiting: dict[Any, _Worker] = {w.connection: w for w in workers}
    while waiting:
        for ready in wait(list(waiting)):
            worker = waiting[ready]
            try:
                batch = worker.connection.recv()
            except (EOFError, OSError):  # the worker died: what it did not send is lost
                del waiting[ready]
                continue
            if batch:
                received(batch)
            else:
                del waiting[ready]


def _alone(work: Work[T], index: int, workers: Sequence[_Worker]) -> T:
    """Item ``index`` in a process of its own; :meth:`Work.failed` if that dies too."""
    queue = _Queue.single(index)
    try:
        with _signals_held():
            process, connection = _fork(work, queue, workers)
    finally:
        queue.close()
    try:
        batch = connection.recv()
    except (EOFError, OSError):  # it died before it could answer
        return work.failed(index, CRASH)
    except BaseException:  # Ctrl-C, SIGTERM: the run ends, and this process with it
        if process.is_alive():
            process.kill()
        raise
    finally:
        connection.close()
        process.join()
    result: T = batch[0][1]
    return result


#: The signals that end a run; the parent then kills every worker it knows of.
_ENDING = frozenset({signal.SIGINT, signal.SIGTERM})


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while a worker is forked and noted: delivered between the
    fork and the note, they would end the run without killing that worker. The worker
    inherits the held mask and releases it once its own handlers are set (:func:`_detach`)."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _ENDING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


# --------------------------------------------------------------- in the worker


def _serve(connection: Connection, inherited: list[Connection], parent: int,
           work: Work[Any], queue: _Queue) -> None:
    """The worker: do each item of the chunks it takes, send results in batches, then an
    empty batch. Any error in one item is part of its result (:meth:`Work.do`); a worker
    whose parent is gone stops."""
    _detach(inherited, parent)
    batch: list[tuple[int, Any]] = []
    try:
        for index in queue.take():
            batch.append((index, work.do(index)))
            if len(batch) == BATCH:
                connection.send(batch)
                batch = []
        if batch:
            connection.send(batch)
        connection.send([])
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone: nobody to tell
    finally:
        connection.close()


def _detach(inherited: list[Connection], parent: int) -> None:
    """Make a fresh worker independent of everything but its own pipe: close the pipe
    ends it inherited (the parent's, its siblings'), die with the parent, leave Ctrl-C to
    the parent, and keep what it inherited out of the garbage collector's walks."""
    for connection in inherited:
        with contextlib.suppress(OSError):
            connection.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _ENDING)  # held by the parent's fork
    _die_with(parent)
    with contextlib.suppress(Exception):
        import faulthandler  # noqa: PLC0415 - a crash is reported as a finding instead

        faulthandler.disable()
    gc.freeze()  # the inherited rules and rosters live as long as the worker


def _die_with(parent: int) -> None:
    """Linux: the kernel sends SIGKILL to this process when ``parent`` dies."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes  # noqa: PLC0415

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
