"""`scigen-rl sweep`: one training run per nested scaling subset of a build, grouped in W&B, then
the data-scaling curve: each run's final AVG@4 per benchmark and a fit accuracy = a + b * ln(n).
With arms instead of a manifest (``--arms NAME:PARQUET ...``), one run per arm and their curves side
by side (:mod:`launch.sweep_arms`)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .placement import ensure_reward_token, job_env
from .sweep_arms import ARM_TAG, ROWS_TAG, collect_curves, parse_arms, report_arms
from .train import SUPERVISE_S, run_trainer, services
from .train_config import TrainConfig, experiment_name, parquet_rows, variant_suffix
from .verl_overrides import cluster_job, command
from .wandb_files import find_runs, read_run

METRIC = "val-core/{benchmark}/acc/mean@4"
BENCHMARKS = ("mathvision_mini", "geometry3k")


@dataclass
class SweepConfig:
    manifest: str | None = None
    """``export/manifest.json`` of a build: its scaling subsets are the runs (or give ``arms``)."""
    arms: list[str] = field(default_factory=list)
    """``NAME:PARQUET`` per arm: one run per arm on that training file (instead of a manifest)."""
    name: str | None = None
    """W&B group of the runs; default ``sweep-<build folder>`` (``arms`` with arms)."""
    source: str = "imgcoder"
    """Tag naming the training data (``imgcoder``, ``imgcoder-filtered``, ...)."""
    cluster_gpus: int = 8
    """Runs go ``cluster_gpus // (nnodes * gpus_per_node)`` at a time (one at a time on a single node)."""
    train: TrainConfig = field(default_factory=TrainConfig)
    """Settings shared by every run (recipe, model, verifier, overrides)."""

    def __post_init__(self) -> None:
        if bool(self.manifest) == bool(self.arms):
            raise ValueError(
                "give --manifest (a build's export/manifest.json) or --arms NAME:PARQUET ... (not both), "
                "or --collect-only"
            )
        parse_arms(self.arms)

    @property
    def gpus_per_run(self) -> int:
        """What one run takes: its nodes times their GPUs (the training settings decide it)."""
        return self.train.nnodes * self.train.gpus_per_node

    @property
    def group(self) -> str:
        if self.name:
            return self.name
        if self.arms:
            return "arms"
        return f"sweep-{Path(self.manifest or '.').resolve().parent.parent.name}"


def subsets(manifest_path: str) -> list[dict[str, Any]]:
    manifest = json.loads(Path(manifest_path).read_text())
    out = []
    for s in manifest.get("scaling_subsets", []):
        path = Path(manifest_path).parent / s["path"]
        out.append({"fraction": s["fraction"], "rows": s["rows"], "path": str(path)})
    if not out:
        raise ValueError(
            f"{manifest_path}: field 'scaling_subsets': no subsets (was it written by scigen-rl build?)"
        )
    return out


def run_configs(cfg: SweepConfig) -> list[TrainConfig]:
    """One TrainConfig per subset (or arm), named and tagged for W&B."""
    if cfg.arms:
        return arm_configs(cfg)
    assert cfg.manifest is not None
    recipe = Path(cfg.train.recipe).stem
    out = []
    for s in subsets(cfg.manifest):
        out.append(
            replace(
                cfg.train,
                train_files=[s["path"]],
                experiment_name=f"{recipe}-{cfg.source}-n{s['rows']}{variant_suffix(cfg.train)}",
                wandb_group=cfg.group,
                wandb_tags=[
                    *cfg.train.wandb_tags,
                    f"source:{cfg.source}",
                    f"n:{s['rows']}",
                    f"fraction:{s['fraction']:g}",
                ],
            )  # fmt: skip
        )
    return out


def arm_configs(cfg: SweepConfig) -> list[TrainConfig]:
    """One TrainConfig per arm: ``<recipe>-<arm>-n<rows>``, tagged ``arm:<name>`` and ``rows:<n>``
    (not ``n:``: arms are no scaling subsets, and the scaling fit never reads them)."""
    recipe = Path(cfg.train.recipe).stem
    out = []
    for name, path in parse_arms(cfg.arms):
        rows = parquet_rows(path)
        size = f"-n{rows}" if rows is not None else ""
        tags = [
            *cfg.train.wandb_tags,
            f"{ARM_TAG}{name}",
            *([f"{ROWS_TAG}{rows}"] if rows is not None else []),
        ]
        if cfg.train.dynamic_sampling:
            tags.append("dynamic_sampling")
        out.append(replace(cfg.train, train_files=[path], wandb_group=cfg.group, wandb_tags=tags,
                           experiment_name=f"{recipe}-{name}{size}{variant_suffix(cfg.train)}"))  # fmt: skip
    return out


def dry_run(cfg: SweepConfig) -> str:
    runs = run_configs(cfg)
    lines = [f"# {len(runs)} runs, {max(1, cfg.cluster_gpus // cfg.gpus_per_run)} at a time, W&B group "
             f"{runs[0].wandb_group}"]  # fmt: skip
    for name, path in parse_arms(cfg.arms):
        rows = parquet_rows(path)
        lines.append(f"# arm {name}: {path} ({'missing or unreadable' if rows is None else f'{rows} rows'})")
    for run in runs:
        if run.ray_address:
            lines.append(
                f"# {experiment_name(run)}: a Ray job on {run.ray_address}\n{cluster_job(run, False).entrypoint}"
            )
        else:
            env = " ".join(f"{k}={v}" for k, v in job_env(run).items())
            lines.append(f"# {experiment_name(run)}\n{env} {subprocess.list2cmdline(command(run))}")
    return "\n".join(lines)


