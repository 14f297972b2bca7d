"""Arms of a sweep: one training run per data set, the same recipe and steps for each, and their curves
side by side.

``scigen-rl sweep --arms NAME:PARQUET ...`` trains one run per arm (named ``<recipe>-<arm>-n<rows>``,
tagged ``arm:<name>`` and ``rows:<n>``, grouped under ``--name``); :func:`collect_curves` reads each
run's per-step history from its own W&B run file (online or offline, no server), and
:func:`report_arms` draws every arm into one figure: the training reward (``critic/score/mean``), the
share of prompt groups with zero reward variance (``scigen/zero_variance_groups``) and validation
AVG@k per benchmark (``val-core/<benchmark>/acc/mean@k``) against the step.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .prompt_groups import ZERO_VARIANCE
from .wandb_files import find_runs, read_run

ARM_TAG, ROWS_TAG = "arm:", "rows:"
REWARD = "critic/score/mean"
VAL = re.compile(r"^val-core/(?P<benchmark>[^/]+)/acc/mean@(?P<k>\d+)$")
ARM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
KNOWN_ORDER = ("baseline", "filt", "bestofn", "difficulty", "textonly")
"""How the levers recipe names its arms, in the order they are drawn and tabled."""
TAIL_STEPS = 10
"""The training reward in the table is the mean over an arm's last this many steps."""


def parse_arms(specs: Sequence[str]) -> list[tuple[str, str]]:
    """``NAME:PARQUET`` specs as (name, path) pairs, in order.

    >>> parse_arms(["baseline:runs/b/export/train.parquet", "filt:runs/b/export/filtered/train.parquet"])
    [('baseline', 'runs/b/export/train.parquet'), ('filt', 'runs/b/export/filtered/train.parquet')]
    """
    arms: list[tuple[str, str]] = []
    for spec in specs:
        name, sep, path = spec.partition(":")
        if not sep or not path:
            raise ValueError(
                f"--arms {spec!r}: expected NAME:PARQUET, e.g. filt:runs/b/export/filtered/train.parquet"
            )
        if not ARM_NAME.match(name):
            raise ValueError(
                f"--arms {spec!r}: an arm's name is lower-case letters, digits, - and _ ({name!r})"
            )
        if name in (n for n, _ in arms):
            raise ValueError(f"--arms: arm {name!r} is given twice")
        arms.append((name, path))
    return arms


def _tag(tags: Iterable[str], prefix: str) -> str | None:
    return next((t[len(prefix) :] for t in tags if t.startswith(prefix)), None)


def collect_curves(
    wandb_dirs: Iterable[str | os.PathLike[str]], group: str | None = None, arms: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Every arm's run under ``wandb_dirs`` (those tagged ``arm:<name>``; with ``group``, that W&B group's
    only; with ``arms``, those arms only, in that order), each as ``{"arm", "run", "id", "rows",
    "curves": {metric: [[step, value], ...]}, "superseded": ["<run name> (<id>)", ...]}``.

    A resumed run writes a second run file under the same id: both are read as one run. Two runs of one
    arm (the sweep run again under the same group) keep the one that got further; the other is named
    in ``superseded``.
    """
    runs: dict[str, dict[str, Any]] = {}
    for root in wandb_dirs:
        for path in find_runs(root):
            run = read_run(path)
            arm = _tag(run["tags"], ARM_TAG)
            if arm is None or (group is not None and run.get("group") != group) or (arms and arm not in arms):
                continue
            merged = runs.setdefault(
                run["id"], {"arm": arm, "run": run.get("name"), "id": run["id"], "rows": None, "history": []}
            )
            rows = _tag(run["tags"], ROWS_TAG)
            merged["rows"] = int(rows) if rows and rows.isdigit() else merged["rows"]
            merged["history"] += run["history"]
    by_arm: dict[str, dict[str, Any]] = {}
    for run in runs.values():
        run["curves"] = _curves(run.pop("history"))
        run["superseded"] = []
        best = by_arm.get(run["arm"])
        if best is None or _last_step(run) > _last_step(best):
            if best is not None:
                run["superseded"] = [*best["superseded"], f"{best['run']} ({best['id']})"]
            by_arm[run["arm"]] = run
        else:
            best["superseded"].append(f"{run['run']} ({run['id']})")
    return [by_arm[a] for a in _order(by_arm, arms)]


def _curves(history: list[dict[str, Any]]) -> dict[str, list[list[float]]]:
    """{metric: [[step, value], ...]} of the metrics drawn, by step (a step logged twice, as by a
    resumed run, keeps its last value)."""
    points: dict[str, dict[int, float]] = {}
    for row in history:
        step = row.get("_step")
        if not isinstance(step, int | float):
            continue
        for key, value in row.items():
            if (key in (REWARD, ZERO_VARIANCE) or VAL.match(key)) and isinstance(value, int | float):
                points.setdefault(key, {})[int(step)] = float(value)
    return {k: [[s, v] for s, v in sorted(p.items())] for k, p in sorted(points.items())}


def _last_step(run: dict[str, Any]) -> int:
    return max((int(c[-1][0]) for c in run["curves"].values() if c), default=-1)


def _order(by_arm: dict[str, Any], given: Sequence[str]) -> list[str]:
    if given:
        return [a for a in given if a in by_arm]
    known = [a for a in KNOWN_ORDER if a in by_arm]
    return known + sorted(a for a in by_arm if a not in known)


def panels(runs: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(metric, title) of each panel: the training reward, the zero-variance share when logged, then
    validation AVG@k per benchmark."""
    metrics = {m for r in runs for m in r["curves"]}
    out = [(REWARD, "training reward (critic/score/mean)")]
    if ZERO_VARIANCE in metrics:
        out.append((ZERO_VARIANCE, "prompt groups with zero reward variance"))
    for metric in sorted(m for m in metrics if VAL.match(m)):
        match = VAL.match(metric)
        assert match is not None
        out.append((metric, f"{match['benchmark']} AVG@{match['k']} (val-core)"))
    return out


