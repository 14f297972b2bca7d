"""Export: verl parquet rows from problems and their figures, a train/val split, and nested
data-scaling subsets with a manifest."""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from scigen_rl.image_budget import capped_image
from scigen_rl.records import Problem, Sample, Verdict, write_atomic

INSTRUCTION = "Reason step by step inside <think> </think> first, then give the final answer in \\boxed{}."
"""Appended to every prompt, training and evaluation alike (the reward reads the last \\boxed{})."""


def make_sample(
    problem: Problem, png: bytes, generator: str, index: int, verdict: Verdict | None = None
) -> Sample:
    """One verl row: ``<image>`` then the figure-referring question (or the question), then the instruction.
    A figure over the policy's pixel budget is shrunk (``extra_info.image_resized_from`` says from what).

    >>> import io; from PIL import Image
    >>> png = io.BytesIO(); Image.new("RGB", (64, 48)).save(png, format="PNG")
    >>> p = Problem(id="p1", question="Find x.", answer="48", source="t", image_type="Math - Plane Geometric")
    >>> s = make_sample(p, png.getvalue(), "imgcoder:m", 0)
    >>> s.prompt[0]["content"].startswith("<image>Find x.")
    True
    >>> s.data_source, s.reward_model
    ('scigen/imgcoder:m', {'style': 'model', 'ground_truth': '48'})
    """
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
    return Sample(
        data_source=f"scigen/{generator}",
        prompt=[{"role": "user", "content": f"{Sample.IMAGE_TOKEN}{question}\n\n{INSTRUCTION}"}],
        images=[{"bytes": png, "path": None}],
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


def write_parquet(samples: Sequence[Sample], path: str | os.PathLike[str]) -> Path:
    """Write rows atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([s.to_row() for s in samples])
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
) -> dict[str, Any]:
    """``train.parquet``, ``val.parquet``, ``scale/train_<fraction>.parquet`` and ``manifest.json``."""
    out = Path(out_dir)
    train = [s for s in samples if split_of(str(s.extra_info["problem_id"]), val_fraction, seed) == "train"]
    val = [s for s in samples if split_of(str(s.extra_info["problem_id"]), val_fraction, seed) == "val"]
    write_parquet(train, out / "train.parquet")
    write_parquet(val, out / "val.parquet")
    manifest: dict[str, Any] = {
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
