"""Cheap checks on a rendered figure before any model looks at it: size, shape, ink, near-duplicates,
and whether the figure gives the answer away."""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

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


@dataclass
class PixelReport:
    """What the pixels alone say about a figure."""

    issues: list[str]
    """Reasons to reject it (empty when it passes)."""
    phash: str
    """Its perceptual hash as hex, to find near-duplicates later without decoding it again."""


def check_pixels(png: bytes, config: FilterConfig | None = None) -> PixelReport:
    """Size, shape and ink checks and the perceptual hash, from one decode of the PNG.

    >>> buf = io.BytesIO(); Image.new("RGB", (600, 100), "white").save(buf, "PNG")
    >>> check_pixels(buf.getvalue()).issues
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
    # Ink = pixels more than 24 grey levels from the commonest (background) level, read off the
    # histogram: a pass over the pixels costs several times more, and this runs once per figure.
    histogram = np.asarray(img.histogram())
    background = int(histogram.argmax())
    ink = 1.0 - histogram[max(0, background - 24) : background + 25].sum() / max(1, w * h)
    if ink < config.min_ink:
        issues.append("near_blank")
    return PixelReport(issues, str(imagehash.phash(img)))


class DuplicateIndex:
    """Perceptual hashes of the figures seen so far, to catch the same picture made twice.

    Two hashes within ``max_distance`` bits agree exactly on at least one of ``max_distance + 1``
    disjoint bands of bits (pigeonhole), so a lookup compares only against figures sharing a band
    instead of against every figure: builds of 100k figures stay fast.

    >>> index = DuplicateIndex(max_distance=2)
    >>> index.check_and_add("a", "ff00ff00ff00ff00"), index.check_and_add("b", "0f00ff00ff00ff00")
    (None, None)
    >>> index.check_and_add("c", "ff00ff00ff00ff03")
    'a'
    """

    def __init__(self, max_distance: int = 4) -> None:
        self.max_distance = max_distance
        self._ids: list[str] = []
        self._hashes: list[int] = []
        self._bands: list[dict[int, list[int]]] = []
        self._width = 0
        self.comparisons = 0
        """Exact distance checks made so far: about pairs x bands / 2**band_bits, not pairs."""

    def _band_keys(self, h: int) -> list[int]:
        bands = self.max_distance + 1
        step = -(-self._width // bands)
        return [(h >> (i * step)) & ((1 << step) - 1) for i in range(bands)]

    def check_and_add(self, item_id: str, phash: str) -> str | None:
        """The id of the earliest near-identical figure seen, or None (and then this one is remembered).

        ``phash`` is the figure's :attr:`PixelReport.phash` (hex).
        """
        h = int(phash, 16)
        if not self._width:
            self._width = len(phash) * 4
            self._bands = [{} for _ in range(self.max_distance + 1)]
        keys = self._band_keys(h)
        candidates = {i for band, key in zip(self._bands, keys, strict=True) for i in band.get(key, ())}
        self.comparisons += len(candidates)
        matches = [i for i in candidates if (h ^ self._hashes[i]).bit_count() <= self.max_distance]
        if matches:
            return self._ids[min(matches)]
        index = len(self._ids)
        self._ids.append(item_id)
        self._hashes.append(h)
        for band, key in zip(self._bands, keys, strict=True):
            band.setdefault(key, []).append(index)
        return None


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
