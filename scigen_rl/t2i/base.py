"""What every text-to-image client shares: the result, its failure classes, the image checks, the cache."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import time
import warnings
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from PIL import Image

from ..records import write_atomic
from .config import T2IConfig

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


def request_key(request: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of everything that decides the image (never the API key)."""
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


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


class ImageClient:
    """What every backend shares: the cache by request, the bound on requests in flight, downloads of
    image URLs, and retries of plain HTTP calls. A backend writes ``body`` and ``_ask``."""

    def __init__(self, model: str, base_url: str, config: T2IConfig, cache_dir: str | None = None) -> None:
        self.model, self.base_url, self.config = model, base_url.rstrip("/"), config
        self.http = httpx.AsyncClient(timeout=config.timeout_s, follow_redirects=True)
        self._gate: asyncio.Semaphore | None = None
        self.cache = ImageCache(cache_dir) if cache_dir else None

    def body(self, prompt: str) -> dict[str, Any]:
        raise NotImplementedError

    async def _ask(self, body: dict[str, Any]) -> ImageResult:
        raise NotImplementedError

    async def generate(self, prompt: str, candidate: int = 0) -> ImageResult:
        """The image for ``prompt``; never raises for what the API or the network does. ``candidate`` k > 0
        asks for another sample: the seed (where the request has one) moves by k, and it is cached apart."""
        body = self.body(prompt)
        if candidate and isinstance(body.get("seed"), int):
            body["seed"] += candidate
        key = request_key(
            {
                "url": self.base_url,
                "model": self.model,
                **body,
                **({"_candidate": candidate} if candidate else {}),
            }
        )
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return hit
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.config.concurrency)
        started = time.monotonic()
        async with self._gate:
            result = await self._ask(body)
        result.seconds = time.monotonic() - started
        if (
            result.ok
            and result.image is not None
            and (problem := image_problem(result.image, self.config.max_pixels))
        ):
            result = ImageResult(None, BAD_IMAGE, problem, result.response)
        if self.cache is not None and not result.transient:
            await asyncio.to_thread(self.cache.put, key, result)
        return result

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response | ImageResult:
        """The response to a plain HTTP call, retried on 429 (as ``Retry-After`` says), 5xx, time-outs
        and connection errors up to ``config.max_retries`` times; a transient ImageResult after that."""
        for attempt in range(self.config.max_retries + 1):
            last = attempt == self.config.max_retries
            try:
                reply = await self.http.request(method, url, **kwargs)
            except httpx.TimeoutException:
                failure: tuple[str, str] = ("timeout", "the request timed out")
                wait = backoff(attempt)
            except httpx.HTTPError as e:
                failure, wait = ("connection", f"connection error: {type(e).__name__}: {e}"), backoff(attempt)
            else:
                if reply.status_code != 429 and reply.status_code < 500:
                    return reply
                kind = "rate_limited" if reply.status_code == 429 else "api_error"
                failure = (kind, f"HTTP {reply.status_code} after retries: {reply.text[:300]}")
                wait = retry_after(reply) or backoff(attempt)
            if last:
                return ImageResult(None, *failure, attempts=attempt + 1)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def download(self, url: str) -> tuple[bytes | None, str | None, str | None]:
        """The bytes at an image URL, fetched at once (signed URLs expire), within ``max_image_mb``:
        (image, None, None), or (None, failure class, reason)."""
        if urlparse(url).scheme not in ("http", "https"):
            return None, BAD_IMAGE, f"not an http(s) image URL: {url[:100]!r}"
        cap = self.config.max_image_mb << 20
        try:
            async with self.http.stream("GET", url) as reply:
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
        await self.http.aclose()


def backoff(attempt: int) -> float:
    """Seconds before retry ``attempt + 1``: 1, 2, 4, ... up to 30."""
    return float(min(30, 2**attempt))


def retry_after(reply: httpx.Response) -> float | None:
    """The wait a 429 or 503 asks for (``Retry-After``: seconds or an HTTP date), at most 120 s."""
    value = reply.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, 120.0))


def width_height(size: str, api: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` as two numbers; a ValueError naming the flag and what ``api`` takes."""
    width, _, height = size.partition("x")
    if not (width.isdigit() and height.isdigit()):
        raise ValueError(f"--t2i.size: {api} takes WIDTHxHEIGHT (e.g. 1024x768), got {size!r}")
    return int(width), int(height)


def api_key(config: T2IConfig, default_env: str, base_url: str) -> str:
    """The key from ``config.api_key_env`` (or ``default_env``); a ValueError naming the variable."""
    name = config.api_key_env or default_env
    key = os.environ.get(name)
    if not key:
        raise ValueError(f"the API key of {base_url}: the environment variable {name} is not set")
    return key
