"""An async chat client for any OpenAI-compatible endpoint: bounded, retried, cached, accounted."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

import openai
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from .cache import ResponseCache, request_key
from .config import LLMConfig

_RETRY_STATUS = {408, 409, 429}
_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


def image_part(png: bytes, mime: str = "image/png") -> dict[str, Any]:
    """A message content part carrying an image inline (the form vLLM, Gemini and OpenAI all accept).

    >>> image_part(b"\\x89PNG")["image_url"]["url"]
    'data:image/png;base64,iVBORw=='
    """
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{base64.b64encode(png).decode()}"}}


@dataclass
class ChatResult:
    """One call's outcome; a failed call has ``text=None`` and the reason in ``error`` (never an exception)."""

    text: str | None
    error: str | None = None
    finish_reason: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    cached: bool = False
    attempts: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class UsageStats:
    """Totals over a client's life: what a run cost and how the endpoint behaved."""

    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


def _retryable(error: BaseException) -> bool:
    if isinstance(error, openai.APIConnectionError):  # includes time-outs
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code in _RETRY_STATUS or error.status_code >= 500
    return False


def _root_oserror(error: BaseException) -> OSError | None:
    seen = 0
    cause: BaseException | None = error
    while cause is not None and seen < 10:
        if isinstance(cause, OSError) and not isinstance(cause, TimeoutError):
            return cause
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    return None


def _describe(error: BaseException) -> str:
    if isinstance(error, openai.APITimeoutError):
        # The SDK's aiohttp transport reports a refused connection as a connect time-out.
        refused = _root_oserror(error)
        return f"connection error: {refused}"[:300] if refused is not None else "timeout"
    if isinstance(error, openai.APIStatusError):
        return f"HTTP {error.status_code}: {str(error)[:300]}"
    if isinstance(error, openai.APIConnectionError):
        return f"connection error: {error.__cause__ or error}"[:300]
    return f"{type(error).__name__}: {error}"[:300]


class CachedChat:
    """What every chat backend shares: the request body, the response cache, the usage totals."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self.cache = ResponseCache(config.cache_dir) if config.cache_dir else None
        self.stats = UsageStats()

    def payload(self, messages: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
        """The exact request body (also what the cache key is computed from)."""
        cfg = self.config
        body: dict[str, Any] = {"model": cfg.model, "messages": messages, "temperature": cfg.temperature}
        if cfg.top_p is not None:
            body["top_p"] = cfg.top_p
        if cfg.max_tokens is not None:
            body["max_tokens"] = cfg.max_tokens
        body.update(cfg.extra_body)
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not None}

    async def chat(self, messages: list[dict[str, Any]], *, attempt: int = 0, **overrides: Any) -> ChatResult:
        """One completion (from the cache when this exact request was answered before).

        ``attempt`` > 0 asks the same request again as a new sample: it is sent unchanged but cached
        apart, so a caller that re-asks after an unusable reply gets the same sequence of replies on a
        re-run."""
        body = self.payload(messages, **overrides)
        key = request_key({**body, "_attempt": attempt} if attempt else body)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            self.stats.cache_hits += 1
            return ChatResult(hit["text"], None, hit.get("finish_reason"), hit.get("usage", {}), cached=True)
        started = time.monotonic()
        result = await self._complete(body)
        result.seconds = time.monotonic() - started
        self.stats.retries += max(0, result.attempts - 1)
        if not result.ok:
            self.stats.errors += 1
            return result
        self.stats.prompt_tokens += result.usage.get("prompt_tokens", 0)
        self.stats.completion_tokens += result.usage.get("completion_tokens", 0)
        if self.cache is not None:
            # The write ends in an fsync: on the event loop it would hold up every call waiting to go out.
            entry = {"text": result.text, "finish_reason": result.finish_reason, "usage": result.usage}
            await asyncio.to_thread(self.cache.put, key, entry)
        return result

    async def _complete(self, body: dict[str, Any]) -> ChatResult:
        raise NotImplementedError

    async def close(self) -> None:
        return None


class ChatClient(CachedChat):
    """Chat completions over HTTP with bounded concurrency, retries with backoff, and a response cache.

    >>> client = ChatClient(LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", max_retries=0))
    >>> client.payload([{"role": "user", "content": "hi"}], max_tokens=8)["max_tokens"]
    8
    """

    def __init__(self, config: LLMConfig) -> None:
        super().__init__(config)
        key = None
        if config.api_key_env:
            key = os.environ.get(config.api_key_env)
            if not key:
                raise ValueError(
                    f"LLMConfig.api_key_env: the environment variable {config.api_key_env} is not set"
                )
        # The SDK's aiohttp transport: with dozens of requests in flight it keeps up where its
        # default (httpx) connection pool spends milliseconds per request choosing a connection.
        self._client = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=key or "EMPTY",
            timeout=config.timeout_s,
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(),
        )
        self._semaphore: asyncio.Semaphore | None = None

    async def _complete(self, body: dict[str, Any]) -> ChatResult:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.config.concurrency)
        attempts = 0
        async with self._semaphore:
            try:
                async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(self.config.max_retries + 1),
                    wait=wait_exponential_jitter(
                        multiplier=self.config.backoff_s,
                        max=self.config.backoff_max_s,
                        jitter=self.config.backoff_s,
                    ),
                    retry=retry_if_exception(_retryable),
                    reraise=True,
                ):
                    with attempt:
                        attempts += 1
                        self.stats.requests += 1
                        # The SDK's plain POST (its documented way to send a body as is): the same
                        # auth, time-outs and status errors as `chat.completions.create`, without
                        # re-walking every message to type-check it and building a pydantic object
                        # from the answer, which at 32 calls in flight cost milliseconds per call
                        # on the event loop and delayed the next requests.
                        raw = await self._client.post("/chat/completions", body=body, cast_to=bytes)
            except Exception as e:  # noqa: BLE001 - a failed call is recorded on its item, never raised
                return ChatResult(None, _describe(e), attempts=attempts)
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
            usage = {k: v for k, v in (data.get("usage") or {}).items() if k in _USAGE_KEYS}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
            return ChatResult(
                None, f"malformed response ({type(e).__name__}: {e}): {raw[:200]!r}", attempts=attempts
            )
        return ChatResult(text, None, choice.get("finish_reason"), usage, attempts=attempts)

    async def close(self) -> None:
        await self._client.close()
