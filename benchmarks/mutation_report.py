"""The mutation score of the last ``mutmut run``, per module, with the equivalent mutants set aside.

``make mutate`` runs mutmut over the core modules (``[tool.mutmut]`` in pyproject.toml), then this:
it reads every mutant's status (``mutmut results --all true``), drops the mutants listed in
``benchmarks/mutation_equivalents.yaml`` (a mutant that cannot change behaviour, each with the reason),
and writes ``runs/mutation/report.md``: killed / (tested - equivalent) per file and overall, and the
survivors to look at. It exits 1 when the score is under the target.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
EQUIVALENTS = HERE / "mutation_equivalents.yaml"
KILLED = {"killed", "timeout", "caught by type check"}
NOT_TESTED = {"skipped", "not checked"}


def statuses(mutmut: str) -> dict[str, str]:
    """``{mutant name: status}`` of the last run."""
    out = subprocess.run(
        [mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            found[name] = status
    return found


def module_of(mutant: str) -> str:
    """``scigen_rl.filters.x_check_pixels__mutmut_3`` -> ``scigen_rl/filters.py``."""
    dotted = mutant.split(".x")[0].split(".xǁ")[0]
    return dotted.replace(".", "/") + ".py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutmut", default=str(Path(sys.executable).with_name("mutmut")))
    parser.add_argument("--target", type=float, default=0.85)
    parser.add_argument("--out", default="runs/mutation/report.md")
    args = parser.parse_args(argv)

    import yaml

    equivalent = (yaml.safe_load(EQUIVALENTS.read_text()) or {}).get("equivalent") or {}
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    found = statuses(args.mutmut)
    if not found:
        print("no mutmut results here: run `make mutate` (or `mutmut run`) first", file=sys.stderr)
        return 2
    for name, status in found.items():
        module = module_of(name)
        if name in equivalent:
            by_module[module]["equivalent"] += 1
        elif status in KILLED:
            by_module[module]["killed"] += 1
        elif status in NOT_TESTED:
            by_module[module]["not tested"] += 1
        else:
            by_module[module]["survived"] += 1
            survivors[module].append(f"{name} ({status})")
    lines = ["# Mutation score", "", "| module | killed | survived | equivalent | not tested | score |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    total = Counter[str]()
    for module in sorted(by_module):
        c = by_module[module]
        total.update(c)
        judged = c["killed"] + c["survived"]
        lines.append(f"| {module} | {c['killed']} | {c['survived']} | {c['equivalent']} | {c['not tested']} | "
                     f"{format(c['killed'] / judged, '.1%') if judged else '-'} |")  # fmt: skip
    judged = total["killed"] + total["survived"]
    score = total["killed"] / judged if judged else 1.0
    lines += [f"| **all** | {total['killed']} | {total['survived']} | {total['equivalent']} | {total['not tested']} | "
              f"**{score:.1%}** |", ""]  # fmt: skip
    if total["not tested"]:
        lines += [
            f"{total['not tested']} mutants were not tested (an interrupted run): the score is partial.",
            "",
        ]
    lines += [
        f"Target {args.target:.0%}: {'met' if score >= args.target else 'not met'}.",
        "",
        "## Survivors",
        "",
    ]
    for module in sorted(survivors):
        lines += [f"### {module}", "", *(f"- `{s}`" for s in survivors[module]), ""]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print(f"mutation score {score:.1%} ({total['killed']} killed, {total['survived']} survived, "
          f"{total['equivalent']} equivalent set aside); report: {out}")  # fmt: skip
    return 0 if score >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
