"""Benchmark: check a generated portfolio and compare each stage with plain libyaml parsing.

Not a test: it prints numbers to quote in notes. Usage::

    python bench/bench_check.py                    # 2,000 engagements, stage by stage
    python bench/bench_check.py -n 10000
    python bench/bench_check.py --memory 100000    # RSS while evaluating 100k engagements
    python bench/bench_check.py --cli -n 2000      # the CLI with --jobs 1 and 2; cold start

Each engagement has 5 staff and 3 services, like a small real engagement.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

TASKS = ["finance.bookkeeping", "finance.tax_preparation", "finance.payroll",
         "finance.financial_statements", "legal.research", "legal.document_review"]


def engagement(i: int, rng: random.Random) -> str:
    staff = []
    for s in range(5):
        level = rng.choice(["B2", "C1", "C2", "B1"])
        staff.append(f"""  - id: s-{i}-{s}
    name: Person {i}-{s}
    role: associate
    location: {{country: IN, timezone: Asia/Kolkata}}
    working_hours: {{start: "{rng.choice(['13:30', '18:30', '09:00'])}", end: "03:30"}}
    education:
      - {{level: {rng.choice(['bachelor', 'master'])}, field: accounting}}
    credentials:
      - {{id: us.ptin, valid_until: 2026-12-31}}
    languages:
      - {{code: en, level: {level}}}
      - {{code: hi, level: native}}
    familiar_with: [us.tax, us.gaap]
    software: [cch_axcess, excel]
""")
    services = []
    for k in range(3):
        assignees = ", ".join(f"s-{i}-{s}" for s in rng.sample(range(5), 2))
        services.append(f"""  - id: svc-{k}
    task: {rng.choice(TASKS)}
    delivery_centre: pune
    language: en
    decision_level: preparer
    software: [cch_axcess]
    hours_overlap: 2
    data: {{personal_data: true, categories: [tax_return_information], transfer_mechanism: none}}
    safeguards: [client_consent, confidentiality_agreement]
    assignees: [{assignees}]
""")
    return f"""apiVersion: kpo-rules/v1
kind: Engagement
metadata:
  id: bench-{i:06d}
period: {{start: 2026-01-01, end: 2026-12-31}}
client:
  name: Client {i}
  type: tax_practice
  country: US
  subdivision: US-NY
  timezone: America/New_York
  business_hours: {{start: "09:00", end: "17:00", days: [mon, tue, wed, thu, fri]}}
provider:
  name: Provider
  relationship: third_party
  serves: {{finance: [US], legal: [US-NY]}}
  delivery_centres:
    - {{id: pune, country: IN, timezone: Asia/Kolkata}}
