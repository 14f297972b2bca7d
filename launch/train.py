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
import dataclasses
import io
import ipaddress
import os
import shlex
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from reward.config import DEFAULT_VERIFIER, TOKEN_ENV

from .prompt_fit import prompt_problems
from .ray_jobs import REPO, Job, is_loopback, run_job
from .reward_preflight import score_probe
from .services import Service, ServiceManager, stop_process_group

DEFAULT_RECIPE = REPO / "recipes" / "qwen3vl8b_grpo" / "qwen3vl8b_grpo.yaml"
WANDB_VARS = ("WANDB_RUN_GROUP", "WANDB_TAGS", "WANDB_MODE", "WANDB_DIR", "WANDB_ENTITY", "WANDB_BASE_URL")
SUPERVISE_S = 10.0
"""How often the services (verifier, reward server) are checked, and restarted if they died."""
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
    return "[" + ",".join(f"'{p}'" for p in paths) + "]"


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


def _new_wandb_run_id(cfg: TrainConfig) -> str:
    import secrets

    path = checkpoint_dir(cfg) / "wandb_run_id"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file():
        path.write_text(f"{experiment_name(cfg)[:40]}-{secrets.token_hex(4)}\n")
    return path.read_text().strip()


def job_env(cfg: TrainConfig, with_secrets: bool = True) -> dict[str, str]:
    """The one place the trainer's environment is built: W&B grouping, the run id, the GPUs the
    verifier does not use (locally), and on a cluster the secrets the job needs (``WANDB_API_KEY``)."""
    env = wandb_env(cfg)
    if cfg.serve_verifier and cfg.verifier_gpus and not cfg.ray_address:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in trainer_gpus(cfg))
    if cfg.ray_address:
        for key in SECRET_VARS:
            if os.environ.get(key):
                env[key] = os.environ[key] if with_secrets else "<set>"
    return env


def _verifier_gpus(cfg: TrainConfig) -> list[int]:
    try:
        gpus = [int(g) for g in cfg.verifier_gpus.split(",") if g.strip()]
    except ValueError:
        raise ValueError(
            f"--verifier-gpus {cfg.verifier_gpus}: expected GPU indices, e.g. 7 or 6,7"
        ) from None
    if any(g < 0 for g in gpus) or len(set(gpus)) != len(gpus):
        raise ValueError(f"--verifier-gpus {cfg.verifier_gpus}: expected distinct GPU indices, e.g. 7 or 6,7")
    return gpus


def trainer_gpus(cfg: TrainConfig) -> list[int]:
    """The GPUs a local run trains on: the first ``gpus_per_node`` the served verifier does not use."""
    taken = set(_verifier_gpus(cfg))
    free = (g for g in range(cfg.gpus_per_node + len(taken)) if g not in taken)
    return [next(free) for _ in range(cfg.gpus_per_node)]


def gpu_count() -> int | None:
    """GPUs on this machine as ``nvidia-smi -L`` lists them; None where there is no nvidia-smi."""
    if not shutil.which("nvidia-smi"):
        return None
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return sum(line.startswith("GPU ") for line in listed.splitlines())


def placement_problems(cfg: TrainConfig, gpus: int | None = None) -> list[str]:
    """Where the served verifier would share a GPU with training (the rollout's vLLM already claims
    most of each trainer GPU): ``gpus`` is this machine's GPU count, None if unknown."""
    if not cfg.serve_verifier:
        return []
    if cfg.ray_address:
        return [
            "--serve-verifier starts the verifier on this machine, but a Ray job trains on every GPU the "
            "cluster's nodes offer, the verifier's included: serve it on a machine outside the cluster (or "
            "on GPUs its `ray start --num-gpus` leaves out) and pass --verifier-urls"
        ]
    try:
        taken = _verifier_gpus(cfg)
    except ValueError as e:
        return [str(e)]
    if not taken:
        return [
            f"--serve-verifier needs --verifier-gpus, the GPUs kept from training (e.g. --verifier-gpus "
            f"{cfg.gpus_per_node} --gpus-per-node {cfg.gpus_per_node}): the verifier's vLLM and the rollout's "
            "cannot share a GPU"
        ]
    if gpus is not None and (max(taken) >= gpus or len(taken) + cfg.gpus_per_node > gpus):
        return [
            f"this machine has {gpus} GPU(s): the verifier's {cfg.verifier_gpus} and {cfg.gpus_per_node} for "
            f"training do not fit; lower --gpus-per-node to {max(gpus - len(taken), 0)} or serve the verifier "
            "elsewhere (--verifier-urls)"
        ]
    return []


