"""How many prompt tokens an image costs a Qwen-VL policy, and images capped to fit the prompt.

Qwen3-VL cuts an image into 16-px patches and merges 2x2 of them into one token: one token per
32x32 px, after the processor has rounded the size to multiples of 32 between its minimum and
maximum pixel counts. A 2520x2761 MathVision figure is ~6,800 tokens, over the recipe's 4,096-token
prompt limit, and verl drops such a row without a word. The exporters therefore shrink images over
:data:`MAX_PIXELS` (half the prompt) to a size the processor keeps as it is, and the training
pre-flight counts each row's tokens the same way before any GPU time.
"""

from __future__ import annotations

import io
import math

from PIL import Image

TOKEN_PIXELS = 32
"""Side of the square of pixels one merged vision token covers (Qwen3-VL: 16-px patches, 2x2 merge)."""
MAX_IMAGE_TOKENS = 2048
"""Image tokens an exported image may cost at most: half of the recipe's 4,096-token prompt."""
MAX_PIXELS = MAX_IMAGE_TOKENS * TOKEN_PIXELS**2
PROCESSOR_MAX_PIXELS = 16384 * TOKEN_PIXELS**2
"""Qwen3-VL's processor (and qwen_vl_utils) default largest image: 16,384 tokens."""
MIN_PIXELS = 65536
"""Qwen3-VL's processor enlarges smaller images to this many pixels (64 tokens)."""


def fitted_size(
    width: int,
    height: int,
    factor: int = TOKEN_PIXELS,
    min_pixels: int = MIN_PIXELS,
    max_pixels: int = MAX_PIXELS,
) -> tuple[int, int]:
    """The (width, height) a Qwen-VL processor resizes an image to: each side a multiple of
    ``factor``, the area between ``min_pixels`` and ``max_pixels``, the aspect ratio kept.

    >>> fitted_size(2520, 2761)
    (1376, 1504)
    >>> fitted_size(640, 480)
    (640, 480)
    >>> fitted_size(100, 50)  # enlarged to the minimum
    (384, 192)
    """
    if width < 1 or height < 1:
        raise ValueError(f"an image of {width}x{height} px has no pixels")
    w = max(factor, round(width / factor) * factor)
    h = max(factor, round(height / factor) * factor)
    if w * h > max_pixels:
        scale = math.sqrt(width * height / max_pixels)
        w = max(factor, math.floor(width / scale / factor) * factor)
        h = max(factor, math.floor(height / scale / factor) * factor)
    elif w * h < min_pixels:
        scale = math.sqrt(min_pixels / (width * height))
        w = math.ceil(width * scale / factor) * factor
        h = math.ceil(height * scale / factor) * factor
    return w, h


def image_tokens(width: int, height: int, factor: int = TOKEN_PIXELS, max_pixels: int = MAX_PIXELS) -> int:
    """Prompt tokens of one image: one per ``factor`` x ``factor`` px of its fitted size, plus the
    vision start and end markers.

    >>> image_tokens(640, 480)
    302
    """
    w, h = fitted_size(width, height, factor, max_pixels=max_pixels)
    return (w // factor) * (h // factor) + 2


def capped_image(data: bytes, max_pixels: int = MAX_PIXELS, factor: int = TOKEN_PIXELS) -> tuple[bytes, str]:
    """The image shrunk to the processor's own fitted size when it has more than ``max_pixels``
    pixels (so the processor keeps it as it is), and its original size (``"2520x2761"``); otherwise
    the same bytes and ``""``. JPEG stays JPEG (quality 95); anything else becomes PNG.

    >>> big = io.BytesIO(); Image.new("RGB", (3000, 1000)).save(big, format="PNG")
    >>> data, was = capped_image(big.getvalue())
    >>> Image.open(io.BytesIO(data)).size, was
    ((2496, 832), '3000x1000')
    >>> capped_image(data) == (data, "")
    True
    """
    with Image.open(io.BytesIO(data)) as image:
        if image.width * image.height <= max_pixels:
            return data, ""
        original = f"{image.width}x{image.height}"
        size = fitted_size(image.width, image.height, factor, max_pixels=max_pixels)
        is_jpeg = image.format == "JPEG"
        resized = image.convert("RGB" if is_jpeg else "RGBA").resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if is_jpeg:
        resized.save(out, format="JPEG", quality=95)
    else:
        resized.save(out, format="PNG", optimize=True)
    return out.getvalue(), original


def rgb_png(picture: Image.Image) -> bytes:
    """``picture`` as an RGB PNG, any transparency laid on white (what a figure looks like on a page).

    >>> clear = Image.new("RGBA", (2, 1), (0, 0, 0, 0))
    >>> Image.open(io.BytesIO(rgb_png(clear))).getpixel((0, 0))
    (255, 255, 255)
    """
    picture.load()
    if picture.mode != "RGB":
        rgba = picture.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        picture = flat
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()
