"""OpenAI Images (``POST {base_url}/images/generations``): OpenAI's GPT image models, and the gateways
that speak the same API (hosted Qwen-Image, Seedream, ...), which may answer with a URL instead."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import openai

from .base import BAD_IMAGE, BLOCKED, REFUSED, ImageClient, ImageResult, api_key
from .config import T2IConfig

MODERATION_CODES = ("moderation_blocked", "content_policy_violation", "content_filter", "safety_violation")
"""Error codes with which an image API refuses a prompt (a 400 that asking again will not change)."""


class OpenAIImages(ImageClient):
    """One model behind an OpenAI-compatible Images endpoint; each request retried by the openai SDK
    (429 as ``Retry-After`` says, 5xx, time-outs)."""

    def __init__(
        self, model: str, base_url: str, config: T2IConfig, cache_dir: str | None = None, seeded: bool = False
    ) -> None:
        key = api_key(config, "OPENAI_API_KEY", base_url)
        super().__init__(model, base_url, config, cache_dir)
        self.seeded = seeded
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url, api_key=key, timeout=config.timeout_s, max_retries=config.max_retries
        )

    def body(self, prompt: str) -> dict[str, Any]:
        """The exact request body (also what the cache key is computed from, with the URL)."""
        body: dict[str, Any] = {"model": self.model, "prompt": prompt, "n": 1}
        if self.config.size:
            body["size"] = self.config.size
        if self.config.quality:
            body["quality"] = self.config.quality
        if self.seeded and self.config.seed is not None:
            body["seed"] = self.config.seed
        if self.seeded and not self.config.plain_request:  # a gateway: no watermark, no prompt rewriting
            body.update(watermark=False, prompt_extend=False)
        body.update(self.config.extra_body)
        return body

    async def _ask(self, body: dict[str, Any]) -> ImageResult:
        try:
            raw = await self._client.post("/images/generations", body=body, cast_to=bytes)
        except openai.APIError as e:
            return ImageResult(None, *_classified(e))
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
        if isinstance(item.get("b64_json"), str):
            image, why, detail = self._decoded(item["b64_json"])
        elif isinstance(item.get("url"), str):
            image, why, detail = await self.download(item["url"])
        else:
            image, why, detail = None, BAD_IMAGE, "the response item has neither b64_json nor url"
        return ImageResult(image, why, detail, response)

    def _decoded(self, encoded: str) -> tuple[bytes | None, str | None, str | None]:
        if len(encoded) * 3 // 4 > self.config.max_image_mb << 20:
            return None, BAD_IMAGE, f"the image is over {self.config.max_image_mb} MB"
        try:
            return base64.b64decode(encoded, validate=True), None, None
        except (binascii.Error, ValueError) as e:
            return None, BAD_IMAGE, f"b64_json is not base64 ({e})"

    async def close(self) -> None:
        await self._client.close()
        await super().close()


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
