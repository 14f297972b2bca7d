"""Records: validation names the record and the field; JSONL survives a killed writer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scigen_rl.records import (
    SUBJECTS,
    Figure,
    JsonlWriter,
    Problem,
    RecordError,
    Sample,
    Verdict,
    read_jsonl,
    write_atomic,
    write_jsonl,
)

PROBLEM = {
    "id": "p-1",
    "question": "A block of 2 kg slides down a 30° incline. Find its acceleration.",
    "answer": "4.9 m/s^2",
    "source": "test",
    "image_type": "Physics - Mechanical",
    "elements": ["An incline at 30°", "A block labelled 2 kg"],
    "quizzes": [
        {
            "question": "What is the incline angle?",
            "options": {"A": "30°", "B": "45°"},
            "correct_option": "A",
            "group": "g1",
        }
    ],
    "multimodal_question": "The block in the figure slides down. Find its acceleration.",
    "difficulty": "easy",
}


def test_problem_round_trip_keeps_unknown_fields() -> None:
    p = Problem.from_dict(PROBLEM)
    assert p.subject == "Physics"
    assert p.extra == {"difficulty": "easy"}
    assert p.quizzes[0].extra == {"group": "g1"}
    again = Problem.from_dict(p.to_dict())
    assert again == p


@pytest.mark.parametrize(
    ("change", "field", "phrase"),
    [
        ({"question": None}, "question", "missing"),
        ({"question": 12}, "question", "expected a string"),
        ({"image_type": "Physics"}, "image_type", "Subject - Type"),
        ({"elements": ["ok", 3]}, "elements[1]", "expected a string"),
        (
            {"quizzes": [{"question": "q", "options": {"A": "x", "B": "y"}, "correct_option": "E"}]},
            "quizzes[0].correct_option",
            "not one of",
        ),
        (
            {"quizzes": [{"question": "q", "options": {"A": "x", "0": "y"}, "correct_option": "A"}]},
            "quizzes[0].options",
            "capital letter",
        ),
        ({"quizzes": "none"}, "quizzes", "expected a list"),
    ],
)
def test_problem_errors_name_record_and_field(change: dict, field: str, phrase: str) -> None:
    with pytest.raises(RecordError) as err:
        Problem.from_dict(dict(PROBLEM, **change))
    assert err.value.record == "Problem" and err.value.record_id == "p-1"
    assert err.value.field == field
    assert phrase in str(err.value) and "'p-1'" in str(err.value)


def test_figure_status_rules() -> None:
    ok = {
        "problem_id": "p-1",
        "generator": "imgcoder:test",
        "status": "ok",
        "png_path": "a.png",
        "png_sha256": "0" * 64,
    }
    assert Figure.from_dict(ok).status == "ok"
    with pytest.raises(RecordError, match="failure"):
        Figure.from_dict({"problem_id": "p-1", "generator": "g", "status": "failed"})
    with pytest.raises(RecordError, match="'failure'.*not one of"):
        Figure.from_dict({"problem_id": "p-1", "generator": "g", "status": "failed", "failure": "exploded"})
    with pytest.raises(RecordError, match="png_sha256"):
        Figure.from_dict(dict(ok, png_sha256="abc"))


def test_verdict_validation() -> None:
    good = {
        "problem_id": "p-1",
        "generator": "g",
        "quiz_answers": [{"index": 0, "answer": "A", "correct": True}],
        "r_inv": 1.0,
        "perfect": True,
        "judge_scores": {"layout_precision": 2},
    }
    assert Verdict.from_dict(good).quiz_answers[0].correct is True
    with pytest.raises(RecordError, match=r"judge_scores.layout_precision.*0-2"):
        Verdict.from_dict(dict(good, judge_scores={"layout_precision": 3}))
    with pytest.raises(RecordError, match="r_inv"):
        Verdict.from_dict(dict(good, r_inv=1.5))
    with pytest.raises(RecordError, match=r"quiz_answers\[0\].correct"):
        Verdict.from_dict(dict(good, quiz_answers=[{"index": 0, "answer": "A", "correct": "yes"}]))


def _sample(n_images: int = 1) -> dict:
    return {
        "data_source": "imgcoder:test",
        "prompt": [{"role": "user", "content": "<image>Find x. Put the final answer in \\boxed{}."}],
        "images": [{"bytes": b"\x89PNG fake", "path": None}] * n_images,
        "ability": "physics",
        "reward_model": {"style": "model", "ground_truth": "48"},
        "extra_info": {"problem_id": "p-1", "index": 0},
    }


def test_sample_image_placeholders_must_match_images() -> None:
    s = Sample.from_dict(_sample())
    assert Sample.from_dict(s.to_dict()) == s  # base64 round trip
    assert s.to_row()["images"][0]["bytes"] == b"\x89PNG fake"
    with pytest.raises(RecordError, match="1 <image> placeholder.*2 image") as err:
        Sample.from_dict(_sample(2))
    assert err.value.record_id == "p-1"


def test_jsonl_survives_a_killed_writer(tmp_path: Path) -> None:
    path = tmp_path / "problems.jsonl"
    with JsonlWriter(path) as w:
        w.write(Problem.from_dict(PROBLEM))
        w.write(Problem.from_dict(dict(PROBLEM, id="p-2")))
    with path.open("ab") as f:  # what a kill -9 in the middle of a write leaves
        f.write(b'{"id": "p-3", "quest')
    assert [p.id for p in read_jsonl(path, Problem)] == ["p-1", "p-2"]
    with JsonlWriter(path) as w:  # a resumed writer cuts the torn line and appends cleanly
        w.write(Problem.from_dict(dict(PROBLEM, id="p-3")))
    assert [p.id for p in read_jsonl(path, Problem)] == ["p-1", "p-2", "p-3"]


def test_jsonl_errors_name_file_line_record_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(PROBLEM) + "\n" + json.dumps(dict(PROBLEM, id="p-9", answer=None)) + "\n")
    with pytest.raises(RecordError) as err:
        list(read_jsonl(path, Problem))
    assert err.value.record_id == "p-9" and err.value.field == "answer"
    assert f"{path}:2" in str(err.value)
    path.write_text("{not json\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:1: not valid JSON"):
        list(read_jsonl(path, Problem))


def test_write_jsonl_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    write_jsonl(path, [Problem.from_dict(PROBLEM)])
    with pytest.raises(AttributeError):
        write_jsonl(path, [Problem.from_dict(PROBLEM), object()])  # fails half-way
    assert [p.id for p in read_jsonl(path, Problem)] == ["p-1"]  # the old file is intact


@pytest.mark.parametrize("writer", ["append", "whole"])
def test_json_lines_survive_line_separators_and_surrogates(tmp_path: Path, writer: str) -> None:
    records = [{"t": "a\u2028b\u2029c\x85d", "f": "caf\udce9.py", "é": "ü"}, {"t": "next"}]
    path = tmp_path / "r.jsonl"
    if writer == "append":
        with JsonlWriter(path) as w:
            for r in records:
                w.write(r)
    else:
        write_jsonl(path, records)
    text = path.read_bytes().decode("utf-8")  # valid UTF-8: no raw surrogate
    assert len(text.splitlines()) == 2  # str.splitlines splits on U+2028, U+2029 and U+0085 too
    assert "ü" in text and "\\u2028" in text  # other text stays readable, the separators are escaped
    assert [json.loads(line) for line in text.splitlines()] == records


_QUIZ = {"question": "q", "options": {"A": "x", "B": "y"}, "correct_option": "A"}


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"quizzes": [5]}, "quizzes[0]", "expected a JSON object, got int"),
        ({"quizzes": [_QUIZ, dict(_QUIZ, options={"A": "x"})]}, "quizzes[1].options", "needs at least two options, got 1"),
        ({"quizzes": [dict(_QUIZ, options={"A": "x", "B": 2})]}, "quizzes[0].options.B", "expected a string, got int"),
        ({"quizzes": [dict(_QUIZ, options={"C": "x", "A": "y"}, correct_option="E")]}, "quizzes[0].correct_option",
         "'E' is not one of the options A, C"),
        ({"quizzes": "none"}, "quizzes", "expected a list, got str"),
        ({"image_type": "Physics"}, "image_type",
         "'Physics' is not 'Subject - Type' with a subject in " + ", ".join(SUBJECTS)),
        ({"answer": True}, "answer", "expected a string, got bool True"),
        ({"image_type": "Physics  - Mechanical"}, "image_type",
         "'Physics  - Mechanical' is not 'Subject - Type' with a subject in " + ", ".join(SUBJECTS)),
        ({"source": None}, "source", "is missing"),
        ({"multimodal_question": 3}, "multimodal_question", "expected a string, got int 3"),
    ],
)  # fmt: skip
def test_problem_errors_are_exact(change: dict[str, Any], field: str, problem: str) -> None:
    with pytest.raises(RecordError) as err:
        Problem.from_dict(dict(PROBLEM, **change))
    assert (err.value.record, err.value.record_id, err.value.field, err.value.problem) == (
        "Problem", "p-1", field, problem,
    )  # fmt: skip


@pytest.mark.parametrize("data", [[1], "p-1", None, 3.5])
def test_a_record_that_is_not_an_object_is_named_as_such(data: Any) -> None:
    with pytest.raises(RecordError) as err:
        Problem.from_dict(data)
    assert (err.value.record, err.value.record_id, err.value.field, err.value.problem) == (
        "Problem", None, "<record>", f"expected a JSON object, got {type(data).__name__}",
    )  # fmt: skip


def test_problem_fields_that_are_optional_or_converted() -> None:
    numeric = Problem.from_dict(dict(PROBLEM, answer=4.9))
    assert numeric.answer == "4.9"
    assert Problem.from_dict(dict(PROBLEM, answer=12)).answer == "12"
    assert Problem.from_dict(dict(PROBLEM, answer="")).answer == ""  # a proof has no short answer
    assert Problem.from_dict(PROBLEM).multimodal_question == PROBLEM["multimodal_question"]
    assert Problem.from_dict(dict(PROBLEM, multimodal_question="")).multimodal_question is None
    nested = Problem.from_dict(dict(PROBLEM, image_type="Chemistry - Reaction - Kinetics"))
    assert nested.subject == "Chemistry"
    snippet = dict(_QUIZ, evidence_snippet="the angle is marked 30°")
    loaded = Problem.from_dict(dict(PROBLEM, quizzes=[_QUIZ, snippet])).quizzes
    assert [q.evidence_snippet for q in loaded] == [None, "the angle is marked 30°"]
    assert loaded[1].to_dict()["evidence_snippet"] == "the angle is marked 30°"


def test_write_atomic_makes_missing_folders(tmp_path: Path) -> None:
    path = write_atomic(tmp_path / "a" / "b" / "c.json", "{}")
    assert path.read_text() == "{}" and [p.name for p in (tmp_path / "a" / "b").iterdir()] == ["c.json"]
