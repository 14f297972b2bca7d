"""Decontamination: training problems that repeat a question or an image of an evaluation set.

:func:`find_contamination` checks problems (and, optionally, their rendered figures) against the
registered evaluation sets and any extra set, by four methods (an exact normalised match, word n-gram
overlap, MinHash near-duplicates, perceptual image hashes; :mod:`data_builders.decontam_index`), and
returns a :class:`DecontamReport`: every hit, what was checked, and every set that could not be
(counted and named, never silently left out). The report writes ``decontamination.jsonl`` and
``decontamination.md`` and splits problems into those kept and those dropped, with the reason.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from scigen_rl.records import Problem, RecordError, write_atomic

from .decontam_index import EvalIndex, EvalItem, extra_items, image_phash, registered_items
from .eval_sets import EVAL_SETS

DEFAULT_EVAL_SETS = ("mathvision", "mathvision_mini", "geometry3k_test")
METHODS = ("exact", "ngram", "minhash", "phash")
"""The methods, strongest evidence first (a problem's reason to be dropped is its first hit in this order)."""
log = logging.getLogger(__name__)


@dataclass
class DecontamConfig:
    """What training problems are checked against, and when a similarity counts as a hit."""

    eval_sets: tuple[str, ...] = DEFAULT_EVAL_SETS
    """Registered evaluation sets (``data_builders.eval_sets.EVAL_SETS``) to check against."""
    sources: dict[str, str] = field(default_factory=dict)
    """Set name -> its source (a local folder or file in the set's layout, or a Hub name). A set not
    named here reads its default source only if that ships with the package (``mathvision_mini``) or
    with ``use_hub``; otherwise it is skipped, and the report counts and names it."""
    use_hub: bool = False
    """Read a set's default Hub source when no source is given (needs the Hub; a failure skips the set,
    with the error in the report)."""
    extra_sets: dict[str, str] = field(default_factory=dict)
    """More sets to check against: name -> a .jsonl or .parquet file of ``{id, question[, image]}``
    records (``image``: a path relative to the file, or bytes)."""
    ngram_size: int = 13
    """Words per n-gram of the overlap check (13 as in the usual LLM benchmark decontamination)."""
    ngram_min_share: float = 0.5
    """An ``ngram`` hit: at least this share of the training question's distinct n-grams occur in one
    evaluation question (questions shorter than ``ngram_size`` words have none: exact and MinHash
    still check them)."""
    shingle_size: int = 3
    """Words per shingle of the MinHash check (a shorter question is one shingle)."""
    minhash_threshold: float = 0.7
    """A ``minhash`` hit: the exact Jaccard similarity of the two shingle sets is at least this (the LSH
    only proposes the candidate pairs; the report gives its estimate as well)."""
    num_perm: int = 128
    """MinHash permutations (the estimate's standard error is about 1/sqrt(num_perm))."""
    phash_max_distance: int = 4
    """A ``phash`` hit: the 64-bit perceptual hashes of a figure and an evaluation image differ in at
    most this many bits (as the build's own near-duplicate filter)."""
    drop: bool = True
    """Problems with a hit are dropped from exports (:meth:`DecontamReport.split`); off, only reported."""
    progress: bool = True
    """Progress bars on a terminal."""

    def __post_init__(self) -> None:
        unknown = [s for s in self.eval_sets if s not in EVAL_SETS]
        if unknown:
            raise ValueError(f"DecontamConfig.eval_sets: unknown {unknown} (known: {', '.join(EVAL_SETS)})")
        if set(self.sources) - set(self.eval_sets):
            raise ValueError(
                f"DecontamConfig.sources: {sorted(set(self.sources) - set(self.eval_sets))} not in eval_sets"
            )
        if any(not str(s).strip() for s in (*self.sources.values(), *self.extra_sets.values())):
            raise ValueError("DecontamConfig.sources/extra_sets: an empty source")
        if set(self.extra_sets) & set(self.eval_sets):
            raise ValueError("DecontamConfig.extra_sets: a name of a registered set in eval_sets")
        checks = {
            "ngram_size": self.ngram_size >= 1, "shingle_size": self.shingle_size >= 1,
            "ngram_min_share": 0 < self.ngram_min_share <= 1, "minhash_threshold": 0 < self.minhash_threshold <= 1,
            "num_perm": self.num_perm >= 2, "phash_max_distance": 0 <= self.phash_max_distance < 64,
        }  # fmt: skip
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"DecontamConfig.{name}: {getattr(self, name)!r} is out of range")


