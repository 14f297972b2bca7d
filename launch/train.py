"""`scigen-rl train`: bring up the verifier and the reward server, then run verl's trainer on a recipe.

Locally it runs ``python -m launch.verl_main`` (verl's entry point with the project's trainer, which
logs the reward's health each step; verl starts its own Ray); with ``ray_address``
it submits the same entry point as a Ray job (``launch.ray_jobs``) to a running cluster. Every path the
job reads or writes is made absolute before submission, and on a cluster must lie under
``shared_dir`` (a folder every node sees). The job's environment is built in one place
(:func:`job_env`). A run whose experiment already has checkpoints is refused unless ``resume`` is set;
then it continues from the latest checkpoint and the same W&B run.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
from typing import Any
from urllib.parse import urlparse

from reward.config import TOKEN_ENV

from .placement import ensure_reward_token, gpu_count, job_env, placement_problems, reward_url
from .prompt_fit import prompt_problems
from .prompt_groups import dynamic_sampling_problems
from .ray_jobs import Job, is_loopback, run_job
from .reward_preflight import score_probe
from .services import Service, ServiceManager, stop_process_group
from .train_config import (
    TrainConfig,
    checkpoint_dir,
    data_files,
    experiment_name,
    new_wandb_run_id,
    on_cluster,
    path_problems,
    wandb_credentials_problem,
    wandb_env,
)
from .verl_overrides import batch_overrides, cluster_job, command, resolved_config, train_rows

SUPERVISE_S = 10.0
"""How often the services (verifier, reward server) are checked, and restarted if they died."""


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
            "TrainConfig: give verifier_urls (--verifier-urls) or serve_verifier (--serve-verifier)"
        )
    argv = [sys.executable, "-m", "scigen_rl.cli", "serve-reward", "--host", "0.0.0.0", "--port", str(cfg.reward_port),
            "--verifier-model", cfg.verifier_model]  # fmt: skip
    argv += ["--verifier-urls", *verifier_urls]
    if cfg.verifier_api_key_env:
        argv += ["--verifier-api-key-env", cfg.verifier_api_key_env]
    out.append(Service("reward", argv, f"http://127.0.0.1:{cfg.reward_port}/health", start_timeout_s=120))
    return out


def preflight(cfg: TrainConfig, config: Any) -> list[str]:
    """What would make the run fail or waste GPU time, found before any service starts."""
    problems = path_problems(cfg) + placement_problems(cfg, gpu_count())
    if cfg.verifier_api_key_env and not os.environ.get(cfg.verifier_api_key_env):
        problems.append(f"--verifier-api-key-env {cfg.verifier_api_key_env}: that variable is not set here")
    url = reward_url(cfg)
    host = urlparse(url).hostname or ""
    if on_cluster(cfg) and is_loopback(url):
        problems.append(
            f"--reward-host {host} is this machine's loopback: the cluster's nodes would score every answer "
            "against nothing; give an address they reach"
        )
    rows = train_rows(cfg)
    if cfg.train_files and rows == 0:
        problems.append(f"the train files hold no rows: {', '.join(cfg.train_files)}")
    ckpt = checkpoint_dir(cfg)
    has_checkpoints = (ckpt / "latest_checkpointed_iteration.txt").is_file() or any(
        ckpt.glob("global_step_*")
    )
    if has_checkpoints and not (cfg.resume or cfg.resume_from):
        problems.append(
            f"experiment {experiment_name(cfg)} already has checkpoints in {ckpt}: pass --resume to continue "
            "it, or --experiment-name to start another"
        )
    train, val = data_files(cfg)
    too_long, notes = prompt_problems({"train": train, "val": val}, config)
    for note in notes:
        print(f"{experiment_name(cfg)}: {note}", file=sys.stderr)
    problems += too_long
    problems += dynamic_sampling_problems(config)
    if "wandb" in list(config.trainer.logger) and (
        problem := wandb_credentials_problem(remote=bool(cfg.ray_address))
    ):
        problems.append(problem)
    return problems


def dry_run(cfg: TrainConfig) -> str:
    """What ``train`` would do: the services, the command and verl's resolved config, as text."""
    from omegaconf import OmegaConf

    lines = ["# services, started in order, each healthy before the next:"]
    for s in services(cfg):
        env = " ".join(f"{k}={v}" for k, v in s.env.items())
        lines.append(f"{env + ' ' if env else ''}{shlex.join(s.argv)}   # ready when {s.health_url} answers")
    if cfg.ray_address:
        job = cluster_job(cfg, with_secrets=False)
        lines += [
            f"# training: a Ray job on {cfg.ray_address}",
            f"# runtime env: {job.runtime_env()}",
            job.entrypoint,
        ]
    else:
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in job_env(cfg).items())
        lines += ["# training:", (env + " " if env else "") + shlex.join(command(cfg))]
    config = resolved_config(cfg)
    problems = preflight(cfg, config)
    if problems:
        lines += ["# pre-flight: these would stop the run:", *(f"#   {p}" for p in problems)]
    lines += ["# verl's resolved config:", OmegaConf.to_yaml(config)]
    return "\n".join(lines)