services:
{''.join(services)}staff:
{''.join(staff)}"""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, seconds: float, n: int, base: float | None) -> None:
    ratio = f"  {seconds / base:5.2f}x libyaml" if base else ""
    print(f"{label:<34} {seconds:7.2f} s  {n / seconds:9.0f} eng/s{ratio}")


def _engine_stage(evaluator: Any, engagements: list[Any], catalogue: Any) -> tuple[float, float]:
    """Seconds to evaluate every engagement, and to run only the durable sessions of the
    same engagements on facts built beforehand (the floor of the engine's share)."""
    from kpo_rules.gc_pause import gc_frozen

    with gc_frozen():  # as a check evaluates: what was read is out of the GC's walks
        t = time.perf_counter()
        for e in engagements:
            evaluator.evaluate(e, catalogue)
        engine = time.perf_counter() - t
        prepared = [evaluator.engine_facts(e, catalogue)[0] for e in engagements]
        t = time.perf_counter()
        for facts in prepared:
            evaluator.run_engine(facts)
        return engine, time.perf_counter() - t


def stages(n: int) -> None:
    from kpo_rules.api import check
    from kpo_rules.config import Config
    from kpo_rules.content import load_content
    from kpo_rules.engine.evaluate import evaluator_for
    from kpo_rules.gc_pause import gc_paused
    from kpo_rules.load.discovery import discover
    from kpo_rules.load.schema_check import validate_document
    from kpo_rules.load.yaml12 import parse_yaml
    from kpo_rules.plugins import create_plugin_set
    from kpo_rules.references import resolve

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            Path(tmp, f"e{i:06d}.yaml").write_text(engagement(i, rng))
        files = discover([tmp], Config()).files
        blobs = [f.read() for f in files]
        print(f"portfolio: {n} engagements, {sum(map(len, blobs)) / 1e6:.1f} MB of YAML")

        t = time.perf_counter()
        for blob in blobs:
            yaml.load(blob, Loader=yaml.CSafeLoader)
        base = time.perf_counter() - t
        timed("plain yaml.load(CSafeLoader)", base, n, None)

        t = time.perf_counter()
        with gc_paused():  # as a check reads its files
            docs = [parse_yaml(blob, f.name)[0] for blob, f in zip(blobs, files, strict=True)]
        parse = time.perf_counter() - t
        timed("parse with positions (YAML 1.2)", parse, n, base)

        t = time.perf_counter()
        for doc in docs:
            validate_document(doc)
        validate = time.perf_counter() - t
        timed("schema validation", validate, n, base)

        plugins = create_plugin_set()
        t = time.perf_counter()
        content = load_content(plugins)
        evaluator = evaluator_for(content.rules)
        print(f"{'load plugins + compile rules':<34} {time.perf_counter() - t:7.2f} s  "
              f"({len(content.rules.rules)} rules, {len(content.rules.derivations)} derivations)")

        engagements, _ = resolve(docs, [])
        engine, runner = _engine_stage(evaluator, engagements, content.catalogue)
        timed("facts + rule engine", engine, n, base)
        timed("  of which durable sessions alone", runner, n, base)
        print(f"engine share vs parse+validate:    {engine / (parse + validate):.2f}"
              f"  (durable sessions alone: {runner / (parse + validate):.2f})")

        t = time.perf_counter()
        report = check([tmp], plugins=plugins, jobs=1)
        full = time.perf_counter() - t
        timed("whole check (1 process)", full, n, base)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"findings: {len(report.findings)}; peak RSS {peak:.0f} MB")


