"""What every text-to-image client shares: the result, its failure classes, the image checks, the cache."""

from __future__ import annotations

import io
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from ..records import write_atomic

REFUSED, BLOCKED, BAD_IMAGE = "refused", "blocked", "bad_image"
"""Failures that are the answer to this prompt: recorded on the figure, not asked again."""
TRANSIENT_FAILURES = ("rate_limited", "timeout", "connection", "api_error")
"""Failures of the call itself (after its retries): nothing is recorded, the next run asks again."""
FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


@dataclass
class ImageResult:
    """One request's outcome; a failed one has ``image=None`` and its class in ``failure``."""

    image: bytes | None
    failure: str | None = None
    error: str | None = None
    response: dict[str, Any] = field(default_factory=dict)
    """What came back besides the image (ids, usage, a revised prompt, the URL's host): no bytes, no key."""
    cached: bool = False
    attempts: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def transient(self) -> bool:
        return self.failure in TRANSIENT_FAILURES


def image_problem(data: bytes, max_pixels: int) -> str | None:
    """Why ``data`` is not an image to keep (not PNG/JPEG/WebP, over ``max_pixels`` before decoding,
    truncated or corrupt), or None.

    >>> image_problem(b"<html>rate limited</html>", 100)
    'not an image (UnidentifiedImageError)'
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in FORMATS:
                    return f"not a PNG, JPEG or WebP image ({image.format})"
                if image.width * image.height > max_pixels:
                    return f"{image.width}x{image.height} pixels, over the cap of {max_pixels}"
                image.load()
    except (
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as e:
        return f"not an image ({type(e).__name__})"
    return None


class ImageCache:
    """``<root>/<key[:2]>/<key>.img`` (the bytes) and ``.json`` (the rest), the JSON written last: a
    torn entry from a killed run is a miss, never a wrong image."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def get(self, key: str) -> ImageResult | None:
        base = self.root / key[:2] / key
        try:
            meta = json.loads(base.with_suffix(".json").read_text(encoding="utf-8"))
            image = base.with_suffix(".img").read_bytes() if meta.get("failure") is None else None
        except (OSError, ValueError):
            return None
        return ImageResult(
            image, meta.get("failure"), meta.get("error"), meta.get("response", {}), cached=True
        )

    def put(self, key: str, result: ImageResult) -> None:
        base = self.root / key[:2] / key
        if result.image is not None:
            write_atomic(base.with_suffix(".img"), result.image)
        meta = {"failure": result.failure, "error": result.error, "response": result.response}
        write_atomic(base.with_suffix(".json"), json.dumps(meta, ensure_ascii=False))
