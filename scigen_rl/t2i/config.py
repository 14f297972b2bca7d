"""Settings of a text-to-image backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class T2IConfig:
    """What a pixel generator sends and how it calls its API (model and URL come from ``--generator``)."""

    size: str | None = None
    """Image size as the API names it (OpenAI ``1024x1024``/``1536x1024``/``auto``, a gateway's own, e.g.
    ``1328*1328``, Gemini ``1K``/``2K``, BFL ``WIDTHxHEIGHT``); None: the API's default."""
    aspect_ratio: str | None = None
    """Aspect ratio where the API takes one (Gemini ``imageConfig.aspectRatio``, BFL): e.g. ``1:1``, ``4:3``."""
    quality: str | None = None
    """OpenAI-style quality (``low``/``medium``/``high``/``auto``); None: the API's default."""
    seed: int | None = None
    """Sent where the API takes one (gateways and local pipelines); None: not sent."""
    extra_body: dict[str, Any] = field(default_factory=dict)
    """Fields merged into every request body (e.g. ``{"watermark": false, "prompt_extend": false}``)."""
    plain_request: bool = False
    """Send only the standard fields: without it a gateway also gets ``watermark`` and ``prompt_extend``
    switched off (hosted Qwen-Image and Seedream default both on; a science figure wants neither)."""
    api_key_env: str | None = None
    """*Name* of the variable holding the key (default per API: ``OPENAI_API_KEY`` for OpenAI and
    gateways); the key itself is never written to a run directory or a log."""
    concurrency: int = 4
    """Requests in flight at once (image APIs have tight rate limits)."""
    timeout_s: float = 180.0
    """Per request, and per download of an image URL."""
    max_retries: int = 5
    """Retries after 429 (honouring ``Retry-After``), 5xx, time-outs and connection errors."""
    max_image_mb: int = 40
    """Largest image accepted from the API (base64 decoded, or downloaded)."""
    max_pixels: int = 40_000_000
    """Largest image, in pixels, accepted from the API (checked before it is decoded)."""

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"T2IConfig.concurrency: must be >= 1, got {self.concurrency}")
        if self.timeout_s <= 0:
            raise ValueError(f"T2IConfig.timeout_s: must be positive, got {self.timeout_s}")
        if self.max_retries < 0:
            raise ValueError(f"T2IConfig.max_retries: must be >= 0, got {self.max_retries}")
        if self.max_image_mb < 1 or self.max_pixels < 1:
            raise ValueError("T2IConfig.max_image_mb and max_pixels: must be positive")
