"""Loaders on the real SciGenBench files and on local datasets files with field mappings."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scigen_rl.loaders import MAPPINGS, load_problems, load_scigenbench
from scigen_rl.records import IMAGE_TYPES, RecordError


@pytest.fixture(scope="module")
def scigenbench(shipped_data: Path) -> list:
    return load_scigenbench(shipped_data / "scigenbench")


def test_scigenbench_counts(scigenbench: list, shipped_data: Path) -> None:
    raw = [
        json.loads((shipped_data / "scigenbench" / f).read_text()) for f in ("scigen.json", "seephys.json")
    ]
    assert len(scigenbench) == sum(len(r) for r in raw) == 1387
    assert sum(len(p.quizzes) for p in scigenbench) == sum(len(x["quizzes"]) for r in raw for x in r) == 5250
    assert len({p.id for p in scigenbench}) == 1387


def test_scigenbench_fields(scigenbench: list, shipped_data: Path) -> None:
    by_id = {p.id: p for p in scigenbench}
    raw = {x["id"]: x for x in json.loads((shipped_data / "scigenbench" / "scigen.json").read_text())}
    some = raw["webinstruct-994992"]
    p = by_id["webinstruct-994992"]
    assert (p.question, p.answer, p.image_type, p.elements) == (
        some["question"],
        some["answer"],
        some["image_type"],
        some["elements"],
    )
    assert p.multimodal_question == some.get("multimodal_question")
    assert p.quizzes[0].evidence_snippet == some["quizzes"][0]["evidence_snippet"]
    types = Counter(p.image_type for p in scigenbench if p.image_type)
    assert set(types) == set(IMAGE_TYPES)  # all 25 types present, none unknown
    seephys = [p for p in scigenbench if p.source == "scigenbench/seephys"]
    assert len(seephys) == 330
    assert all(Path(p.extra["reference_image"]).is_file() for p in seephys)
    assert sum(1 for p in scigenbench if p.multimodal_question) == 998


def test_broken_option_keys_are_repaired_positionally(scigenbench: list) -> None:
    by_id = {p.id: p for p in scigenbench}
    star = by_id["webinstruct-1514585"].quizzes  # options {"A", "B", "0", "D"}
    fixed = next(q for q in star if "original_option_keys" in q.extra)
    assert list(fixed.options) == ["A", "B", "C", "D"]
    assert fixed.options["C"] == "4 × 10^11 kg" and fixed.correct_option == "B"
    swapped = next(q for q in by_id["seephys-1857"].quizzes if "original_option_keys" in q.extra)
    assert swapped.options["C"] == "10 cm" and swapped.correct_option == "C"
    every = [q for p in scigenbench for q in p.quizzes]
    assert all(q.correct_option in q.options for q in every)


def test_extra_quiz_fields_are_kept(scigenbench: list) -> None:
    groups = [q.extra["group"] for p in scigenbench for q in p.quizzes if "group" in q.extra]
    assert len(groups) == 2


def test_megascience_mapping_on_a_local_parquet(tmp_path: Path) -> None:
    path = tmp_path / "megascience.parquet"
    table = pa.table(
        {
            "question": ["What is the pH of 0.01 M HCl?", "Name the organelle that makes ATP."],
            "answer": ["pH = -log(0.01) = 2. The answer is 2.", "Mitochondria produce ATP..."],
            "subject": ["chemistry", "biology"],
            "reference_answer": ["2", "mitochondrion"],
            "source": ["TextbookReasoning", "SciInstruct"],
        }
    )
    pq.write_table(table, path)
    problems = load_problems(str(path), "megascience")
    assert [p.answer for p in problems] == ["2", "mitochondrion"]
    assert [p.source for p in problems] == ["TextbookReasoning", "SciInstruct"]
    assert problems[0].extra == {"subject": "chemistry", "answer": "pH = -log(0.01) = 2. The answer is 2."}
    assert problems[0].id.startswith("megascience-")
    assert load_problems(str(path), "megascience")[0].id == problems[0].id  # stable ids


def test_webinstruct_mapping_on_a_local_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "webinstruct.jsonl"
    rows = [
        {
            "id": "w1",
            "question": "Find the derivative of x^2.",
            "answer": "2x",
            "answer_type": "Expression",
            "category": "Mathematics",
            "difficulty": "Junior High School",
        },
        {
            "id": "w2",
            "question": "A car moves at 20 m/s for 3 s. Distance?",
            "answer": "60 m",
            "answer_type": "Float",
            "category": "Physics",
            "difficulty": "Senior High School",
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    problems = load_problems(str(path), MAPPINGS["webinstruct-verified"], limit=1)
    assert len(problems) == 1 and problems[0].id == "w1" and problems[0].source == "webinstruct"
    assert problems[0].extra["category"] == "Mathematics"


def test_bad_rows_are_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "x1", "question": "", "answer": "1"}) + "\n")
    with pytest.raises(RecordError, match=r"Problem 'x1': field 'question': is empty .*row 0"):
        load_problems(str(path))
    path.write_text(json.dumps({"id": "x1", "prompt": "q", "answer": "1"}) + "\n")
    with pytest.raises(ValueError, match="no column 'question'"):
        load_problems(str(path))


def test_hub_name_offline_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets
    import huggingface_hub

    # The machine has no route to the Hub; offline mode makes that fail at once instead of after retries.
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(RuntimeError, match="local .json/.jsonl/.parquet path"):
        load_problems("TIGER-Lab/WebInstruct-verified-does-not-exist-here")
