"""`scigen-rl train`: bring up the verifier and the reward server, then run verl's trainer on a recipe.

Locally it runs ``python -m verl.trainer.main_ppo`` (verl starts its own Ray); with ``ray_address``
it submits the same entry point with ``ray job submit`` to a running cluster. The W&B grouping
variables reach verl's TaskRunner through the Ray runtime environment. Re-running the same command
resumes from the run's last checkpoint (``trainer.resume_mode=auto``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reward.config import DEFAULT_VERIFIER

from .services import Service, ServiceManager, stop_process_group

REPO = Path(__file__).resolve().parents[1]
DEFAULT_RECIPE = REPO / "recipes" / "qwen3vl8b_grpo" / "qwen3vl8b_grpo.yaml"
WANDB_VARS = ("WANDB_RUN_GROUP", "WANDB_TAGS", "WANDB_MODE", "WANDB_DIR", "WANDB_ENTITY")


@dataclass
class TrainConfig:
    recipe: str = str(DEFAULT_RECIPE)
    """The recipe YAML (it extends verl's ppo_trainer config)."""
    train_files: list[str] = field(default_factory=list)
    """Training parquet(s); empty keeps the recipe's."""
    val_files: list[str] = field(default_factory=list)
    """Validation parquet(s); empty keeps the recipe's."""
    model: str | None = None
    """Hub name or local path of the policy; None keeps the recipe's."""
    experiment_name: str | None = None
    """W&B run name and checkpoint folder; default ``<recipe>-<train file>-n<rows>``."""
    nnodes: int = 1
    gpus_per_node: int = 8
    ray_address: str | None = None
    """Ray dashboard address of a running cluster (``http://head:8265``): submit a job there."""
    verifier_urls: list[str] = field(default_factory=list)
    """Verifier endpoints already served elsewhere; empty with ``serve_verifier`` starts one here."""
    serve_verifier: bool = False
    """Start ``vllm serve <verifier_model>`` on this machine as a managed service."""
    verifier_model: str = DEFAULT_VERIFIER
    verifier_gpus: str = ""
    """``CUDA_VISIBLE_DEVICES`` of the served verifier; the trainer then gets the other GPUs."""
    verifier_port: int = 8001
    verifier_max_model_len: int = 16384
    """Prompt + 8,192-token responses (their last 1,000 characters are judged) fit well inside."""
    reward_port: int = 8765
    reward_host: str | None = None
    """Address the training workers reach the reward server at; default this machine's name."""
    run_dir: str = "runs/train"
    """Service logs and PID files."""
    wandb_group: str | None = None
    wandb_tags: list[str] = field(default_factory=list)
    resume_from: str | None = None
    """A checkpoint folder to resume from instead of the run's latest."""
    overrides: list[str] = field(default_factory=list)
    """More Hydra overrides for verl, applied last."""


def _rows(path: str) -> int | None:
    try:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    except (OSError, ValueError):
        return None


def experiment_name(cfg: TrainConfig) -> str:
    if cfg.experiment_name:
        return cfg.experiment_name
    name = Path(cfg.recipe).stem
    if cfg.train_files:
        name += f"-{Path(cfg.train_files[0]).stem}"
        counts = [_rows(f) for f in cfg.train_files]
        if all(c is not None for c in counts):
            name += f"-n{sum(c for c in counts if c is not None)}"
    return name


def _hydra_list(paths: list[str]) -> str:
    return "[" + ",".join(f"'{os.path.abspath(p)}'" for p in paths) + "]"


def wandb_env(cfg: TrainConfig) -> dict[str, str]:
    env = {k: os.environ[k] for k in WANDB_VARS if os.environ.get(k)}
    if cfg.wandb_group:
        env["WANDB_RUN_GROUP"] = cfg.wandb_group
    if cfg.wandb_tags:
        env["WANDB_TAGS"] = ",".join(cfg.wandb_tags)
    return env


def reward_url(cfg: TrainConfig) -> str:
    host = cfg.reward_host or (socket.getfqdn() if cfg.ray_address else "127.0.0.1")
    return f"http://{host}:{cfg.reward_port}"


def overrides(cfg: TrainConfig) -> list[str]:
    """The Hydra overrides that turn the recipe into this run."""
    out = [
        f"trainer.nnodes={cfg.nnodes}",
        f"trainer.n_gpus_per_node={cfg.gpus_per_node}",
        f"trainer.experiment_name={experiment_name(cfg)}",
        f"reward.custom_reward_function.reward_kwargs.server_url={reward_url(cfg)}",
    ]
    if cfg.train_files:
        out.append(f"data.train_files={_hydra_list(cfg.train_files)}")
    if cfg.val_files:
        out.append(f"data.val_files={_hydra_list(cfg.val_files)}")
    if cfg.model:
        out.append(f"actor_rollout_ref.model.path={cfg.model}")
    if cfg.resume_from:
        out += ["trainer.resume_mode=resume_path", f"trainer.resume_from_path={cfg.resume_from}"]
    # verl's TaskRunner and workers are Ray actors: the W&B grouping reaches them only this way.
    out += [f"+ray_kwargs.ray_init.runtime_env.env_vars.{k}='{v}'" for k, v in wandb_env(cfg).items()]
    return out + list(cfg.overrides)


def services(cfg: TrainConfig) -> list[Service]:
    verifier_urls = list(cfg.verifier_urls)
    out = []
    if cfg.serve_verifier:
        out.append(
            Service(
                "verifier",
                [
                    "vllm",
                    "serve",
                    cfg.verifier_model,
                    "--port",
                    str(cfg.verifier_port),
                    "--max-model-len",
                    str(cfg.verifier_max_model_len),
                    "--served-model-name",
                    cfg.verifier_model,
                ],
                f"http://127.0.0.1:{cfg.verifier_port}/health",
                env={"CUDA_VISIBLE_DEVICES": cfg.verifier_gpus} if cfg.verifier_gpus else {},
            )  # fmt: skip
        )
        verifier_urls.append(f"http://127.0.0.1:{cfg.verifier_port}/v1")
    if not verifier_urls:
        raise ValueError(
            "TrainConfig: give verifier_urls (--verifier-url) or serve_verifier (--serve-verifier)"
        )
    argv = [sys.executable, "-m", "scigen_rl.cli", "serve-reward", "--host", "0.0.0.0", "--port", str(cfg.reward_port),
            "--verifier-model", cfg.verifier_model]  # fmt: skip
    for url in verifier_urls:
        argv += ["--verifier-url", url]
    out.append(Service("reward", argv, f"http://127.0.0.1:{cfg.reward_port}/health", start_timeout_s=120))
    return out


def trainer_env(cfg: TrainConfig) -> dict[str, str]:
    """The trainer's environment additions: the GPUs the verifier does not use, the W&B variables."""
    env = wandb_env(cfg)
    if cfg.verifier_gpus and not cfg.ray_address:
        taken = {g.strip() for g in cfg.verifier_gpus.split(",")}
        env["CUDA_VISIBLE_DEVICES"] = ",".join(
            str(g) for g in range(cfg.gpus_per_node) if str(g) not in taken
        )
    return env


def command(cfg: TrainConfig) -> list[str]:
    recipe = Path(cfg.recipe).resolve()
    entry = ["python3", "-m", "verl.trainer.main_ppo", f"--config-path={recipe.parent}", f"--config-name={recipe.stem}",
             *overrides(cfg)]  # fmt: skip
    if not cfg.ray_address:
        return [sys.executable, *entry[1:]]
    # On the cluster the job runs in the uploaded copy of this repository: the recipe is found there.
    entry[3] = f"--config-path=$PWD/{recipe.parent.relative_to(REPO)}"
    runtime_env = {"working_dir": str(REPO), "excludes": ["runs/", ".venv/", "checkpoints/", "wandb/"],
                   "env_vars": trainer_env(cfg)}  # fmt: skip
    return ["ray", "job", "submit", f"--address={cfg.ray_address}", f"--runtime-env-json={json.dumps(runtime_env)}",
            "--", *entry]  # fmt: skip


def resolved_config(cfg: TrainConfig) -> Any:
    """verl's full config for this run, composed the way main_ppo composes it."""
    from hydra import compose, initialize_config_dir

    recipe = Path(cfg.recipe).resolve()
    with initialize_config_dir(config_dir=str(recipe.parent), version_base=None):
        return compose(config_name=recipe.stem, overrides=overrides(cfg))


def dry_run(cfg: TrainConfig) -> str:
    """What ``train`` would do: the services, the command and verl's resolved config, as text."""
    from omegaconf import OmegaConf

    lines = ["# services, started in order, each healthy before the next:"]
    for s in services(cfg):
        env = " ".join(f"{k}={v}" for k, v in s.env.items())
        lines.append(f"{env + ' ' if env else ''}{shlex.join(s.argv)}   # ready when {s.health_url} answers")
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in trainer_env(cfg).items())
    lines += ["# training:", (env + " " if env and not cfg.ray_address else "") + shlex.join(command(cfg))]
    lines += ["# verl's resolved config:", OmegaConf.to_yaml(resolved_config(cfg))]
    return "\n".join(lines)


