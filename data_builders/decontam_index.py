"""The evaluation items behind :mod:`data_builders.decontam`: where they come from (a registered set's
rows, or a user's ``{id, question[, image]}`` file), question text normalised to words, and an index
that finds, for one training problem, the items it repeats: the same normalised text, a large share of
its word n-grams, word-shingle Jaccard similarity (MinHash LSH) or a near-equal perceptual hash of the
image. Lookups go through dictionaries (n-grams, LSH bands, hash bands), never over every evaluation
item, so 100k training problems against a few thousand items stay fast."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import imagehash
from datasketch import LeanMinHash, MinHash, MinHashLSH
from PIL import Image

from scigen_rl.shipped import DataFileError

from .eval_sets import eval_set
from .eval_sets.common import image_bytes

_IMAGE_TAG = re.compile(r"<image\d*>")
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ(?![A-Za-z])|°")
_MARKUP = re.compile(
    r"\\(?:mathrm|mathbf|mathit|mathsf|mathcal|mathbb|text|textbf|textit|textrm|operatorname|boldsymbol"
    r"|rm|bf|it|displaystyle|textstyle|left|right|big|Big|bigg|Bigg|frac|dfrac|tfrac|limits|quad|qquad)"
    r"(?![A-Za-z])"
)
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_GREEK = re.compile(r"[α-ωΑ-Ω]")
_TOKEN = re.compile(r"\d+(?:\.\d+)+|[^\W_]+")
_OPTIONS = "\n\nOptions:\n"
_EXTRA_EXPECTED = "a .jsonl or .parquet file of {id, question[, image]} records"


def normalise(text: str) -> str:
    r"""The words of a question, for comparison: NFKC, no ``<image1>`` tags, no LaTeX markup (a command
    that means something, such as ``\angle`` or ``\pi``, becomes its name; Greek letters become their
    names too), lower case, no punctuation, single spaces.

    >>> normalise("Find  $\\angle ABC$ if $\\frac{x}{2} = 30^{\\circ}$.<image1>")
    'find angle abc if x 2 30 degrees'
    >>> normalise("ＴＨＥ area is 3.5 π\n") == normalise("The area is $3.5\\pi$")
    True
    """
    text = unicodedata.normalize("NFKC", text)
    text = _IMAGE_TAG.sub(" ", text)
    text = _DEGREES.sub(" degrees ", text)
    text = _MARKUP.sub(" ", text)
    text = _COMMAND.sub(r" \1 ", text)
    text = _GREEK.sub(lambda m: f" {unicodedata.name(m.group()).split()[-1]} ", text)
    return " ".join(_TOKEN.findall(text.lower()))


def word_ngrams(words: Sequence[str], n: int) -> set[str]:
    """The distinct runs of ``n`` consecutive words (none for a text shorter than ``n``).

    >>> sorted(word_ngrams("a b c d".split(), 3))
    ['a b c', 'b c d']
    """
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def shingles(words: Sequence[str], k: int) -> set[str]:
    """The word shingles MinHash compares: the distinct runs of ``k`` words, or the whole text when it
    is shorter than ``k`` words."""
    return word_ngrams(words, k) if len(words) >= k else ({" ".join(words)} if words else set())


def lsh_bands(threshold: float, num_perm: int, recall: float = 0.999) -> tuple[int, int]:
    """(bands, rows per band) of the LSH: the most rows (the fewest chance candidates) with which a pair
    whose Jaccard is exactly ``threshold`` still becomes a candidate with probability ``recall``.
    Candidates are then kept only if their exact Jaccard reaches the threshold.

    >>> lsh_bands(0.7, 128), lsh_bands(0.9, 128)
    ((32, 4), (16, 8))
    """
    best = (num_perm, 1)
    for rows in range(1, num_perm // 2 + 1):  # datasketch wants two bands at least
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= recall:
            best = (bands, rows)
    return best


def image_phash(data: bytes) -> int:
    """The 64-bit perceptual hash (DCT ``imagehash.phash``) of an image's bytes; a transparent
    background counts as white."""
    with Image.open(io.BytesIO(data)) as img:
        if img.mode in ("RGBA", "LA", "P"):
            rgba = img.convert("RGBA")
            flat = Image.new("RGBA", rgba.size, "white")
            flat.alpha_composite(rgba)
            return int(str(imagehash.phash(flat.convert("L"))), 16)
        return int(str(imagehash.phash(img)), 16)


@dataclass
class Match:
    """One evaluation item a training problem repeats, by one method."""

    item: int
    """The item's number in the index."""
    method: str
    """``exact``, ``ngram``, ``minhash`` or ``phash``."""
    score: float
    """1.0 (exact), the n-gram share, the exact Jaccard (minhash) or the Hamming distance (phash)."""
    text: int = 0
    """Which of the training problem's texts matched (index into the texts given)."""
    detail: dict[str, Any] = field(default_factory=dict)


