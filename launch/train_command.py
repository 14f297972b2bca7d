"""``scigen-rl train`` (GRPO on verl with managed services) and ``scigen-rl sweep`` (one run per
scaling subset, then the data-scaling fit; or one run per arm, then their curves side by side)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Annotated

import tyro

from scigen_rl.command_line import BAD_ARGUMENTS, Command, base_config, save_options

from .train_config import TrainConfig


@dataclass
class TrainOptions(TrainConfig):
    """Start (or use) the verifier and the reward server, wait until healthy, run verl's trainer on
    the recipe (locally, or as a Ray job on --ray-address), stop the services. Trailing KEY=VALUE
    arguments are Hydra overrides for verl. Re-running resumes."""

    dry_run: bool = False
    """Print the services, the command and the resolved verl config, and stop."""


def train(options: TrainOptions) -> int:
    from .services import ServiceError
    from .train import dry_run, train

    cfg = base_config(options, TrainConfig)
    try:
        if options.dry_run:
            print(dry_run(cfg))
            return 0
        save_options(options, options.run_dir, "train")
        return train(cfg)
    except (ValueError, OSError, ServiceError) as e:
        print(f"scigen-rl train: {e}", file=sys.stderr)
        return BAD_ARGUMENTS


@dataclass
class SweepOptions:
    """Train on each nested subset of MANIFEST (a build's export/manifest.json), grouped in W&B, then
    read each run's final AVG@4 per benchmark and fit accuracy = a + b ln(n): OUT_DIR/scaling.png,
    scaling.md, scaling.json. Or, with --arms NAME:PARQUET ..., train one run per arm and draw their
    training reward, zero-variance share and validation curves side by side: OUT_DIR/arms.png, arms.md,
    arms.json. Trailing KEY=VALUE arguments are Hydra overrides for every run."""

    manifest: str | None = None
    """export/manifest.json of a build: its scaling subsets are the runs."""
    arms: list[str] = field(default_factory=list)
    """NAME:PARQUET per arm (instead of --manifest): one run per arm on that training file, tagged
    arm:NAME. With --collect-only, NAME alone picks (and orders) the arms drawn."""
    name: str | None = None
    """W&B group of the runs (default sweep-<build folder>)."""
    source: str = "imgcoder"
    """Tag naming the training data (imgcoder, imgcoder-filtered, ...)."""
    cluster_gpus: int = 8
    """Runs go cluster_gpus // (nnodes * gpus_per_node) at a time."""
    wandb_dir: str = "wandb"
    """Where the runs' W&B folders are."""
    out_dir: str = "runs/sweep"
    """Where scaling.png, scaling.md and scaling.json go."""
    collect_only: bool = False
    """Only read the runs of group --name and report: the arms' curves when its runs are arms, else the
    scaling fit."""
    dry_run: bool = False
    """Print the runs' commands and stop."""
    train: Annotated[TrainConfig, tyro.conf.OmitArgPrefixes] = field(default_factory=TrainConfig)
    """Settings shared by every run (recipe, model, verifier, overrides)."""


def sweep(options: SweepOptions) -> int:
    from .services import ServiceError
    from .sweep import SweepConfig, collect, dry_run, report, run_and_report
    from .sweep_arms import collect_curves, report_arms

    try:
        if options.collect_only:
            names = [a.partition(":")[0] for a in options.arms]
            curves = collect_curves([options.wandb_dir], group=options.name, arms=names)
            if curves or names:
                print(json.dumps(report_arms(curves, options.out_dir)["arms"]))
                return 0
            rows = collect([options.wandb_dir], group=options.name)
            result = report(rows, options.out_dir)
            print(json.dumps(result["fits"]))
            return 0 if rows else 1
        cfg = SweepConfig(manifest=options.manifest, arms=options.arms, name=options.name, source=options.source,
                          cluster_gpus=options.cluster_gpus, train=options.train)  # fmt: skip
        if options.dry_run:
            print(dry_run(cfg))
            return 0
        save_options(options, options.out_dir, "sweep")
        return run_and_report(cfg, options.wandb_dir, options.out_dir)
    except (ValueError, OSError, ServiceError) as e:
        print(f"scigen-rl sweep: {e}", file=sys.stderr)
        return BAD_ARGUMENTS


TRAIN = Command("train", TrainOptions, train, overrides="overrides")
SWEEP = Command("sweep", SweepOptions, sweep, overrides="train.overrides")
