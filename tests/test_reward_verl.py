"""The reward inside real verl 0.9.1 on a local Ray cluster: the recipe's reward keys composed into
verl's trainer config, verl's own RewardLoopManager and reward workers, a DataProto batch of real
tokenized responses, scored through ``compute_score`` and the reward server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from reward.compass_reward import KEYS
from reward.standin_verifier import verifier_reply
from scigen_rl.llm.standin import StandInServer

from .test_reward_server import _start, _stop

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "qwen3vl8b_grpo"

ROLLOUTS = [
    # (response, gold, extra_info, expected score, expected path)
    ("<think>48 or 46?</think> x = \\boxed{48}", "48", {"question": "Find x."}, 1.0, "rule"),
    ("The length is \\boxed{3.5\\,\\text{m/s}}", "3.5 m/s", {"question": "Find v."}, 1.0, "verifier"),
    ("I get \\boxed{46}", "48", {"question": "Find x."}, 0.0, "verifier"),
    # options as verl hands parquet lists over: numpy arrays
    (
        "\\boxed{B}",
        "C",
        {"question": "Pick one.", "options": np.array(["1", "2", "3"], dtype=object)},
        0.0,
        "rule",
    ),
    ("[invalid] I won't.", "7", {"question": "How many?"}, 0.0, "verifier"),
    (
        "\\boxed{3}",
        "C",
        {"question": "Pick one.", "options": np.array(["1", "2", "3"], dtype=object)},
        1.0,
        "rule",
    ),
]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    # A cluster of our own (never `ray stop`: it would kill every Ray process on the machine). More
    # CPUs than cores, as verl needs a few actors at once on this 2-core machine.
    ray.init(num_cpus=8, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _compose(overrides: list[str]):  # type: ignore[no-untyped-def]
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(RECIPE), version_base=None):
        return compose(config_name="qwen3vl8b_grpo", overrides=overrides)


def _batch(tokenizer, rollouts):  # type: ignore[no-untyped-def]
    import torch
    from verl import DataProto

    prompt_len, response_len = 16, 48
    prompts = torch.full((len(rollouts), prompt_len), tokenizer.pad_token_id or 0, dtype=torch.long)
    responses = torch.full((len(rollouts), response_len), tokenizer.pad_token_id or 0, dtype=torch.long)
    mask = torch.zeros((len(rollouts), prompt_len + response_len), dtype=torch.long)
    lengths = []
    for i, (response, _, extra, _, _) in enumerate(rollouts):
        p = tokenizer(extra["question"], add_special_tokens=False)["input_ids"][:prompt_len]
        r = tokenizer(response, add_special_tokens=False)["input_ids"]
        assert len(r) <= response_len, "make response_len larger"
        prompts[i, prompt_len - len(p) :] = torch.tensor(p)  # left-padded prompt, right-padded response
        responses[i, : len(r)] = torch.tensor(r)
        mask[i, prompt_len - len(p) : prompt_len + len(r)] = 1
        lengths.append(len(r))
    batch = DataProto.from_dict(
        tensors={"prompts": prompts, "responses": responses, "attention_mask": mask},
        non_tensors={
            "data_source": np.array(["scigen/imgcoder:test"] * len(rollouts), dtype=object),
            "reward_model": np.array([{"style": "model", "ground_truth": g} for _, g, _, _, _ in rollouts], dtype=object),
            "extra_info": np.array([{**e, "index": i} for i, (_, _, e, _, _) in enumerate(rollouts)], dtype=object),
        },
    )  # fmt: skip
    return batch, lengths


def test_verl_reward_loop_scores_through_the_reward_server(ray_cluster: None) -> None:
    from transformers import AutoTokenizer
    from verl.experimental.reward_loop.reward_loop import RewardLoopManager
    from verl.trainer.ppo.reward import resolve_reward_manager_cls

    from reward.guarded_manager import GuardedRewardManager
    from scigen_rl.llm.embedded import model_dir

    tokenizer_dir = model_dir()  # a real tokenizer, from the model the package ships
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    verifier = StandInServer(api_key=None, reply=verifier_reply, delay_s=0.05)
    url, proc = _start("--verifier-urls", verifier.base_url)
    try:
        config = _compose(
            [
                f"actor_rollout_ref.model.path={tokenizer_dir}",
                "reward.num_workers=2",
                f"reward.custom_reward_function.reward_kwargs.server_url={url}",
            ]
        )
        assert config.reward.custom_reward_function.path == "pkg://reward.compass_reward"
        assert config.reward.reward_manager.name == "GuardedRewardManager"
        assert resolve_reward_manager_cls(config) is GuardedRewardManager
        manager = RewardLoopManager(config)
        batch, lengths = _batch(tokenizer, ROLLOUTS)
        out = manager.compute_rm_score(batch)

        scores = out.batch["rm_scores"]
        expected = [s for _, _, _, s, _ in ROLLOUTS]
        for i, length in enumerate(lengths):  # the score sits on the last response token, zeros elsewhere
            assert scores[i, length - 1].item() == expected[i]
            assert scores[i].sum().item() == expected[i]
        assert out.meta_info["reward_extra_keys"] == list(KEYS)
        assert list(out.non_tensor_batch["path"]) == [p for _, _, _, _, p in ROLLOUTS]
        assert list(out.non_tensor_batch["acc"]) == expected
        assert list(out.non_tensor_batch["verdict"])[4] == "invalid"
        assert len(verifier.requests) == 3  # only what the rule could not decide reached the verifier
    finally:
        _stop(proc)
        verifier.close()


def test_a_dead_reward_server_stops_the_run_instead_of_scoring_zeros(ray_cluster: None) -> None:
    """verl's own reward loop with the recipe's manager, the reward server unreachable: answers the
    rule can judge are scored by it (counted as fallbacks), the rest are unscored, and past the
    limit verl's reward call fails with RewardHalted's message instead of returning zeros."""
    import ray
    from transformers import AutoTokenizer
    from verl.experimental.reward_loop.reward_loop import RewardLoopManager

    from scigen_rl.llm.embedded import model_dir

    from .test_reward_server import _free_port

    tokenizer = AutoTokenizer.from_pretrained(model_dir())
    dead = f"http://127.0.0.1:{_free_port()}"

    def manager(window: int) -> RewardLoopManager:
        return RewardLoopManager(_compose([
            f"actor_rollout_ref.model.path={model_dir()}", "reward.num_workers=1",
            f"reward.custom_reward_function.reward_kwargs.server_url={dead}",
            "+reward.custom_reward_function.reward_kwargs.server_retry_s=0.5",
            "reward.max_unscored_frac=0.25", f"reward.unscored_window={window}",
        ]))  # fmt: skip

    # A window larger than the batch: nothing stops yet, and every answer says what happened to it.
    batch, _ = _batch(tokenizer, ROLLOUTS)
    out = manager(window=100).compute_rm_score(batch)
    paths = list(out.non_tensor_batch["path"])
    unscored = [float(u) for u in out.non_tensor_batch["unscored"]]
    fallback = [float(f) for f in out.non_tensor_batch["fallback"]]
    assert paths[0] == "rule_fallback" and fallback[0] == 1.0 and unscored[0] == 0.0  # \\boxed{48} vs 48
    assert all(u + f == 1.0 for u, f in zip(unscored, fallback, strict=True))  # each answer one or the other
    assert unscored == [
        float(path == "verifier") for *_, path in ROLLOUTS
    ]  # only the verifier could judge them

    # A window the batch fills, half of it unscored (over the 25% limit): the run stops, saying why.
    with pytest.raises(ray.exceptions.RayError, match="could not be scored"):
        manager(window=len(ROLLOUTS)).compute_rm_score(_batch(tokenizer, ROLLOUTS)[0])


def test_a_reward_server_killed_mid_run_is_restarted_and_each_step_records_it(
    ray_cluster: None, tmp_path: Path
) -> None:
    """Three training steps' rewards through verl's reward loop, the reward server supervised and
    killed before the second. Each step's answers go into verl's TransferQueue the way its agent loop
    stores them, and the metrics are read back as the recipe's trainer reads them: step 1 clean, step 2
    half unscored (what only the verifier could judge) and half rule fallbacks, step 3 clean again
    after the restart, which is logged."""
    import os
    import signal
    import sys

    import transfer_queue as tq
    from transformers import AutoTokenizer
    from verl.experimental.reward_loop.reward_loop import RewardLoopManager
    from verl.utils.tensordict_utils import list_of_dict_to_tensordict

    from launch.guarded_trainer import step_reward_health
    from launch.services import Service, ServiceManager
    from scigen_rl.llm.embedded import model_dir

    from .test_reward_server import _free_port

    tokenizer = AutoTokenizer.from_pretrained(model_dir())
    verifier = StandInServer(api_key=None, reply=verifier_reply, delay_s=0.05)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = Service("reward", [sys.executable, "-m", "scigen_rl.cli", "serve-reward", "--port", str(port),
                                "--verifier-urls", verifier.base_url], url + "/health", start_timeout_s=60)  # fmt: skip
    tq.init()

    def step(manager: RewardLoopManager, n: int) -> dict[str, float]:
        out = manager.compute_rm_score(_batch(tokenizer, ROLLOUTS)[0])
        keys = out.meta_info["reward_extra_keys"]
        infos = [{k: out.non_tensor_batch[k][i] for k in keys} for i in range(len(ROLLOUTS))]
        infos.append({"unscored": 1.0, "fallback": 0.0})  # a padding row: never counted
        fields = [{"extra_fields": {"reward_extra_info": info, "min_global_steps": n}} for info in infos]
        meta = tq.kv_batch_put(keys=[f"step{n}_{i}" for i in range(len(infos))], partition_id="train",
                               fields=list_of_dict_to_tensordict(fields),
                               tags=[{"status": "success", "is_padding": i == len(ROLLOUTS)} for i in range(len(infos))])  # fmt: skip
        padding = [bool(tag.get("is_padding")) for tag in meta.tags]
        return step_reward_health(meta.keys, meta.partition_id, padding)

    verifier_only = sum(path == "verifier" for *_, path in ROLLOUTS) / len(ROLLOUTS)
    try:
        with ServiceManager(tmp_path, grace_s=5) as services:
            first = services.start(server)
            manager = RewardLoopManager(_compose([
                f"actor_rollout_ref.model.path={model_dir()}", "reward.num_workers=1",
                f"reward.custom_reward_function.reward_kwargs.server_url={url}",
                "+reward.custom_reward_function.reward_kwargs.server_retry_s=1.0",
                "reward.max_unscored_frac=0.9", "reward.unscored_window=100",
            ]))  # fmt: skip
            clean = {
                "reward/unscored_frac": 0.0,
                "reward/fallback_frac": 0.0,
                "reward/answers": float(len(ROLLOUTS)),
            }
            assert step(manager, 1) == clean

            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
            down = step(manager, 2)
            assert down["reward/unscored_frac"] == verifier_only > 0
            assert down["reward/fallback_frac"] == 1 - verifier_only > 0

            served = len(verifier.requests)
            services.check()  # the supervisor's pass: the server is restarted and healthy again
            assert services.restarts == {"reward": 1} and services.running[0][1].pid != first.pid
            assert step(manager, 3) == clean
            assert len(verifier.requests) > served  # judged by the verifier again, not by the rule
    finally:
        tq.close()
        verifier.close()
    log = (tmp_path / "services" / "restarts.log").read_text()
    assert "reward exited with -9; restarting it (restart 1)" in log and "reward is healthy again" in log
