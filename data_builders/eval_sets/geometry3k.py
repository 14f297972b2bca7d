"""Geometry3K ``test`` (601 problems; not shipped: from the Hub's ``hiyouga/geometry3k`` or a local
file in its layout)."""

from __future__ import annotations

import re

from scigen_rl.records import RecordError, Sample
from scigen_rl.shipped import local_or_hub, open_table

from .common import EvalSet, eval_sample, image_bytes

GEOMETRY3K_HUB = "hiyouga/geometry3k"


def geometry3k_rows(source: str = GEOMETRY3K_HUB, split: str = "test") -> list[Sample]:
    """Geometry3K (hub ``hiyouga/geometry3k``; ``test`` has 601 problems) as ``geometry3k`` rows.

    A local source is a parquet, JSON or JSONL file (or a folder holding ``<split>.parquet``) with
    the hub's columns: ``images`` (one image), ``problem`` (with ``<image>``), ``answer``.
    """
    expected = f"Geometry3K {split}: a .parquet/.json/.jsonl file in the Hub's layout, or a folder with {split}.parquet"
    local = local_or_hub(source, expected)
    base = (local if local.is_dir() else local.parent) if local is not None else None
    data = open_table(source, split, expected)
    rows = []
    for i, r in enumerate(data):
        where = (f"Geometry3K {split} record", i)
        images = r.get("images") or []
        if len(images) != 1:
            raise RecordError(*where, "images", f"expected one image, got {len(images)}")
        question = re.sub(r"\s*<image>\s*", " ", str(r["problem"])).strip()
        rows.append(
            eval_sample(
                "geometry3k",
                question,
                image_bytes(images[0], where, base),
                str(r["answer"]),
                {"problem_id": f"geometry3k-{split}-{i}", "index": i},
            )
        )
    return rows


GEOMETRY3K_TEST = EvalSet(
    name="geometry3k_test",
    data_source="geometry3k",
    default_source=GEOMETRY3K_HUB,
    rows=geometry3k_rows,
    summary=f"Geometry3K test (601 problems), from the Hub's {GEOMETRY3K_HUB}",
)