def sweep(cfg: SweepConfig) -> list[int]:
    """Run every subset (concurrently as the cluster allows); the exit codes in subset order.

    The services (verifier, reward server) are started once and shared by all runs.
    """
    ensure_reward_token()
    runs = run_configs(cfg)
    shared = [replace(r, verifier_urls=[], serve_verifier=False) for r in runs]
    if cfg.train.serve_verifier or cfg.train.verifier_urls:
        from .services import ServiceManager

        with ServiceManager(cfg.train.run_dir, supervise_s=SUPERVISE_S) as manager:
            for service in services(cfg.train):
                manager.start(service)
            return _run_all(shared, cfg)
    return _run_all(shared, cfg)


def _run_all(runs: list[TrainConfig], cfg: SweepConfig) -> list[int]:
    def one(run: TrainConfig) -> int:
        try:
            return run_trainer(run)
        except ValueError as e:  # a run that fails its pre-flight checks: said, and the others go on
            print(f"scigen-rl sweep: {e}", file=sys.stderr)
            return 2

    if cfg.cluster_gpus // cfg.gpus_per_run <= 1:
        return [one(r) for r in runs]
    with ThreadPoolExecutor(cfg.cluster_gpus // cfg.gpus_per_run) as pool:
        return list(pool.map(one, runs))


def collect(wandb_dirs: Iterable[str | os.PathLike[str]], group: str | None = None) -> list[dict[str, Any]]:
    """The final AVG@4 per benchmark of every W&B run (online or offline: read from the run's own
    ``.wandb`` file) under ``wandb_dirs`` whose tags carry ``n:<rows>``; with ``group``, that group's only."""
    rows = []
    for root in wandb_dirs:
        for path in find_runs(root):
            run = read_run(path)
            if group is not None and run.get("group") != group:
                continue
            size = next((int(t[2:]) for t in run["tags"] if t.startswith("n:") and t[2:].isdigit()), None)
            if size is None:
                continue
            scores = {b: run["summary"].get(METRIC.format(benchmark=b)) for b in BENCHMARKS}
            rows.append(
                {"run": run.get("name"), "n": size, **{b: v for b, v in scores.items() if v is not None}}
            )
    return sorted(rows, key=lambda r: r["n"])


def fit_log(points: list[tuple[int, float]]) -> tuple[float, float, float]:
    """Least squares fit of accuracy = a + b ln(n); returns (a, b, r^2).

    >>> a, b, r2 = fit_log([(100, 0.40), (1000, 0.45), (10000, 0.50)])
    >>> round(b * math.log(10), 3), round(r2, 3)
    (0.05, 1.0)
    """
    xs = [math.log(n) for n, _ in points]
    ys = [y for _, y in points]
    if len(points) < 2 or len(set(xs)) < 2:
        raise ValueError("a fit needs at least two runs of different sizes")
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    return a, b, 1.0 - ss_res / ss_tot if ss_tot else 1.0


def report(rows: list[dict[str, Any]], out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``scaling.json``, ``scaling.md`` (table + fits) and ``scaling.png`` (points and fitted curves)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fits = {}
    fig, ax = plt.subplots(figsize=(6, 4))
    for benchmark in BENCHMARKS:
        points = [(r["n"], r[benchmark]) for r in rows if benchmark in r]
        if not points:
            continue
        ax.scatter([n for n, _ in points], [100 * y for _, y in points], label=benchmark)
        if len({n for n, _ in points}) >= 2:
            a, b, r2 = fit_log(points)
            fits[benchmark] = {"a": a, "b": b, "r2": r2}
            grid = [min(n for n, _ in points) * (max(n for n, _ in points) / min(n for n, _ in points)) ** (i / 50)
                    for i in range(51)]  # fmt: skip
            ax.plot(grid, [100 * (a + b * math.log(n)) for n in grid], linestyle="--")
    ax.set_xscale("log")
    ax.set_xlabel("training problems (n)")
    ax.set_ylabel("AVG@4 (%)")
    ax.set_title("Data scaling: accuracy = a + b ln(n)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "scaling.png", dpi=120)
    plt.close(fig)
    table = ["| n | " + " | ".join(BENCHMARKS) + " |", "|---|" + "---|" * len(BENCHMARKS)]
    for r in rows:
        table.append(
            f"| {r['n']} | " + " | ".join(f"{100 * r[b]:.1f}" if b in r else "-" for b in BENCHMARKS) + " |"
        )
    table.append("")
    for benchmark, f in fits.items():
        table.append(f"- {benchmark}: accuracy = {f['a']:.4f} + {f['b']:.4f} ln(n)  (r² = {f['r2']:.3f})")
    (out / "scaling.md").write_text("\n".join(table) + "\n")
    result = {"runs": rows, "fits": fits}
    (out / "scaling.json").write_text(json.dumps(result, indent=2))
    return result


def run_and_report(cfg: SweepConfig, wandb_dir: str, out_dir: str) -> int:
    codes = sweep(cfg)
    failed = [r.experiment_name for r, c in zip(run_configs(cfg), codes, strict=True) if c != 0]
    if failed:
        print(f"runs that failed: {failed}", file=sys.stderr)
    if cfg.arms:
        curves = collect_curves([wandb_dir], group=cfg.group, arms=[n for n, _ in parse_arms(cfg.arms)])
        if curves:
            report_arms(curves, out_dir)
        return 1 if failed or not curves else 0
    rows = collect([wandb_dir], group=cfg.group)
    report(rows, out_dir)
    return 1 if failed else 0


__all__ = ["SweepConfig", "arm_configs", "collect", "dry_run", "fit_log", "report", "run_and_report",
           "run_configs", "sweep"]  # fmt: skip
