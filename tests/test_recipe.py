"""The GRPO recipe against verl 0.9.1's real Hydra config, its validate_config and its reward loader."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import yaml

RECIPE_DIR = Path(__file__).resolve().parents[1] / "recipes" / "qwen3vl8b_grpo"
RECIPE = RECIPE_DIR / "qwen3vl8b_grpo.yaml"


def compose(overrides: list[str] | None = None, config_dir: Path = RECIPE_DIR, name: str = "qwen3vl8b_grpo"):  # type: ignore[no-untyped-def]
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(config_dir), version_base=None):
        return hydra_compose(config_name=name, overrides=overrides or [])


def _verl_base():  # type: ignore[no-untyped-def]
    import verl

    return compose(config_dir=Path(verl.__file__).parent / "trainer" / "config", name="ppo_trainer")


def _leaves(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, dict) and node:
        return [leaf for k, v in node.items() for leaf in _leaves(v, f"{prefix}{k}.")]
    return [prefix[:-1]]


def test_recipe_passes_verl_validation_with_the_papers_settings() -> None:
    from verl.utils.config import validate_config

    config = compose()
    validate_config(config, use_reference_policy=True, use_critic=False)
    assert config.algorithm.adv_estimator == "grpo"
    assert config.data.train_batch_size == 128 and config.actor_rollout_ref.rollout.n == 8
    assert config.data.max_response_length == 8192
    assert config.actor_rollout_ref.model.path == "Qwen/Qwen3-VL-8B-Instruct"
    assert (
        config.actor_rollout_ref.rollout.name == "vllm" and config.actor_rollout_ref.actor.strategy == "fsdp2"
    )
    val = config.actor_rollout_ref.rollout.val_kwargs
    assert (val.n, val.temperature, val.do_sample) == (4, 0.6, True)
    assert config.trainer.total_training_steps == 200 and list(config.trainer.logger) == ["console", "wandb"]
    # 200 steps are reachable even on the smallest scaling subset (a single step per epoch).
    assert config.trainer.total_epochs * 1 >= config.trainer.total_training_steps
    assert config.reward.custom_reward_function.path == "pkg://reward.compass_reward"
    assert config.reward.custom_reward_function.name == "compute_score"
    assert config.custom_reward_function.path is None  # the legacy key verl 0.9.1 ignores stays unset


def test_the_recipes_trainer_is_verls_sync_trainer_with_reward_health() -> None:
    from verl.trainer.ppo.v1 import PPOTrainerSync, get_trainer_cls

    from launch.guarded_trainer import GuardedSyncTrainer

    config = compose()
    assert config.trainer.use_v1 and get_trainer_cls(config.trainer.v1.trainer_mode) is GuardedSyncTrainer
    assert issubclass(GuardedSyncTrainer, PPOTrainerSync)


def test_every_recipe_key_is_one_verl_reads() -> None:
    """A key verl's schema does not have is only allowed where the code the recipe selects reads it."""
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import resolve_reward_manager_cls

    recipe = yaml.safe_load(RECIPE.read_text())
    base = _verl_base()
    manager = resolve_reward_manager_cls(compose())  # the class verl itself would load
    manager_source = "".join(
        inspect.getsource(c) for c in manager.__mro__ if c.__module__.split(".")[0] in ("verl", "reward")
    )
    unknown = []
    for key in _leaves({k: v for k, v in recipe.items() if k not in ("hydra", "defaults")}):
        if key.startswith("reward.custom_reward_function.reward_kwargs."):
            continue  # passed to compute_score as keyword arguments, checked below
        parent, leaf = key.rsplit(".", 1)
        node = OmegaConf.select(base, parent)
        in_schema = node is not None and leaf in node.keys()  # noqa: SIM118 - keys() counts a mandatory `???`
        read_by_manager = parent == "reward" and f'.get("{leaf}"' in manager_source
        if not (in_schema or read_by_manager):
            unknown.append(key)
    assert not unknown, f"keys verl 0.9.1 would ignore: {unknown}"
    assert "custom_reward_function" not in recipe and "reward_model" not in recipe  # the ignored legacy spots


