"""verl's synchronous PPO trainer, with the reward's health logged at every training step.

verl 0.9.1 logs a reward function's extra keys for validation only; during training a verifier that
stopped answering shows as nothing but a falling score. :class:`GuardedSyncTrainer` (registered as the
v1 ``trainer_mode`` ``scigen_sync``) adds, per step, from each answer's ``reward_extra_info`` in the
TransferQueue:

- ``reward/unscored_frac``: answers that could not be scored (the verifier and the reward server were
  unreachable and no rule could decide; a reward that raised or timed out),
- ``reward/fallback_frac``: answers scored by the rule because the server could not be reached,
- ``reward/answers``: how many answers the step scored;

and the share of prompt groups whose rollouts were all scored alike, which give GRPO no gradient
(``scigen/zero_variance_groups`` and its companions, :mod:`launch.prompt_groups`).

It is verl's ``sync`` trainer in every respect: verl 0.9.1 gives the synchronous semantics only to
the mode named ``sync`` (``verl/trainer/ppo/v1/trainer_base.py``: the sync ``ReplayBuffer`` at line
153, whole-batch dataloader fetches at 731, no prompt state kept in the TransferQueue or its
checkpoints at 902, 912, 1004 and 1499),
so the trainer reports that name to verl's code whatever it is registered as. Under another name
verl would pick its async replay buffer, which with dynamic sampling (``algorithm.filter_groups``)
refills only what it drops and trains while refills are still generating, where the sync one refills
twice that and drains every request before it chooses the batch. With dynamic sampling on it also
enforces ``algorithm.filter_groups.max_num_gen_batches``, which verl's v1 replay buffer ignores
(trainer_base.py:205): a step that would send more than that many batches of prompts to the rollout
stops the run, saying why.

Stopping a run whose reward fails is the reward manager's job (:mod:`reward.guarded_manager`), which
sees each answer as it is scored, before the step's update.

verl selects the trainer inside its TaskRunner actor, a process of its own: :class:`GuardedTaskRunner`
imports this module there so that the name is registered, and ``python -m launch.verl_main`` runs
verl's entry point with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import ray
from verl.trainer.main_ppo import TaskRunnerV1
from verl.trainer.ppo.v1 import PPOTrainerSync, register_trainer

from reward.guarded_manager import is_unscored

from .prompt_groups import dapo_metric, generation_limit, step_group_metrics

TRAINER_MODE = "scigen_sync"


def reward_health(infos: Iterable[dict[str, Any] | None]) -> dict[str, float]:
    """The step's reward metrics from each answer's ``reward_extra_info``.

    An answer with no reward information at all counts as unscored: something upstream lost it.

    Args:
        infos: one ``reward_extra_info`` dict (or None) per answer of the step.

    Returns:
        ``reward/unscored_frac``, ``reward/fallback_frac`` and ``reward/answers``.

    >>> reward_health([{"unscored": 0.0, "fallback": 0.0}, {"unscored": 1.0, "fallback": 0.0},
    ...                {"unscored": 0.0, "fallback": 1.0}, None])
    {'reward/unscored_frac': 0.5, 'reward/fallback_frac': 0.25, 'reward/answers': 4.0}
    """
    answers = unscored = fallback = 0
    for info in infos:
        answers += 1
        if not info:
            unscored += 1
            continue
        unscored += is_unscored(info)
        fallback += bool(info.get("fallback"))
    return {"reward/unscored_frac": unscored / max(answers, 1), "reward/fallback_frac": fallback / max(answers, 1),
            "reward/answers": float(answers)}  # fmt: skip


def step_reward_health(
    keys: Sequence[str], partition_id: str, padding: Sequence[bool] = ()
) -> dict[str, float]:
    """:func:`reward_health` of the answers stored under ``keys`` in the TransferQueue, padding rows left out."""
    import transfer_queue as tq

    data = tq.kv_batch_get(keys=list(keys), partition_id=partition_id, select_fields=["extra_fields"])
    fields = data.pop("extra_fields").tolist()
    infos = [
        extra.get("reward_extra_info") if isinstance(extra, dict) else None
        for i, extra in enumerate(fields)
        if not (i < len(padding) and padding[i])
    ]
    return reward_health(infos)


class GenerationLimitReached(RuntimeError):
    """Dynamic sampling generated ``max_num_gen_batches`` batches in one step without filling it."""


@register_trainer(TRAINER_MODE)
class GuardedSyncTrainer(PPOTrainerSync):
    """``sync`` with the reward's health and the prompt groups' variance among each step's metrics."""

    _prompts_this_step = 0

    @property
    def trainer_mode(self) -> str:
        """``sync`` to verl's code, which gives the synchronous semantics only to that name."""
        return "sync"

    @trainer_mode.setter
    def trainer_mode(self, name: str) -> None:
        """verl's ``__init__`` sets the configured name (``scigen_sync``); the semantics stay ``sync``."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        limit = generation_limit(config)
        dynamic = (
            f"; dynamic sampling on {dapo_metric(config)}, at most {limit} prompts a step "
            "(algorithm.filter_groups.max_num_gen_batches, enforced here)"
            if dapo_metric(config) is not None
            else ""
        )
        print(f"scigen-rl: trainer {TRAINER_MODE} (verl's sync): reward/unscored_frac, reward/fallback_frac and "
              f"scigen/zero_variance_groups logged each step{dynamic}")  # fmt: skip

    def prepare_step(self) -> dict[str, Any]:
        self._prompts_this_step = 0
        out: dict[str, Any] = super().prepare_step()
        return out

    def _submit_batch_to_rollout(self, batch: Any) -> int:
        """verl's, counting the step's prompts against dynamic sampling's limit (every training prompt,
        the first batch and each refill, goes through here; validation does not)."""
        limit = generation_limit(self.config)
        if limit is not None and self._prompts_this_step + len(batch) > limit:
            size = int(self.config.data.train_batch_size)
            raise GenerationLimitReached(
                f"dynamic sampling: step {self.global_steps} has sent {self._prompts_this_step} prompts to the "
                f"rollout ({self._prompts_this_step / size:g} batches of {size}) and would need more to find "
                f"{size} prompt groups whose rollouts are not all scored alike "
                f"(algorithm.filter_groups.max_num_gen_batches={limit // size}): the training data is too easy "
                "or too hard for the policy now. Raise the limit, train on other data, or turn dynamic "
                "sampling off"
            )
        self._prompts_this_step += len(batch)
        sent: int = super()._submit_batch_to_rollout(batch)
        return sent

    def _compute_metrics(self, batch: Any, metrics: dict[str, Any], timing_raw: Any, global_steps: int, epoch: int) -> None:  # fmt: skip
        super()._compute_metrics(batch, metrics, timing_raw, global_steps, epoch)
        padding = [bool(tag.get("is_padding", False)) for tag in batch.tags]
        metrics.update(step_reward_health(batch.keys, batch.partition_id, padding))
        metrics.update(
            step_group_metrics(batch.keys, batch.partition_id, padding, metrics, dapo_metric(self.config))
        )
        metrics["scigen/gen_batches"] = self._prompts_this_step / int(self.config.data.train_batch_size)


@ray.remote
class GuardedTaskRunner(TaskRunnerV1.__ray_actor_class__):  # type: ignore[name-defined]
    """verl's v1 TaskRunner, in a process where this module (and so ``scigen_sync``) is imported."""

    def run(self, config: Any) -> Any:
        # Ray ships the actor class by value: the module's registration has not run in this process.
        import launch.guarded_trainer  # noqa: F401

        return super().run(config)
