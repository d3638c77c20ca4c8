"""Benchmark: peak memory of ``kpo-rules check`` as the portfolio grows; rosters with workers.

Not a test: it prints numbers to quote in notes. Usage::

    python bench/bench_memory.py                      # 2,000 and 20,000 files, --jobs 1 and 2
    python bench/bench_memory.py -n 2000 -n 20000 -n 100000
    python bench/bench_memory.py --roster 20000       # a 20,000-staff roster, 1,000 engagements

The CLI runs as a subprocess whose process tree (the parent and its workers) is sampled
every 20 ms: "peak" is the largest sum of their resident sets, "parent" the parent's own
high-water mark. Files are the engagements of ``bench_check.py`` (5 staff, 3 services).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_check import engagement


def _status(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return pids
    for child in children:
        pids += _tree(int(child))
    return pids


def measure(args: list[str]) -> tuple[float, float, float]:
    """(seconds, peak MB of the process tree, parent's peak MB) of ``kpo-rules ARGS``."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "kpo_rules", *args],
                               stdout=subprocess.DEVNULL)
    peak = parent = 0
    while process.poll() is None:
        peak = max(peak, sum(_status(p, "VmRSS") for p in _tree(process.pid)))
        parent = max(parent, _status(process.pid, "VmHWM"))
        time.sleep(0.02)
    return time.perf_counter() - start, peak / 1024, parent / 1024


def portfolio(folder: Path, count: int) -> None:
    rng = random.Random(7)
    for i in range(count):
        (folder / f"e{i:06d}.yaml").write_text(engagement(i, rng))


def roster(folder: Path, staff: int, engagements: int) -> None:
    """One roster of ``staff`` people (the staff of generated engagements), and
    engagements without staff of their own whose assignees are on it."""
    rng = random.Random(11)
    members = []
    for k in range(staff // 5):
        text = engagement(10**6 + k, rng)
        members.append(text[text.index("staff:\n") + len("staff:\n"):])
    (folder / "roster.yaml").write_text("apiVersion: kpo-rules/v1\nkind: Roster\n"
                                        "metadata: {id: big}\nstaff:\n" + "".join(members))
    for i in range(engagements):
        text = engagement(i, rng)
        text = text[:text.index("staff:\n")]
        for s in range(5):
            text = text.replace(f"s-{i}-{s}", f"s-{10**6 + rng.randrange(staff // 5)}-{s}")
        (folder / f"e{i:06d}.yaml").write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, action="append", help="files (repeatable)")
    parser.add_argument("--roster", type=int, help="staff on one roster, with 1,000 files")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if options.roster:
            folder = Path(tmp)
            roster(folder, options.roster, 1000)
            for jobs in ("1", "2"):
                seconds, peak, parent = measure(["check", "--quiet", "--jobs", jobs, tmp])
                print(f"roster of {options.roster} staff, 1,000 files, --jobs {jobs}: "
                      f"{seconds:6.2f} s, peak {peak:7.1f} MB, parent {parent:7.1f} MB")
            return
        for count in options.n or [2000, 20000]:
            folder = Path(tmp) / str(count)
            folder.mkdir()
            portfolio(folder, count)
            for jobs in ("1", "2"):
                seconds, peak, parent = measure(["check", "--quiet", "--jobs", jobs,
                                                 str(folder)])
                print(f"{count:>7} files, --jobs {jobs}: {seconds:7.2f} s, peak {peak:7.1f} MB "
                      f"(whole tree), parent {parent:7.1f} MB")


if __name__ == "__main__":
    main()
