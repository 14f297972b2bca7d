"""The figures the paper released (Hub dataset ``J017athan/SciGenBench``: one config per generator,
splits ``scigen`` and ``seephys``, fields ``image, original_question, answer, image_type,
multimodal_question``) as a build's run directory, so that ``bench``, the filters and ``export`` take
them as they take a build's own.

The released rows carry no problem id: each is matched to a SciGenBench problem by its question text,
normalised (case, white space, punctuation and LaTeX spacing ignored). A row whose text matches no
problem, or more than one, or a problem already matched, is reported and left out.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from PIL import Image

from scigen_rl.filters import FilterConfig, check_pixels
from scigen_rl.image_budget import rgb_png
from scigen_rl.records import Figure, JsonlWriter, Problem, write_atomic, write_jsonl

from .export_run import export_run

SPLITS = ("scigen", "seephys")
HUB_DATASET = "J017athan/SciGenBench"


def normalised_question(text: str) -> str:
    """The question as compared: NFKC, lower case, letters and digits only, single-spaced.

    >>> normalised_question("A  block of mass $M$ is\\n rigidly connected...") == normalised_question("a block of mass M is rigidly connected")
    True
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return " ".join(re.sub(r"\W+", " ", folded).split())


def released_rows(source: str, generator: str, split: str) -> Any:
    """The rows of one generator's split: from a folder (``datasets`` ``save_to_disk`` of the dataset
    dict, or parquet files under ``<generator>/``) or, when ``source`` is no folder, the Hub."""
    import datasets

    root = Path(source).expanduser()
    if root.is_dir():
        folder = root / generator if (root / generator).is_dir() else root
        if (folder / "dataset_dict.json").is_file():
            return datasets.load_from_disk(str(folder))[split]
        files = sorted(
            p for p in folder.rglob("*.parquet") if p.name.startswith(split) or p.parent.name == split
        )
        if not files:
            raise FileNotFoundError(
                f"{folder}: no {split} parquet files and no dataset_dict.json (save_to_disk)"
            )
        return datasets.load_dataset("parquet", data_files=[str(f) for f in files], split="train")
    if (
        source.startswith((".", "/", "~")) or source.count("/") != 1 or Path(source).suffix
    ):  # a path, not a Hub name
        raise FileNotFoundError(f"{source}: no such folder (a local copy of {HUB_DATASET}, or its Hub name)")
    return datasets.load_dataset(source, generator, split=split)


def _png(image: Any) -> bytes:
    """The row's image as PNG bytes (RGB on white)."""
    if isinstance(image, dict):
        image = image.get("bytes") or Path(str(image.get("path"))).read_bytes()
    picture = Image.open(io.BytesIO(image)) if isinstance(image, bytes | bytearray) else image
    return rgb_png(picture)


def import_figures(
    source: str, generator: str, run_dir: str | os.PathLike[str], problems: list[Problem],
    splits: tuple[str, ...] = SPLITS, filters: FilterConfig | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Write ``run_dir`` as a build would (problems, figures, PNGs, export, summary); return the summary
    with ``imported`` counts: matched, unmatched and ambiguous rows, with the unmatched listed."""
    filters = filters or FilterConfig()
    by_text: dict[str, list[Problem]] = defaultdict(list)
    for p in problems:
        by_text[normalised_question(p.question)].append(p)
    tables = {split: released_rows(source, generator, split) for split in splits}  # every split opens first
    run = Path(run_dir)
    png_dir = run / "synthesize" / "png"
    name = f"released:{generator}"
    matched: dict[str, Figure] = {}
    report: Counter[str] = Counter()
    left_out: list[dict[str, Any]] = []
    for split, table in tables.items():
        for i, row in enumerate(table):
            where = {"split": split, "row": i, "question": str(row.get("original_question") or "")[:120]}
            candidates = by_text.get(normalised_question(str(row.get("original_question") or "")), [])
            if len(candidates) != 1 or candidates[0].id in matched:
                reason = "unmatched" if not candidates else "ambiguous"
                report[reason] += 1
                left_out.append({**where, "reason": reason, "problems": [p.id for p in candidates]})
                continue
            problem = candidates[0]
            try:
                png = _png(row.get("image"))
            except (OSError, ValueError, TypeError) as e:
                report["unreadable"] += 1
                left_out.append(
                    {**where, "reason": "unreadable", "problems": [problem.id], "detail": str(e)[:200]}
                )
                continue
            digest = hashlib.sha256(png).hexdigest()
            path = write_atomic(
                png_dir / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', problem.id)}-{digest[:8]}.png", png
            )
            pixels = check_pixels(png, filters)
            matched[problem.id] = Figure(problem.id, name, "ok", png_path=str(path), png_sha256=digest,
                                         extra={"rejected": list(pixels.issues), "phash": pixels.phash, "split": split,
                                                "row": i, "released_image_type": row.get("image_type")})  # fmt: skip
            report["matched"] += 1
    chosen = [p for p in problems if p.id in matched]
    write_jsonl(run / "problems.jsonl", chosen)
    figures = run / "synthesize" / "figures.jsonl"
    figures.unlink(missing_ok=True)
    with JsonlWriter(figures) as writer:
        for p in chosen:
            writer.write(matched[p.id])
    write_jsonl(run / "imported_left_out.jsonl", left_out)
    summary = export_run(run, filters)
    summary["imported"] = {"generator": name, **{k: report.get(k, 0) for k in ("matched", "unmatched", "ambiguous", "unreadable")},
                           "left_out": str(run / "imported_left_out.jsonl")}  # fmt: skip
    write_atomic(run / "summary.json", json.dumps(summary, indent=2))
    return summary
