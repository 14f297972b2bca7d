"""How the paper's evaluation code hands a figure to the vision model (``--protocol paper``).

The file is opened and converted to RGB the plain way (an alpha channel is dropped, not laid on white:
its loader converts before its encoder sees the image). For the quizzes and the VQA item the image is
then bounded: the long side at most 1024 px (Lanczos, sizes truncated to whole pixels), JPEG at quality
95, 85, ..., 5 until its base64 text is at most 2 MiB, then 20 % smaller per step (quality 5) down to
256 px, and last a 256 x 256 square. The judge gets the RGB image as PNG, at its own size.
"""

from __future__ import annotations

import base64
import io

from PIL import Image

MAX_SIDE = 1024
"""Long side of the image sent with a quiz or the VQA item."""
MAX_BASE64 = 2 * 1024 * 1024
"""Largest base64 text of that image."""
QUALITIES = (95, 85, 75, 65, 55, 45, 35, 25, 15, 10, 5)
MIN_SIDE = 256
SHRINK = 0.8


def open_rgb(data: bytes) -> Image.Image | None:
    """The image as RGB, or None when it does not decode (the paper then treats the figure as missing)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
        img = Image.open(io.BytesIO(data))
        rgb = img.convert("RGB")
    except Exception:  # noqa: BLE001 - any decoder failure means the same thing here
        return None
    return rgb if rgb.width > 0 and rgb.height > 0 else None


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _fits(data: bytes) -> bool:
    return len(base64.b64encode(data)) <= MAX_BASE64


def _scaled(image: Image.Image, side: int) -> Image.Image | None:
    ratio = side / max(image.size)
    size = (int(image.width * ratio), int(image.height * ratio))
    return image.resize(size, Image.Resampling.LANCZOS) if min(size) > 0 else None


def quiz_jpeg(image: Image.Image) -> bytes | None:
    """The JPEG bytes sent with a quiz or the VQA item (see the module doc); None when a bound would
    leave the image without a pixel on one side (a 5000 x 3 strip): the paper then cannot encode it.

    >>> from PIL import Image
    >>> sent = Image.open(io.BytesIO(quiz_jpeg(Image.new("RGB", (3000, 1500), "white"))))
    >>> sent.format, sent.size
    ('JPEG', (1024, 512))
    """
    bounded = _scaled(image, MAX_SIDE) if max(image.size) > MAX_SIDE else image
    if bounded is None:
        return None
    image = bounded
    for quality in QUALITIES:
        data = _jpeg(image, quality)
        if _fits(data):
            return data
    side = max(image.size)
    while side > MIN_SIDE:
        side = int(side * SHRINK)
        smaller = _scaled(image, side)
        if smaller is None:
            return None
        image = smaller
        data = _jpeg(image, QUALITIES[-1])
        if _fits(data):
            return data
    return _jpeg(image.resize((MIN_SIDE, MIN_SIDE), Image.Resampling.LANCZOS), QUALITIES[-1])


def judge_png(image: Image.Image) -> bytes:
    """The PNG bytes the judge sees: the RGB image at its own size."""
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
