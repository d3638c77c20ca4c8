"""Benchmark: a first one-file check (empty cache) against check-jsonschema on the same file.

Not a test: it prints numbers to quote in notes. Counted in instructions with valgrind's
callgrind, which other processes on a shared machine do not disturb, for every engagement
of ``examples/`` (or the files named)::

    pip install .  check-jsonschema    # a wheel install: it ships the plugins' content
    python bench/bench_cold_start.py [FILE ...]

Byte-code is compiled first, as ``pip install`` does; each kpo-rules run gets a new, empty
cache directory. An editable install has no shipped content, so it measures the first run
of a checkout (every plugin file read and compiled).
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instructions(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Instructions the command took, and what it printed."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           *command], capture_output=True, text=True, env=env, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count for {command}:\n{done.stderr[-2000:]}")
    return int(found.group(1)), done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed (apt-get install valgrind)")
    bin_dir = Path(sys.executable).parent
    kpo, other = bin_dir / "kpo-rules", bin_dir / "check-jsonschema"
    if not other.exists():
        raise SystemExit("check-jsonschema is needed (pip install check-jsonschema)")
    compileall.compile_dir(sysconfig.get_paths()["purelib"], quiet=2)
    files = args.files or sorted((ROOT / "examples").glob("[fl]*/*.yaml"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        schema = Path(tmp, "engagement.schema.json")
        schema.write_text(subprocess.run([str(kpo), "schema", "engagement"], capture_output=True,
                                         text=True, check=True).stdout)
        ratios = []
        print(f"{'kpo-rules':>10} {'check-jsonschema':>17} {'ratio':>6}  file")
        for index, file in enumerate(files):
            cache = Path(tmp, f"cache-{index}")
            ours, _ = instructions([str(kpo), "check", str(file)],
                                   {**env, "KPO_RULES_CACHE_DIR": str(cache)})
            theirs, said = instructions([str(other), "--schemafile", str(schema), str(file)],
                                        env)
            name = file.relative_to(ROOT) if file.is_relative_to(ROOT) else file
            if "failed to parse" in said:  # several documents: it reads only one
                print(f"{ours / 1e6:8.0f} M {'cannot read it':>17}         {name}")
                continue
            ratios.append(ours / theirs)
            print(f"{ours / 1e6:8.0f} M {theirs / 1e6:15.0f} M {ours / theirs:5.2f}x  {name}")
        print(f"ratio: {min(ratios):.2f}x to {max(ratios):.2f}x, "
              f"median {sorted(ratios)[len(ratios) // 2]:.2f}x ({len(ratios)} files)")


if __name__ == "__main__":
    main()
