"""Run independent tasks in forked worker processes, in order, surviving worker crashes.

durable-rules is C code that can take a process down (research note 3.2); a crash must
become a finding for the one file or engagement concerned, and the run must go on. Workers
are forked so they inherit the loaded plugins and registered rulesets copy-on-write; only
task indexes travel to them and only results travel back.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")

# The task of the pool being run; set before forking so workers inherit it.
_TASK: Callable[[int], Any] | None = None


def _run_chunk(indexes: Sequence[int]) -> list[Any]:
    assert _TASK is not None
    return [_TASK(i) for i in indexes]


def _chunks(count: int, jobs: int) -> list[list[int]]:
    # Several chunks per worker balance uneven files; contiguous chunks keep locality.
    size = max(1, count // (jobs * 4))
    return [list(range(start, min(start + size, count))) for start in range(0, count, size)]


def _pool(jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"))


def map_isolated(task: Callable[[int], T], count: int, jobs: int,
                 on_crash: Callable[[int, str], T]) -> list[T]:
    """``[task(i) for i in range(count)]``, in ``jobs`` processes when ``jobs > 1``.

    A task whose worker process dies is retried alone; if it kills its worker again,
    ``on_crash(i, reason)`` stands in for its result.
    """
    if jobs <= 1 or count < 2:
        return [task(i) for i in range(count)]
    global _TASK  # noqa: PLW0603 - inherited by forked workers, reset below
    _TASK = task
    try:
        results: dict[int, T] = {}
        retry: list[int] = []
        with _pool(jobs) as pool:
            futures: list[tuple[list[int], Future[list[Any]]]] = [
                (chunk, pool.submit(_run_chunk, chunk)) for chunk in _chunks(count, jobs)]
            for chunk, future in futures:
                try:
                    results.update(zip(chunk, future.result(), strict=True))
                except BrokenProcessPool:
                    retry += chunk
        for index in retry:
            results[index] = _alone(index, on_crash)
        return [results[i] for i in range(count)]
    finally:
        _TASK = None


def _alone(index: int, on_crash: Callable[[int, str], T]) -> T:
    with _pool(1) as pool:
        try:
            value: T = pool.submit(_run_chunk, [index]).result()[0]
        except BrokenProcessPool:
            return on_crash(index, "the worker process checking it died (a crash in the engine)")
    return value