@dataclass
class Hit:
    """One training problem that repeats one evaluation item, by one method."""

    problem_id: str
    eval_set: str
    eval_id: str
    method: str
    """``exact``, ``ngram``, ``minhash`` or ``phash`` (an exact match is reported as ``exact`` only)."""
    score: float
    """``exact``: 1.0; ``ngram``: the share of the problem's n-grams in the item; ``minhash``: the exact
    Jaccard of the shingle sets; ``phash``: the Hamming distance of the image hashes (lower is closer)."""
    problem_text: str
    """The beginning of the problem's text that matched."""
    eval_text: str
    """The beginning of the evaluation item's question."""
    detail: dict[str, Any] = field(default_factory=dict)
    """``ngram``: shared_ngrams, ngrams; ``minhash``: exact_jaccard, estimated_jaccard; ``phash``: hamming_distance."""

    def describe(self) -> str:
        """One line: the method, its score and the item."""
        score = {
            "exact": "same normalised text",
            "ngram": f"{self.score:.0%} of its word n-grams",
            "minhash": f"Jaccard {self.score:.3f}",
            "phash": f"image hash distance {self.score:.0f}",
        }[self.method]
        return f"{self.method} ({score}) with {self.eval_set} item {self.eval_id}"


def _strength(hit: Hit) -> tuple[int, float]:
    return METHODS.index(hit.method), hit.score if hit.method == "phash" else -hit.score


