"""The mutation score of the last ``mutmut run``, per module, with the equivalent mutants set aside.

``make mutate`` runs mutmut over the core modules (``[tool.mutmut]`` in pyproject.toml), then this:
it reads every mutant's status (``mutmut results --all true``), sets aside the mutants listed in
``benchmarks/mutation_equivalents.yaml`` (a mutant that cannot change behaviour, each with the line it
writes and the reason), and writes ``runs/mutation/report.md``: killed / (killed + survived) per file
and overall, and every survivor with its diff. It exits 1 when the score is under the target.

An equivalent is matched by name *and* by the line the mutant writes (``line``), or for a mutant that
only deletes, by the line it deletes (``removes``): when the function changes and
mutmut's numbering moves, a stale entry no longer matches, its mutant counts as a survivor and the
report says so. ``--draft`` prints the survivors as entries to review and paste.
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
    done = subprocess.run([mutmut, "results", "--all", "true"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"`mutmut results` failed (a run still writing its results?): {done.stderr[-500:]}")
    out = done.stdout
    found = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            found[name] = status
    return found


def module_of(mutant: str) -> str:
    """``scigen_rl.filters.x_check_pixels__mutmut_3`` -> ``scigen_rl/filters.py``."""
    dotted = mutant.split(".x")[0]
    return dotted.replace(".", "/") + ".py"


def changed_lines(mutant: str) -> tuple[list[str], list[str]]:
    """The lines the mutant removes and the ones it writes (stripped)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    try:
        diff = get_diff_for_mutant(mutant, path=module_of(mutant))
    except Exception:  # noqa: BLE001 - a mutant that cannot be shown is reported, not fatal
        return [], []
    lines = diff.splitlines()[2:]
    return (
        [x[1:].strip() for x in lines if x.startswith("-")],
        [x[1:].strip() for x in lines if x.startswith("+")],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutmut", default=str(Path(sys.executable).with_name("mutmut")))
    parser.add_argument("--target", type=float, default=0.85)
    parser.add_argument("--out", default="runs/mutation/report.md")
    parser.add_argument("--draft", action="store_true", help="print the survivors as equivalents entries")
    args = parser.parse_args(argv)

    import yaml

    equivalent = (yaml.safe_load(EQUIVALENTS.read_text()) or {}).get("equivalent") or {}
    found = statuses(args.mutmut)
    if not found:
        print("no mutmut results here: run `make mutate` (or `mutmut run`) first", file=sys.stderr)
        return 2
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    stale = [name for name in equivalent if name not in found]
    draft = []
    for name, status in found.items():
        module = module_of(name)
        if status in KILLED:
            by_module[module]["killed"] += 1
            continue
        if status in NOT_TESTED:
            by_module[module]["not tested"] += 1
            continue
        removed, written = changed_lines(name)
        entry = equivalent.get(name)
        if entry is not None and (
            entry.get("line") in written if written else entry.get("removes") in removed
        ):
            by_module[module]["equivalent"] += 1
            continue
        if entry is not None:
            stale.append(name)
        by_module[module]["survived"] += 1
        diff = "; ".join([*(f"- {x}" for x in removed), *(f"+ {x}" for x in written)])
        survivors[module].append(f"`{name}` ({status}): `{diff}`")
        draft.append((name, ("line", written[0]) if written else ("removes", removed[0] if removed else "")))

    if args.draft:
        for name, (key, line) in draft:
            text = yaml.safe_dump(line, width=10_000).strip().removesuffix("...").strip()
            print(f"  {name}:\n    {key}: {text}\n    reason: TODO")
        return 0
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
    if stale:
        lines += [f"{len(stale)} entries of {EQUIVALENTS.name} match no mutant any more (the function changed): "
                  "review them.", *(f"- `{s}`" for s in sorted(stale)), ""]  # fmt: skip
    lines += [
        f"Target {args.target:.0%}: {'met' if score >= args.target else 'not met'}.",
        "",
        "## Survivors",
        "",
    ]
    for module in sorted(survivors):
        lines += [f"### {module}", "", *(f"- {s}" for s in survivors[module]), ""]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print(f"mutation score {score:.1%} ({total['killed']} killed, {total['survived']} survived, "
          f"{total['equivalent']} equivalent set aside, {total['not tested']} not tested); report: {out}")  # fmt: skip
    if stale:
        print(f"{len(stale)} stale equivalents entries: see the report", file=sys.stderr)
    return 0 if score >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