def routable_address(peer: str) -> str:
    """This machine's address on the network that reaches ``peer`` (the interface a packet to it
    would leave from: a UDP socket's connect sends nothing), never a loopback address."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((socket.gethostbyname(peer), 9))
            address = str(probe.getsockname()[0])
    except OSError as e:
        raise ValueError(
            f"cannot tell which address of this machine {peer} reaches ({e}); give --reward-host"
        ) from e
    if ipaddress.ip_address(address).is_loopback:
        raise ValueError(
            f"this machine reaches {peer} only over loopback; give --reward-host, an address the cluster's nodes reach"
        )
    return address


def reward_url(cfg: TrainConfig) -> str:
    """Where verl's reward workers send answers: this machine's address on the cluster's network
    (never loopback when the job runs elsewhere), or 127.0.0.1 for a run on this machine."""
    if cfg.reward_host:
        host = cfg.reward_host
    elif on_cluster(cfg):
        host = routable_address(urlparse(cfg.ray_address or "").hostname or "")
    else:
        host = "127.0.0.1"
    return f"http://{host}:{cfg.reward_port}"


def ensure_reward_token() -> str:
    """The run's bearer token for the reward server (a new random one unless the environment has
    one); the services, the trainer and the reward monitor read it from the environment."""
    import secrets

    return os.environ.setdefault(TOKEN_ENV, secrets.token_urlsafe(24))


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
    if not cfg.ray_address:
        # verl starts its own Ray here: the W&B variables reach its TaskRunner and workers only through
        # its ray.init runtime env. A cluster job gets them from the job's runtime env instead (both at
        # once is a conflict Ray refuses).
        out += [f"+ray_kwargs.ray_init.runtime_env.env_vars.{k}='{v}'" for k, v in wandb_env(cfg).items()]
    return out + (batch_overrides(cfg) if fit_batch else []) + list(cfg.overrides)


def _train_rows(cfg: TrainConfig) -> int | None:
    counts = [_rows(f) for f in data_files(cfg)[0]]
    return sum(c for c in counts if c is not None) if counts and None not in counts else None


def batch_overrides(cfg: TrainConfig) -> list[str]:
    """A train file with fewer rows than the recipe's batch would give verl zero steps per epoch (a
    ZeroDivisionError after the first validation): the batch (and the PPO mini-batch) shrink to the
    largest size verl's own config check accepts for this many rows and GPUs."""
    rows = _train_rows(cfg)
    if rows is None:
        return []
    key = (str(Path(cfg.recipe).resolve()), rows, cfg.nnodes, cfg.gpus_per_node, tuple(cfg.overrides))
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


def command(cfg: TrainConfig) -> list[str]:
    """verl's entry point for a local run."""
    recipe = Path(cfg.recipe).resolve()
    return [sys.executable, "-m", "launch.verl_main", f"--config-path={recipe.parent}",
            f"--config-name={recipe.stem}", *overrides(cfg)]  # fmt: skip


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
         *(shlex.quote(o) for o in overrides(cfg))]
    )  # fmt: skip
    # The shipped data sets (images) are not read by training: no need to upload them each time.
    return Job(
        entrypoint, job_env(cfg, with_secrets), excludes=["scigen_rl/data/"], name=experiment_name(cfg)
    )


def resolved_config(cfg: TrainConfig) -> Any:
    """verl's full config for this run, composed the way main_ppo composes it."""
    from hydra import compose, initialize_config_dir

    recipe = Path(cfg.recipe).resolve()
    run_overrides = overrides(cfg)  # before Hydra is initialised: fitting the batch composes configs too
    with initialize_config_dir(config_dir=str(recipe.parent), version_base=None):
        return compose(config_name=recipe.stem, overrides=run_overrides)


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
    rows = _train_rows(cfg)
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
    mode = os.environ.get("WANDB_MODE", "online")
    if "wandb" in list(config.trainer.logger) and mode not in ("offline", "disabled", "dryrun"):
        netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
        has_login = netrc.is_file() and "api.wandb.ai" in netrc.read_text(errors="replace")
        if not os.environ.get("WANDB_API_KEY") and not (has_login and not cfg.ray_address):
            problems.append("W&B logs online but WANDB_API_KEY is not set: export it, or WANDB_MODE=offline")
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
        _new_wandb_run_id(cfg)
        config = resolved_config(cfg)
    for line in batch_overrides(cfg):
        print(f"{experiment_name(cfg)}: {_train_rows(cfg)} training rows, fewer than the recipe's batch: "
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
