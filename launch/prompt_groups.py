"""Which of a GRPO step's prompt groups teach the policy anything, and dynamic sampling's settings.

GRPO's advantage of an answer is (its score - its group's mean) / (the group's std + eps): a prompt
whose rollouts were all scored the same (all right, or all wrong) gives each of them an advantage of
exactly 0, and so no gradient; it only costs its generation and its share of the update. The recipe's
trainer logs per step, in W&B's ``scigen`` section:

- ``scigen/zero_variance_groups``: the share of the step's generated prompt groups whose rollouts all
  got the same reward (under dynamic sampling the groups it dropped count: they were generated);
- ``scigen/zero_variance_groups_trained``: the share among the groups the update used (about 0 under
  dynamic sampling, which keeps only groups with mixed verdicts);
- ``scigen/all_correct_groups``, ``scigen/all_wrong_groups``: the shares of generated groups whose
  every answer was right (too easy) or wrong (too hard), by the reward's ``acc``;
- ``scigen/groups_generated`` and ``scigen/gen_batches``: the prompt groups the step generated, and
  the prompts it sent to the rollout in units of ``data.train_batch_size`` (1 without dynamic sampling).

Dynamic sampling is DAPO's: verl 0.9.1's ``algorithm.filter_groups`` drops, before the batch is chosen,
every finished group whose ``metric`` (``acc`` here: a key of each answer's ``reward_extra_info``) is
the same for all its rollouts, and sends more prompts until ``data.train_batch_size`` groups with mixed
verdicts are there. Only verl's v1 trainers implement it (``verl/trainer/ppo/v1/replay_buffer.py``);
the v1 replay buffer ignores ``max_num_gen_batches``, so the recipe's trainer enforces it
(:func:`generation_limit`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reward.compass_reward import KEYS

PREFIX = "scigen/"
ZERO_VARIANCE = "scigen/zero_variance_groups"

DAPO_COUNTS = "_dapo_filtered_reward_counts"
"""verl's step metric (``replay_buffer.DAPO_FILTERED_REWARD_COUNTS_KEY``): {shared metric value: groups dropped}."""
DAPO_EVICTED = "training/filter_groups/evicted_samples"
"""verl's step metric: prompt groups dynamic sampling dropped (all rollouts alike)."""
DAPO_SURPLUS = "training/filter_groups/discarded_surplus_samples"
"""verl's step metric: groups with mixed verdicts generated beyond the batch and discarded."""

REWARD_METRICS = tuple(k for k in KEYS if k not in ("verdict", "path", "error"))
"""The numeric keys the recipe's reward gives every answer: what ``algorithm.filter_groups.metric`` may name."""


def group_metrics(
    answers: Iterable[tuple[str, float, float | None]],
    dropped: int = 0,
    dropped_by_value: Mapping[float, int] | None = None,
    surplus: int = 0,
) -> dict[str, float]:
    """The step's prompt-group metrics (see the module's docstring).

    Args:
        answers: ``(uid, score, acc)`` per trained answer: its prompt's id, the reward GRPO used and the
            reward's ``acc`` (None when it has none).
        dropped: groups dynamic sampling dropped this step (all their rollouts alike by its metric).
        dropped_by_value: those groups by the value their rollouts shared, when the metric is ``acc``
            (1.0: all right, 0.0: all wrong); otherwise their direction is unknown and they count
            only as zero-variance groups.
        surplus: groups with mixed verdicts generated beyond the batch and discarded.

    A group of one answer has a gradient (verl's GRPO then uses its score as the advantage), so it is
    never zero-variance; scores are compared exactly, as verl's DAPO filter compares them.

    >>> m = group_metrics([("a", 1.0, 1.0), ("a", 1.0, 1.0), ("b", 0.0, 0.0), ("b", 1.0, 1.0)])
    >>> m["scigen/zero_variance_groups"], m["scigen/all_correct_groups"], m["scigen/all_wrong_groups"]
    (0.5, 0.5, 0.0)
    >>> m = group_metrics([("b", 0.0, 0.0), ("b", 1.0, 1.0)], dropped=3, dropped_by_value={0.0: 2, 1.0: 1})
    >>> m["scigen/zero_variance_groups"], m["scigen/zero_variance_groups_trained"], m["scigen/all_wrong_groups"]
    (0.75, 0.0, 0.5)
    """
    scores: dict[str, list[float]] = defaultdict(list)
    accs: dict[str, list[float | None]] = defaultdict(list)
    for uid, score, acc in answers:
        scores[uid].append(float(score))
        accs[uid].append(None if acc is None else float(acc))
    alike = {uid for uid, s in scores.items() if len(s) > 1 and max(s) == min(s)}

    def every(uid: str, value: float) -> bool:
        return len(accs[uid]) > 1 and all(a == value for a in accs[uid])

    by_value = dropped_by_value or {}
    trained = len(scores)
    generated = trained + dropped + surplus
    right = sum(every(uid, 1.0) for uid in scores) + int(by_value.get(1.0, 0))
    wrong = sum(every(uid, 0.0) for uid in scores) + int(by_value.get(0.0, 0))
    return {
        ZERO_VARIANCE: (len(alike) + dropped) / max(generated, 1),
        f"{ZERO_VARIANCE}_trained": len(alike) / max(trained, 1),
        f"{PREFIX}all_correct_groups": right / max(generated, 1),
        f"{PREFIX}all_wrong_groups": wrong / max(generated, 1),
        f"{PREFIX}groups_generated": float(generated),
    }


