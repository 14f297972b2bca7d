"""The evaluation sets as verl parquet, with the training data's instruction, the gold answer and the
question (with option texts) where the reward reads them.

Each set is an :class:`~data_builders.eval_sets.common.EvalSet` in a module of this package,
registered in :data:`EVAL_SETS` by one line; its module is imported only when the set is used. A set
reads its default source (the copy shipped in the package, or a Hub name) or a source given instead:
a local folder or file (the Hub is only used when the argument is not an existing path).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .common import EvalSet

EVAL_SETS: dict[str, str] = {
    "mathvision_mini": "data_builders.eval_sets.mathvision:MATHVISION_MINI",
    "mathvision": "data_builders.eval_sets.mathvision:MATHVISION_TEST",
    "geometry3k_test": "data_builders.eval_sets.geometry3k:GEOMETRY3K_TEST",
}  # fmt: skip
"""Set name (the stem of its parquet): ``module:ATTRIBUTE`` of its EvalSet."""


def eval_set(name: str) -> EvalSet:
    """The registered set of this name (its module is imported only now).

    >>> eval_set("mathvision_mini").data_source
    'mathvision_mini'
    >>> eval_set("mathvision_full")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown evaluation set 'mathvision_full' (known: mathvision_mini, mathvision, ...)
    """
    if name not in EVAL_SETS:
        raise ValueError(f"unknown evaluation set {name!r} (known: {', '.join(EVAL_SETS)})")
    module, attribute = EVAL_SETS[name].split(":")
    found: EvalSet = getattr(importlib.import_module(module), attribute)
    return found


def write_eval_sets(out_dir: str | os.PathLike[str], sets: Mapping[str, str | None]) -> dict[str, Any]:
    """``OUT_DIR/<name>.parquet`` for each set named in ``sets`` (name -> source; None reads the set's
    default source). Every name is checked before anything is read or written. Returns
    ``{name: {"path", "rows", "data_source", "resized_images"}}`` (images over
    :data:`~scigen_rl.image_budget.MAX_PIXELS` are shrunk so every row fits the prompt)."""
    from ..export import write_parquet

    chosen = {name: eval_set(name) for name in sets}
    for name, source in sets.items():
        if source is not None and not source.strip():
            raise ValueError(f"evaluation set {name!r}: an empty source (known: {', '.join(EVAL_SETS)})")
    out = Path(out_dir)
    written: dict[str, Any] = {}
    for name, found in chosen.items():
        source = sets[name]
        rows = found.rows(found.default_source if source is None else source)
        path = write_parquet(rows, out / f"{found.name}.parquet")
        resized = sum(bool(r.extra_info.get("image_resized_from")) for r in rows)
        written[name] = {"path": str(path), "rows": len(rows), "data_source": found.data_source,
                         "resized_images": resized}  # fmt: skip
    return written
