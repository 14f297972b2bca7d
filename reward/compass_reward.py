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

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from reward.config import TOKEN_ENV, RewardConfig
from reward.judge import UNJUDGED, Item, Judge
from reward.rules import decide_by_rule, has_boxed

KEYS = ("score", "acc", "format", "invalid", "unscored", "fallback", "verdict", "path", "error")
"""Returned for every answer, always all of them: verl stacks each key over the batch. ``unscored`` is
1.0 for an answer nobody could judge (its score is ``error_score`` and means nothing), ``fallback``
1.0 for one the rule judged because the reward server could not be reached."""

SERVER_RETRY_S = 60.0
"""How long a batch the reward server cannot take is sent again (with backoff) before the rule judges it."""
BATCH_WINDOW_S = 0.005
"""Answers arriving within this long of a batch's first answer go in the same ``POST /score``."""
BATCH_MAX_ITEMS = 256
"""The most answers one ``POST /score`` carries."""
SERVER_TIMEOUT_S = 900.0
"""One request's whole time: the server bounds its own time per answer, this only guards against it vanishing."""
CONNECT_TIMEOUT_S = 10.0
"""Connecting to the reward server (a refused connection fails at once and is retried)."""
RETRY_BACKOFF_S, RETRY_BACKOFF_MAX_S = 0.5, 10.0
"""The first wait before sending a batch again, doubled each time up to the second."""
MAX_BODY_CHARS, MAX_REASON_CHARS = 200, 300
"""How much of a refusing server's answer an error quotes, and how long a fallback's reason may be."""

_VERL_KWARGS = ("reward_router_address", "reward_model_tokenizer")  # verl adds these for its own GenRM
_judges: dict[tuple[int, str], Judge] = {}
_batchers: dict[tuple[int, str], _ServerBatcher] = {}


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
        ``{"score", "acc", "format", "invalid", "unscored", "fallback", "verdict", "path", "error"}``:
        the same keys every time. When the reward server cannot be reached (after retrying with
        backoff for ``server_retry_s``, default 60 s), the rule judges what it can (``fallback: 1.0``,
        path ``rule_fallback``); an answer nobody could judge has ``unscored: 1.0``, ``verdict:
        "error"``, the reason in ``error`` and ``error_score`` as its score. This function never raises
        for it: :mod:`reward.guarded_manager` counts the unscored share and stops the run past a limit.

    >>> asyncio.run(compute_score("geo3k", "<think>...</think> x = \\\\boxed{48}", "48", {}, mode="rule_only"))["verdict"]
    'correct'
    """
    kwargs = {k: v for k, v in reward_kwargs.items() if k not in _VERL_KWARGS}
    info = extra_info or {}
    item = Item(
        question=str(info.get("question") or ""),
        ground_truth=str(ground_truth),
        response=solution_str,
        data_source=str(data_source),
        options=_plain(info.get("options")),
    )
    server_url = kwargs.pop("server_url", None) or os.environ.get("SCIGEN_REWARD_URL")
    retry_s = float(kwargs.pop("server_retry_s", SERVER_RETRY_S))
    if server_url:
        scoring = (float(kwargs.get("error_score", 0.0)), float(kwargs.get("format_weight", 0.0)))
        result = await _ask_server(server_url, item, scoring, retry_s)
    else:
        result = (await _local_judge(kwargs).judge(item)).to_dict()
    result.setdefault("unscored", float(result.get("verdict") in UNJUDGED))
    result.setdefault("fallback", 0.0)
    return {k: result[k] for k in KEYS}


class _ServerUnavailable(Exception):
    """A 5xx answer: the server is there but failing (restarting, overloaded); worth another try."""


async def _rule_fallback(
    item: dict[str, Any], error_score: float, format_weight: float, reason: str
) -> dict[str, Any]:
    """The rule's verdict on an answer the reward server could not judge, or an unscored error."""
    verdict = await decide_by_rule(item["response"], item["ground_truth"], item.get("options"))
    boxed = float(has_boxed(item["response"]))
    unjudged = verdict is None
    acc = float(verdict == "correct")
    base = error_score if unjudged else acc  # an unjudged answer is scored as the judge scores one
    return {"score": (1 - format_weight) * base + format_weight * boxed, "acc": acc, "format": boxed,
            "invalid": 0.0, "unscored": float(unjudged), "fallback": float(not unjudged),
            "verdict": "error" if unjudged else verdict, "path": "server" if unjudged else "rule_fallback",
            "error": reason}  # fmt: skip


