"""verl's rate-limited reward manager, made to stop a run that is learning from zeros.

verl 0.9.1's ``rate_limited`` manager scores 0.0 for an answer whose reward raised or timed out, and
goes on: a dead verifier or reward server then looks, on the reward curve, like a model that learns
nothing. This manager keeps verl's bounding (``max_concurrent``, ``max_rpm``, ``max_tpm``,
``timeout``) and counts, over the last ``unscored_window`` answers of its reward worker, those that
could not be scored: ``unscored`` (the reward function's own flag), a time-out or an exception
caught by verl. Past ``max_unscored_frac`` of a full window it raises :class:`RewardHalted`, which
ends the training step and the run with a message saying what failed. The window's default (640)
is five GRPO steps of the recipe (128 prompts x 8 rollouts over 8 reward workers).

In the trainer config::

    reward:
      reward_manager:
        source: importlib
        name: GuardedRewardManager
        module: {path: pkg://reward.guarded_manager}
      max_unscored_frac: 0.05
      unscored_window: 640
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from verl.experimental.reward_loop.reward_manager.limited import RateLimitedRewardManager

log = logging.getLogger(__name__)


class RewardHalted(RuntimeError):
    """Too many answers in a row could not be scored: training on them would learn from zeros."""


class UnscoredGuard:
    """The share of unscored answers among the last ``window``; raises past ``max_frac``.

    >>> guard = UnscoredGuard(max_frac=0.25, window=4)
    >>> for unscored in (True, False, False, False, True): guard.record(unscored)
    >>> guard.share
    0.25
    >>> guard.record(True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    reward.guarded_manager.RewardHalted: 2 of the last 4 answers could not be scored (50%, limit 25%); ...
    """

    def __init__(self, max_frac: float = 0.05, window: int = 640) -> None:
        if not 0.0 <= max_frac < 1.0:
            raise ValueError(f"reward.max_unscored_frac: must be in [0, 1), got {max_frac}")
        if window < 1:
            raise ValueError(f"reward.unscored_window: must be >= 1, got {window}")
        self.max_frac, self.window = max_frac, window
        self.recent: deque[bool] = deque(maxlen=window)
        self.total = self.unscored = 0

    @property
    def share(self) -> float:
        return sum(self.recent) / len(self.recent) if self.recent else 0.0

    def record(self, unscored: bool, reason: str = "") -> None:
        self.recent.append(unscored)
        self.total += 1
        self.unscored += unscored
        if unscored and (self.unscored in (1, 10, 100) or self.unscored % 1000 == 0):
            log.warning(
                "reward: %d of %d answers unscored so far (last: %s)", self.unscored, self.total, reason
            )
        if len(self.recent) == self.window and self.share > self.max_frac:
            count = sum(self.recent)
            raise RewardHalted(
                f"{count} of the last {self.window} answers could not be scored ({self.share:.0%}, limit "
                f"{self.max_frac:.0%}); last reason: {reason or 'unknown'}. The verifier or the reward "
                "server is failing: training stopped rather than learn from zeros (reward.max_unscored_frac, "
                "reward.unscored_window)"
            )


def is_unscored(info: dict[str, Any]) -> bool:
    """Whether an answer's ``reward_extra_info`` says it could not be scored: the reward function's own
    ``unscored`` flag, verl's time-out, or an exception verl caught (it scores those 0.0).

    >>> is_unscored({"unscored": 0.0, "fallback": 1.0}), is_unscored({"error": "boom"})
    (False, True)
    """
    raised = "error" in info and "unscored" not in info
    return bool(info.get("unscored")) or bool(info.get("timeout")) or raised


class GuardedRewardManager(RateLimitedRewardManager):
    """``rate_limited`` with an :class:`UnscoredGuard` over what it scores."""

    def __init__(self, config: Any, tokenizer: Any, compute_score: Any = None, **kwargs: Any) -> None:
        super().__init__(config, tokenizer, compute_score, **kwargs)
        self.guard = UnscoredGuard(
            float(config.reward.get("max_unscored_frac", 0.05)),
            int(config.reward.get("unscored_window", 640)),
        )

    async def run_single(self, data: Any) -> dict[str, Any]:
        out: dict[str, Any] = await super().run_single(data)
        info = out.get("reward_extra_info") or {}
        reason = str(info.get("error") or ("timed out" if info.get("timeout") else ""))
        self.guard.record(is_unscored(info), reason)
        return out
