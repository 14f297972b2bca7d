"""The judging engine behind the reward server and the verl entry point: rule first, verifier second,
cached, bounded, and never silent about what it could not judge."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import multiprocessing
import re
import time
from collections import OrderedDict
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from scigen_rl.llm import ChatClient, LLMConfig

from .config import RewardConfig
from .rules import RuleUnavailable, decide_by_rule, has_boxed
from .verifier_prompt import VERDICTS, answer_segment, parse_verdict, verifier_messages

logger = logging.getLogger("scigen_rl.reward")


UNJUDGED = ("error", "unparsed")
"""Verdicts that say nothing about the answer: it scores ``error_score`` and counts as unscored."""


@dataclass
class Item:
    """One answer to judge."""

    question: str
    ground_truth: str
    response: str
    data_source: str = ""
    options: Any = None
    """Multiple-choice options (a list in letter order or a mapping letter -> text), if any."""

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "item") -> Item:
        for name in ("question", "ground_truth", "response"):
            if not isinstance(d.get(name), str):
                raise ValueError(
                    f"{where}: field {name!r} must be a string, got {type(d.get(name)).__name__}"
                )
        return cls(
            d["question"], d["ground_truth"], d["response"], str(d.get("data_source") or ""), d.get("options")
        )


@dataclass
class Judgment:
    """The verdict on one answer. ``verdict``: correct, incorrect, invalid (the verifier's C),
    unparsed (the verifier said something else) or error (it could not be asked); ``path``: rule or
    verifier."""

    score: float
    acc: float
    format: float
    invalid: float
    verdict: str
    path: str
    error: str
    latency_ms: float
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class JudgeMetrics:
    """Prometheus series of one judge (its own registry, so several judges never collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.items = Counter("reward_items", "Answers judged", ["verdict", "path"], registry=self.registry)
        self.rule_hits = Counter("reward_rule_hits", "Answers the rule decided", registry=self.registry)
        self.cache_hits = Counter(
            "reward_cache_hits", "Verdicts served from the cache", registry=self.registry
        )
        self.errors = Counter(
            "reward_errors", "Answers that could not be judged", ["reason"], registry=self.registry
        )
        self.verifier_latency = Histogram(
            "reward_verifier_latency_seconds",
            "Verifier request latency (retries included)",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "reward_verifier_in_flight", "Verifier requests in flight", ["endpoint"], registry=self.registry
        )


def _reason(verdict: str, error: str) -> str:
    """A short, bounded label for the metrics (the full error stays on the judgment)."""
    if verdict == "unparsed":
        return "unparsed"
    for needle, label in (
        ("timeout", "timeout"),
        ("no verdict within", "timeout"),
        ("connection", "connection"),
    ):
        if needle in error:
            return label
    match = re.search(r"HTTP (\d)\d\d", error)
    return f"http_{match.group(1)}xx" if match else "other"


def _init_rule_process() -> None:
    import math_verify  # noqa: F401 - paid once per process, not on the first answer


class Judge:
    """Judges answers; one instance per event loop (its HTTP clients belong to that loop)."""

    def __init__(self, config: RewardConfig, metrics: JudgeMetrics | None = None) -> None:
        self.config = config
        self.metrics = metrics or JudgeMetrics()
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._endpoints = [
            ChatClient(
                LLMConfig(
                    base_url=url,
                    model=config.verifier_model,
                    api_key_env=config.verifier_api_key_env,
                    temperature=0.0,
                    max_tokens=config.max_tokens,
                    concurrency=config.max_in_flight,
                    timeout_s=config.verifier_timeout_s,
                    max_retries=config.verifier_retries,
                    backoff_s=0.5,
                    backoff_max_s=8.0,
                    cache_dir=None,  # verdicts are cached here, by content
                )
            )
            for url in (config.verifier_urls if config.mode != "rule_only" else [])
        ]
        self.in_flight = [0] * len(self._endpoints)
        """Verifier requests in flight per endpoint (the least busy one takes the next)."""
        self._unjudged, self._last_log = 0, -1e9
        self._turn = 0
        self._rule_pool: Executor | None = None
        if config.rule_workers > 0:
            self._rule_pool = ProcessPoolExecutor(
                config.rule_workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_rule_process,
            )

    async def judge_many(self, items: list[Item]) -> list[Judgment]:
        return list(await asyncio.gather(*(self.judge(item) for item in items)))

    async def judge(self, item: Item) -> Judgment:
        started = time.monotonic()
        boxed = 1.0 if has_boxed(item.response) else 0.0
        try:
            verdict, path, error, cached = await asyncio.wait_for(
                self._decide(item), timeout=self.config.item_timeout_s
            )
        except asyncio.TimeoutError:
            verdict, path, error, cached = (
                "error",
                "verifier",
                f"no verdict within {self.config.item_timeout_s:g} s",
                False,
            )
        if verdict in UNJUDGED:
            self.metrics.errors.labels(reason=_reason(verdict, error)).inc()
            self._log_error(verdict, error)
        self.metrics.items.labels(verdict=verdict, path=path).inc()
        correct = 1.0 if verdict == "correct" else 0.0
        base = self.config.error_score if verdict in UNJUDGED else correct
        w = self.config.format_weight
        return Judgment(
            score=(1 - w) * base + w * boxed,
            acc=correct,
            format=boxed,
            invalid=1.0 if verdict == "invalid" else 0.0,
            verdict=verdict,
            path=path,
            error=error,
            latency_ms=round((time.monotonic() - started) * 1000, 2),
            cached=cached,
        )

    def _log_error(self, verdict: str, error: str) -> None:
        """Unjudged answers are logged, at most one line per 10 s (a dead verifier would otherwise
        write a line per rollout), with the count so far and the latest reason."""
        self._unjudged += 1
        now = time.monotonic()
        if now - self._last_log >= 10.0:
            self._last_log = now
            logger.warning(
                "%d answers could not be judged so far (scored %g each); latest: %s: %s",
                self._unjudged, self.config.error_score, verdict, error[:200],
            )  # fmt: skip

    def _key(self, item: Item) -> str:
        content = [
            self.config.mode,
            self.config.verifier_model,
            item.question,
            item.ground_truth,
            item.options,
            item.response.rsplit("</think>", 1)[-1],
        ]
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()

    async def _decide(self, item: Item) -> tuple[str, str, str, bool]:
        """(verdict, path, error, cached)."""
        key = self._key(item)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            self.metrics.cache_hits.inc()
            verdict, path = hit.split("/")
            return verdict, path, "", True
        if self.config.mode != "verifier_only":
            try:
                ruled = await self._rule(item)
            except RuleUnavailable as e:
                return "error", "rule", str(e), False
            if ruled is not None:
                self.metrics.rule_hits.inc()
                self._remember(key, ruled, "rule")
                return ruled, "rule", "", False
            if self.config.mode == "rule_only":
                self._remember(key, "incorrect", "rule")
                return "incorrect", "rule", "", False
        verdict, error = await self._verify(item)
        if verdict in VERDICTS.values():
            self._remember(key, verdict, "verifier")
        return verdict, "verifier", error, False

    def _remember(self, key: str, verdict: str, path: str) -> None:
        self._cache[key] = f"{verdict}/{path}"
        if len(self._cache) > self.config.cache_size:
            self._cache.popitem(last=False)

    async def _rule(self, item: Item) -> str | None:
        return await decide_by_rule(
            item.response, item.ground_truth, item.options, self.config.rule_timeout_s, self._rule_pool
        )

    def _pick_endpoint(self) -> int:
        """The endpoint with the fewest requests in flight; ties taken in turn."""
        n = len(self._endpoints)
        order = [(self._turn + i) % n for i in range(n)]
        self._turn = (self._turn + 1) % n
        return min(order, key=lambda i: self.in_flight[i])

    async def _verify(self, item: Item) -> tuple[str, str]:
        """(verdict, error) from the verifier: correct/incorrect/invalid, unparsed or error."""
        i = self._pick_endpoint()
        client = self._endpoints[i]
        segment = answer_segment(item.response, self.config.answer_tail_chars)
        messages = verifier_messages(item.question, item.ground_truth, segment, item.options)
        gauge = self.metrics.in_flight.labels(endpoint=client.config.base_url)
        self.in_flight[i] += 1
        gauge.inc()
        try:
            result = await client.chat(messages)
        finally:
            self.in_flight[i] -= 1
            gauge.dec()
        self.metrics.verifier_latency.observe(result.seconds)
        if not result.ok:
            return "error", f"verifier {client.config.base_url}: {result.error}"
        letter = parse_verdict(result.text)
        if letter is None:
            return "unparsed", f"unparsed verifier output: {(result.text or '')[:80]!r}"
        return VERDICTS[letter], ""

    def endpoint_urls(self) -> list[str]:
        return [c.config.base_url for c in self._endpoints]

    async def close(self) -> None:
        for client in self._endpoints:
            await client.close()
        if self._rule_pool is not None:
            self._rule_pool.shutdown(wait=False, cancel_futures=True)
