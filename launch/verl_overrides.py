"""The recipe turned into one run: the Hydra overrides of verl's config (paths, GPUs, checkpoints,
the reward server, W&B, a batch that fits the data), the composed config, and the command line or
Ray job that runs verl's entry point with them."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import shlex
import sys
from pathlib import Path
from typing import Any

from .placement import job_env, reward_url
from .ray_jobs import REPO, Job
from .train_config import TrainConfig, checkpoint_dir, data_files, experiment_name, parquet_rows, wandb_env


def overrides(cfg: TrainConfig, fit_batch: bool = True) -> list[str]:
    """The Hydra overrides that turn the recipe into this run."""
    train, val = data_files(cfg)
    out = [
        f"trainer.nnodes={cfg.nnodes}",
        f"trainer.n_gpus_per_node={cfg.gpus_per_node}",
        f"trainer.experiment_name={experiment_name(cfg)}",
        f"trainer.default_local_dir={checkpoint_dir(cfg)}",
        f"trainer.max_actor_ckpt_to_keep={cfg.max_checkpoints}",
        f"reward.custom_reward_function.reward_kwargs.server_url={reward_url(cfg)}",
        f"data.val_files={_hydra_list(val)}",
    ]
    if train:
        out.append(f"data.train_files={_hydra_list(train)}")
    if cfg.model:
        model = Path(cfg.model)
        out.append(f"actor_rollout_ref.model.path={model.resolve() if model.exists() else cfg.model}")
    if cfg.resume_from:
        out += [
            "trainer.resume_mode=resume_path",
            f"trainer.resume_from_path={Path(cfg.resume_from).resolve()}",
        ]
    else:
        out.append(f"trainer.resume_mode={'auto' if cfg.resume else 'disable'}")
    if cfg.dynamic_sampling:
        out.append("algorithm.filter_groups.enable=true")  # the recipe sets the metric and the limits
    if not cfg.ray_address:
        # verl starts its own Ray here: the W&B variables reach its TaskRunner and workers only through
        # its ray.init runtime env. A cluster job gets them from the job's runtime env instead (both at
        # once is a conflict Ray refuses).
        out += [f"+ray_kwargs.ray_init.runtime_env.env_vars.{k}='{v}'" for k, v in wandb_env(cfg).items()]
    return out + (batch_overrides(cfg) if fit_batch else []) + list(cfg.overrides)


def _hydra_list(paths: list[str]) -> str:
    return "[" + ",".join(f"'{p}'" for p in paths) + "]"


def train_rows(cfg: TrainConfig) -> int | None:
    counts = [parquet_rows(f) for f in data_files(cfg)[0]]
    return sum(c for c in counts if c is not None) if counts and None not in counts else None


def batch_overrides(cfg: TrainConfig) -> list[str]:
    """A train file with fewer rows than the recipe's batch would give verl zero steps per epoch (a
    ZeroDivisionError after the first validation): the batch (and the PPO mini-batch) shrink to the
    largest size verl's own config check accepts for this many rows and GPUs."""
    rows = train_rows(cfg)
    if rows is None:
        return []
    key = (str(Path(cfg.recipe).resolve()), rows, cfg.nnodes, cfg.gpus_per_node, cfg.dynamic_sampling,
           tuple(cfg.overrides))  # fmt: skip
    if key not in _fitted:  # every config of the run is composed with it: fit once
        _fitted[key] = _fit_batch(cfg, rows)
    return list(_fitted[key])


_fitted: dict[tuple[Any, ...], list[str]] = {}


def _fit_batch(cfg: TrainConfig, rows: int) -> list[str]:
    from omegaconf import OmegaConf

    recipe = OmegaConf.load(cfg.recipe)
    batch = int(OmegaConf.select(recipe, "data.train_batch_size", default=128))
    if rows >= batch:
        return []
    mini = int(OmegaConf.select(recipe, "actor_rollout_ref.actor.ppo_mini_batch_size", default=batch))
    rollouts = int(OmegaConf.select(recipe, "actor_rollout_ref.rollout.n", default=1))
    gpus = cfg.nnodes * cfg.gpus_per_node
    for size in range(rows, 0, -1):
        # Each step's rollouts are split evenly over the data-parallel ranks (verl checks this itself
        # only without dynamic batching).
        if size * rollouts % gpus:
            continue
        candidate = [
            f"data.train_batch_size={size}",
            f"actor_rollout_ref.actor.ppo_mini_batch_size={min(mini, size)}",
        ]
        if _valid(cfg, candidate):
            return candidate
    raise ValueError(
        f"{rows} training rows: no batch size that verl accepts on {cfg.nnodes * cfg.gpus_per_node} GPUs"
    )


def _valid(cfg: TrainConfig, batch: list[str]) -> bool:
    from hydra import compose, initialize_config_dir
    from verl.utils.config import validate_config

    recipe = Path(cfg.recipe).resolve()
    base = overrides(dataclasses.replace(cfg, overrides=[]), fit_batch=False)
    with initialize_config_dir(config_dir=str(recipe.parent), version_base=None):
        config = compose(config_name=recipe.stem, overrides=[*base, *batch, *cfg.overrides])
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints a line per check that passes
            validate_config(config, use_reference_policy=True, use_critic=False)
    except (AssertionError, ValueError):
        return False
    return True


def resolved_config(cfg: TrainConfig) -> Any:
    """verl's full config for this run, composed the way main_ppo composes it."""
    from hydra import compose, initialize_config_dir

    recipe = Path(cfg.recipe).resolve()
    run_overrides = overrides(cfg)  # before Hydra is initialised: fitting the batch composes configs too
    with initialize_config_dir(config_dir=str(recipe.parent), version_base=None):
        return compose(config_name=recipe.stem, overrides=run_overrides)


def hydra_outputs(cfg: TrainConfig) -> list[str]:
    """Where Hydra keeps its record of each start of the run (``.hydra/`` with the composed config, and
    its log): in the run's checkpoint folder, one folder per start, never in the working directory."""
    return [f"hydra.run.dir={checkpoint_dir(cfg)}/hydra/${{now:%Y-%m-%d_%H-%M-%S}}"]


def command(cfg: TrainConfig) -> list[str]:
    """verl's entry point for a local run."""
    recipe = Path(cfg.recipe).resolve()
    return [sys.executable, "-m", "launch.verl_main", f"--config-path={recipe.parent}",
            f"--config-name={recipe.stem}", *overrides(cfg), *hydra_outputs(cfg)]  # fmt: skip


def cluster_job(cfg: TrainConfig, with_secrets: bool = True) -> Job:
    """verl's entry point as a Ray job: it runs in the uploaded copy of this repository, where the
    recipe folder is found relative to the job's working directory (``$PWD``, expanded by the job's
    shell); every other path is absolute already."""
    recipe = Path(cfg.recipe).resolve()
    if recipe.is_relative_to(REPO):
        config_path = f'--config-path="$PWD/{recipe.parent.relative_to(REPO)}"'
    else:
        config_path = shlex.quote(f"--config-path={recipe.parent}")
    entrypoint = " ".join(
        ["python3", "-m", "launch.verl_main", config_path, shlex.quote(f"--config-name={recipe.stem}"),
         *(shlex.quote(o) for o in [*overrides(cfg), *hydra_outputs(cfg)])]
    )  # fmt: skip
    # The shipped data sets (images) are not read by training: no need to upload them each time.
    return Job(
        entrypoint, job_env(cfg, with_secrets), excludes=["scigen_rl/data/"], name=experiment_name(cfg)
    )