class EvalIndex:
    """The evaluation items, indexed for the four methods; ``add`` every item, then ``match_*``."""

    def __init__(
        self, ngram_size: int, ngram_min_share: float, shingle_size: int, minhash_threshold: float,
        num_perm: int, phash_max_distance: int,
    ) -> None:  # fmt: skip
        self.ngram_size, self.ngram_min_share = ngram_size, ngram_min_share
        self.shingle_size, self.minhash_threshold = shingle_size, minhash_threshold
        self.num_perm, self.phash_max_distance = num_perm, int(phash_max_distance)
        self._exact: dict[str, set[int]] = {}
        self._ngrams: dict[str, set[int]] = {}
        bands = lsh_bands(minhash_threshold, num_perm)
        self._lsh = MinHashLSH(threshold=minhash_threshold, num_perm=num_perm, params=bands)
        self._minhashed: dict[str, tuple[int, set[str], LeanMinHash]] = {}
        self._permutations = MinHash(num_perm=num_perm, seed=1).permutations
        self._band_bits = -(-64 // (self.phash_max_distance + 1))
        self._hash_bands: list[dict[int, list[int]]] = [{} for _ in range(self.phash_max_distance + 1)]
        self._hashes: dict[int, int] = {}
        self.comparisons = 0
        """Image hashes compared bit by bit so far (only those sharing a band with the query)."""

    def _minhash(self, words: set[str]) -> MinHash:
        m = MinHash(num_perm=self.num_perm, seed=1, permutations=self._permutations)
        m.update_batch([w.encode("utf-8") for w in words])
        return m

    def _band_keys(self, h: int) -> list[int]:
        mask = (1 << self._band_bits) - 1
        return [(h >> (i * self._band_bits)) & mask for i in range(len(self._hash_bands))]

    def add(self, item: int, texts: Iterable[str], image_hash: int | None = None) -> None:
        """Index one evaluation item: its texts (e.g. the question with and without its options) and
        the perceptual hash of its image, if it has one."""
        for variant, norm in enumerate(dict.fromkeys(normalise(t) for t in texts)):
            if not norm:
                continue
            words = norm.split()
            self._exact.setdefault(norm, set()).add(item)
            for gram in word_ngrams(words, self.ngram_size):
                self._ngrams.setdefault(gram, set()).add(item)
            shingled = shingles(words, self.shingle_size)
            key = f"{item}/{variant}"
            self._minhashed[key] = (item, shingled, LeanMinHash(self._minhash(shingled)))
            self._lsh.insert(key, self._minhashed[key][2])
        if image_hash is not None:
            self._hashes[item] = image_hash
            for band, band_key in zip(self._hash_bands, self._band_keys(image_hash), strict=True):
                band.setdefault(band_key, []).append(item)

    def match_text(self, texts: Sequence[str]) -> list[Match]:
        """The items the texts repeat, the best score per item and method. An item matched exactly is
        reported as ``exact`` only (its n-gram share and Jaccard are 1 as well)."""
        norms: dict[str, int] = {}
        for i, text in enumerate(texts):
            norms.setdefault(normalise(text), i)
        norms.pop("", None)
        best: dict[tuple[int, str], Match] = {}

        def keep(match: Match) -> None:
            old = best.get((match.item, match.method))
            if old is None or match.score > old.score:
                best[match.item, match.method] = match

        for norm, i in norms.items():
            for item in self._exact.get(norm, ()):
                keep(Match(item, "exact", 1.0, i))
        exact = {item for item, _ in best}
        for norm, i in norms.items():
            words = norm.split()
            grams = word_ngrams(words, self.ngram_size)
            counts = Counter(item for gram in grams for item in self._ngrams.get(gram, ()))
            for item, shared in counts.items():
                share = shared / len(grams)
                if item not in exact and share >= self.ngram_min_share:
                    keep(Match(item, "ngram", share, i, {"shared_ngrams": shared, "ngrams": len(grams)}))
            shingled = shingles(words, self.shingle_size)
            minhash = self._minhash(shingled)
            for key in self._lsh.query(minhash):
                item, other, other_hash = self._minhashed[key]
                jaccard = len(shingled & other) / len(shingled | other)
                if item not in exact and jaccard >= self.minhash_threshold:
                    estimated = float(minhash.jaccard(other_hash))
                    detail = {"exact_jaccard": jaccard, "estimated_jaccard": estimated}
                    keep(Match(item, "minhash", jaccard, i, detail))
        return sorted(best.values(), key=lambda m: (m.item, m.method))

    def match_image(self, image_hash: int) -> list[Match]:
        """The items whose image's perceptual hash is within the maximum Hamming distance."""
        candidates = {
            item
            for band, key in zip(self._hash_bands, self._band_keys(image_hash), strict=True)
            for item in band.get(key, ())
        }
        self.comparisons += len(candidates)
        found = []
        for item in sorted(candidates):
            distance = (image_hash ^ self._hashes[item]).bit_count()
            if distance <= self.phash_max_distance:
                found.append(Match(item, "phash", float(distance), 0, {"hamming_distance": distance}))
        return found


@dataclass
class EvalItem:
    """One evaluation item as checked: its set, id, question text(s) and image."""

    eval_set: str
    eval_id: str
    texts: list[str]
    """The question, then (MathVision) the question without its listed options."""
    image: bytes | None


def registered_items(name: str, source: str | None, use_hub: bool) -> list[EvalItem] | str:
    """The items of a registered set, or why it is skipped."""
    found = eval_set(name)
    from_hub = source is None and found.default_source != "shipped"
    if from_hub and not use_hub:
        return (
            f"not checked: no source given, and its default is the Hub's {found.default_source} (use_hub "
            f"is off); give a local copy in DecontamConfig.sources[{name!r}]"
        )
    try:
        rows = found.rows(source or found.default_source)
    except RuntimeError as e:  # the Hub was not reachable
        if not from_hub:
            raise
        return f"not checked: {e}"
    items = []
    for i, row in enumerate(rows):
        question = str(row.extra_info["question"])
        texts = [question, question.split(_OPTIONS)[0]] if _OPTIONS in question else [question]
        image = row.images[0]["bytes"] if row.images else None
        items.append(EvalItem(name, str(row.extra_info.get("problem_id", i)), texts, image))
    return items


def extra_items(name: str, file: str) -> list[EvalItem]:
    """The ``{id, question[, image]}`` records of a user's set; errors name the file, line and field."""
    path = Path(file).expanduser()
    if not path.is_file():
        raise DataFileError(path, _EXTRA_EXPECTED, "no such file")
    records: list[tuple[str, Any]] = []
    if path.suffix.lower() == ".jsonl":
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as e:
            raise DataFileError(
                path, _EXTRA_EXPECTED, f"not UTF-8 text ({e.reason} at byte {e.start})"
            ) from e
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    records.append((f"line {number}", json.loads(line)))
                except json.JSONDecodeError as e:
                    raise DataFileError(
                        path, _EXTRA_EXPECTED, f"line {number} is not valid JSON: {e.msg}"
                    ) from e
    elif path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            records = [(f"row {i}", r) for i, r in enumerate(pq.read_table(path).to_pylist(), 1)]
        except (OSError, ValueError) as e:
            raise DataFileError(path, _EXTRA_EXPECTED, f"unreadable ({type(e).__name__}: {e})") from e
    else:
        raise DataFileError(path, _EXTRA_EXPECTED, "neither a .jsonl nor a .parquet file")
    if not records:
        raise DataFileError(path, _EXTRA_EXPECTED, "no records in the file")
    items = []
    for where, record in records:
        if not isinstance(record, dict):
            raise DataFileError(path, _EXTRA_EXPECTED, f"{where} is a {type(record).__name__}, not an object")
        for key in ("id", "question"):
            value = record.get(key)
            if value is None or not str(value).strip():
                problem = "is missing" if value is None else "is empty"
                raise DataFileError(path, _EXTRA_EXPECTED, f"{where}: field '{key}' {problem}")
        if not isinstance(record["question"], str):
            raise DataFileError(path, _EXTRA_EXPECTED, f"{where}: field 'question' is not a string")
        image = record.get("image")
        data = None if image is None else image_bytes(image, (f"{path} {where}", record["id"]), path.parent)
        items.append(EvalItem(name, str(record["id"]), [record["question"]], data))
    return items
