"""Files checked in forked workers: results equal a run in one process, a worker that dies
costs only the file it died on, and no worker outlives its parent."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace

import pytest

from kpo_rules import parallel
from kpo_rules.filters import Filtered
from kpo_rules.load.files import SourceFile
from kpo_rules.model import Finding, Severity
from kpo_rules.pipeline import FileOutcome, Part


def _outcome(index: int, note: str) -> FileOutcome:
    finding = Finding(rule="T-1", severity=Severity.ERROR, category="schema", message=note,
                      file=f"f{index}", line=1, column=1)
    return FileOutcome(name=f"f{index}", parts=(Part(filtered=Filtered(findings=(finding,))),))


def _run(count: int, sizes: list[int] | None = None) -> SimpleNamespace:
    sizes = sizes or [10] * count
    return SimpleNamespace(files=[SourceFile(name=f"f{i}", content=b"x" * sizes[i])
                                  for i in range(count)], dictionary=b"")


@pytest.fixture
def checker(monkeypatch):
    """check_file replaced by one that says where it ran, and crashes where told."""
    crash_on: set[int] = set()

    def check_file(run, index):
        if index in crash_on:
            os.kill(os.getpid(), signal.SIGSEGV)
        return _outcome(index, f"pid {os.getpid()}")

    monkeypatch.setattr(parallel, "check_file", check_file)
    monkeypatch.setattr(parallel, "crashed",
                        lambda run, index, why: _outcome(index, f"crashed: {why}"))
    return crash_on


def _notes(outcomes: list[FileOutcome]) -> list[str]:
    """The message of each outcome's one finding (packed by the worker, or not)."""
    out = []
    for outcome in outcomes:
        filtered = outcome.parts[0].filtered
        findings = filtered.packed.unpack() if filtered.packed else filtered.findings
        out.append(findings[0].message)
    return out


def test_workers_check_every_file_in_order_in_other_processes(monkeypatch):
    def check_file(run, index):
        time.sleep(len(run.files[index].content) / 100)  # as long as the file is big
        return _outcome(index, f"pid {os.getpid()}")

    monkeypatch.setattr(parallel, "check_file", check_file)
    notes = _notes(parallel.check_in_workers(_run(9, [50, 1, 1, 1, 1, 1, 1, 1, 50]), 2))
    assert len(notes) == 9
    pids = {note for note in notes}
    assert len(pids) == 2 and f"pid {os.getpid()}" not in pids
    assert notes[0] != notes[8]  # the other worker took the second heavy file meanwhile


def test_a_worker_slowed_down_takes_fewer_files(monkeypatch):
    """Files are handed out in chunks as workers become free, not in fixed halves: a worker
    that gets less of the machine does less, and the run does not wait for it."""
    slow = []

    def check_file(run, index):
        if index == 0:
            slow.append(os.getpid())  # this worker is the slow one from now on
        if slow:
            time.sleep(0.2)
        return _outcome(index, f"pid {os.getpid()}")

    monkeypatch.setattr(parallel, "check_file", check_file)
    started = time.monotonic()
    notes = _notes(parallel.check_in_workers(_run(40), 2))
    by_worker = sorted(notes.count(pid) for pid in set(notes))
    assert len(by_worker) == 2
    assert by_worker[0] <= 5  # fixed halves would be 20 and 20
    assert by_worker[1] >= 35
    assert time.monotonic() - started < 3  # 20 files at 0.2 s would take 4 s


