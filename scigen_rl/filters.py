"""Cheap checks on a rendered figure before any model looks at it: size, shape, ink, near-duplicates,
and whether the figure gives the answer away."""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field

import imagehash
import numpy as np
from PIL import Image

_NUMBER = re.compile(r"[-+−]?(?:\d+(?:[.,]\d+)?|\.\d+)(?:\s*(?:[eE]|[x×*]\s*10\^?)\s*\{?[-+−]?\d+\}?)?")
_LATEX_WRAPPERS = re.compile(r"\\(?:mathrm|text|mathbf|mathit|operatorname|rm|bf)\s*\{([^{}]*)\}")


@dataclass
class FilterConfig:
    min_side_px: int = 128
    """A figure narrower or lower than this is rejected as ``too_small``."""
    max_aspect: float = 4.0
    """Longer side / shorter side above this is rejected as ``aspect_ratio``."""
    min_ink: float = 0.002
    """Share of pixels that differ from the background; below it the figure is ``near_blank``."""
    max_hash_distance: int = 4
    """Perceptual-hash distance at or below which two figures are ``near_duplicate``."""


def image_issues(png: bytes, config: FilterConfig | None = None) -> list[str]:
    """Reasons to reject a figure on its pixels alone (empty when it passes).

    >>> buf = io.BytesIO(); Image.new("RGB", (600, 100), "white").save(buf, "PNG")
    >>> image_issues(buf.getvalue())
    ['aspect_ratio', 'too_small', 'near_blank']
    """
    config = config or FilterConfig()
    img = Image.open(io.BytesIO(png)).convert("L")
    w, h = img.size
    issues = []
    if max(w, h) / max(1, min(w, h)) > config.max_aspect:
        issues.append("aspect_ratio")
    if min(w, h) < config.min_side_px:
        issues.append("too_small")
    pixels = np.asarray(img)
    background = np.bincount(pixels.ravel(), minlength=256).argmax()
    ink = float(np.mean(np.abs(pixels.astype(np.int16) - int(background)) > 24))
    if ink < config.min_ink:
        issues.append("near_blank")
    return issues


@dataclass
class DuplicateIndex:
    """Perceptual hashes of the figures seen so far, to catch the same picture made twice."""

    max_distance: int = 4
    _hashes: list[tuple[str, imagehash.ImageHash]] = field(default_factory=list)

    def check_and_add(self, item_id: str, png: bytes | None = None, phash: str | None = None) -> str | None:
        """The id of an earlier near-identical figure, or None (and then this one is remembered).

        Give the PNG, or its ``perceptual_hash`` computed earlier.
        """
        h = imagehash.hex_to_hash(phash) if phash else imagehash.phash(Image.open(io.BytesIO(png or b"")))
        for other, other_hash in self._hashes:
            if h - other_hash <= self.max_distance:
                return other
        self._hashes.append((item_id, h))
        return None


def perceptual_hash(png: bytes) -> str:
    """The figure's perceptual hash as hex, to store and compare later without decoding it again."""
    return str(imagehash.phash(Image.open(io.BytesIO(png))))


def _plain(text: str) -> str:
    """Drawn text without mathtext markup: ``$m = 2\\ \\mathrm{kg}$`` -> ``m = 2 kg``."""
    text = _LATEX_WRAPPERS.sub(r"\1", text)
    text = text.replace("\\ ", " ").replace("\\,", " ").replace("\\times", "×").replace("\\cdot", "·")
    return re.sub(r"[${}]", "", text).replace("\\", "")


def _numbers(text: str) -> list[tuple[float, int]]:
    """Numbers in text with the count of significant digits they show (``1.9E+6`` -> 1.9e6, 2)."""
    out = []
    for m in _NUMBER.finditer(_plain(text)):
        token = m.group(0).replace("−", "-").replace(" ", "").replace("{", "").replace("}", "")
        parts = re.split(r"(?:[eE]|[x×*]10\^?)", token, maxsplit=1)
        mantissa = parts[0].replace(",", ".")
        exponent = parts[1] if len(parts) > 1 else "0"
        try:
            value = float(mantissa) * 10 ** int(exponent or 0)
        except (ValueError, OverflowError):
            continue
        digits = len(mantissa.replace("-", "").replace("+", "").replace(".", "").lstrip("0")) or 1
        out.append((value, digits))
    return out


def _same_number(shown: float, digits: int, answer: float) -> bool:
    if answer == shown:
        return True
    if answer == 0 or shown == 0:
        return False
    magnitude = math.floor(math.log10(abs(answer)))
    rounded = round(answer, -magnitude + digits - 1)
    return math.isclose(rounded, shown, rel_tol=1e-9) and digits >= 2


def answer_leak(answer: str, texts: list[str], question: str = "") -> str | None:
    """The drawn text that gives the answer away, or None.

    A numeric answer leaks when a drawn number equals it, as given or rounded to the digits shown
    (at least two), unless the question itself states that number. Any other answer leaks when its
    words (three characters or more) appear in a drawn text.

    >>> answer_leak("290.588 cm", ["d = 290.6 cm", "26 cm"])
    'd = 290.6 cm'
    >>> answer_leak("290.588 cm", ["d = ?", "26 cm"]) is None
    True
    >>> answer_leak("4", ["AB = 4"], question="Given AB = 4, find CD.") is None
    True
    """
    plain_answer = _plain(answer).strip()
    answer_numbers = _numbers(plain_answer)
    stripped = _NUMBER.sub("", plain_answer)
    numeric = len(answer_numbers) == 1 and not re.search(r"[A-Za-z]{2,}.*[A-Za-z]{2,}|[=/^]", stripped)
    given = {v for v, _ in _numbers(question)}
    if numeric:
        value = answer_numbers[0][0]
        if value in given:
            return None
        for text in texts:
            if any(_same_number(shown, digits, value) for shown, digits in _numbers(text)):
                return text
        return None
    needle = re.sub(r"\s+", " ", plain_answer).lower()
    if len(needle) < 3 or needle in question.lower():
        return None
    for text in texts:
        if needle in re.sub(r"\s+", " ", _plain(text)).lower():
            return text
    return None
