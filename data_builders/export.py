"""Export: verl parquet rows from problems and their figures, a train/val split, and nested
data-scaling subsets with a manifest."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from scigen_rl.image_budget import capped_image
from scigen_rl.records import Problem, Sample, Verdict, write_atomic

INSTRUCTION = "Reason step by step inside <think> </think> first, then give the final answer in \\boxed{}."
"""Appended to every prompt, training and evaluation alike (the reward reads the last \\boxed{})."""

ImageMode = Literal["figure", "none", "blank"]
IMAGE_MODES: tuple[str, ...] = ("figure", "none", "blank")
"""What a row shows: its figure; no image at all (the text-only control); a white image of the figure's
size (the control that keeps the image tokens and drops their content)."""
Band = Literal["too_easy", "learnable", "too_hard"]
BANDS: tuple[str, ...] = ("too_easy", "learnable", "too_hard")
"""The difficulty bands of ``scigen-rl difficulty`` (by the policy's pass rate with the figure)."""


def export_folder(image_mode: str) -> str:
    """The folder of a run directory an image mode's rows go to: a control never overwrites the
    figure rows, so no training run can take one for the other.

    >>> [export_folder(m) for m in IMAGE_MODES]
    ['export', 'export-no-image', 'export-blank-image']
    """
    return {"figure": "export", "none": "export-no-image", "blank": "export-blank-image"}[image_mode]


def blank_png(size: tuple[int, int]) -> bytes:
    """A plain white PNG of ``size`` (width, height)."""
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format="PNG")
    return out.getvalue()


def make_sample(
    problem: Problem,
    png: bytes,
    generator: str,
    index: int,
    verdict: Verdict | None = None,
    image_mode: str = "figure",
) -> Sample:
    """One verl row: ``<image>`` then the figure-referring question (or the question), then the instruction.
    A figure over the policy's pixel budget is shrunk (``extra_info.image_resized_from`` says from what).
    ``image_mode`` ``none`` writes the same row without ``<image>`` and with no image, ``blank`` with a
    white image of the (shrunk) figure's size; both say so in ``data_source`` and ``extra_info.image_mode``.

    >>> import io; from PIL import Image
    >>> png = io.BytesIO(); Image.new("RGB", (64, 48)).save(png, format="PNG")
    >>> p = Problem(id="p1", question="Find x.", answer="48", source="t", image_type="Math - Plane Geometric")
    >>> s = make_sample(p, png.getvalue(), "imgcoder:m", 0)
    >>> s.prompt[0]["content"].startswith("<image>Find x.")
    True
    >>> s.data_source, s.reward_model
    ('scigen/imgcoder:m', {'style': 'model', 'ground_truth': '48'})
    >>> t = make_sample(p, png.getvalue(), "imgcoder:m", 0, image_mode="none")
    >>> t.prompt[0]["content"].startswith("Find x."), t.images, t.data_source
    (True, [], 'scigen/imgcoder:m/no-image')
    """
    if image_mode not in IMAGE_MODES:
        raise ValueError(f"image mode {image_mode!r} is not one of {', '.join(IMAGE_MODES)}")
    question = (problem.multimodal_question or problem.question).strip()
    png, resized_from = capped_image(png)
    extra: dict[str, Any] = {
        "problem_id": problem.id,
        "index": index,
        "image_type": problem.image_type or "",
        "generator": generator,
        "question": problem.question,
        "answer": problem.answer,
        "source": problem.source,
        "image_resized_from": resized_from,
    }
    if verdict is not None:
        extra.update(r_inv=verdict.r_inv, perfect=verdict.perfect)
    data_source, token, images = f"scigen/{generator}", Sample.IMAGE_TOKEN, [{"bytes": png, "path": None}]
    if image_mode != "figure":
        extra["image_mode"] = image_mode
        data_source += "/no-image" if image_mode == "none" else "/blank-image"
        if image_mode == "none":
            token, images = "", []
        else:
            with Image.open(io.BytesIO(png)) as figure:
                images = [{"bytes": blank_png(figure.size), "path": None}]
    return Sample(
        data_source=data_source,
        prompt=[{"role": "user", "content": f"{token}{question}\n\n{INSTRUCTION}"}],
        images=images,
        ability=(problem.subject or "science").lower(),
        reward_model={"style": "model", "ground_truth": problem.answer},
        extra_info=extra,
    )


