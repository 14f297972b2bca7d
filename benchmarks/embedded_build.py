"""What the embedded CPU model (SmolLM2-135M) builds: rendered, dropped by reason and exported rows.

Runs ``scigen-rl build --embedded`` on SciGenBench problems chosen by a fixed rule (by default the
first 30 chart-type problems whose question gives at least eight numbers, the kind a small model can
chart) in a temporary run directory, and prints the build's counts and seconds per problem as JSON.
``--prompt plan-code`` measures the free-form prompt on the first problems of the benchmark instead.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from scigen_rl.loaders import load_scigenbench
from scigen_rl.skeletons import CHART_TYPES

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")


def chart_problems_with_data(count: int) -> list[str]:
    """The first ``count`` chart-type problems (in file order) with >= 8 numbers and < 1500 characters."""
    return [
        p.id
        for p in load_scigenbench()
        if p.image_type in CHART_TYPES and len(_NUMBER.findall(p.question)) >= 8 and len(p.question) < 1500
    ][:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=30)
    parser.add_argument("--prompt", choices=["skeleton", "plan-code"], default="skeleton")
    parser.add_argument("--max-tokens", type=int, default=512)
    args = parser.parse_args()
    if args.prompt == "skeleton":
        ids = chart_problems_with_data(args.problems)
    else:
        ids = [p.id for p in load_scigenbench()[: args.problems]]
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "scigen_rl.cli", "build", "--embedded", "--run-dir", str(run),
             "--ids", ",".join(ids), "--prompt", args.prompt, "--llm.max-tokens", str(args.max_tokens),
             "--repair-rounds", "0", "--val-fraction", "0"],
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        seconds = time.monotonic() - started
        summary = json.loads((run / "summary.json").read_text())
    print(
        json.dumps(
            {
                "prompt": args.prompt,
                "problems": len(ids),
                "rendered": summary["rendered"],
                "exported": summary["exported"],
                "dropped": dict(Counter(d["reason"] for d in summary["dropped"])),
                "seconds_per_problem": round(seconds / max(1, len(ids)), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
