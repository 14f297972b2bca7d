"""verl 0.9.1 entry point of the Compass-Verifier reward.

In the trainer config (the 0.9.1 keys; top-level ``custom_reward_function`` is silently ignored)::

    reward:
      custom_reward_function:
        path: <repo>/reward/compass_reward.py
        name: compute_score
        reward_kwargs:
          server_url: http://127.0.0.1:8765     # the reward server (scigen-rl serve-reward), or
          # verifier_urls: [http://host:8001/v1] # call the verifier from verl's reward workers
          # ... any other RewardConfig setting (mode, error_score, format_weight, ...)

The question is read from ``extra_info["question"]`` (the data builders put it there) and the
options of a multiple-choice question from ``extra_info["options"]``.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from reward.config import RewardConfig
from reward.judge import Item, Judge

KEYS = ("score", "acc", "format", "invalid", "verdict", "path", "error")
"""Returned for every answer, always all of them: verl stacks each key over the batch."""

_VERL_KWARGS = ("reward_router_address", "reward_model_tokenizer")  # verl adds these for its own GenRM
_judges: dict[tuple[int, str], Judge] = {}
_clients: dict[int, httpx.AsyncClient] = {}


async def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: dict[str, Any] | None = None,
    **reward_kwargs: Any,
) -> dict[str, Any]:
    """Score one response: 1.0 when the final answer is right (rule first, then the verifier).

    Args:
        data_source: the row's ``data_source`` (kept with the verdict).
        solution_str: the decoded response.
        ground_truth: ``reward_model["ground_truth"]`` of the row.
        extra_info: the row's ``extra_info``; ``question`` and ``options`` are read from it.
        **reward_kwargs: ``server_url`` (else ``$SCIGEN_REWARD_URL``) to use the reward server, or
            any :class:`~reward.config.RewardConfig` setting to judge here.

    Returns:
        ``{"score", "acc", "format", "invalid", "verdict", "path", "error"}``: the same keys every
        time. An answer that could not be judged has ``verdict: "error"``, the reason in ``error``
        and ``error_score`` as its score; this function never raises for it.

    >>> asyncio.run(compute_score("geo3k", "<think>...</think> x = \\\\boxed{48}", "48", {}, mode="rule_only"))
    {'score': 1.0, 'acc': 1.0, 'format': 1.0, 'invalid': 0.0, 'verdict': 'correct', 'path': 'rule', 'error': ''}
    """
    kwargs = {k: v for k, v in reward_kwargs.items() if k not in _VERL_KWARGS}
    info = extra_info or {}
    item = Item(
        question=str(info.get("question") or ""),
        ground_truth=str(ground_truth),
        response=solution_str,
        data_source=str(data_source),
        options=info.get("options"),
    )
    server_url = kwargs.pop("server_url", None) or os.environ.get("SCIGEN_REWARD_URL")
    if server_url:
        result = await _ask_server(server_url, item, float(kwargs.get("error_score", 0.0)))
    else:
        result = (await _local_judge(kwargs).judge(item)).to_dict()
    return {k: result[k] for k in KEYS}


async def _ask_server(url: str, item: Item, error_score: float) -> dict[str, Any]:
    loop_id = id(asyncio.get_running_loop())
    client = _clients.get(loop_id)
    if client is None:
        # The server bounds its own time per item; this only guards against it vanishing mid-call.
        client = _clients[loop_id] = httpx.AsyncClient(timeout=httpx.Timeout(600.0, connect=10.0))
    body = {"items": [{**item.__dict__}]}
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(4),
            wait=wait_exponential(multiplier=0.5, max=5),
            retry=retry_if_exception_type(httpx.TransportError),
            reraise=True,
        ):
            with attempt:
                response = await client.post(url.rstrip("/") + "/score", json=body)
        response.raise_for_status()
        result: dict[str, Any] = response.json()["results"][0]
        return result
    except (httpx.HTTPError, ValueError, KeyError, IndexError) as e:
        reason = f"reward server {url}: {type(e).__name__}: {e}"[:300]
        return {"score": error_score, "acc": 0.0, "format": 0.0, "invalid": 0.0, "verdict": "error",
                "path": "server", "error": reason}  # fmt: skip


def _local_judge(kwargs: dict[str, Any]) -> Judge:
    """One judge per event loop and setting (verl's reward workers each run one loop)."""
    key = (id(asyncio.get_running_loop()), json.dumps(kwargs, sort_keys=True, default=str))
    judge = _judges.get(key)
    if judge is None:
        judge = _judges[key] = Judge(RewardConfig.from_kwargs(kwargs))
    return judge
