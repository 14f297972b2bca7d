"""Black Forest Labs FLUX (``POST {base}/{model}``, e.g. ``flux-2-flex``): an asynchronous job whose
``polling_url`` is asked every ``poll_s`` seconds until the image is ready, then downloaded at once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .base import REFUSED, ImageClient, ImageResult, api_key, width_height
from .config import T2IConfig

BFL_URL = "https://api.bfl.ai/v1"
PENDING = ("Pending", "Queued", "Processing", "Task not found yet")
MODERATED = ("Request Moderated", "Content Moderated")


class BFLImages(ImageClient):
    """The key goes in ``x-key`` (``$BFL_API_KEY``)."""

    def __init__(
        self, model: str, base_url: str, config: T2IConfig, cache_dir: str | None = None, poll_s: float = 2.0
    ) -> None:
        key = api_key(config, "BFL_API_KEY", base_url)
        super().__init__(model, base_url, config, cache_dir)
        self.headers = {"x-key": key}
        self.poll_s = poll_s

    def body(self, prompt: str) -> dict[str, Any]:
        body: dict[str, Any] = {"prompt": prompt, "output_format": "png"}
        if self.config.size:
            body["width"], body["height"] = width_height(self.config.size, "BFL")
        if self.config.aspect_ratio:
            body["aspect_ratio"] = self.config.aspect_ratio
        if self.config.seed is not None:
            body["seed"] = self.config.seed
        body.update(self.config.extra_body)
        return body

    async def _ask(self, body: dict[str, Any]) -> ImageResult:
        reply = await self.send("POST", f"{self.base_url}/{self.model}", json=body, headers=self.headers)
        if isinstance(reply, ImageResult):
            return reply
        job = _json(reply)
        if reply.status_code != 200 or not isinstance(job.get("polling_url"), str):
            return ImageResult(None, "api_error", f"HTTP {reply.status_code}: {reply.text[:300]}")
        response: dict[str, Any] = {"id": job.get("id")}
        deadline = time.monotonic() + self.config.timeout_s
        while time.monotonic() < deadline:
            await asyncio.sleep(self.poll_s)
            polled = await self.send("GET", job["polling_url"], headers=self.headers)
            if isinstance(polled, ImageResult):
                return polled
            state = _json(polled)
            status = str(state.get("status"))
            if status == "Ready":
                url = (state.get("result") or {}).get("sample")
                if not isinstance(url, str):
                    return ImageResult(None, "api_error", "a ready job without result.sample", response)
                image, why, detail = await self.download(url)
                return ImageResult(image, why, detail, response)
            if status in MODERATED:
                return ImageResult(None, REFUSED, status, response)
            if status not in PENDING:
                return ImageResult(None, "api_error", f"the job ended {status!r}", response)
        return ImageResult(
            None, "timeout", f"the job was not ready within {self.config.timeout_s:g} s", response
        )


def _json(reply: Any) -> dict[str, Any]:
    try:
        data = reply.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
