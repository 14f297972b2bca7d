"""What every evaluation set shares: :class:`EvalSet` (what a registered set is) and the helpers that
turn a record into a row: :func:`image_bytes` and :func:`eval_sample`."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scigen_rl.image_budget import capped_image
from scigen_rl.records import RecordError, Sample

from ..export import INSTRUCTION


@dataclass(frozen=True)
class EvalSet:
    """One evaluation set: where its rows come from and how they are named."""

    name: str
    """Its name in the registry and the stem of its parquet (``mathvision_mini`` ->
    ``OUT_DIR/mathvision_mini.parquet``)."""
    data_source: str
    """The ``data_source`` of its rows (verl reports validation scores per data source)."""
    default_source: str
    """The source read when none is given: ``"shipped"`` (the copy in the package) or a Hub name."""
    rows: Callable[[str], list[Sample]]
    """The rows of a source: the default, a local folder or file in the set's layout, or a Hub name."""
    summary: str
    """One line on what the set is."""


def image_bytes(image: Any, where: tuple[str, Any], base: Path | None = None) -> bytes:
    """Bytes of an image given as bytes, a ``{"bytes", "path"}`` dict, a PIL image or a file path
    (relative to ``base`` if given); ``where`` (record kind, id) names the record in errors."""
    if isinstance(image, bytes | bytearray):
        return bytes(image)
    if isinstance(image, dict):
        if image.get("bytes"):
            return bytes(image["bytes"])
        image = image.get("path")
    if isinstance(image, str):
        path = Path(image) if base is None or Path(image).is_absolute() else base / image
        if not path.is_file():
            raise RecordError(*where, "image", f"no file {path}")
        return path.read_bytes()
    if hasattr(image, "save"):  # PIL
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return buf.getvalue()
    raise RecordError(*where, "image", f"expected bytes, a path or an image, got {type(image).__name__}")


def eval_sample(
    data_source: str, question: str, image: bytes, answer: str, extra: dict[str, Any], ability: str = "math"
) -> Sample:
    """One row with the training data's instruction; the question and answer also go to ``extra_info``
    (with ``extra``: an id, an index, what the reward reads). An image over the policy's pixel budget
    is shrunk (``image_resized_from`` says from what)."""
    image, resized_from = capped_image(image)
    return Sample(
        data_source=data_source,
        prompt=[{"role": "user", "content": f"{Sample.IMAGE_TOKEN}{question}\n\n{INSTRUCTION}"}],
        images=[{"bytes": image, "path": None}],
        ability=ability,
        reward_model={"style": "model", "ground_truth": answer},
        extra_info={"question": question, "answer": answer, **extra, "image_resized_from": resized_from},
    )
