"""The evaluation sets as verl parquet: MathVision (testmini = "MathVision_mini", or test) and
Geometry3K test, with the training data's instruction, the gold answer and the question (with option
texts) where the reward reads them.

Each loader takes a local folder or file (the layout of the Hub dataset) or the Hub name; the Hub is
only used when the argument is not an existing path.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from scigen_rl.image_budget import capped_image
from scigen_rl.records import RecordError, Sample
from scigen_rl.shipped import MATHVISION, load_jsonl_file, local_or_hub, open_table, shipped_dir

from .export import INSTRUCTION, write_parquet

MATHVISION_HUB = "MathLLMs/MathVision"
MATHVISION_SHIPPED = "shipped"
"""testmini from the copy shipped in the package; the other splits from the Hub."""
GEOMETRY3K_HUB = "hiyouga/geometry3k"
DATA_SOURCES = {"testmini": "mathvision_mini", "test": "mathvision", "geometry3k": "geometry3k"}


def _image_bytes(image: Any, where: tuple[str, Any], base: Path | None = None) -> bytes:
    """Bytes of an image given as bytes, a ``{"bytes", "path"}`` dict, a PIL image or a file path."""
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


def _drawn_in_figure(options: list[str]) -> bool:
    """Options that are only letters (or ``<image2>``-style pictures): the choices are in the figure."""
    return all(re.fullmatch(r"\(?[A-Z]\)?|<image\d+>", o.strip()) for o in options)


def _sample(
    data_source: str, question: str, image: bytes, answer: str, ability: str, extra: dict[str, Any]
) -> Sample:
    """One row; an image over the policy's pixel budget is shrunk (``image_resized_from`` says from what)."""
    image, resized_from = capped_image(image)
    return Sample(
        data_source=data_source,
        prompt=[{"role": "user", "content": f"{Sample.IMAGE_TOKEN}{question}\n\n{INSTRUCTION}"}],
        images=[{"bytes": image, "path": None}],
        ability=ability,
        reward_model={"style": "model", "ground_truth": answer},
        extra_info={"question": question, "answer": answer, **extra, "image_resized_from": resized_from},
    )


def mathvision_question(question: str, options: list[str]) -> str:
    """The question without its ``<image1>`` mark, with the option texts listed unless they are only
    letters or pictures drawn in the figure (the benchmark's own convention).

    >>> mathvision_question("Which is larger?\\n<image1>", ["3", "4"])
    'Which is larger?\\n\\nOptions:\\nA. 3\\nB. 4'
    >>> mathvision_question("Which picture?\\n<image1>", ["A", "B", "C", "D", "E"])
    'Which picture?'
    """
    text = re.sub(r"\s*<image\d*>\s*", "\n", question).strip()
    if options and not _drawn_in_figure(options):
        listed = "\n".join(f"{chr(65 + i)}. {o}" for i, o in enumerate(options))
        text = f"{text}\n\nOptions:\n{listed}"
    return text


def _mathvision_records(source: str, split: str) -> tuple[Iterable[dict[str, Any]], Path | None]:
    if source == MATHVISION_SHIPPED:
        if split != "testmini":
            return _mathvision_records(MATHVISION_HUB, split)
        source = str(shipped_dir(MATHVISION))
    expected = f"MathVision {split}: a folder with {split}.jsonl and its images, or a JSONL file"
    path = local_or_hub(source, expected)
    if path is not None:
        file = path / f"{split}.jsonl" if path.is_dir() else path
        return load_jsonl_file(file, expected), file.parent
    from datasets import load_dataset

    try:
        return load_dataset(source, split=split), None
    except Exception as e:  # noqa: BLE001 - hub errors come in many types; say what to do instead
        raise RuntimeError(
            f"could not load MathVision {split!r} from the Hugging Face Hub ({source}): {e}. "
            "Offline, pass a local folder in its layout (testmini ships with scigen-rl)."
        ) from e


def mathvision_rows(source: str = MATHVISION_SHIPPED, split: str = "testmini") -> list[Sample]:
    """MathVision ``testmini`` (304, data source ``mathvision_mini``) or ``test`` (3,040, ``mathvision``).

    ``source`` is ``"shipped"`` (testmini from the package, other splits from the Hub), a local folder
    or JSONL file in MATH-V's layout, or a Hub name.

    ``extra_info`` keeps the id, subject and level (for per-subject reports) and ``options`` (letter
    order) so the reward can match an option's text to its letter.
    """
    records, base = _mathvision_records(source, split)
    rows = []
    for i, r in enumerate(records):
        where = (f"MathVision {split} record", r.get("id", i))
        options = [str(o) for o in (r.get("options") or [])]
        image = r.get("decoded_image") or r.get("image")
        if image is None:
            raise RecordError(*where, "image", "missing")
        rows.append(
            _sample(
                DATA_SOURCES.get(split, f"mathvision_{split}"),
                mathvision_question(str(r["question"]), options),
                _image_bytes(image, where, base),
                str(r["answer"]),
                "math",
                {
                    "problem_id": f"mathvision-{r.get('id', i)}",
                    "index": i,
                    "options": options,
                    "subject": r.get("subject") or "",
                    "level": int(r.get("level") or 0),
                },
            )  # fmt: skip
        )
    return rows


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
            _sample(
                "geometry3k",
                question,
                _image_bytes(images[0], where, base),
                str(r["answer"]),
                "math",
                {"problem_id": f"geometry3k-{split}-{i}", "index": i},
            )
        )
    return rows


def _resized(rows: list[Sample]) -> int:
    return sum(bool(r.extra_info.get("image_resized_from")) for r in rows)


def write_eval_sets(
    out_dir: str | os.PathLike[str],
    mathvision: str | None = MATHVISION_SHIPPED,
    mathvision_split: str = "testmini",
    geometry3k: str | None = GEOMETRY3K_HUB,
) -> dict[str, Any]:
    """``mathvision_mini.parquet`` (or ``mathvision.parquet``) and ``geometry3k_test.parquet``;
    a source given as None is skipped. Returns ``{name: {"path", "rows", "data_source", "resized_images"}}``
    (images over :data:`~scigen_rl.image_budget.MAX_PIXELS` are shrunk so every row fits the prompt)."""
    out = Path(out_dir)
    written: dict[str, Any] = {}
    if mathvision:
        rows = mathvision_rows(mathvision, mathvision_split)
        name = DATA_SOURCES.get(mathvision_split, f"mathvision_{mathvision_split}")
        path = write_parquet(rows, out / f"{name}.parquet")
        written[name] = {"path": str(path), "rows": len(rows), "data_source": rows[0].data_source,
                         "resized_images": _resized(rows)}  # fmt: skip
    if geometry3k:
        rows = geometry3k_rows(geometry3k, "test")
        path = write_parquet(rows, out / "geometry3k_test.parquet")
        written["geometry3k"] = {"path": str(path), "rows": len(rows), "data_source": "geometry3k",
                                 "resized_images": _resized(rows)}  # fmt: skip
    return written
