"""MathVision (MATH-V): ``testmini`` (304 problems, the paper's MathVision_mini, shipped with the
package) and ``test`` (3,040, from the Hub or a local copy in its layout)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from scigen_rl.records import RecordError, Sample
from scigen_rl.shipped import MATHVISION, load_jsonl_file, local_or_hub, shipped_dir

from .common import EvalSet, eval_sample, image_bytes

MATHVISION_HUB = "MathLLMs/MathVision"
MATHVISION_SHIPPED = "shipped"
"""testmini from the copy shipped in the package; the other splits from the Hub."""
DATA_SOURCES = {"testmini": "mathvision_mini", "test": "mathvision"}


def _drawn_in_figure(options: list[str]) -> bool:
    """Options that are only letters (or ``<image2>``-style pictures): the choices are in the figure."""
    return all(re.fullmatch(r"\(?[A-Z]\)?|<image\d+>", o.strip()) for o in options)


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
            eval_sample(
                DATA_SOURCES.get(split, f"mathvision_{split}"),
                mathvision_question(str(r["question"]), options),
                image_bytes(image, where, base),
                str(r["answer"]),
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


MATHVISION_MINI = EvalSet(
    name="mathvision_mini",
    data_source=DATA_SOURCES["testmini"],
    default_source=MATHVISION_SHIPPED,
    rows=partial(mathvision_rows, split="testmini"),
    summary="MathVision testmini (MathVision_mini, 304 problems), shipped with the package",
)
MATHVISION_TEST = EvalSet(
    name="mathvision",
    data_source=DATA_SOURCES["test"],
    default_source=MATHVISION_HUB,
    rows=partial(mathvision_rows, split="test"),
    summary=f"MathVision test (3,040 problems), from the Hub's {MATHVISION_HUB}",
)
