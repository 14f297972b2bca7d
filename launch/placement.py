"""Where a training run's parts run and how they reach each other: the GPUs of the served verifier
and of training, the reward server's address as the trainer's workers see it, the run's token and
the trainer's environment."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
from urllib.parse import urlparse

from reward.config import TOKEN_ENV

from .train_config import SECRET_VARS, TrainConfig, on_cluster, wandb_env


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
