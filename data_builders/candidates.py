"""Best-of-N figures (``build --candidates N``): N figures per problem, each scored by R_inv (and the judge
when asked) with the verifier, the best kept; and the report of what choosing gained, at what cost.

Each candidate is made as one figure is: in a routed build (``--routes``) candidate k is written for its
image type's renderer and, when that still fails, asked once more as matplotlib, on its own; its row then
names the renderer that drew it (``renderer``) and the routed one that failed first (``fallback``).

The best is the highest R_inv, ties broken by the judge's total (with ``--candidate-judge``), then by the
lower cost (model tokens, else seconds), then by the earlier candidate. The kept figure's record holds
every candidate's scores (``extra.candidates``) and which was kept (``extra.candidate``); the others'
PNGs stay in ``synthesize/candidates/``.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from statistics import mean
from typing import Any

from scigen_rl.llm import CachedChat
from scigen_rl.records import Figure, Problem, write_atomic

from .generators.base import Generator, Made, Tools


def _cost(figure: Figure) -> float:
    usage = figure.usage
    tokens = usage.get("total_tokens") or usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
    return float(tokens) if tokens else sum(figure.timings.values())


async def _judge_total(client: CachedChat, problem: Problem, png: bytes) -> tuple[int | None, str | None]:
    from scigen_rl.bench.judge import JudgeParseError, judge_messages, parse_judge

    reply = await client.chat(judge_messages(problem, png))
    if not reply.ok:
        return None, f"judge call failed: {reply.error}"
    try:
        return sum(parse_judge(reply.text).values()), None
    except JudgeParseError as e:
        return None, f"judge reply: {e}"  # scored without the judge: a model's bad reply is no outage


async def best_of(
    problem: Problem,
    generator: Generator,
    tools: Tools,
    n: int,
    verifier: CachedChat,
    judge: bool,
    keep_dir: Path,
) -> Made | str:
    """The best of ``n`` figures for ``problem``, or why the problem could not be tried (left for the next run)."""
    from scigen_rl.bench.inverse import validate_figure

    made: list[Made] = []
    for k in range(n):  # one after another: candidate k is always the k-th sample, on a rerun too
        one = await generator.make(problem, replace(tools, candidate=k))
        if isinstance(one, str):
            return one
        made.append(one)
    scored: list[dict[str, Any]] = []
    for k, m in enumerate(made):
        row: dict[str, Any] = {"index": k, "status": m.figure.status, "failure": m.figure.failure, "r_inv": None,
                               "perfect": None, "judge_total": None, "cost": round(_cost(m.figure), 3)}  # fmt: skip
        if "renderer" in m.figure.extra:  # a routed build: which renderer drew it, and which failed first
            fallback = m.figure.extra.get("fallback")
            row.update(renderer=m.figure.extra["renderer"],
                       fallback=fallback.get("renderer") if isinstance(fallback, dict) else None)  # fmt: skip
        if m.figure.status == "ok" and m.png is not None:
            verdict = await validate_figure(verifier, problem, m.png, generator.name)
            if verdict.errors:
                return (
                    f"verifier call failed while choosing among candidates ({verdict.extra.get('unscored')})"
                )
            row.update(r_inv=verdict.r_inv, perfect=verdict.perfect)
            if judge:
                row["judge_total"], note = await _judge_total(verifier, problem, m.png)
                if note and note.startswith("judge call failed"):
                    return note
                row["judge_note"] = note
            path = keep_dir / f"{problem.id}-c{k}.png".replace("/", "_")
            await asyncio.to_thread(write_atomic, path, m.png)
            row["png"] = str(path)
        scored.append(row)

    best = max(scored, key=rank)
    chosen = made[best["index"]]
    chosen.figure.extra = {**chosen.figure.extra, "candidates": scored, "candidate": best["index"]}
    return chosen


def rank(row: dict[str, Any]) -> tuple[float, float, float, int]:
    """How a candidate's scores order it: R_inv (a failed figure below any), the judge's total, the lower
    cost, the earlier index.

    >>> a = {"index": 0, "r_inv": 0.5, "judge_total": 6, "cost": 10.0}
    >>> b = {"index": 1, "r_inv": 0.5, "judge_total": 7, "cost": 99.0}
    >>> max([a, b], key=rank)["index"], max([a, {**b, "judge_total": 6}], key=rank)["index"]
    (1, 0)
    """
    ok = row["r_inv"] is not None
    return (row["r_inv"] if ok else -1.0, row["judge_total"] or 0, -row["cost"], -row["index"])


def candidates_report(
    problems: list[Problem], figures: dict[str, Figure], run: Path
) -> dict[str, Any] | None:
    """Per image type and overall: R_inv and perfect rate of the first candidate (what one figure per
    problem gives) against the kept best, and the cost of all candidates against the first's alone;
    written to ``candidates.json``, ``candidates.md`` and ``candidates.png``. None without candidates."""
    rows: dict[str, list[tuple[dict[str, Any], dict[str, Any], float, float]]] = defaultdict(list)
    for p in problems:
        figure = figures.get(p.id)
        found = figure.extra.get("candidates") if figure is not None else None
        if not found:
            continue
        first, best = found[0], found[figure.extra["candidate"]]  # type: ignore[union-attr]
        rows[p.image_type or "(none)"].append((first, best, sum(c["cost"] for c in found), first["cost"]))
    if not rows:
        return None

    def stats(items: list[tuple[dict[str, Any], dict[str, Any], float, float]]) -> dict[str, Any]:
        def avg(values: list[Any]) -> float | None:
            kept = [float(v) for v in values if v is not None]
            return round(mean(kept), 4) if kept else None

        return {
            "problems": len(items),
            "r_inv_first": avg([f["r_inv"] or 0.0 for f, _, _, _ in items]),
            "r_inv_best": avg([b["r_inv"] or 0.0 for _, b, _, _ in items]),
            "perfect_first": avg([bool(f["perfect"]) for f, _, _, _ in items]),
            "perfect_best": avg([bool(b["perfect"]) for _, b, _, _ in items]),
            "cost_all": round(sum(c for _, _, c, _ in items), 3),
            "cost_first": round(sum(c for _, _, _, c in items), 3),
        }

    report = {"overall": stats([r for items in rows.values() for r in items]),
              "by_image_type": {t: stats(items) for t, items in sorted(rows.items())}}  # fmt: skip
    write_atomic(run / "candidates.json", json.dumps(report, indent=2))
    head = "| image type | problems | R_inv first | R_inv best | perfect first | perfect best | cost all / first |"
    lines = ["# Best of N figures", "", head, "|---|---|---|---|---|---|---|"]
    for name, s in [("overall", report["overall"]), *report["by_image_type"].items()]:
        ratio = f"{s['cost_all'] / s['cost_first']:.2f}x" if s["cost_first"] else "-"
        lines.append(f"| {name} | {s['problems']} | {_pct(s['r_inv_first'])} | {_pct(s['r_inv_best'])} | "
                     f"{_pct(s['perfect_first'])} | {_pct(s['perfect_best'])} | {ratio} |")  # fmt: skip
    write_atomic(run / "candidates.md", "\n".join(lines) + "\n")
    _plot(report, run / "candidates.png")
    return report


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    types = list(report["by_image_type"])
    first = [100 * (report["by_image_type"][t]["r_inv_first"] or 0) for t in types]
    best = [100 * (report["by_image_type"][t]["r_inv_best"] or 0) for t in types]
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.32 * len(types) + 1)))
    y = range(len(types))
    ax.barh([i + 0.2 for i in y], first, height=0.4, label="first candidate")
    ax.barh([i - 0.2 for i in y], best, height=0.4, label="best of N")
    ax.set_yticks(list(y), types, fontsize=8)
    ax.set_xlabel("R_inv (%)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("R_inv: first candidate vs best of N")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