def memory(n: int) -> None:
    from kpo_rules.content import load_content
    from kpo_rules.engine.evaluate import evaluator_for
    from kpo_rules.load.yaml12 import parse_yaml
    from kpo_rules.plugins import create_plugin_set
    from kpo_rules.references import resolve

    rng = random.Random(7)
    docs = [parse_yaml(engagement(i, rng), f"e{i}.yaml")[0] for i in range(1000)]
    engagements, _ = resolve(docs, [])
    content = load_content(create_plugin_set())
    evaluator = evaluator_for(content.rules)
    t = time.perf_counter()
    for i in range(n):
        evaluator.evaluate(engagements[i % len(engagements)], content.catalogue)
        if (i + 1) % (n // 10) == 0:
            print(f"{i + 1:>8} engagements  RSS {rss_mb():6.1f} MB  "
                  f"{(i + 1) / (time.perf_counter() - t):7.0f} eng/s")


def _wall(command: list[str], runs: int = 3) -> float:
    """Best wall time of ``runs`` runs of ``command`` (output discarded)."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        best = min(best, time.perf_counter() - started)
    return best


def _compile_bytecode() -> None:
    """Write the .pyc files of kpo-rules and its plugins, as ``pip install`` does: an
    editable install under PYTHONDONTWRITEBYTECODE would otherwise compile every module
    on every start and the cold start would measure the compiler."""
    import compileall
    from importlib.metadata import entry_points

    import kpo_rules

    folders = {Path(kpo_rules.__file__).parent}
    for point in entry_points(group="kpo_rules"):
        spec = importlib.util.find_spec(point.module.partition(".")[0])
        if spec is not None and spec.origin:
            folders.add(Path(spec.origin).parent)
    for folder in sorted(folders):
        compileall.compile_dir(str(folder), quiet=2)


def _halves_at_once(exe: str, folder: Path) -> float:
    """Wall time of two independent ``--jobs 1`` runs, on each half of the files, at once:
    the speed-up two processes can get on this machine (shared caches, memory bandwidth)."""
    files = sorted(folder.glob("*.yaml"))
    half = len(files) // 2
    started = time.perf_counter()
    runs = [subprocess.Popen([exe, "check", "--jobs", "1", "--format", "json", *map(str, part)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for part in (files[:half], files[half:])]
    for run in runs:
        run.wait()
    return time.perf_counter() - started


def cli(n: int, repeat: int = 3) -> None:
    """Issue 7's targets: --jobs 2 against libyaml parsing; cold start against imports."""
    exe = str(Path(sys.executable).with_name("kpo-rules"))
    _compile_bytecode()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            Path(tmp, f"e{i:06d}.yaml").write_text(engagement(i, rng))
        parse_cmd = [sys.executable, "-c", "import glob, yaml\n"
                     f"for p in sorted(glob.glob('{tmp}/*.yaml')):\n"
                     "    yaml.load(open(p, 'rb'), Loader=yaml.CSafeLoader)"]
        # Interleaved rounds: this shared machine's speed changes from minute to minute,
        # so each ratio compares runs made one right after the other.
        rounds = []
        for _ in range(repeat):
            parse = _wall(parse_cmd, runs=1)
            one = _wall([exe, "check", "--jobs", "1", "--format", "json", tmp], runs=1)
            two = _wall([exe, "check", "--jobs", "2", "--format", "json", tmp], runs=1)
            rounds.append((two / parse, one / parse, parse, one, two))
            print(f"round: libyaml {parse:5.2f} s, --jobs 1 {one:5.2f} s ({one / parse:4.2f}x), "
                  f"--jobs 2 {two:5.2f} s ({two / parse:4.2f}x)")
        ratios = sorted(r[0] for r in rounds)
        print(f"--jobs 2 / libyaml over {len(rounds)} rounds: best {ratios[0]:.2f}x, "
              f"median {ratios[len(ratios) // 2]:.2f}x, worst {ratios[-1]:.2f}x")
        _, _, parse, one, two = sorted(rounds)[len(rounds) // 2]
        print(f"{n} files, median round: plain libyaml parse (one process, incl. start-up) "
              f"{parse:6.2f} s")
        print(f"kpo-rules check --jobs 1   {one:6.2f} s  {one / parse:5.2f}x libyaml")
        print(f"kpo-rules check --jobs 2   {two:6.2f} s  {two / parse:5.2f}x libyaml  "
              f"speed-up {one / two:4.2f}")
        halves = _halves_at_once(exe, Path(tmp))
        print(f"two --jobs 1 runs on halves at once {halves:6.2f} s  speed-up {one / halves:4.2f} "
              "(what this machine gives two processes)")
        single = Path(tmp, "e000000.yaml")
        imports = _wall([sys.executable, "-c",
                         "import jsonschema, pluggy, click, yaml"], runs=5)
        cold = _wall([exe, "check", "--jobs", "1", str(single)], runs=5)
        print(f"cold start: imports {imports:5.2f} s, kpo-rules check one.yaml {cold:5.2f} s "
              f"({cold / imports:4.2f}x)")
        checker = Path(sys.executable).with_name("check-jsonschema")
        if checker.exists():
            schema = Path(tmp, "engagement.schema.json")
            schema.write_text(subprocess.run([exe, "schema", "engagement"], capture_output=True,
                                             text=True, check=True).stdout)
            other = _wall([str(checker), "--schemafile", str(schema), str(single)], runs=5)
            print(f"check-jsonschema one.yaml {other:5.2f} s")
        else:
            print("check-jsonschema not installed (pip install check-jsonschema to compare)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="engagements to generate")
    parser.add_argument("--memory", type=int, metavar="N", help="evaluate N engagements, print RSS")
    parser.add_argument("--cli", action="store_true", help="time the CLI (jobs, cold start)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="with --cli: interleaved rounds of parse, --jobs 1, --jobs 2")
    args = parser.parse_args()
    if args.cli:
        cli(args.n, args.rounds)
    elif args.memory:
        memory(args.memory)
    else:
        stages(args.n)


if __name__ == "__main__":
    main()