def test_verl_loads_the_reward_function_with_its_kwargs(monkeypatch: pytest.MonkeyPatch) -> None:
    from verl.trainer.ppo.reward import get_custom_reward_fn

    from reward.config import RewardConfig

    monkeypatch.setenv("SCIGEN_REWARD_URL", "http://10.0.0.5:8765")
    config = compose()
    fn = get_custom_reward_fn(config)
    assert inspect.iscoroutinefunction(fn)  # verl then awaits it on its event loop
    kwargs = dict(config.reward.custom_reward_function.reward_kwargs)
    assert kwargs == {"server_url": "http://10.0.0.5:8765"}
    # Every other reward kwarg the recipe passes is a RewardConfig setting, and a misspelt one is refused.
    settings = RewardConfig.from_kwargs(
        {k: v for k, v in kwargs.items() if k != "server_url"} | {"mode": "rule_only"}
    )
    assert settings.mode == "rule_only"
    with pytest.raises((TypeError, ValueError), match="error_scor"):
        RewardConfig.from_kwargs({"error_scor": 0.5})


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("run_imgcoder.sh", ["runs/b1"], "runs/b1/export/train.parquet"),
        ("run_imgcoder_filtered.sh", ["runs/b1"], "runs/b1/export/filtered/train.parquet"),
        ("run_parquet.sh", ["/data/mine.parquet"], "/data/mine.parquet"),
    ],
)
def test_a_run_script_per_training_source(
    script: str, args: list[str], expected: str, tmp_path: Path
) -> None:
    """Run as printed: no $PYTHON, and no python3 on PATH either (the checkout's environment is used)."""
    import os
    import shutil
    import subprocess
    import sys

    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("dirname", "basename"):
        (tools / tool).symlink_to(shutil.which(tool) or tool)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "VIRTUAL_ENV")}
    env["PATH"] = str(tools)
    out = subprocess.run(
        [shutil.which("bash") or "bash", str(RECIPE_DIR / script), *args, "--dry-run", "--verifier-urls",
         "http://v:8001/v1", "trainer.save_freq=7"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert f"{Path(sys.executable).parent}/python -m scigen_rl.cli serve-reward" in out.stdout
    assert f"data.train_files=['\"'\"'{os.path.abspath(expected)}'\"'\"']" in out.stdout
    assert "trainer.save_freq=7" in out.stdout and "train_batch_size: 128" in out.stdout


@pytest.mark.parametrize("dynamic", [False, True])
def test_dynamic_sampling_is_an_option_verl_validates_and_its_sync_trainer_runs(
    dynamic: bool, tmp_path: Path
) -> None:
    """`--dynamic-sampling` off and on: verl's validate_config and its algorithm dataclass accept the
    config, and the recipe's trainer builds verl's *sync* replay buffer (the one that drains refills
    before choosing a batch) filtering on the reward's `acc`, one prompt fetched at a time."""
    from verl.trainer.config import AlgoConfig
    from verl.trainer.ppo.v1.replay_buffer import ReplayBuffer
    from verl.utils.config import omega_conf_to_dataclass, validate_config

    from launch.guarded_trainer import GuardedSyncTrainer
    from launch.prompt_groups import dynamic_sampling_problems, generation_limit
    from launch.train_config import TrainConfig, experiment_name
    from launch.verl_overrides import resolved_config

    from .test_launch import _rows_parquet

    train = str(_rows_parquet(tmp_path / "train.parquet", 200))
    cfg = TrainConfig(train_files=[train], verifier_urls=["http://v/v1"], dynamic_sampling=dynamic)
    config = resolved_config(cfg)
    validate_config(config, use_reference_policy=True, use_critic=False)
    algorithm = omega_conf_to_dataclass(config.algorithm, dataclass_type=AlgoConfig)
    assert algorithm.filter_groups is not None and algorithm.filter_groups.enable is dynamic
    assert (algorithm.filter_groups.metric, algorithm.filter_groups.max_num_gen_batches) == ("acc", 10)
    assert experiment_name(cfg) == "qwen3vl8b_grpo-train-n200" + ("-ds" if dynamic else "")
    assert generation_limit(config) == (10 * 128 if dynamic else None)
    assert dynamic_sampling_problems(config) == []

    trainer = GuardedSyncTrainer(config)
    buffer = trainer.replay_buffer
    assert type(buffer) is ReplayBuffer  # verl's sync buffer, not ReplayBufferAsync
    assert buffer.filter_groups_metric == ("acc" if dynamic else None)
    assert buffer.gen_batch_size == (1 if dynamic else 128) and buffer.train_batch_size == 128
    assert trainer.config.trainer.v1.trainer_mode == "scigen_sync"  # the name verl picked the class by


def test_dynamic_sampling_filters_on_a_key_the_reward_gives_every_answer() -> None:
    """verl's replay buffer reads `algorithm.filter_groups.metric` from each answer's reward_extra_info
    and stops the run when a finished group lacks it: the reward gives `acc` on every path, and a
    metric it does not give is refused before the run starts."""
    import asyncio

    from launch.prompt_groups import REWARD_METRICS, dynamic_sampling_problems
    from reward.compass_reward import compute_score

    right = asyncio.run(compute_score("geo3k", "x = \\boxed{48}", "48", {}, mode="rule_only"))
    wrong = asyncio.run(compute_score("geo3k", "x = \\boxed{47}", "48", {}, mode="rule_only"))
    assert (right["acc"], wrong["acc"]) == (1.0, 0.0) and "acc" in REWARD_METRICS
    assert set(REWARD_METRICS) == {"score", "acc", "format", "invalid", "unscored", "fallback"}

    on = ["algorithm.filter_groups.enable=true"]
    assert dynamic_sampling_problems(compose(on)) == []
    assert dynamic_sampling_problems(compose([*on, "algorithm.filter_groups.metric=reward"])) == []
    (problem,) = dynamic_sampling_problems(compose([*on, "algorithm.filter_groups.metric=verdict"]))
    assert "metric=verdict" in problem and "acc" in problem
    assert dynamic_sampling_problems(compose(["algorithm.filter_groups.metric=verdict"])) == []  # off
