"""Two-phase work in forked workers: the second phase runs where the first kept its data,
results equal a serial run, and a worker that dies costs only the item that killed it."""

from __future__ import annotations

import os
import signal

import pytest

from kpo_rules.parallel import TwoPhases, map_two_phases


def _work(crash_first: int = -1, crash_second: int = -1, fail: int = -1) -> TwoPhases:
    def first(i: int):
        if i == crash_first:
            os.kill(os.getpid(), signal.SIGSEGV)
        if i == fail:
            raise ValueError(f"item {i} is bad")
        return i * 10, (i, os.getpid())  # ships i*10, keeps where it ran

    def between(shipped: list[int]) -> int:
        return sum(shipped)

    def second(total: int, i: int, kept: tuple[int, int]):
        if i == crash_second:
            os.kill(os.getpid(), signal.SIGSEGV)
        assert kept[0] == i
        return (i, total, kept[1] == os.getpid())

    return TwoPhases(first=first, between=between, second=second,
                     first_crashed=lambda i, why: -1, second_crashed=lambda i, why: (i, why),
                     skipped=lambda i: (i, "skipped"))


def test_two_phases_equal_a_serial_run_and_keep_data_in_the_worker():
    serial = map_two_phases(_work(), 9, 1)
    shipped, outcomes = map_two_phases(_work(), 9, 2, weights=[5, 1, 1, 1, 1, 1, 1, 1, 5])
    assert shipped == serial[0] == [i * 10 for i in range(9)]
    assert outcomes == serial[1] == [(i, 360, True) for i in range(9)]
    # ... and really in two other processes, each item's phases in the same one
    pids = map_two_phases(_pids(), 9, 2, weights=[5, 1, 1, 1, 1, 1, 1, 1, 5])[1]
    assert len(set(pids)) == 2 and os.getpid() not in pids
    assert pids[0] != pids[8]  # the two heavy items went to different workers


def _pids() -> TwoPhases:
    return TwoPhases(first=lambda i: (None, os.getpid()), between=lambda shipped: None,
                     second=lambda context, i, kept: kept if kept == os.getpid() else -1,
                     first_crashed=lambda i, why: None, second_crashed=lambda i, why: -1,
                     skipped=lambda i: -1)


def test_a_crash_in_the_first_phase_costs_one_item():
    shipped, outcomes = map_two_phases(_work(crash_first=3), 8, 2)
    assert shipped == [0, 10, 20, -1, 40, 50, 60, 70]
    total = sum(shipped)
    assert outcomes[3] == (3, "skipped")  # no second phase for an item that crashed
    assert [o for i, o in enumerate(outcomes) if i != 3] == [
        (i, total, True) for i in range(8) if i != 3
    ]


def test_a_crash_in_the_second_phase_costs_one_item():
    shipped, outcomes = map_two_phases(_work(crash_second=6), 8, 2)
    assert shipped == [i * 10 for i in range(8)]
    assert outcomes[6] == (6, "the worker process checking it died (a crash in the engine)")
    assert all(o[:2] == (i, 280) for i, o in enumerate(outcomes) if i != 6)


def test_an_exception_in_a_worker_is_raised_in_the_parent():
    with pytest.raises(ValueError, match="item 4 is bad"):
        map_two_phases(_work(fail=4), 8, 2)


@pytest.mark.parametrize("count", [2, 63, 64, 65, 128, 131])
def test_results_in_batches_of_any_size_arrive_whole(count):
    # 64 and 128 items make each worker's batches end exactly full
    assert map_two_phases(_work(), count, 2) == map_two_phases(_work(), count, 1)


def test_the_collector_is_restored_after_a_check(tmp_path):
    import gc

    import kpo_rules

    (tmp_path / "bad.yaml").write_text("{{{ not yaml")
    (tmp_path / "good.yaml").write_text("apiVersion: kpo-rules/v1\nkind: Roster\n")
    for jobs in (1, 2):
        assert gc.isenabled()
        kpo_rules.check([tmp_path], jobs=jobs)
        assert gc.isenabled()
        assert gc.get_freeze_count() == 0  # nothing left out of the collector's walks
    gc.disable()
    try:
        kpo_rules.check([tmp_path], jobs=1)
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()


def test_without_fork_the_work_runs_in_this_process(monkeypatch):
    from kpo_rules import parallel

    monkeypatch.setattr(parallel, "can_fork", lambda: False)  # as on Windows
    pids = map_two_phases(_pids(), 4, 2)[1]
    assert pids == [os.getpid()] * 4
    assert map_two_phases(_work(), 9, 2) == map_two_phases(_work(), 9, 1)


@pytest.mark.parametrize("crash", [{"crash_first": 3}, {"crash_second": 70}])
def test_after_a_crash_only_the_items_it_may_have_died_on_run_alone(crash, monkeypatch):
    from kpo_rules import parallel

    alone = []
    real = parallel._alone_call
    monkeypatch.setattr(parallel, "_alone_call",
                        lambda task, index, crashed: alone.append(index)
                        or real(task, index, crashed))
    shipped, outcomes = map_two_phases(_work(**crash), 100, 2)
    culprit = next(iter(crash.values()))
    total = sum(shipped)
    expected = [(i, total, True) for i in range(100)]
    if "crash_first" in crash:
        assert shipped[culprit] == -1
        expected[culprit] = (culprit, "skipped")
    else:
        expected[culprit] = (culprit, parallel._CRASH)
    assert outcomes == expected
    assert culprit in alone
    assert len(alone) <= parallel._BATCH  # not every item of the dead worker