def _unit_hash(seed: int, key: str) -> float:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class ExportConfig:
    """How a build's rows become parquet files (``build`` and ``export`` take the same settings)."""

    val_fraction: float = 0.05
    """Share of the problems (by a hash of their id) in val.parquet."""
    scaling_fractions: tuple[float, ...] = (0.125, 0.25, 0.5, 1.0)
    """Nested training subsets for data-scaling sweeps (scale/train_<fraction>.parquet)."""
    seed: int = 0
    """Seed of the split and of the subsets' order."""
    verify_threshold: float = 1.0
    """R_inv a verified figure needs to enter export/filtered (1.0: every quiz right, the paper's "Filt")."""
    difficulty_bands: tuple[Band, ...] = ()
    """Export only the rows whose difficulty band (RUN/difficulty/records.jsonl, written by scigen-rl
    difficulty) is one of these: too_easy, learnable, too_hard; empty: every row. Rows without a record
    are left out (difficulty:unmeasured) and counted."""
    drop_text_solvable: bool = False
    """Leave out the rows the policy solves without their figure (text_solvable in
    RUN/difficulty/records.jsonl): they teach no visual reasoning."""
    image_mode: ImageMode = "figure"
    """What each row shows: figure; none (the text-only control: no image, no <image>); blank (a white
    image of the figure's size). The controls go to RUN/export-no-image and RUN/export-blank-image."""

    @property
    def by_difficulty(self) -> bool:
        """Whether rows are selected by their difficulty records."""
        return bool(self.difficulty_bands) or self.drop_text_solvable

    def __post_init__(self) -> None:
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"ExportConfig.val_fraction: must lie in [0, 1), got {self.val_fraction}")
        if not self.scaling_fractions or not all(0.0 < f <= 1.0 for f in self.scaling_fractions):
            raise ValueError(
                f"ExportConfig.scaling_fractions: each must lie in (0, 1], got {list(self.scaling_fractions)}"
            )
        if not 0.0 <= self.verify_threshold <= 1.0:
            raise ValueError(
                f"ExportConfig.verify_threshold: must lie in [0, 1], got {self.verify_threshold}"
            )
        unknown = [b for b in self.difficulty_bands if b not in BANDS]
        if unknown:
            raise ValueError(
                f"ExportConfig.difficulty_bands: each must be one of {', '.join(BANDS)}, got {unknown[0]!r}"
            )
        if self.image_mode not in IMAGE_MODES:
            raise ValueError(
                f"ExportConfig.image_mode: must be one of {', '.join(IMAGE_MODES)}, got {self.image_mode!r}"
            )


def split_of(problem_id: str, val_fraction: float, seed: int = 0) -> str:
    """``train`` or ``val``, decided by the id alone: adding problems never moves existing ones.

    >>> split_of("webinstruct-994992", 0.0)
    'train'
    """
    return "val" if _unit_hash(seed, "split:" + problem_id) < val_fraction else "train"


def scaling_subsets(
    samples: Sequence[Sample], fractions: Iterable[float], seed: int = 0
) -> dict[float, list[int]]:
    """Row indices of nested subsets, stratified by image type: every smaller set is inside every larger.

    Within each image type the rows are put in a fixed pseudo-random order and each subset takes the
    first ``round(fraction * n)`` of them, so the subsets are prefixes of one order and nest exactly.
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(samples):
        groups[str(s.extra_info.get("image_type", ""))].append(i)
    for members in groups.values():
        members.sort(key=lambda i: _unit_hash(seed, "scale:" + str(samples[i].extra_info["problem_id"])))
    out = {}
    for fraction in sorted(set(fractions)):
        if not 0 < fraction <= 1:
            raise ValueError(f"scaling fraction {fraction} is not in (0, 1]")
        chosen = [
            i
            for members in groups.values()
            for i in members[: max(1, math.floor(fraction * len(members) + 0.5))]
        ]
        out[fraction] = sorted(chosen)
    return out


IMAGES_TYPE = pa.list_(pa.struct([("bytes", pa.binary()), ("path", pa.string())]))
"""The ``images`` column's type: a list of ``{bytes, path}``."""


def write_parquet(samples: Sequence[Sample], path: str | os.PathLike[str]) -> Path:
    """Write rows atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([s.to_row() for s in samples])
    if "images" in table.column_names and pa.types.is_null(table.schema.field("images").type.value_type):
        # rows without images (the text-only control): the column keeps the type of image rows
        i = table.column_names.index("images")
        table = table.set_column(i, "images", table.column("images").cast(IMAGES_TYPE))
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def export(
    samples: Sequence[Sample],
    out_dir: str | os.PathLike[str],
    val_fraction: float = 0.05,
    fractions: Sequence[float] = (0.125, 0.25, 0.5, 1.0),
    seed: int = 0,
    about: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``train.parquet``, ``val.parquet``, ``scale/train_<fraction>.parquet`` and ``manifest.json``
    (``about``, e.g. the image mode and the difficulty selection, goes into the manifest as it is)."""
    out = Path(out_dir)
    train = [s for s in samples if split_of(str(s.extra_info["problem_id"]), val_fraction, seed) == "train"]
    val = [s for s in samples if split_of(str(s.extra_info["problem_id"]), val_fraction, seed) == "val"]
    write_parquet(train, out / "train.parquet")
    write_parquet(val, out / "val.parquet")
    manifest: dict[str, Any] = {
        **(about or {}),
        "train": {"path": "train.parquet", "rows": len(train)},
        "val": {"path": "val.parquet", "rows": len(val)},
    }
    subsets = []
    for fraction, rows in scaling_subsets(train, fractions, seed).items():
        name = f"scale/train_{fraction:g}.parquet"
        write_parquet([train[i] for i in rows], out / name)
        by_type: dict[str, int] = defaultdict(int)
        for i in rows:
            by_type[str(train[i].extra_info.get("image_type", ""))] += 1
        subsets.append(
            {
                "fraction": fraction,
                "path": name,
                "rows": len(rows),
                "by_image_type": dict(sorted(by_type.items())),
            }
        )
    manifest["scaling_subsets"] = subsets
    write_atomic(out / "manifest.json", json.dumps(manifest, indent=2))
    return manifest
