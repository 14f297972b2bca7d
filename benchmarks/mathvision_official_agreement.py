"""Agreement of ``--scorer official-exact`` with MathVision's own scorer, item by item.

Scores every published model output of a MATH-V checkout (``outputs/**/*.jsonl``, the gold answers
from ``data/test.jsonl``) with ``scigen_rl.evaluate.official_exact``; when the official scorer can
run (``evaluation/evaluate.py`` of the same checkout, which needs ``latex2sympy2``, ``fire``, ``tqdm``
and ``numpy``), runs it too, on the same outputs, and prints the agreement per model and in all, with
the disagreeing items. The official code runs in this interpreter if it can import ``latex2sympy2``,
else in the one ``--official-python`` names (a separate environment: ``latex2sympy2`` pins an ANTLR
runtime that this project's dependencies cannot share)::

    python3 -m venv /tmp/mathv-venv && /tmp/mathv-venv/bin/pip install latex2sympy2 fire tqdm numpy
    git clone https://github.com/mathllm/MATH-V /tmp/MATH-V
    .venv/bin/python benchmarks/mathvision_official_agreement.py /tmp/MATH-V --official-python /tmp/mathv-venv/bin/python

Nothing in the checkout is written (the official ``evaluate`` saves its verdicts into the outputs;
here they are kept in memory). Last line JSON: ``{"items", "exact_accuracy", "official_accuracy",
"agreement", "disagreements"}`` (the last three null when the official scorer could not run).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def output_files(checkout: Path) -> list[Path]:
    return sorted(p for p in (checkout / "outputs").rglob("*.jsonl") if p.is_file())


def emit_official(checkout: Path) -> None:
    """Run the checkout's own ``evaluate`` on every output file; print one JSON line per item."""
    os.chdir(checkout)  # evaluate.py reads ./data/test.jsonl when imported
    sys.path.insert(0, str(checkout / "evaluation"))
    import evaluate

    kept: dict[str, list[dict[str, Any]]] = {}
    evaluate.save_jsonl = lambda path, lines, t_stamp=True: kept.__setitem__(path, lines)
    evaluate.tqdm = lambda items, **_: items
    for path in output_files(checkout):
        evaluate.evaluate(str(path), True)
        for line in kept.pop(str(path)):
            print(json.dumps({"file": str(path.relative_to(checkout)), "id": line["id"],
                              "answer": line["model_answer"], "correct": line["correct"]}))  # fmt: skip


def official_verdicts(checkout: Path, python: str | None) -> dict[tuple[str, str], dict[str, Any]] | None:
    """The official scorer's verdicts by (output file, item id); None when it cannot run."""
    if python is None:
        if importlib.util.find_spec("latex2sympy2") is None:
            return None
        python = sys.executable
    done = subprocess.run(
        [python, __file__, str(checkout), "--emit-official"], capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"the official scorer failed ({python}):\n{done.stderr[-2000:]}")
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return {(r["file"], str(r["id"])): r for r in records}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", type=Path, help="a MATH-V checkout (data/test.jsonl, outputs/)")
    parser.add_argument("--official-python", help="an interpreter that can import latex2sympy2")
    parser.add_argument("--show", type=int, default=20, help="disagreeing items to print")
    parser.add_argument("--emit-official", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    if args.emit_official:
        emit_official(checkout)
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scigen_rl.evaluate.official_exact import official_answer, official_exact_correct

    gold = {
        str(r["id"]): r for r in map(json.loads, (checkout / "data" / "test.jsonl").read_text().splitlines())
    }
    official = official_verdicts(checkout, args.official_python)
    totals = {"items": 0, "exact": 0, "official": 0, "agree": 0}
    shown = 0
    print(f"{'model':45s} {'items':>6s} {'exact':>7s} {'official':>8s} {'published':>9s} {'agree':>8s}")
    for path in output_files(checkout):
        name = str(path.relative_to(checkout))
        items = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        exact = agree = right = 0
        for item in items:
            raw = gold[str(item["id"])]
            verdict = official_exact_correct(item["response"], str(raw["answer"]), raw["options"])
            exact += verdict
            if official is not None:
                theirs = official[(name, str(item["id"]))]
                right += theirs["correct"]
                agree += theirs["correct"] == verdict
                if theirs["correct"] != verdict and shown < args.show:
                    shown += 1
                    print(f"  {name} #{item['id']}: official {theirs['correct']} ({theirs['answer']!r}), "
                          f"exact {verdict} ({official_answer(item['response'])!r})")  # fmt: skip
        result_file = path.with_name(path.stem + "_result.json")
        published = (
            json.loads(result_file.read_text())["-all"].split("=")[-1] if result_file.exists() else "-"
        )
        n = len(items)
        print(f"{path.stem[:45]:45s} {n:6d} {100 * exact / n:6.2f}% "
              + (f"{100 * right / n:7.2f}% {published:>9s} {100 * agree / n:7.2f}%" if official else f"{'-':>8s} {published:>9s}"))  # fmt: skip
        for key, value in (("items", n), ("exact", exact), ("official", right), ("agree", agree)):
            totals[key] += value
    n = totals["items"]
    summary = {"items": n, "exact_accuracy": round(100 * totals["exact"] / n, 3),
               "official_accuracy": round(100 * totals["official"] / n, 3) if official else None,
               "agreement": round(100 * totals["agree"] / n, 3) if official else None,
               "disagreements": n - totals["agree"] if official else None}  # fmt: skip
    if official is None:
        print("(the official scorer did not run: give --official-python, an interpreter with latex2sympy2)")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
