"""Every field of the Figure and Verdict records: a full record survives the round trip unchanged, and
each field given the wrong kind of value is refused with the record, its id and the field named."""

from __future__ import annotations

from typing import Any

import pytest

from scigen_rl.records import Figure, RecordError, Verdict

FIGURE: dict[str, Any] = {
    "problem_id": "p-7", "generator": "imgcoder:m", "status": "ok", "failure": None, "plan": "a triangle",
    "code": "import matplotlib", "prompt": "draw", "raw_response": "```python```", "png_path": "figs/p-7.png",
    "png_sha256": "ab" * 32, "error": "none", "warnings": ["w1", "w2"], "repair_rounds": 2,
    "timings": {"render": 1.5, "llm": 2.0}, "usage": {"prompt_tokens": 10}, "extra": {"k": "v"},
}  # fmt: skip
VERDICT: dict[str, Any] = {
    "problem_id": "p-7", "generator": "imgcoder:m",
    "quiz_answers": [{"index": 0, "answer": "A", "correct": True, "error": None},
                     {"index": 1, "answer": None, "correct": False, "error": "timeout"}],
    "r_inv": 0.5, "perfect": False, "judge_scores": {"layout_precision": 2, "correctness_fidelity": 0},
    "leakage": False, "errors": 1, "extra": {"k": "v"},
}  # fmt: skip


def test_every_field_survives_the_round_trip() -> None:
    assert Figure.from_dict(FIGURE).to_dict() == FIGURE
    assert Verdict.from_dict(VERDICT).to_dict() == VERDICT
    failed = dict(FIGURE, status="failed", failure="runtime", png_path=None, png_sha256=None)
    assert Figure.from_dict(failed).to_dict() == failed


@pytest.mark.parametrize(
    ("change", "field", "phrase"),
    [
        ({"problem_id": 7}, "problem_id", "expected a string, got int"),
        ({"generator": ""}, "generator", "is empty"),
        ({"status": "done"}, "status", "'done' is not one of ok, failed"),
        ({"failure": "runtime"}, "failure", "an ok figure has no failure class"),
        ({"status": "failed", "failure": None}, "failure", "a failed figure needs a failure class"),
        ({"status": "failed", "failure": "exploded"}, "failure", "'exploded' is not one of"),
        ({"png_path": None}, "png_path", "is missing"),
        ({"png_sha256": "ab" * 31}, "png_sha256", "expected 64 hex digits"),
        ({"plan": 3}, "plan", "expected a string, got int"),
        ({"code": ["x"]}, "code", "expected a string, got list"),
        ({"prompt": 1.5}, "prompt", "expected a string"),
        ({"raw_response": {}}, "raw_response", "expected a string"),
        ({"error": 0}, "error", "expected a string"),
        ({"warnings": "w"}, "warnings", "expected a list of strings, got str"),
        ({"warnings": ["w", 3]}, "warnings[1]", "expected a string, got int"),
        ({"repair_rounds": -1}, "repair_rounds", "-1 is outside [0,"),
        ({"repair_rounds": "2"}, "repair_rounds", "expected a number, got str"),
        ({"timings": {"render": "1s"}}, "timings.render", "expected seconds"),
        ({"timings": {"render": True}}, "timings.render", "expected seconds"),
        ({"timings": [1]}, "timings", "expected an object, got list"),
        ({"usage": 5}, "usage", "expected an object"),
        ({"extra": "x"}, "extra", "expected an object"),
    ],
)
def test_each_figure_field_is_checked(change: dict[str, Any], field: str, phrase: str) -> None:
    with pytest.raises(RecordError) as e:
        Figure.from_dict(dict(FIGURE, **change))
    assert f"field '{field}'" in str(e.value) and phrase in str(e.value) and "Figure" in str(e.value)


@pytest.mark.parametrize(
    ("change", "field", "phrase"),
    [
        ({"problem_id": None}, "problem_id", "is missing"),
        ({"generator": 1}, "generator", "expected a string"),
        ({"r_inv": -0.1}, "r_inv", "outside [0.0, 1.0]"),
        ({"r_inv": "high"}, "r_inv", "expected a number"),
        ({"perfect": "yes"}, "perfect", "expected true or false"),
        ({"leakage": 1}, "leakage", "expected true or false"),
        ({"errors": -1}, "errors", "outside [0,"),
        ({"judge_scores": {"beauty": 2}}, "judge_scores.beauty", "unknown dimension"),
        (
            {"judge_scores": {"layout_precision": 2.0}},
            "judge_scores.layout_precision",
            "expected an integer 0-2",
        ),
        (
            {"judge_scores": {"layout_precision": True}},
            "judge_scores.layout_precision",
            "expected an integer 0-2",
        ),
        (
            {"judge_scores": {"layout_precision": -1}},
            "judge_scores.layout_precision",
            "expected an integer 0-2",
        ),
        (
            {"quiz_answers": [{"index": -1, "answer": "A", "correct": True}]},
            "quiz_answers[0].index",
            "outside",
        ),
        (
            {"quiz_answers": [{"index": 0, "answer": 5, "correct": True}]},
            "quiz_answers[0].answer",
            "expected a string",
        ),
        ({"extra": []}, "extra", "expected an object"),
    ],
)
def test_each_verdict_field_is_checked(change: dict[str, Any], field: str, phrase: str) -> None:
    with pytest.raises(RecordError) as e:
        Verdict.from_dict(dict(VERDICT, **change))
    assert f"field '{field}'" in str(e.value) and phrase in str(e.value) and "Verdict" in str(e.value)


def test_optional_fields_may_be_left_out() -> None:
    figure = Figure.from_dict(
        {k: FIGURE[k] for k in ("problem_id", "generator", "status", "png_path", "png_sha256")}
    )
    assert (figure.repair_rounds, figure.warnings, figure.timings, figure.plan) == (0, [], {}, None)
    verdict = Verdict.from_dict({"problem_id": "p", "generator": "g", "perfect": False})
    assert (verdict.r_inv, verdict.perfect, verdict.leakage, verdict.errors, verdict.quiz_answers) == (
        None, False, None, 0, [])  # fmt: skip
