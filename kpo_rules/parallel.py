"""Check files in forked worker processes, surviving crashes, leaving nothing behind.

durable-rules is C code that can take a process down; a crash must become a finding for
the one file concerned and the run must go on. Workers are forked after the run is set
up (:class:`kpo_rules.pipeline.Run`: rules, rosters, filters), so they inherit it
copy-on-write and receive nothing but their share of file indexes; each runs
:func:`kpo_rules.pipeline.check_file` on its files and sends back the outcomes (findings
only) in batches.

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
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from kpo_rules.pipeline import FileOutcome, Run, check_file, crashed, pack

CRASH = "the worker process checking it died (a crash in the engine)"
#: Results a worker sends in one message: fewer wake-ups of the parent, which shares the
#: cores with the workers; a crash loses at most this many, which are then run again.
BATCH = 32

#: ``progress(files checked, files in the run)``, called as files are checked.
Progress = Callable[[int, int], None]


def can_fork() -> bool:
    """Whether workers can be forked here: not on Windows (no fork), and not from a
    process running other threads (a fork copies locks other threads may hold)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def check_in_workers(run: Run, jobs: int, progress: Progress | None = None
                     ) -> list[FileOutcome]:
    """:func:`~kpo_rules.pipeline.check_file` for every file of ``run``, in ``jobs``
    forked workers given contiguous shares of about equal size. When a worker dies, the
    files it may have died on are checked each in a process of its own (the one that
    kills that too becomes a :data:`~kpo_rules.pipeline.CRASHED` finding) and the rest of
    its files in a fresh worker. Outcomes come back in file order."""
    done: dict[int, FileOutcome] = {}
    workers: list[_Worker] = []
    def received(batch: list[tuple[int, FileOutcome]]) -> None:
        done.update(batch)
        if progress is not None:
            progress(len(done), len(run.files))

    try:
        active = [_Worker.start(run, share, workers)
                  for share in _shares([f.size() for f in run.files], jobs)]
        while active:
            _collect(active, received)
            lost = [i for w in active if not w.finished for i in w.share if i not in done]
            for index in lost[:BATCH]:  # it died on one of these (unsent, or in hand)
                received([(index, _alone(run, index, workers))])
            rest = lost[BATCH:]
            active = [_Worker.start(run, rest, workers)] if rest else []
    except BaseException:
        for worker in workers:
            worker.kill()
        raise
    for worker in workers:
        worker.reap()
    return [done[i] for i in range(len(run.files))]


def _shares(sizes: Sequence[int], jobs: int) -> list[list[int]]:
    """File indexes in at most ``jobs`` contiguous shares of about equal total size."""
    weights = [max(1, size) for size in sizes]
    total = sum(weights)
    shares: list[list[int]] = [[]]
    done = 0
    for index, weight in enumerate(weights):
        if shares[-1] and done >= total * len(shares) / jobs and len(shares) < jobs:
            shares.append([])
        shares[-1].append(index)
        done += weight
    return [share for share in shares if share]


class _Worker:
    """A forked process checking its share of files, sending outcomes over a pipe."""

    def __init__(self, share: list[int], process: multiprocessing.process.BaseProcess,
                 connection: Connection) -> None:
        self.share = share
        self.process = process
        self.connection = connection
        self.finished = False  # it sent its last batch

    @classmethod
    def start(cls, run: Run, share: list[int], workers: list[_Worker]) -> _Worker:
        """Fork a worker for ``share`` and add it to ``workers``, with no moment in between
        when a signal could end the run without it being known (and killed)."""
        with _signals_held():
            process, connection = _fork(run, share, workers)
            worker = cls(share, process, connection)
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


def _fork(run: Run, share: list[int], workers: Sequence[_Worker]
          ) -> tuple[multiprocessing.process.BaseProcess, Connection]:
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    inherited = [reader, *(w.connection for w in workers if not w.connection.closed)]
    process = context.Process(target=_serve, args=(writer, inherited, os.getpid(), run, share),
                              daemon=True)
    process.start()
    writer.close()
    return process, reader


def _collect(workers: list[_Worker], received: Callable[[list[tuple[int, FileOutcome]]], None]
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
                worker.finished = True
                del waiting[ready]


def _alone(run: Run, index: int, workers: Sequence[_Worker]) -> FileOutcome:
    """``check_file(run, index)`` in a process of its own; a crash finding if that dies."""
    with _signals_held():
        process, connection = _fork(run, [index], workers)
    try:
        batch = connection.recv()
    except (EOFError, OSError):  # it died before it could answer
        return crashed(run, index, CRASH)
    except BaseException:  # Ctrl-C, SIGTERM: the run ends, and this process with it
        if process.is_alive():
            process.kill()
        raise
    finally:
        connection.close()
        process.join()
    outcome: FileOutcome = batch[0][1]
    return outcome


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


def _serve(connection: Connection, inherited: list[Connection], parent: int, run: Run,
           share: list[int]) -> None:
    """The worker: check each file of the share, send outcomes in batches, then an empty
    batch. Any error in one file is a finding on it (:func:`check_file`); a worker whose
    parent is gone stops."""
    _detach(inherited, parent)
    batch: list[tuple[int, FileOutcome]] = []
    try:
        for index in share:
            batch.append((index, pack(check_file(run, index), run.dictionary)))
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