def _plain(value: Any) -> Any:
    """JSON-ready: verl hands parquet lists over as numpy arrays (and numbers as numpy scalars).

    >>> import numpy as np
    >>> _plain({"A": np.int64(3), "opts": np.array(["x", "y"], dtype=object)})
    {'A': 3, 'opts': ['x', 'y']}
    """
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class _ServerBatcher:
    """Gathers the answers one event loop scores at about the same time into one ``POST /score``.

    verl calls ``compute_score`` once per answer, all of a step's answers at once: a thousand small
    requests cost the server more than judging the answers that the rule decides. Answers arriving
    within ``window_s`` of the first go together (at most ``max_items``). A batch the server cannot
    take (refused connection, time-out, 5xx) is sent again with backoff for ``retry_s`` seconds, then
    judged by the rule where it can.
    """

    def __init__(
        self,
        url: str,
        retry_s: float = SERVER_RETRY_S,
        window_s: float = BATCH_WINDOW_S,
        max_items: int = BATCH_MAX_ITEMS,
    ) -> None:
        self.url = url.rstrip("/") + "/score"
        self.retry_s, self.window_s, self.max_items = retry_s, window_s, max_items
        # aiohttp rather than httpx: with a thousand requests in flight httpx's pool spent ~25 ms
        # per request here, aiohttp ~1.5 ms.
        token = os.environ.get(TOKEN_ENV)  # the run's token, set for verl's workers by `scigen-rl train`
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=SERVER_TIMEOUT_S, sock_connect=CONNECT_TIMEOUT_S),
            headers={"Authorization": f"Bearer {token}"} if token else None,
        )
        self.pending: list[tuple[dict[str, Any], asyncio.Future[dict[str, Any]]]] = []
        self.timer: asyncio.TimerHandle | None = None
        self.sending: set[asyncio.Task[None]] = set()

    async def score(self, item: dict[str, Any], scoring: tuple[float, float]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self.pending.append(({**item, "_scoring": scoring}, future))
        if len(self.pending) >= self.max_items:
            self._flush()
        elif self.timer is None:
            self.timer = loop.call_later(self.window_s, self._flush)
        return await future

    def _flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self.sending.add(task)
            task.add_done_callback(self.sending.discard)

    async def _post(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(self.retry_s),
            wait=wait_exponential(multiplier=RETRY_BACKOFF_S, max=RETRY_BACKOFF_MAX_S),
            retry=retry_if_exception_type(
                (aiohttp.ClientConnectionError, asyncio.TimeoutError, _ServerUnavailable)
            ),
            reraise=True,
        ):
            with attempt:
                async with self.session.post(self.url, json=body) as response:
                    if response.status >= 500:
                        raise _ServerUnavailable(
                            f"HTTP {response.status}: {(await response.text())[:MAX_BODY_CHARS]}"
                        )
                    if response.status != 200:
                        raise ValueError(
                            f"HTTP {response.status}: {(await response.text())[:MAX_BODY_CHARS]}"
                        )
                    results: list[dict[str, Any]] = (await response.json())["results"]
                    return results
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _send(self, batch: list[tuple[dict[str, Any], asyncio.Future[dict[str, Any]]]]) -> None:
        try:
            results = await self._results(batch)
        except BaseException as e:
            # Whatever went wrong, every answer of the batch hears of it: a caller left waiting on a
            # future nobody resolves would hang the training step instead of failing it.
            for _, future in batch:
                if not future.done():
                    future.cancel() if isinstance(e, asyncio.CancelledError) else future.set_exception(e)
            raise
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _results(
        self, batch: list[tuple[dict[str, Any], asyncio.Future[dict[str, Any]]]]
    ) -> list[dict[str, Any]]:
        body = {"items": [{k: v for k, v in item.items() if k != "_scoring"} for item, _ in batch]}
        try:
            results = await self._post(body)
            if len(results) != len(batch):
                raise ValueError(f"{len(results)} results for {len(batch)} answers")
        except (
            aiohttp.ClientError,
            asyncio.TimeoutError,
            _ServerUnavailable,
            ValueError,
            KeyError,
            TypeError,
        ) as e:
            reason = f"reward server {self.url}: {type(e).__name__}: {e}"[:MAX_REASON_CHARS]
            results = [
                await _rule_fallback(item, item["_scoring"][0], item["_scoring"][1], reason)
                for item, _ in batch
            ]
        return results

    async def close(self) -> None:
        self._flush()
        if self.sending:
            await asyncio.gather(*self.sending, return_exceptions=True)
        await self.session.close()


async def _ask_server(url: str, item: Item, scoring: tuple[float, float], retry_s: float) -> dict[str, Any]:
    key = (id(asyncio.get_running_loop()), url)
    batcher = _batchers.get(key)
    if batcher is None:
        batcher = _batchers[key] = _ServerBatcher(url, retry_s)
    return await batcher.score(dict(item.__dict__), scoring)


async def close() -> None:
    """Close this event loop's connections and judges (call before the loop ends, e.g. at the end of
    ``asyncio.run``; verl's reward workers keep theirs for the life of the process)."""
    loop_id = id(asyncio.get_running_loop())
    for key in [k for k in _batchers if k[0] == loop_id]:
        await _batchers.pop(key).close()
    for key in [k for k in _judges if k[0] == loop_id]:
        await _judges.pop(key).close()


def _local_judge(kwargs: dict[str, Any]) -> Judge:
    """One judge per event loop and setting (verl's reward workers each run one loop)."""
    key = (id(asyncio.get_running_loop()), json.dumps(kwargs, sort_keys=True, default=str))
    judge = _judges.get(key)
    if judge is None:
        judge = _judges[key] = Judge(RewardConfig.from_kwargs(kwargs))
    return judge
