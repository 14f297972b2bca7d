"""The settings of a training run and where its files go: the experiment's name, its data and
checkpoint folders (absolute, and on a cluster under ``shared_dir``), its W&B grouping and run id."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from reward.config import DEFAULT_VERIFIER, TOKEN_ENV

from .ray_jobs import REPO, is_loopback

DEFAULT_RECIPE = REPO / "recipes" / "qwen3vl8b_grpo" / "qwen3vl8b_grpo.yaml"


WANDB_VARS = ("WANDB_RUN_GROUP", "WANDB_TAGS", "WANDB_MODE", "WANDB_DIR", "WANDB_ENTITY", "WANDB_BASE_URL")


SECRET_VARS = ("WANDB_API_KEY", "HF_TOKEN", TOKEN_ENV)
"""Forwarded to a cluster job from this environment, never printed."""


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
    verifier_api_key_env: str | None = None
    """Name of the environment variable holding the verifier endpoint's API key (a hosted endpoint);
    the reward server reads it, nothing prints it."""
    verifier_gpus: str = ""
    """``CUDA_VISIBLE_DEVICES`` of the served verifier (needed with ``serve_verifier``); training gets the
    first ``gpus_per_node`` of the other GPUs."""
    verifier_port: int = 8001
    verifier_max_model_len: int = 16384
    """Prompt + 8,192-token responses (their last 1,000 characters are judged) fit well inside."""
    reward_port: int = 8765
    reward_host: str | None = None
    """Address the training workers reach the reward server at; default this machine's name."""
    run_dir: str = "runs/train"
    """Service logs and PID files."""
    shared_dir: str | None = None
    """A folder every node of the cluster sees at the same path (NFS, Lustre, a mounted bucket). With a
    remote ``ray_address`` the train/val files and the checkpoints must lie under it."""
    checkpoint_dir: str | None = None
    """Where the run's checkpoints go; default ``<shared_dir or runs>/checkpoints/<experiment>``."""
    resume: bool = False
    """Continue the experiment from its latest checkpoint (and its W&B run); without it an experiment
    that already has checkpoints is refused, so two runs never share a folder."""
    max_checkpoints: int = 2
    """Checkpoints kept (the oldest are deleted); an 8B actor with its optimizer state is ~100 GB each."""
    wandb_group: str | None = None
    wandb_tags: list[str] = field(default_factory=list)
    resume_from: str | None = None
    """A checkpoint folder to resume from instead of the run's latest."""
    dynamic_sampling: bool = False
    """DAPO's dynamic sampling (verl's ``algorithm.filter_groups`` on the reward's ``acc``): prompt groups
    whose rollouts are all right or all wrong are dropped and more prompts are generated until the batch
    holds ``data.train_batch_size`` groups with mixed verdicts. More generation per step (the recipe
    README says how much); the default run name gets ``-ds``."""
    overrides: list[str] = field(default_factory=list)
    """More Hydra overrides for verl, applied last."""


def parquet_rows(path: str) -> int | None:
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
        counts = [parquet_rows(f) for f in cfg.train_files]
        if all(c is not None for c in counts):
            name += f"-n{sum(c for c in counts if c is not None)}"
    return name + variant_suffix(cfg)


def variant_suffix(cfg: TrainConfig) -> str:
    """What a generated run name adds for the recipe's options (a run with dynamic sampling never
    shares a name, and so a checkpoint folder, with the same data's run without it)."""
    return "-ds" if cfg.dynamic_sampling else ""


def _recipe_val_files(cfg: TrainConfig) -> list[str]:
    from omegaconf import OmegaConf

    files = OmegaConf.select(OmegaConf.load(cfg.recipe), "data.val_files", default=None) or []
    return [str(files)] if isinstance(files, str) else [str(f) for f in files]


def on_cluster(cfg: TrainConfig) -> bool:
    """Whether the job runs on machines that may not see this one's files."""
    return bool(cfg.ray_address) and not is_loopback(cfg.ray_address or "")


