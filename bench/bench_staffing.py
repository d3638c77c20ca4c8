"""Benchmark: ``kpo-rules staff`` on large generated rosters.

Not a test: it prints numbers to quote in notes. Usage::

    python bench/bench_staffing.py                      # 20,000 x 1 and 2,000 x 50
    python bench/bench_staffing.py --staff 5000 --services 10 --jobs 2

Each case runs the CLI as a subprocess (``--format json``, ten of each kind listed per
service as by default, or everyone with ``--all``; output discarded) whose process tree is
sampled every 20 ms (:func:`bench_memory.measure`): "peak" is the largest sum of the
resident sets of the parent and its workers, "parent" the parent's own high-water mark;
"cpu" is the user and system time of the whole tree, which a busy machine disturbs far
less than the wall time. The roster mixes people who can do the work and people who cannot
(credentials, language levels, shifts, frameworks, software, countries vary), so every
rule has work to do. The load average is printed with each figure: the machine may be
shared, and the figures are only as quiet as it was.

Measured on a 2-core machine shared with other jobs (load average 5 to 6 throughout, so
each run got well under a core: the wall times are that much too long, the CPU times a
little), with the vendored C engine::

     20000 staff x   1 services, --jobs 1:  48.1 s wall, 19.0 s cpu, peak 524 MB, parent 275 MB
     20000 staff x   1 services, --jobs 2:  41.7 s wall, 19.1 s cpu, peak 787 MB, parent 277 MB
      2000 staff x  50 services, --jobs 1: 111.4 s wall, 56.2 s cpu, peak 125 MB, parent  63 MB
      2000 staff x  50 services, --jobs 2:  94.0 s wall, 60.0 s cpu, peak 187 MB, parent  63 MB

In quieter moments (load average 1.1 to 2.2: the two cores still shared)::

     20000 staff x   1 services, --jobs 2:  12.4 s wall, 18.4 s cpu, peak 787 MB, parent 277 MB
     20000 staff x   1 services, --jobs 1:  16.2 s wall, 16.6 s cpu, peak 524 MB, parent 277 MB
      2000 staff x  50 services, --jobs 2:  28.1 s wall, 52.8 s cpu, peak 188 MB, parent  63 MB
      2000 staff x   1 services, --jobs 1:   2.6 s wall,  2.4 s cpu, peak 122 MB, parent  61 MB

(Before the engine was vendored: 26.0 s and 84.9 s of CPU with --jobs 1.) Of the 19 s
for 20,000 staff, about 6 s is reading the 7 MB roster (with positions, in the parent);
judging is about 0.65 ms of CPU a (staff, service) pair in batches of 50, 0.56 ms a pair
counting everything when 50 services share the roster. The parent's memory is the roster's
(about 10 KB a person as read, positions included), not the answer's: 61 MB for 2,000
staff against 1 service, 63 MB against 50. "peak" adds up resident sets, so memory a
worker shares with the parent is counted twice.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_memory import measure

TASKS = ["finance.tax_preparation", "finance.bookkeeping", "finance.payroll",
         "finance.data_entry", "finance.financial_statements"]


def member(i: int, rng: random.Random) -> str:
    country, zone = rng.choice([("IN", "Asia/Kolkata"), ("IN", "Asia/Kolkata"),
                                ("PH", "Asia/Manila")])
    credentials = "    credentials:\n      - {id: us.ptin, valid_until: 2026-12-31}\n" \
        if rng.random() < 0.6 else ""
    return f"""  - id: p-{i:06d}
    name: Person {i}
    role: associate
    location: {{country: {country}, timezone: {zone}}}
    working_hours: {{start: "{rng.choice(['13:30', '18:30', '09:00'])}", end: "03:30"}}
    education:
      - {{level: {rng.choice(['secondary', 'bachelor', 'master'])}, field: {rng.choice(
          ['accounting', 'commerce', 'history'])}}}
{credentials}    languages:
      - {{code: en, level: {rng.choice(['B1', 'B2', 'C1', 'C2'])}}}
    familiar_with: [{rng.choice(['us.tax', 'us.gaap', 'us.tax, us.gaap'])}]
    software: [{rng.choice(['cch_axcess', 'excel', 'cch_axcess, excel'])}]
"""


def roster(count: int) -> str:
    rng = random.Random(18)
    return ("apiVersion: kpo-rules/v1\nkind: Roster\nmetadata: {id: big}\nstaff:\n"
            + "".join(member(i, rng) for i in range(count)))


def engagement(services: int) -> str:
    items = "".join(f"""  - id: svc-{k:03d}
    task: {TASKS[k % len(TASKS)]}
    delivery_centre: pune
    language: en
    software: [cch_axcess]
    hours_overlap: 2
    data: {{personal_data: true, categories: [tax_return_information]}}
    safeguards: [client_consent, confidentiality_agreement]
    assignees: [p-000000]
""" for k in range(services))
    return f"""apiVersion: kpo-rules/v1
kind: Engagement
metadata: {{id: bench-staffing}}
period: {{start: 2026-01-01, end: 2026-12-31}}
client:
  name: Client
  type: tax_practice
  country: US
  subdivision: US-NY
  timezone: America/New_York
  business_hours: {{start: "09:00", end: "17:00", days: [mon, tue, wed, thu, fri]}}
provider:
  name: Provider
  relationship: third_party
  serves: {{finance: [US]}}
  delivery_centres:
    - {{id: pune, country: IN, timezone: Asia/Kolkata}}
services:
{items}"""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def case(staff: int, services: int, jobs: list[int], everyone: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "roster.yaml").write_text(roster(staff))
        Path(tmp, "engagement.yaml").write_text(engagement(services))
        for job in jobs:
            args = ["staff", tmp, "--format", "json", "--jobs", str(job)]
            args += ["--all"] if everyone else []
            load = os.getloadavg()[0]
            cpu = _cpu()
            seconds, peak, parent = measure(args)
            cpu = _cpu() - cpu
            pairs = staff * services
            print(f"{staff:>6} staff x {services:>3} services, --jobs {job}"
                  f"{' --all' if everyone else ''}: {seconds:6.1f} s wall, {cpu:6.1f} s cpu "
                  f"({1000 * cpu / pairs:.2f} ms cpu a pair), peak {peak:5.0f} MB, parent "
                  f"{parent:5.0f} MB   [load average before: {load:.1f} on "
                  f"{os.cpu_count()} cores]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, action="append")
    parser.add_argument("--services", type=int, action="append")
    parser.add_argument("--jobs", type=int, action="append")
    parser.add_argument("--all", action="store_true", help="list everyone (--all)")
    args = parser.parse_args()
    jobs = args.jobs or [1, 2]
    cases = list(zip(args.staff or [20000, 2000], args.services or [1, 50], strict=True))
    for staff, services in cases:
        case(staff, services, jobs, args.all)


if __name__ == "__main__":
    main()
