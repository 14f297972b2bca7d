"""Gemini image models (``POST {base}/models/{model}:generateContent`` with image output), e.g.
``gemini-2.5-flash-image`` and ``gemini-3-pro-image-preview``."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from .base import BAD_IMAGE, BLOCKED, REFUSED, ImageClient, ImageResult, api_key
from .config import T2IConfig

GEMINI_URL = "https://generativelanguage.googleapis.com/v1beta"


class GeminiImages(ImageClient):
    """The key goes in ``x-goog-api-key`` (``$GEMINI_API_KEY``, as Google's SDK reads it)."""

    def __init__(self, model: str, base_url: str, config: T2IConfig, cache_dir: str | None = None) -> None:
        key = api_key(config, "GEMINI_API_KEY", base_url)
        super().__init__(model, base_url, config, cache_dir)
        self.headers = {"x-goog-api-key": key}

    def body(self, prompt: str) -> dict[str, Any]:
        generation: dict[str, Any] = {"responseModalities": ["IMAGE"]}
        image: dict[str, Any] = {}
        if self.config.aspect_ratio:
            image["aspectRatio"] = self.config.aspect_ratio
        if self.config.size:
            image["imageSize"] = self.config.size
        if image:
            generation["imageConfig"] = image
        if self.config.seed is not None:
            generation["seed"] = self.config.seed
        body: dict[str, Any] = {
            "contents": [{"role": "user", "parts": [{"text": prompt}]}],
            "generationConfig": generation,
        }
        body.update(self.config.extra_body)
        return body

    async def _ask(self, body: dict[str, Any]) -> ImageResult:
        reply = await self.send("POST", f"{self.base_url}/models/{self.model}:generateContent", json=body,
                                headers=self.headers)  # fmt: skip
        if isinstance(reply, ImageResult):
            return reply
        if reply.status_code != 200:
            return ImageResult(None, "api_error", f"HTTP {reply.status_code}: {reply.text[:300]}")
        try:
            data = reply.json()
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except ValueError as e:
            return ImageResult(None, "api_error", f"malformed response ({e}): {reply.text[:200]!r}")
        response = {k: data[k] for k in ("modelVersion", "usageMetadata", "promptFeedback") if k in data}
        blocked = (data.get("promptFeedback") or {}).get("blockReason")
        if blocked:
            return ImageResult(None, REFUSED, f"prompt blocked: {blocked}", response)
        candidates = data.get("candidates") or []
        if not candidates or not isinstance(candidates[0], dict):
            return ImageResult(None, BLOCKED, "the response held no candidate", response)
        finish = candidates[0].get("finishReason")
        response["finishReason"] = finish
        parts = (candidates[0].get("content") or {}).get("parts") or []
        images = [p["inlineData"] for p in parts if isinstance(p, dict) and not p.get("thought")
                  and isinstance(p.get("inlineData"), dict)]  # fmt: skip
        if finish not in (None, "STOP") or not images:
            return ImageResult(None, BLOCKED, f"no image (finishReason {finish})", response)
        encoded = str(images[-1].get("data") or "")
        if len(encoded) * 3 // 4 > self.config.max_image_mb << 20:
            return ImageResult(None, BAD_IMAGE, f"the image is over {self.config.max_image_mb} MB", response)
        try:
            return ImageResult(base64.b64decode(encoded, validate=True), response=response)
        except (binascii.Error, ValueError) as e:
            return ImageResult(None, BAD_IMAGE, f"inlineData is not base64 ({e})", response)
