"""Problem sources: SciGenBench as shipped, and any ``datasets`` source through a field mapping."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .records import Problem, RecordError
from .shipped import SCIGENBENCH, DataFileError, load_json_file, open_table, shipped_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FieldMapping:
    """Which source column fills which Problem field. ``None``: the source has no such column."""

    id: str | None = "id"
    """Column with a unique id; without one, the id is ``<name>-<hash of the question>`` (stable across runs)."""
    question: str = "question"
    answer: str = "answer"
    """Column with the short gold answer (not the worked solution)."""
    source: str | None = None
    """Column naming each row's origin; without one, the dataset's name is used."""
    image_type: str | None = None
    elements: str | None = None
    quizzes: str | None = None
    multimodal_question: str | None = None


MAPPINGS: dict[str, FieldMapping] = {
    # MegaScience/MegaScience: question, answer (worked solution), subject, reference_answer, source.
    "megascience": FieldMapping(id=None, answer="reference_answer", source="source"),
    # TIGER-Lab/WebInstruct-verified: id, question, answer, answer_type, category, difficulty.
    "webinstruct-verified": FieldMapping(),
    "scigenbench": FieldMapping(
        image_type="image_type",
        elements="elements",
        quizzes="quizzes",
        multimodal_question="multimodal_question",
    ),
    # What `scigen-rl curate` writes (RUN_DIR/problems.jsonl): SciGenBench's fields and each row's origin.
    "curated": FieldMapping(
        source="source",
        image_type="image_type",
        elements="elements",
        quizzes="quizzes",
        multimodal_question="multimodal_question",
    ),
}


def _repair_option_keys(quiz: dict[str, Any]) -> dict[str, Any]:
    """Give options their positional letters where the source's keys are broken.

    SciGenBench has a few dozen quizzes whose option keys came out as "0", "3", "|C", "frequency",
    or key and text swapped ({"10 cm": "C"}). The answer letters still refer to positions, so the
    k-th option becomes letter k; the original keys are kept in ``extra.original_option_keys``.
    """
    options = quiz.get("options")
    if not isinstance(options, dict) or not options:
        return quiz
    letters = [chr(ord("A") + i) for i in range(len(options))]
    if sorted(options) == letters:
        return quiz
    fixed: dict[str, Any] = {}
    for letter, (key, text) in zip(letters, options.items(), strict=False):
        if isinstance(text, str) and text == letter and key not in letters:
            fixed[letter] = key  # key and text were swapped
        else:
            fixed[letter] = text
    extra = dict(quiz.get("extra") or {}, original_option_keys=list(options))
    return dict(quiz, options=fixed, extra=extra)


def load_scigenbench(root: str | Path | None = None) -> list[Problem]:
    """All 1,387 SciGenBench problems: ``scigen.json`` (1,057) then ``seephys.json`` (330).

    ``root`` defaults to the copy shipped in the package; a folder in the same layout overrides it.
    SeePhys ids become ``seephys-<id>``; their real figure's path is ``extra.reference_image``.

    >>> problems = load_scigenbench()
    >>> len(problems), problems[-1].id.startswith("seephys-")
    (1387, True)
    """
    root = Path(root) if root is not None else shipped_dir(SCIGENBENCH)
    if not root.is_dir():
        raise DataFileError(root, "a SciGenBench folder with scigen.json and seephys.json", "no such folder")
    problems: list[Problem] = []
    for name in ("scigen.json", "seephys.json"):
        path = root / name
        rows = load_json_file(path, "SciGenBench's JSON list of problems")
        if not isinstance(rows, list) or not rows:
            held = "an empty list" if isinstance(rows, list) else f"a {type(rows).__name__}"
            raise DataFileError(path, "SciGenBench's JSON list of problems", f"holds {held}")
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise RecordError("Problem", None, "<record>", f"{path} item {i} is not an object")
            row = dict(row)
            if name == "seephys.json":
                original = row.get("id")
                if original is None:
                    raise RecordError("Problem", None, "id", f"missing ({path}, item {i})")
                row["id"] = f"seephys-{original}"
                row["source"] = "scigenbench/seephys"
                row.setdefault("extra", {})
                row["extra"] = dict(row["extra"], original_id=original)
                image = root / "seephys_images" / f"{original}.png"
                if image.is_file():
                    row["extra"]["reference_image"] = str(image)
            else:
                row["source"] = "scigenbench/" + str(row.get("id", "")).rsplit("-", 1)[0]
            problems.append(_to_problem(row, f"{path}, item {i}"))
    _check_unique(problems)
    return problems


def _to_problem(row: dict[str, Any], where: str) -> Problem:
    """Validate one source row as a Problem; errors also say where in the source the row is."""
    quizzes = row.get("quizzes")
    if isinstance(quizzes, list):
        row = dict(row, quizzes=[_repair_option_keys(q) if isinstance(q, dict) else q for q in quizzes])
    try:
        return Problem.from_dict(row)
    except RecordError as e:
        raise RecordError(e.record, e.record_id, e.field, f"{e.problem} ({where})") from e


def _check_unique(problems: list[Problem]) -> None:
    seen: set[str] = set()
    for p in problems:
        if p.id in seen:
            raise RecordError("Problem", p.id, "id", "appears more than once")
        seen.add(p.id)


def load_problems(
    source: str,
    mapping: FieldMapping | str = "webinstruct-verified",
    *,
    split: str = "train",
    name: str | None = None,
    limit: int | None = None,
    rejected: list[RecordError] | None = None,
) -> list[Problem]:
    """Problems from a hub dataset name or a local json/jsonl/parquet/csv file.

    Columns the mapping does not use are kept in ``Problem.extra``. Errors name the row; with a
    ``rejected`` list, a row that is not a valid problem is added to it (its id, field and row) and the
    others are still read, instead of the first such row stopping the load.
    """
    if isinstance(mapping, str):
        if mapping not in MAPPINGS:
            raise ValueError(f"unknown field mapping {mapping!r}; known: {', '.join(MAPPINGS)}")
        mapping = MAPPINGS[mapping]
    name = name or Path(source).stem.lower()
    table = open_table(source, split, "a .json/.jsonl/.parquet/.csv file of problems, or a Hub dataset name")
    for column in (mapping.question, mapping.answer, mapping.id):
        if column is not None and column not in table.column_names:
            raise ValueError(f"{source}: no column {column!r} (columns: {', '.join(table.column_names)})")
    used = {c for c in vars(mapping).values() if c}
    problems = []
    for i, row in enumerate(table):
        if limit is not None and i >= limit:
            break
        question = row[mapping.question]
        if mapping.id is not None:
            pid = str(row[mapping.id])
        else:
            pid = f"{name}-{hashlib.sha1(str(question).encode()).hexdigest()[:12]}"
        record: dict[str, Any] = {
            "id": pid,
            "question": question,
            "answer": row[mapping.answer],
            "source": str(row[mapping.source]) if mapping.source and row.get(mapping.source) else name,
            "extra": {k: v for k, v in row.items() if k not in used},
        }
        for fld in ("image_type", "elements", "quizzes", "multimodal_question"):
            column = getattr(mapping, fld)
            if column is not None:
                record[fld] = row.get(column)
        try:
            problems.append(_to_problem(record, f"{source}, row {i}"))
        except RecordError as e:
            if rejected is None:
                raise
            rejected.append(e)
    _check_unique(problems)
    return problems