def dapo_metric(config: Any) -> str | None:
    """The metric dynamic sampling filters on, or None when it is off."""
    groups = config.algorithm.get("filter_groups")
    if not groups or not groups.get("enable"):
        return None
    return str(groups.get("metric") or "")


def generation_limit(config: Any) -> int | None:
    """The most prompts one step may send to the rollout under dynamic sampling:
    ``max_num_gen_batches`` x ``data.train_batch_size`` (None: no limit, or dynamic sampling off)."""
    if dapo_metric(config) is None:
        return None
    batches = int(config.algorithm.filter_groups.get("max_num_gen_batches") or 0)
    return batches * int(config.data.train_batch_size) if batches > 0 else None


def dynamic_sampling_problems(config: Any) -> list[str]:
    """What would stop a run with dynamic sampling on, found before it starts."""
    metric = dapo_metric(config)
    if metric is None:
        return []
    problems = []
    reward_path = config.reward.custom_reward_function.get("path")
    if not metric:
        problems.append("algorithm.filter_groups.metric is empty: set it to acc (the reward's verdict)")
    elif metric != "reward" and reward_path == "pkg://reward.compass_reward" and metric not in REWARD_METRICS:
        problems.append(
            f"algorithm.filter_groups.metric={metric}: the reward gives {', '.join(REWARD_METRICS)} for every "
            "answer (or use `reward`, the score itself); verl's replay buffer would stop at the first "
            "finished prompt group"
        )
    if config.reward.reward_model.get("enable") and not config.reward.reward_model.get(
        "enable_resource_pool"
    ):
        problems.append(
            "dynamic sampling needs each answer's reward before the batch is chosen: a colocated reward "
            "model (reward.reward_model.enable without enable_resource_pool) scores only after it"
        )
    return problems


def step_group_metrics(
    keys: Sequence[str],
    partition_id: str,
    padding: Sequence[bool],
    step_metrics: Mapping[str, Any],
    filter_metric: str | None = None,
) -> dict[str, float]:
    """:func:`group_metrics` of the answers stored under ``keys`` in verl's TransferQueue (keys are
    ``<uid>_<session>_<index>``), padding rows left out, with what dynamic sampling (filtering on
    ``filter_metric``) dropped this step read from verl's own step metrics."""
    import transfer_queue as tq

    data = tq.kv_batch_get(
        keys=list(keys), partition_id=partition_id, select_fields=["rm_scores", "extra_fields"]
    )
    scores = [float(row.sum()) for row in data["rm_scores"].unbind(0)]
    extras = data.pop("extra_fields")  # a NonTensorStack: its items as they were stored
    extras = extras.tolist() if hasattr(extras, "tolist") else list(extras)
    answers = []
    for i, (key, score, extra) in enumerate(zip(keys, scores, extras, strict=True)):
        if i < len(padding) and padding[i]:
            continue
        info = extra.get("reward_extra_info") if isinstance(extra, dict) else None
        acc = info.get("acc") if isinstance(info, dict) else None
        answers.append((key.split("_")[0], score, None if acc is None else float(acc)))
    by_value = step_metrics.get(DAPO_COUNTS) or {}
    return group_metrics(
        answers,
        dropped=int(step_metrics.get(DAPO_EVICTED, 0) or sum(by_value.values())),
        dropped_by_value=by_value if filter_metric == "acc" else None,
        surplus=int(step_metrics.get(DAPO_SURPLUS, 0)),
    )