@dataclass
class DecontamReport:
    """The result of :func:`find_contamination`."""

    hits: list[Hit]
    problems: int
    """Training problems checked."""
    figures: int
    """Of them, with a figure compared by perceptual hash."""
    eval_items: dict[str, int]
    """Evaluation set -> items checked against."""
    eval_images: dict[str, int]
    """Evaluation set -> items with an image."""
    skipped: dict[str, str]
    """Evaluation set -> why it was not checked."""
    config: DecontamConfig

    def by_problem(self) -> dict[str, list[Hit]]:
        """Problem id -> its hits, strongest first."""
        found: dict[str, list[Hit]] = {}
        for hit in sorted(self.hits, key=_strength):
            found.setdefault(hit.problem_id, []).append(hit)
        return found

    def split(self, problems: Iterable[Problem]) -> tuple[list[Problem], list[tuple[Problem, str]]]:
        """(kept, [(dropped, reason)]): the problems with a hit are dropped (all kept when
        ``config.drop`` is off); the reason is the strongest hit, and how many more there are."""
        problems = list(problems)
        if not self.config.drop:
            return problems, []
        hits = self.by_problem()
        kept, dropped = [], []
        for problem in problems:
            found = hits.get(problem.id)
            if not found:
                kept.append(problem)
                continue
            more = f"; {len(found) - 1} more hit(s)" if len(found) > 1 else ""
            dropped.append((problem, f"contaminated: {found[0].describe()}{more}"))
        return kept, dropped

    def write(self, out_dir: str | os.PathLike[str], top: int = 20) -> tuple[Path, Path]:
        """``out_dir/decontamination.jsonl`` (every hit) and ``out_dir/decontamination.md`` (counts per
        set and method, the skipped sets, the ``top`` strongest hits); returns both paths."""
        out = Path(out_dir)
        lines = "".join(json.dumps(asdict(h), ensure_ascii=False) + "\n" for h in self.hits)
        return write_atomic(out / "decontamination.jsonl", lines), write_atomic(
            out / "decontamination.md", self._markdown(top)
        )

    def _markdown(self, top: int) -> str:
        c = self.config
        flagged = len(self.by_problem())
        fate = "dropped from exports" if c.drop else "reported only (drop is off)"
        lines = [
            "# Decontamination", "",
            f"{self.problems} training problems ({self.figures} with a figure) against {len(self.eval_items)} "
            f"evaluation sets ({sum(self.eval_items.values())} items): {len(self.hits)} hits on {flagged} "
            f"problems, {fate}.", "",
            f"Hits: exact normalised text; word {c.ngram_size}-grams, share >= {c.ngram_min_share}; MinHash "
            f"({c.shingle_size}-word shingles, {c.num_perm} permutations), exact Jaccard >= {c.minhash_threshold}; "
            f"perceptual hash, Hamming distance <= {c.phash_max_distance}.", "",
            f"## Skipped evaluation sets: {len(self.skipped)}", "",
            *[f"- `{name}`: {why}" for name, why in self.skipped.items()], "",
            "## Hits per set and method", "",
            f"| set | items (with image) | {' | '.join(METHODS)} | problems |",
            "|---" * (len(METHODS) + 3) + "|",
        ]  # fmt: skip
        for name, items in self.eval_items.items():
            hits = [h for h in self.hits if h.eval_set == name]
            counts = " | ".join(str(sum(h.method == m for h in hits)) for m in METHODS)
            problems = len({h.problem_id for h in hits})
            lines.append(f"| {name} | {items} ({self.eval_images[name]}) | {counts} | {problems} |")
        lines += ["", f"## Top hits ({min(top, len(self.hits))} of {len(self.hits)})", ""]
        lines += ["| problem | set | item | method | score | problem text | eval text |", "|---" * 7 + "|"]
        for h in sorted(self.hits, key=_strength)[:top]:
            texts = (_cell(h.problem_text), _cell(h.eval_text))
            lines.append(
                f"| {h.problem_id} | {h.eval_set} | {h.eval_id} | {h.method} | {h.score:.3g} | {texts[0]} | {texts[1]} |"
            )
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _beginning(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _phash(data: bytes, record: str, record_id: str) -> int:
    try:
        return image_phash(data)
    except (OSError, ValueError) as e:  # PIL's UnidentifiedImageError is an OSError
        raise RecordError(record, record_id, "image", f"not a readable image ({e})") from e


def find_contamination(
    problems: Iterable[Problem],
    config: DecontamConfig | None = None,
    images: Mapping[str, bytes | str | os.PathLike[str] | int] | None = None,
) -> DecontamReport:
    """Every hit of the problems (their ``question`` and ``multimodal_question``) and of their figures
    (``images``: problem id -> PNG bytes, a file, or its 64-bit perceptual hash as an int, e.g.
    ``int(figure.extra["phash"], 16)`` where the build's filter stored it) against ``config``'s sets.

    A registered set without a readable source is skipped, logged and named in the report; an extra
    set's file must be readable (a bad record raises a ``DataFileError`` naming the file, line and field).
    """
    config = config or DecontamConfig()
    images = images or {}
    problems = list(problems)
    items: list[EvalItem] = []
    skipped: dict[str, str] = {}
    for name in config.eval_sets:
        found = registered_items(name, config.sources.get(name), config.use_hub)
        if isinstance(found, str):
            log.warning("decontamination: evaluation set %s %s", name, found)
            skipped[name] = found
        else:
            items += found
    for name, file in config.extra_sets.items():
        items += extra_items(name, file)
    checked = [n for n in (*config.eval_sets, *config.extra_sets) if n not in skipped]
    eval_items = {n: sum(i.eval_set == n for i in items) for n in checked}
    eval_images = {n: sum(i.eval_set == n and i.image is not None for i in items) for n in checked}

    index = EvalIndex(
        config.ngram_size, config.ngram_min_share, config.shingle_size, config.minhash_threshold,
        config.num_perm, config.phash_max_distance,
    )  # fmt: skip
    bar = {"file": sys.stderr, "disable": None if config.progress else True}
    for number, item in enumerate(tqdm(items, desc="index evaluation sets", unit="item", **bar)):
        image_hash = None if item.image is None else _phash(item.image, f"{item.eval_set} item", item.eval_id)
        index.add(number, item.texts, image_hash)
        item.image = None  # the hash is all that is needed from here on
    hits = []
    figures = 0
    for problem in tqdm(problems, desc="decontaminate", unit="problem", **bar):
        texts = [problem.question, *([problem.multimodal_question] if problem.multimodal_question else [])]
        matches = index.match_text(texts)
        figure = images.get(problem.id)
        if figure is not None:
            figures += 1
            if isinstance(figure, str | os.PathLike):
                if not Path(figure).is_file():
                    raise RecordError("Problem", problem.id, "image", f"no file {figure}")
                figure = Path(figure).read_bytes()
            hashed = figure if isinstance(figure, int) else _phash(figure, "Problem", problem.id)
            matches += index.match_image(hashed)
        for m in matches:
            item = items[m.item]
            hits.append(
                Hit(
                    problem.id,
                    item.eval_set,
                    item.eval_id,
                    m.method,
                    m.score,
                    _beginning(texts[m.text]),
                    _beginning(item.texts[0]),
                    m.detail,
                )
            )
    return DecontamReport(hits, len(problems), figures, eval_items, eval_images, skipped, config)