def figure(runs: Sequence[dict[str, Any]]) -> Any:
    """The comparison as a matplotlib figure: a panel per metric of :func:`panels`, a line per arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = panels(runs)
    cols = min(len(shown), 2)
    rows = (len(shown) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 3.8 * rows), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (metric, title) in zip(axes.flat, shown, strict=False):
        for i, run in enumerate(runs):
            points = run["curves"].get(metric)
            if not points:
                continue
            scale = 100.0 if VAL.match(metric) or metric == ZERO_VARIANCE else 1.0
            ax.plot([s for s, _ in points], [scale * v for _, v in points], label=run["arm"],
                    color=colors[i % len(colors)], marker="o" if VAL.match(metric) else None, markersize=3)  # fmt: skip
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("training step")
        ax.set_ylabel("%" if VAL.match(metric) or metric == ZERO_VARIANCE else "mean score")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(shown) :]:
        ax.set_visible(False)
    fig.suptitle("Arms side by side: " + ", ".join(r["arm"] for r in runs), fontsize=11)
    fig.tight_layout()
    return fig


def summary(run: dict[str, Any]) -> dict[str, Any]:
    """An arm's numbers for the table: rows, steps, the training reward over its last steps, the mean
    zero-variance share, and the final and best validation AVG@k per benchmark."""
    curves = run["curves"]
    reward = [v for _, v in curves.get(REWARD, [])][-TAIL_STEPS:]
    zero = [v for _, v in curves.get(ZERO_VARIANCE, [])]
    out: dict[str, Any] = {"arm": run["arm"], "run": run["run"], "rows": run["rows"], "steps": _last_step(run),
                           "reward_tail": sum(reward) / len(reward) if reward else None,
                           "zero_variance_mean": sum(zero) / len(zero) if zero else None}  # fmt: skip
    for metric, points in curves.items():
        match = VAL.match(metric)
        if match and points:
            out[f"{match['benchmark']}_final"] = points[-1][1]
            out[f"{match['benchmark']}_best"] = max(v for _, v in points)
    return out


def report_arms(runs: Sequence[dict[str, Any]], out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``arms.png`` (:func:`figure`), ``arms.md`` (a row per arm) and ``arms.json`` (the curves too)."""
    import matplotlib.pyplot as plt

    if not runs:
        raise ValueError("no arm runs found (runs tagged arm:<name>): is --name the sweep's W&B group?")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig = figure(runs)
    fig.savefig(out / "arms.png", dpi=120)
    plt.close(fig)
    rows = [summary(r) for r in runs]
    benchmarks = sorted({VAL.match(m)["benchmark"] for r in runs for m in r["curves"] if VAL.match(m)})  # type: ignore[index]

    def pct(value: Any) -> str:
        return "-" if value is None else f"{100 * value:.1f}"

    table = ["| arm | rows | steps | reward (last 10 steps) | zero-variance groups % | "
             + " | ".join(f"{b} final | {b} best" for b in benchmarks) + " |",
             "|---|---|---|---|---|" + "---|---|" * len(benchmarks)]  # fmt: skip
    for row in rows:
        reward = "-" if row["reward_tail"] is None else f"{row['reward_tail']:.3f}"
        vals = " | ".join(f"{pct(row.get(f'{b}_final'))} | {pct(row.get(f'{b}_best'))}" for b in benchmarks)
        table.append(f"| {row['arm']} | {row['rows'] or '-'} | {row['steps']} | {reward} | "
                     f"{pct(row['zero_variance_mean'])} | {vals} |")  # fmt: skip
    superseded = [
        f"- {r['arm']}: {', '.join(r['superseded'])} superseded by {r['run']} ({r['id']})"
        for r in runs
        if r["superseded"]
    ]
    if superseded:
        table += ["", "Runs of the same arm in the group (the one that got furthest is shown):", *superseded]
    (out / "arms.md").write_text("\n".join(table) + "\n")
    result = {"arms": rows, "curves": {r["arm"]: r["curves"] for r in runs}}
    (out / "arms.json").write_text(json.dumps(result, indent=2))
    return result


__all__ = ["collect_curves", "figure", "panels", "parse_arms", "report_arms", "summary"]