@pytest.mark.parametrize(("weights", "jobs"), [
    ([1] * 4, 2), ([10] * 2000, 2), ([0] * 100_000, 4), ([500, 1, 1, 1, 500, 1], 2), ([7], 8),
    ([1, 10_000] * 50_000, 2), ([1] * 8000 + [10**6] * 300, 128), ([3] * 1000, 1000),
])
def test_chunks_cover_every_item_once_in_order_and_fit_one_pipe(weights, jobs):
    chunks = parallel._chunks(weights, jobs)
    assert [i for start, stop in chunks for i in range(start, stop)] == list(range(len(weights)))
    assert all(stop > start for start, stop in chunks)
    assert len(chunks) * parallel._RECORD.size <= 4096  # written before any worker reads
    if len(weights) <= parallel.BATCH * (parallel.MAX_CHUNKS // 2 - 1):
        assert all(stop - start <= parallel.BATCH for start, stop in chunks)
    if jobs * parallel.CHUNKS_PER_WORKER <= parallel.MAX_CHUNKS // 2:
        assert len(chunks) >= min(len(weights), jobs)  # a chunk for every worker


@pytest.mark.parametrize("count", [2, 31, 32, 33, 64, 65, 131])
def test_results_in_batches_of_any_size_arrive_whole(checker, count):
    # 64 files make each worker's batches end exactly full
    outcomes = parallel.check_in_workers(_run(count), 2)
    assert [o.name for o in outcomes] == [f"f{i}" for i in range(count)]


def test_a_worker_that_dies_costs_only_the_file_it_died_on(checker):
    checker.add(3)
    notes = _notes(parallel.check_in_workers(_run(8), 2))
    assert notes[3] == f"crashed: {parallel.CRASH}"
    assert all(note.startswith("pid ") for i, note in enumerate(notes) if i != 3)


def test_one_worker_isolates_a_crash_too(checker):
    checker.add(0)
    notes = _notes(parallel.check_in_workers(_run(5), 1))
    assert notes[0].startswith("crashed") and all(n.startswith("pid") for n in notes[1:])


def test_after_a_crash_only_the_files_it_may_have_died_on_run_alone(checker, monkeypatch):
    checker.add(70)
    alone = []
    real = parallel._alone
    monkeypatch.setattr(parallel, "_alone",
                        lambda run, index, workers: alone.append(index)
                        or real(run, index, workers))
    notes = _notes(parallel.check_in_workers(_run(100), 2))
    assert notes[70].startswith("crashed")
    assert sum(note.startswith("crashed") for note in notes) == 1
    assert 70 in alone
    assert len(alone) <= parallel.BATCH  # not every file of the dead worker


def test_a_failing_check_is_reported_as_that_file_only(monkeypatch):
    """An exception that escapes a worker (check_file catches everything it knows of)
    ends that worker; the file is retried alone and reported, never the whole run."""
    def check_file(run, index):
        if index == 4:
            raise ValueError("file 4 is bad")
        return _outcome(index, "ok")

    monkeypatch.setattr(parallel, "check_file", check_file)
    monkeypatch.setattr(parallel, "crashed", lambda run, index, why: _outcome(index, "lost"))
    notes = _notes(parallel.check_in_workers(_run(8), 2))
    assert notes == ["ok"] * 4 + ["lost"] + ["ok"] * 3


def test_check_leaves_the_callers_collector_alone(tmp_path):
    import kpo_rules

    (tmp_path / "bad.yaml").write_text("{{{ not yaml")
    (tmp_path / "good.yaml").write_text("apiVersion: kpo-rules/v1\nkind: Roster\n")
    for jobs in (1, 2):
        before = (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count())
        kpo_rules.check([tmp_path], jobs=jobs)
        kpo_rules.check([tmp_path / "bad.yaml"], jobs=jobs)  # one file: in this process
        assert (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count()) == before
    gc.disable()
    try:
        kpo_rules.check([tmp_path], jobs=1)
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()


def test_without_fork_files_are_checked_in_this_process(tmp_path, monkeypatch):
    import kpo_rules

    monkeypatch.setattr(parallel, "can_fork", lambda: False)  # as on Windows
    monkeypatch.setattr(parallel, "check_in_workers",
                        lambda *a, **k: pytest.fail("no workers where they cannot fork"))
    for i in range(3):
        (tmp_path / f"{i}.yaml").write_text("kind: Engagement\n{{{ not yaml")  # ours, broken
    report = kpo_rules.check([tmp_path], jobs=2)
    assert [f.rule for f in report.findings] == ["KPO-SYN-001"] * 3


def test_a_process_with_threads_does_not_fork(monkeypatch):
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not parallel.can_fork()
    finally:
        stop.set()
        thread.join()
    assert parallel.can_fork() == ("fork" in __import__("multiprocessing")
                                   .get_all_start_methods())


# ------------------------------------------------------------------ nothing left behind

_SLOW_RUN = textwrap.dedent("""
    import os, sys, time
    from types import SimpleNamespace
    from kpo_rules import parallel
    from kpo_rules.load.files import SourceFile

    def check_file(run, index):
        os.write(1, f"{os.getpid()}\\n".encode())  # one write: workers print at once
        time.sleep(60)

    parallel.check_file = check_file
    run = SimpleNamespace(files=[SourceFile(name=str(i), content=b"x") for i in range(4)],
                          dictionary=b"")
    parallel.check_in_workers(run, 2)
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead; it only waits to be reaped by its (new) parent
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _wait_gone(pids: list[int], seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [pid for pid in pids if _alive(pid)]
        if not left:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if _alive(pid)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_no_worker_outlives_its_parent(sig):
    with subprocess.Popen([sys.executable, "-c", _SLOW_RUN], stdout=subprocess.PIPE,
                          text=True) as parent:
        assert parent.stdout is not None
        workers = [int(parent.stdout.readline()) for _ in range(2)]
        assert all(_alive(pid) for pid in workers)
        parent.send_signal(sig)
        parent.wait(timeout=10)
    assert _wait_gone(workers) == []