def checkpoint_dir(cfg: TrainConfig) -> Path:
    if cfg.checkpoint_dir:
        return Path(cfg.checkpoint_dir).resolve()
    root = Path(cfg.shared_dir).resolve() if cfg.shared_dir else Path("runs").resolve()
    return root / "checkpoints" / experiment_name(cfg)


def data_files(cfg: TrainConfig) -> tuple[list[str], list[str]]:
    """The train and val files as absolute paths (the recipe's own val files resolved here, not in the
    job's uploaded copy of the repository, where ``runs/`` does not exist)."""
    train = [str(Path(f).resolve()) for f in cfg.train_files]
    val = [str(Path(f).resolve()) for f in (cfg.val_files or _recipe_val_files(cfg))]
    return train, val


def path_problems(cfg: TrainConfig) -> list[str]:
    """Paths the job would not find: missing here, or (on a cluster) outside ``shared_dir``."""
    train, val = data_files(cfg)
    problems = [f"{name} file {f} does not exist" for name, files in (("train", train), ("val", val))
                for f in files if not Path(f).is_file()]  # fmt: skip
    if not on_cluster(cfg):
        return problems
    if not cfg.shared_dir:
        return [
            *problems,
            f"--ray-address {cfg.ray_address} is another machine: give --shared-dir, a folder every node "
            "sees at the same path, and keep the data and checkpoints under it",
        ]
    shared = Path(cfg.shared_dir).resolve()
    visible = [*train, *val, str(checkpoint_dir(cfg))]
    if cfg.resume_from:
        visible.append(str(Path(cfg.resume_from).resolve()))
    if cfg.model and Path(cfg.model).exists():
        visible.append(str(Path(cfg.model).resolve()))
    return problems + [
        f"{p} is not under --shared-dir {shared}: the cluster's nodes cannot see it; copy it there"
        for p in visible
        if not Path(p).is_relative_to(shared)
    ]


def wandb_credentials_problem(remote: bool = False) -> str | None:
    """Why logging to W&B online would fail, or None: no ``WANDB_API_KEY`` and no ``wandb login`` in
    ``~/.netrc`` (a login on this machine does not reach a job that runs on a cluster: ``remote``).
    ``WANDB_MODE=offline`` (or ``disabled``) needs no credentials."""
    if os.environ.get("WANDB_MODE", "online") in ("offline", "disabled", "dryrun"):
        return None
    netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    has_login = netrc.is_file() and "api.wandb.ai" in netrc.read_text(errors="replace")
    if os.environ.get("WANDB_API_KEY") or (has_login and not remote):
        return None
    return "W&B logs online but WANDB_API_KEY is not set: export it, or WANDB_MODE=offline"


def wandb_env(cfg: TrainConfig) -> dict[str, str]:
    env = {k: os.environ[k] for k in WANDB_VARS if os.environ.get(k)}
    if cfg.wandb_group:
        env["WANDB_RUN_GROUP"] = cfg.wandb_group
    if cfg.wandb_tags:
        env["WANDB_TAGS"] = ",".join(cfg.wandb_tags)
    run_id = wandb_run_id(cfg)
    if run_id:
        env["WANDB_RUN_ID"], env["WANDB_RESUME"] = run_id, "allow"
    return env


def wandb_run_id(cfg: TrainConfig) -> str | None:
    """The W&B run id kept with the checkpoints: a resumed run continues its W&B run, a new experiment
    gets a new one (two runs never share an id because two runs never share a checkpoint folder)."""
    path = checkpoint_dir(cfg) / "wandb_run_id"
    if path.is_file():
        return path.read_text().strip() or None
    return None


def new_wandb_run_id(cfg: TrainConfig) -> str:
    import secrets

    path = checkpoint_dir(cfg) / "wandb_run_id"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file():
        path.write_text(f"{experiment_name(cfg)[:40]}-{secrets.token_hex(4)}\n")
    return path.read_text().strip()
