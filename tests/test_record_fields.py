"""Every field of the Figure and Verdict records: a full record survives the round trip unchanged, and
each field given the wrong kind of value is refused with the record, its id and the field named."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from scigen_rl.records import (
    JUDGE_DIMENSIONS,
    Figure,
    JsonlWriter,
    RecordError,
    Sample,
    Verdict,
    read_jsonl,
    write_jsonl,
)

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
        ({"status": None}, "status", "is missing"),
        ({"repair_rounds": "2"}, "repair_rounds", "expected a number, got str"),
        ({"timings": {"render": "1s"}}, "timings.render", "expected seconds"),
        ({"timings": {"render": True}}, "timings.render", "expected seconds"),
        ({"timings": [1]}, "timings", "expected an object, got list"),
        ({"usage": 5}, "usage", "expected an object"),
        ({"extra": "x"}, "extra", "expected an object"),
    ],
)
def test_each_figure_field_is_checked(change: dict[str, Any], field: str, phrase: str) -> None:
    _assert_refused(Figure, dict(FIGURE, **change), field, phrase)


def _assert_refused(record: Any, data: dict[str, Any], field: str, phrase: str) -> None:
    """Refused with the record kind, its id and the field named, and the problem starting ``phrase``."""
    with pytest.raises(RecordError) as e:
        record.from_dict(data)
    err = e.value
    assert (err.record, err.record_id, err.field) == (record.__name__, data.get("problem_id"), field)
    assert err.problem.startswith(phrase), err.problem
    assert str(err) == f"{record.__name__} {data.get('problem_id')!r}: field '{field}': {err.problem}"


@pytest.mark.parametrize(
    ("change", "field", "phrase"),
    [
        ({"problem_id": None}, "problem_id", "is missing"),
        ({"generator": 1}, "generator", "expected a string"),
        ({"r_inv": -0.1}, "r_inv", "-0.1 is outside [0.0, 1.0]"),
        ({"r_inv": "high"}, "r_inv", "expected a number"),
        ({"perfect": "yes"}, "perfect", "expected true or false"),
        ({"leakage": 1}, "leakage", "expected true or false"),
        ({"errors": -1}, "errors", "-1 is outside [0, None]"),
        (
            {"judge_scores": {"beauty": 2}},
            "judge_scores.beauty",
            "unknown dimension; expected one of " + ", ".join(JUDGE_DIMENSIONS),
        ),
        ({"perfect": None}, "perfect", "expected true or false"),
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
            "-1 is outside [0, None]",
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
    _assert_refused(Verdict, dict(VERDICT, **change), field, phrase)


def test_optional_fields_may_be_left_out() -> None:
    figure = Figure.from_dict(
        {k: FIGURE[k] for k in ("problem_id", "generator", "status", "png_path", "png_sha256")}
    )
    assert (figure.repair_rounds, figure.warnings, figure.timings, figure.plan) == (0, [], {}, None)
    verdict = Verdict.from_dict({"problem_id": "p", "generator": "g", "perfect": False})
    assert (verdict.r_inv, verdict.perfect, verdict.leakage, verdict.errors, verdict.quiz_answers) == (
        None, False, None, 0, [])  # fmt: skip


def test_a_quiz_answer_error_names_the_verdict_it_belongs_to() -> None:
    data = dict(VERDICT, quiz_answers=[{"index": 0, "answer": "A", "correct": "yes"}])
    _assert_refused(Verdict, data, "quiz_answers[0].correct", "expected true or false")


def test_a_required_number_must_be_there() -> None:
    answer = {"answer": "A", "correct": True}  # no index
    _assert_refused(Verdict, dict(VERDICT, quiz_answers=[answer]), "quiz_answers[0].index", "is missing")


def test_sample_json_carries_images_as_base64_with_their_path() -> None:
    row = {
        "data_source": "scigen", "prompt": [{"role": "user", "content": "<image>Find x."}],
        "images": [{"bytes": b"\x89PNG..", "path": "figs/p.png"}], "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": "4"}, "extra_info": {"problem_id": "p"},
    }  # fmt: skip
    sample = Sample.from_dict(row)
    as_json = sample.to_dict()
    assert as_json["images"] == [{"bytes": base64.b64encode(b"\x89PNG..").decode(), "path": "figs/p.png"}]
    assert json.loads(json.dumps(as_json)) == as_json and Sample.from_dict(as_json) == sample
    assert sample.to_row()["images"] == [{"bytes": b"\x89PNG..", "path": "figs/p.png"}]


def test_jsonl_keeps_text_readable_and_reads_past_blank_lines(tmp_path: Path) -> None:
    figure = Figure.from_dict(dict(FIGURE, plan="un triangle équilatéral"))
    path = tmp_path / "deep" / "er" / "figures.jsonl"  # the folders are made
    with JsonlWriter(path) as writer:
        writer.write(figure)
        writer.write(dict(FIGURE, problem_id="p-8"))
    text = path.read_text(encoding="utf-8")
    assert "équilatéral" in text and text.count("\n") == 2
    path.write_text(text.replace("\n", "\n\n   \n", 1), encoding="utf-8")  # blank lines in between
    assert [f.problem_id for f in read_jsonl(path, Figure)] == ["p-7", "p-8"]
    write_jsonl(tmp_path / "all.jsonl", [figure, dict(FIGURE, problem_id="p-9")])
    lines = (tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["problem_id"] for line in lines] == ["p-7", "p-9"] and "équilatéral" in lines[0]


def test_jsonl_errors_name_the_record_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "figures.jsonl"
    path.write_text(json.dumps(FIGURE) + "\n" + json.dumps(dict(FIGURE, status="done")) + "\n")
    with pytest.raises(RecordError) as e:
        list(read_jsonl(path, Figure))
    assert (e.value.record, e.value.record_id, e.value.field) == ("Figure", "p-7", "status")
    assert e.value.problem.endswith(f"({path}:2)")


@pytest.mark.parametrize("tail", [b"", b"{", b'{"problem_id": "p-9"'])
def test_a_writer_cuts_only_an_unfinished_last_line(tmp_path: Path, tail: bytes) -> None:
    path = tmp_path / "f.jsonl"
    whole = (json.dumps(FIGURE) + "\n").encode()
    path.write_bytes(whole + tail)
    with JsonlWriter(path, fsync=False) as writer:
        writer.write(dict(FIGURE, problem_id="p-8"))
    assert [f.problem_id for f in read_jsonl(path, Figure)] == ["p-7", "p-8"]
    with JsonlWriter(tmp_path / "durable.jsonl") as durable:
        assert durable.fsync is True  # every line synced unless asked not to
    one = tmp_path / "one.jsonl"
    one.write_bytes(b"{")  # a single unfinished byte
    with JsonlWriter(one) as writer:
        writer.write(FIGURE)
    assert [f.problem_id for f in read_jsonl(one, Figure)] == ["p-7"]


SAMPLE: dict[str, Any] = {
    "data_source": "scigen/g", "ability": "physics",
    "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "<image>Find x."},
               {"role": "assistant", "content": "ok"}],
    "images": [{"bytes": b"png", "path": "a.png"}],
    "reward_model": {"style": "model", "ground_truth": "4"}, "extra_info": {"problem_id": "p-3"},
}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"prompt": None}, "prompt", "expected a non-empty list of chat messages"),
        ({"prompt": []}, "prompt", "expected a non-empty list of chat messages"),
        ({"prompt": "<image>Find x."}, "prompt", "expected a non-empty list of chat messages"),
        ({"prompt": ["<image>"]}, "prompt[0]", "expected {'role': system|user|assistant, 'content': str}"),
        ({"prompt": [{"role": "robot", "content": "<image>"}]}, "prompt[0]",
         "expected {'role': system|user|assistant, 'content': str}"),
        ({"prompt": [{"role": "user", "content": 5}]}, "prompt[0].content", "expected a string, got int"),
        ({"images": "x"}, "images", "expected a list, got str"),
        ({"images": ["x"]}, "images[0]", "expected {'bytes': PNG bytes, 'path': ...}"),
        ({"images": [{"path": "a.png"}]}, "images[0]", "expected {'bytes': PNG bytes, 'path': ...}"),
        ({"images": []}, "prompt", "has 1 <image> placeholder(s) but the row has 0 image(s)"),
        ({"prompt": [{"role": "user", "content": "<image>"}, {"role": "user", "content": "<image>"}]}, "prompt",
         "has 2 <image> placeholder(s) but the row has 1 image(s)"),
        ({"reward_model": {"style": "judge", "ground_truth": "4"}}, "reward_model.style",
         "expected 'rule' or 'model', got 'judge'"),
        ({"reward_model": {"style": "rule", "ground_truth": 4}}, "reward_model.ground_truth", "expected a string"),
        ({"data_source": None}, "data_source", "is missing"),
        ({"ability": ""}, "ability", "is empty"),
    ],
)  # fmt: skip
def test_each_sample_field_is_checked(change: dict[str, Any], field: str, problem: str) -> None:
    with pytest.raises(RecordError) as e:
        Sample.from_dict(dict(SAMPLE, **change))
    assert (e.value.record, e.value.record_id, e.value.field, e.value.problem) == (
        "Sample",
        "p-3",
        field,
        problem,
    )


def test_a_sample_is_named_by_its_problem_or_else_its_data_source() -> None:
    sample = Sample.from_dict(SAMPLE)
    assert [m["role"] for m in sample.prompt] == ["system", "user", "assistant"]
    assert sample.images == [{"bytes": b"png", "path": "a.png"}] and sample.ability == "physics"
    assert (
        Sample.from_dict(dict(SAMPLE, reward_model={"style": "rule", "ground_truth": "4"})).reward_model[
            "style"
        ]
        == "rule"
    )
    with pytest.raises(RecordError) as e:
        Sample.from_dict(dict(SAMPLE, extra_info={}, ability=None))
    assert (e.value.record_id, e.value.field) == ("scigen/g", "ability")
