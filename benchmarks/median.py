"""Run a benchmark several times and report the median of each number it prints, with the machine.

Usage: ``python benchmarks/median.py [--runs 3] -- python benchmarks/build_throughput.py [args]``. Each
benchmark prints a JSON object as its last line; this prints every run's object, then one line
``{"command", "runs", "machine", "median": {...}, "each": {...}}`` (numbers of each field across runs):
what the README quotes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
from typing import Any


def machine() -> str:
    """CPU model, cores, memory and Python: what the figures were measured on."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model
            )
        with open("/proc/meminfo", encoding="utf-8") as f:
            memory = int(next(line.split()[1] for line in f if line.startswith("MemTotal"))) / 2**20
    except OSError:
        memory = 0.0
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}"


def last_json(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("the benchmark printed no JSON object")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the benchmark's command line")
    args = parser.parse_args()
    command = [c for c in args.command if c != "--"] or parser.error("give the benchmark's command after --")
    results = []
    for i in range(args.runs):
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True)  # its progress stays on stderr
        if done.returncode != 0:
            print(f"run {i + 1} of {shlex.join(command)} exited {done.returncode}", file=sys.stderr)
            return 1
        results.append(last_json(done.stdout))
        print(json.dumps(results[-1]), file=sys.stderr)
    numeric = [k for k, v in results[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]
    each = {k: [r.get(k) for r in results] for k in numeric}
    median = {k: statistics.median(v for v in values if v is not None) for k, values in each.items()}
    print(json.dumps({"command": shlex.join(command), "runs": args.runs, "machine": machine(),
                      "median": median, "each": each}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