def checked_config(cfg: TrainConfig) -> Any:
    """verl's config for the run once the pre-flight checks pass (a ValueError listing every problem
    otherwise), with the W&B run id in place."""
    config = resolved_config(cfg)
    problems = preflight(cfg, config)
    if problems:
        raise ValueError(f"{experiment_name(cfg)} not started:\n  " + "\n  ".join(problems))
    if "wandb" in list(config.trainer.logger):
        new_wandb_run_id(cfg)
        config = resolved_config(cfg)
    for line in batch_overrides(cfg):
        print(f"{experiment_name(cfg)}: {train_rows(cfg)} training rows, fewer than the recipe's batch: "
              f"{line}", file=sys.stderr)  # fmt: skip
    return config


def run_trainer(cfg: TrainConfig) -> int:
    """verl's trainer for one run, checked first: here, or as a Ray job on ``ray_address``."""
    checked_config(cfg)
    url = reward_url(cfg)
    if cfg.ray_address:
        # Every node scores a real answer through the reward server before the training job starts.
        train, val = data_files(cfg)
        argv = ["python3", "-m", "launch.reward_preflight", url, "--read", *train, *val,
                "--write", str(checkpoint_dir(cfg))]  # fmt: skip
        probe = Job(shlex.join(argv), job_env(cfg), excludes=["scigen_rl/data/"],
                    name=f"{experiment_name(cfg)}-preflight")  # fmt: skip
        if run_job(cfg.ray_address, probe) != 0:
            print(f"{experiment_name(cfg)}: training not started: not every node can score through the reward "
                  f"server at {url} and see the run's files (see above)", file=sys.stderr)  # fmt: skip
            return 1
        return run_job(cfg.ray_address, cluster_job(cfg))
    problem = score_probe(url, os.environ.get(TOKEN_ENV))
    if problem:
        print(f"{experiment_name(cfg)}: training not started: the reward server at {url} cannot score: {problem}",
              file=sys.stderr)  # fmt: skip
        return 1
    argv = command(cfg)
    print(f"training: {shlex.join(argv)}", file=sys.stderr)
    proc = subprocess.Popen(argv, env={**os.environ, **job_env(cfg)}, start_new_session=True)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        stop_process_group(proc, 30)
        return 130


def train(cfg: TrainConfig) -> int:
    """Run it: pre-flight checks, services up, the trainer to the end, services down (also on failure
    or Ctrl-C, which on a cluster also stops the job).

    With W&B among verl's loggers, the reward server's verdict rates go to a run of the same group.
    """
    ensure_reward_token()
    config = checked_config(cfg)
    with ServiceManager(cfg.run_dir, supervise_s=SUPERVISE_S) as manager, contextlib.ExitStack() as stack:
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
        return run_trainer(cfg)
