"""OpenAI Images (``POST {base_url}/images/generations``): OpenAI's GPT image models, and the gateways
that speak the same API (hosted Qwen-Image, Seedream, ...), which may answer with a URL instead."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import time
from typing import Any
from urllib.parse import urlparse

import httpx
import openai

from ..llm.cache import request_key
from .base import BAD_IMAGE, BLOCKED, REFUSED, ImageCache, ImageResult, image_problem
from .config import T2IConfig

MODERATION_CODES = ("moderation_blocked", "content_policy_violation", "content_filter", "safety_violation")
"""Error codes with which an image API refuses a prompt (a 400 that asking again will not change)."""


class OpenAIImages:
    """One model behind an OpenAI-compatible Images endpoint, cached by request, at most
    ``config.concurrency`` requests at once, each retried by the SDK (``Retry-After`` honoured)."""

    def __init__(
        self, model: str, base_url: str, config: T2IConfig, cache_dir: str | None = None, seeded: bool = False
    ) -> None:
        key_env = config.api_key_env or "OPENAI_API_KEY"
        key = os.environ.get(key_env)
        if not key:
            raise ValueError(f"the API key of {base_url}: the environment variable {key_env} is not set")
        self.model, self.base_url, self.config, self.seeded = model, base_url.rstrip("/"), config, seeded
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url, api_key=key, timeout=config.timeout_s, max_retries=config.max_retries
        )
        self._download = httpx.AsyncClient(timeout=config.timeout_s, follow_redirects=True)
        self._gate: asyncio.Semaphore | None = None
        self.cache = ImageCache(cache_dir) if cache_dir else None

    def body(self, prompt: str) -> dict[str, Any]:
        """The exact request body (also what the cache key is computed from, with the URL)."""
        body: dict[str, Any] = {"model": self.model, "prompt": prompt, "n": 1}
        if self.config.size:
            body["size"] = self.config.size
        if self.config.quality:
            body["quality"] = self.config.quality
        if self.seeded and self.config.seed is not None:
            body["seed"] = self.config.seed
        body.update(self.config.extra_body)
        return body

    async def generate(self, prompt: str) -> ImageResult:
        """The image for ``prompt``; never raises for what the API or the network does."""
        body = self.body(prompt)
        key = request_key({"url": self.base_url, **body})
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return hit
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.config.concurrency)
        started = time.monotonic()
        async with self._gate:
            result = await self._ask(body)
        result.seconds = time.monotonic() - started
        if self.cache is not None and not result.transient:
            await asyncio.to_thread(self.cache.put, key, result)
        return result

    async def _ask(self, body: dict[str, Any]) -> ImageResult:
        try:
            raw = await self._client.post("/images/generations", body=body, cast_to=bytes)
        except openai.APIError as e:
            failure, error = _classified(e)
            return ImageResult(None, failure, error)
        try:
            data = json.loads(raw)
            items = data.get("data")
            if not isinstance(items, list):
                raise ValueError("no data list")
        except ValueError as e:
            return ImageResult(None, "api_error", f"malformed response ({e}): {raw[:200]!r}")
        response: dict[str, Any] = {k: data[k] for k in ("created", "usage") if k in data}
        if not items or not isinstance(items[0], dict):
            return ImageResult(None, BLOCKED, "the response held no image", response)
        item = items[0]
        if isinstance(item.get("revised_prompt"), str):
            response["revised_prompt"] = item["revised_prompt"][:2000]
        image, why, detail = await self._image_of(item)
        if image is None:
            return ImageResult(None, why, detail, response)
        problem = image_problem(image, self.config.max_pixels)
        if problem:
            return ImageResult(None, BAD_IMAGE, problem, response)
        return ImageResult(image, response=response)

    async def _image_of(self, item: dict[str, Any]) -> tuple[bytes | None, str | None, str | None]:
        """The image's bytes from ``b64_json`` or, downloaded at once (signed URLs expire), ``url``."""
        cap = self.config.max_image_mb << 20
        if isinstance(item.get("b64_json"), str):
            encoded = item["b64_json"]
            if len(encoded) * 3 // 4 > cap:
                return None, BAD_IMAGE, f"the image is over {self.config.max_image_mb} MB"
            try:
                return base64.b64decode(encoded, validate=True), None, None
            except (binascii.Error, ValueError) as e:
                return None, BAD_IMAGE, f"b64_json is not base64 ({e})"
        url = item.get("url")
        if not isinstance(url, str) or urlparse(url).scheme not in ("http", "https"):
            return None, BAD_IMAGE, "the response item has neither b64_json nor an http(s) url"
        try:
            async with self._download.stream("GET", url) as reply:
                if reply.status_code != 200:
                    return None, "api_error", f"downloading the image: HTTP {reply.status_code}"
                chunks, size = [], 0
                async for chunk in reply.aiter_bytes():
                    size += len(chunk)
                    if size > cap:
                        return None, BAD_IMAGE, f"the image at its URL is over {self.config.max_image_mb} MB"
                    chunks.append(chunk)
        except httpx.TimeoutException:
            return None, "timeout", "downloading the image timed out"
        except httpx.HTTPError as e:
            return None, "connection", f"downloading the image: {type(e).__name__}: {e}"
        return b"".join(chunks), None, None

    async def close(self) -> None:
        await self._client.close()
        await self._download.aclose()


def _classified(e: openai.APIError) -> tuple[str, str]:
    """(failure class, one-line reason) of a call that failed after the SDK's retries."""
    if isinstance(e, openai.APITimeoutError):
        return "timeout", "the request timed out"
    if isinstance(e, openai.APIConnectionError):
        return "connection", f"connection error: {e}"
    if isinstance(e, openai.RateLimitError):
        return "rate_limited", f"HTTP 429 after retries: {_message(e)}"
    if isinstance(e, openai.APIStatusError):
        body = e.body if isinstance(e.body, dict) else {}
        text = _message(e)
        if e.status_code == 400 and (body.get("code") in MODERATION_CODES or "safety" in text.lower()):
            return REFUSED, text
        return "api_error", f"HTTP {e.status_code}: {text}"
    return "api_error", f"{type(e).__name__}: {e}"


def _message(e: openai.APIError) -> str:
    body = e.body if isinstance(e.body, dict) else {}
    return str(body.get("message") or e.message)[:300]