def train(cfg: TrainConfig) -> int:
    """Run it: services up, the trainer to the end, services down (also on failure or Ctrl-C).

    With W&B among verl's loggers, the reward server's verdict rates go to a run of the same group.
    """
    config = resolved_config(cfg)
    with ServiceManager(cfg.run_dir) as manager, contextlib.ExitStack() as stack:
        for service in services(cfg):
            print(f"starting {service.name}: {shlex.join(service.argv)}", file=sys.stderr)
            manager.start(service)
        if "wandb" in list(config.trainer.logger):
            from .reward_monitor import RewardMonitor, wandb_logger

            log, finish = wandb_logger(
                config.trainer.project_name, f"{config.trainer.experiment_name}-reward",
                wandb_env(cfg).get("WANDB_RUN_GROUP"), cfg.wandb_tags,
            )  # fmt: skip
            stack.callback(finish)
            stack.enter_context(RewardMonitor(f"http://127.0.0.1:{cfg.reward_port}/metrics", log))
        argv = command(cfg)
        print(f"training: {shlex.join(argv)}", file=sys.stderr)
        # No local shell: `ray job submit` runs its entry point in a shell on the cluster, where
        # `$PWD` is the uploaded copy of this repository.
        proc = subprocess.Popen(argv, env={**os.environ, **trainer_env(cfg)}, start_new_session=True)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            stop_process_group(proc, 30)
            return 130
