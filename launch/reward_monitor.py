"""The verifier's verdict rates in W&B during training.

verl logs the reward's extra keys only for validation; the reward server counts every verdict of
every training step. This monitor reads its ``/metrics`` at an interval and logs, per interval, the
share of each verdict and of the rule path to a W&B run of the training run's group
(``<experiment>-reward``), so the curves sit beside the training run's.
"""

from __future__ import annotations

import os
import threading
import urllib.request
from collections import Counter
from typing import Any

from reward.config import TOKEN_ENV

VERDICTS = ("correct", "incorrect", "invalid", "unparsed", "error")


def counts(metrics_text: str) -> Counter[str]:
    """Cumulative answers by ``verdict:<v>`` and ``path:<p>``, from the server's Prometheus text."""
    from prometheus_client.parser import text_string_to_metric_families

    out: Counter[str] = Counter()
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "reward_items_total":
                out[f"verdict:{sample.labels['verdict']}"] += int(sample.value)
                out[f"path:{sample.labels['path']}"] += int(sample.value)
    return out


def rates(now: Counter[str], before: Counter[str]) -> dict[str, float]:
    """Shares of the answers judged between two readings (empty when none were).

    >>> rates(Counter({"verdict:correct": 30, "verdict:error": 10, "path:rule": 20, "path:verifier": 20}), Counter())
    {'reward_server/answers': 40.0, 'reward_server/verdict/correct': 0.75, 'reward_server/verdict/incorrect': 0.0, 'reward_server/verdict/invalid': 0.0, 'reward_server/verdict/unparsed': 0.0, 'reward_server/verdict/error': 0.25, 'reward_server/rule_share': 0.5}
    """
    delta = {k: now[k] - before.get(k, 0) for k in now}
    total = sum(v for k, v in delta.items() if k.startswith("verdict:"))
    if total <= 0:
        return {}
    out = {"reward_server/answers": float(total)}
    out.update({f"reward_server/verdict/{v}": delta.get(f"verdict:{v}", 0) / total for v in VERDICTS})
    out["reward_server/rule_share"] = delta.get("path:rule", 0) / total
    return out


class RewardMonitor:
    """A background thread: every ``interval_s`` seconds, the last interval's rates to ``log(dict)``."""

    def __init__(self, metrics_url: str, log: Any, interval_s: float = 60.0) -> None:
        self.url, self.log, self.interval_s = metrics_url, log, interval_s
        self._stop = threading.Event()
        self._before: Counter[str] = Counter()
        self._thread = threading.Thread(target=self._run, name="reward-monitor", daemon=True)

    def poll(self) -> dict[str, float]:
        try:
            token = os.environ.get(TOKEN_ENV)
            request = urllib.request.Request(
                self.url, headers={"Authorization": f"Bearer {token}"} if token else {}
            )
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own server
                now = counts(response.read().decode())
        except OSError:
            return {}  # the server restarting is not the training run's problem
        result = rates(now, self._before)
        self._before = now
        if result:
            self.log(result)
        return result

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.poll()

    def __enter__(self) -> RewardMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.poll()  # the last, partial interval


def wandb_logger(project: str, name: str, group: str | None, tags: list[str]) -> tuple[Any, Any]:
    """(log, finish) of a W&B run for the monitor (honours WANDB_MODE=offline)."""
    import wandb

    run = wandb.init(
        project=project, name=name, group=group, tags=tags, job_type="reward-server", reinit="create_new"
    )
    return run.log, run.finish
