"""`scigen-rl curate` end to end on real SciGenBench problems against a stand-in model: a real HTTP server
on 127.0.0.1 that checks each request's exact form and answers in the formats a model really produces,
malformed ones included (prose instead of JSON, an unknown type, a snippet not in the text, a repeated
option, an answer in the question, too few quizzes, a failed call), planted per problem."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from data_builders.curate_checks import check_quiz, evidence_found, read_screen, shuffled
from scigen_rl.cli import main
from scigen_rl.llm.standin import StandInError, StandInServer
from scigen_rl.loaders import load_problems, load_scigenbench
from scigen_rl.records import Problem, Quiz
from scigen_rl.taxonomy import IMAGE_TYPES

from .conftest import plain

SCREEN = "decide whether ONE figure can be drawn"
ANNOTATE = "You prepare a science problem for a benchmark"
CHECK = "Can the rewritten problem be answered"
REPAIR = "Your reply has these problems:"


def quizzes(question: str, n: int) -> list[dict[str, Any]]:
    """n quizzes whose evidence is copied from the question and whose answer is not in their stem."""
    words = question.split()
    out = []
    for i in range(n):
        snippet = " ".join(words[i : i + 4])
        out.append({"question": f"Which label belongs to part {i + 1} of the figure?",
                    "options": {"A": f"wrong {i}a", "B": f"right {i}", "C": f"wrong {i}c", "D": f"wrong {i}d"},
                    "correct_option": "B", "evidence_snippet": snippet})  # fmt: skip
    return out


class Curator:
    """The stand-in model. ``plan[question]`` names what to do for that problem (see each test)."""

    def __init__(self, plan: dict[str, str], types: dict[str, str]) -> None:
        self.plan, self.types, self.seen = plan, types, Counter()

    def __call__(self, body: dict[str, Any]) -> str:
        messages = body["messages"]
        if any(m["role"] == "system" for m in messages) or messages[0]["role"] != "user":
            raise ValueError("curation asks in user turns only")
        first = messages[0]["content"]
        question = re.search(
            r"\n(?:Original p|P)roblem:\n(.*?)\n\n(?:Reply|Answer|Its answer)", first, re.DOTALL
        )
        if question is None:
            raise ValueError("the problem text is in the request")
        question_text = question.group(1)
        plan = self.plan.get(question_text, "good")
        repairing = len(messages) == 3
        if repairing and not (
            messages[1]["role"] == "assistant" and messages[2]["content"].startswith(REPAIR)
        ):
            raise ValueError("a repair sends the reply back and what was wrong")
        kind = (
            "screen"
            if SCREEN in first
            else "annotate"
            if ANNOTATE in first
            else "check"
            if CHECK in first
            else None
        )
        if kind is None:
            raise ValueError("unknown request")
        self.seen[(kind, plan, repairing)] += 1
        if plan == "fail":
            raise StandInError(500, "scripted outage")
        if kind == "screen":
            if SCREEN in first and any(t not in first for t in IMAGE_TYPES):
                raise ValueError("the screen lists all 25 types")
            if plan == "prose-screen" and not repairing:
                return "This one is clearly visualizable as a circuit."
            if plan == "unknown-type":
                return json.dumps(
                    {
                        "visualizable": True,
                        "reason_class": "ok",
                        "reason": "x",
                        "image_type": "Physics - Circuits",
                    }
                )
            if plan == "not-visual":
                return json.dumps({"visualizable": False, "reason_class": "missing_data", "reason": "no values",
                                   "image_type": None})  # fmt: skip
            chosen = "Math - Plane Geometric" if plan == "other-type" else self.types[question_text]
            return "```json\n" + json.dumps({"visualizable": True, "reason_class": "ok", "reason": "drawable",
                                             "image_type": chosen}) + "\n```"  # fmt: skip
        if kind == "check":
            return json.dumps({"answerable": plan != "unanswerable", "same_answer": True, "reason": "ok"})
        made = quizzes(question_text, 4)
        if plan == "bad-quizzes" and not repairing:
            made[0]["evidence_snippet"] = "a sentence the problem never says"
            made[1]["options"]["C"] = made[1]["options"]["A"]
        if plan == "too-few":
            made = made[:2]
        if plan == "leak":
            made[3]["question"] = f"Is the label right 3 shown? {made[3]['question']}"
        return json.dumps({"elements": ["the set-up", "every given value"], "quizzes": made,
                           "multimodal_question": "As shown in the figure, " + question_text[:60]})  # fmt: skip


def _problems(shipped_data: Path, n: int) -> list[Problem]:
    chosen: list[Problem] = []
    for p in load_scigenbench(shipped_data / "scigenbench"):
        if p.image_type and len(p.question.split()) > 12 and p.image_type != "Math - Plane Geometric":
            chosen.append(p)
        if len(chosen) == n:
            return chosen
    raise AssertionError("too few problems")


def _args(run: Path, url: str, problems: list[Problem], shipped_data: Path, *extra: str) -> list[str]:
    return ["curate", "--run-dir", str(run), "--llm.base-url", url, "--llm.model", "curator",
            "--llm.max-retries", "0", "--scigenbench-dir", str(shipped_data / "scigenbench"),
            "--ids", ",".join(p.id for p in problems), *extra]  # fmt: skip


PLANS = ["good", "not-visual", "prose-screen", "unknown-type", "bad-quizzes", "too-few", "leak", "other-type"]


def test_curate_keeps_repairs_and_drops_with_reasons_then_resumes(
    shipped_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = _problems(shipped_data, len(PLANS))
    model = Curator({p.question: plan for p, plan in zip(problems, PLANS, strict=True)},
                    {p.question: str(p.image_type) for p in problems})  # fmt: skip
    server = StandInServer(api_key=None, reply=model)
    run = tmp_path / "run"
    try:
        assert main(_args(run, server.base_url, problems, shipped_data)) == 0
        calls = len(server.requests)
        assert main(_args(run, server.base_url, problems, shipped_data)) == 0
        assert len(server.requests) == calls  # resumed: nothing asked again
    finally:
        server.close()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["dropped"] == {
        "not_visualizable:missing_data": 1,
        "unknown_image_type": 1,
        "too_few_quizzes": 1,
    }
    assert summary["kept"] == summary["written"] == 5 and summary["pending"] == 0
    # one repair each: the prose screen, the unknown type, the bad quizzes, too few, the leak
    assert summary["repairs"] == 5
    # What the code found in the models' first replies, by kind (each then repaired once); the bad
    # quizzes left two that passed: too few as well.
    assert summary["checks_found"] == {"malformed": 1, "unknown image type": 1, "evidence": 1, "options": 1,
                                       "too few quizzes": 2, "leak": 1}  # fmt: skip
    by_id = {p.id: p for p in load_problems(str(run / "problems.jsonl"), "curated")}
    kept_plans = ["good", "prose-screen", "bad-quizzes", "leak", "other-type"]
    assert list(by_id) == [p.id for p, plan in zip(problems, PLANS, strict=True) if plan in kept_plans]
    for p, plan in zip(problems, PLANS, strict=True):
        if plan not in kept_plans:
            continue
        curated = by_id[p.id]
        assert curated.question == p.question and curated.answer == p.answer and curated.source == p.source
        assert curated.image_type == ("Math - Plane Geometric" if plan == "other-type" else p.image_type)
        assert len(curated.quizzes) == (3 if plan == "leak" else 4)  # the leaking quiz is dropped alone
        for quiz in curated.quizzes:
            assert quiz.options[quiz.correct_option].startswith("right ")  # shuffled, still right
            assert evidence_found(quiz.evidence_snippet or "", p.question)
        assert curated.multimodal_question and curated.elements
    letters = Counter(q.correct_option for p in by_id.values() for q in p.quizzes)
    assert len(letters) >= 3  # the model always said B; the shuffle spreads the correct letter
    dropped = [json.loads(line) for line in (run / "dropped.jsonl").read_text().splitlines()]
    assert {d["id"]: d["reason"] for d in dropped} == {
        problems[1].id: "not_visualizable:missing_data", problems[3].id: "unknown_image_type",
        problems[5].id: "too_few_quizzes"}  # fmt: skip
    assert "Physics - Circuits" in next(d["detail"] for d in dropped if d["reason"] == "unknown_image_type")
    agreement = json.loads((run / "agreement.json").read_text())
    assert agreement["annotated"] == 8 and agreement["kept"] == 5
    assert agreement["type_accuracy"] == 0.8  # 4 of the 5 kept answered the source's own type
    assert agreement["evidence_verbatim"]["model"] == 1.0
    assert (run / "agreement_confusion.png").stat().st_size > 1000
    out = plain(capsys.readouterr().err)
    assert "dropped: too_few_quizzes" in out and "agreement with the source's annotations" in out


def test_the_taxonomy_is_scigenbenchs_own_labels(shipped_data: Path) -> None:
    labels = {p.image_type for p in load_scigenbench(shipped_data / "scigenbench") if p.image_type}
    assert set(IMAGE_TYPES) == labels and len(IMAGE_TYPES) == 25
    assert all(definition.strip() for definition in IMAGE_TYPES.values())


def test_a_rerun_with_another_model_on_the_same_run_dir_stops(
    shipped_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = _problems(shipped_data, 1)
    server = StandInServer(
        api_key=None, reply=Curator({}, {problems[0].question: str(problems[0].image_type)})
    )
    run = tmp_path / "run"
    try:
        assert main(_args(run, server.base_url, problems, shipped_data)) == 0
        capsys.readouterr()
        assert main([*_args(run, server.base_url, problems, shipped_data), "--llm.model", "other"]) == 2
        assert "llm.model: 'curator' -> 'other'" in plain(capsys.readouterr().err)
    finally:
        server.close()


def test_a_failed_call_leaves_the_problem_for_the_next_run(shipped_data: Path, tmp_path: Path) -> None:
    problems = _problems(shipped_data, 2)
    model = Curator({problems[1].question: "fail"}, {p.question: str(p.image_type) for p in problems})
    server = StandInServer(api_key=None, reply=model)
    run = tmp_path / "run"
    try:
        assert main(_args(run, server.base_url, problems, shipped_data)) == 1
        summary = json.loads((run / "summary.json").read_text())
        assert summary["pending"] == 1 and summary["kept"] == 1
        assert list(summary["model_errors"].values()) == [1]
        model.plan = {}
        assert main(_args(run, server.base_url, problems, shipped_data)) == 0
    finally:
        server.close()
    assert json.loads((run / "summary.json").read_text())["kept"] == 2


def test_a_run_stops_when_most_calls_fail(shipped_data: Path, tmp_path: Path) -> None:
    problems = _problems(shipped_data, 24)
    model = Curator({p.question: "fail" for p in problems}, {})
    server = StandInServer(api_key=None, reply=model)
    run = tmp_path / "run"
    try:
        assert main(_args(run, server.base_url, problems, shipped_data, "--concurrency", "1")) == 1
    finally:
        server.close()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["stopped"] == "20 of the first 20 problems ended on a failed model call"
    assert len(server.requests) == 20 and summary["pending"] == 24


def test_bad_rows_are_dropped_by_name_and_the_rest_curated(shipped_data: Path, tmp_path: Path) -> None:
    good = _problems(shipped_data, 1)[0]
    source = tmp_path / "problems.jsonl"
    rows = [
        {"id": "empty", "question": "  ", "answer": "1"},
        {"id": good.id, "question": good.question, "answer": good.answer},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    model = Curator({}, {good.question: str(good.image_type)})
    server = StandInServer(api_key=None, reply=model)
    run = tmp_path / "run"
    try:
        args = ["curate", "--run-dir", str(run), "--source", str(source), "--llm.base-url", server.base_url,
                "--llm.model", "curator", "--check-multimodal"]  # fmt: skip
        assert main(args) == 0
    finally:
        server.close()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["dropped"] == {"invalid_record:question": 1} and summary["kept"] == 1
    assert ("check", "good", False) in model.seen  # the multimodal question was checked
    assert "agreement" not in summary  # a source without image types has nothing to agree with


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ('{"visualizable": true, "reason_class": "ok", "image_type": "physics - circuit"}', None),
        ('{"visualizable": "yes", "reason_class": "ok", "image_type": "Physics - Circuit"}', "malformed"),
        ('{"visualizable": true, "reason_class": "fine", "image_type": "Physics - Circuit"}', "malformed"),
        ('{"visualizable": true, "reason_class": "ok", "image_type": "Physics - Circuits"}', "unknown image type"),
        ('{"visualizable": true, "reason_class": "missing_data", "image_type": "Physics - Circuit"}', "malformed"),
        ('{"visualizable": false, "reason_class": "abstract_concept", "image_type": null}', None),
        ("[1, 2]", "malformed"), ("", "malformed"),
    ],
)  # fmt: skip
def test_screen_replies_are_checked_by_code(reply: str, problem: str | None) -> None:
    screen, problems = read_screen(reply)
    assert (problems[0].split(":")[0] if problems else None) == problem
    assert (screen is None) == (problem is not None)


QUESTION = "A 3 kg block rests on a 30 degree incline of length 2 m. Find the friction force."
GOOD = {"question": "What is the block's mass?", "options": {"A": "2 kg", "B": "3 kg", "C": "4 kg", "D": "5 kg"},
        "correct_option": "B", "evidence_snippet": "A 3 kg block rests"}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({}, None),
        ({"evidence_snippet": "A 3  kg\nblock rests"}, None),  # whitespace runs count as one space
        ({"evidence_snippet": "A 3 kg blocks rest"}, "evidence"),
        ({"evidence_snippet": ""}, "evidence"),
        ({"options": {"A": "2 kg", "B": "3 kg", "C": "3 KG", "D": "5 kg"}}, "options"),
        ({"options": {"A": "2 kg", "B": "3 kg", "C": "4 kg"}}, "options"),
        ({"options": {"A": "2 kg", "B": "3 kg", "C": "4 kg", "D": "5 kg", "E": "6 kg"}}, "options"),
        ({"correct_option": "E"}, "correct option"),
        ({"question": "Is the mass 3 kg?"}, "leak"),
        ({"question": "Is the mass 13 kg?"}, None),  # "3 kg" inside "13 kg" is no leak
        ({"question": ""}, "malformed"),
    ],
)  # fmt: skip
def test_quiz_checks_in_both_directions(change: dict[str, Any], problem: str | None) -> None:
    check = check_quiz({**GOOD, **change}, QUESTION, 0)
    assert (check.problems[0].split(":")[0] if check.problems else None) == problem
    assert (check.quiz is None) == (problem is not None)


def test_the_shuffle_is_fixed_per_problem_and_keeps_the_answer() -> None:
    quiz = Quiz(question="q", options={"A": "1", "B": "2", "C": "3", "D": "4"}, correct_option="C")
    orders = {tuple(shuffled(quiz, f"p{i}", 0).options.values()) for i in range(30)}
    assert len(orders) > 5  # spread over problems
    for i in range(30):
        s = shuffled(quiz, f"p{i}", 0)
        assert s.options[s.correct_option] == "3" and s == shuffled(quiz, f"p{i}", 0)


def test_a_kept_problem_that_repeats_an_evaluation_question_is_left_out(
    shipped_data: Path, tmp_path: Path
) -> None:
    rows = [
        json.loads(line) for line in (shipped_data / "mathvision" / "testmini.jsonl").read_text().splitlines()
    ]
    copied = (
        next(r for r in rows if len(r["question"].split()) > 20)["question"].replace("<image1>", "").strip()
    )
    clean = _problems(shipped_data, 1)[0]
    source = tmp_path / "problems.jsonl"
    source.write_text(json.dumps({"id": "copied", "question": copied, "answer": "4"}) + "\n"
                      + json.dumps({"id": clean.id, "question": clean.question, "answer": clean.answer}) + "\n")  # fmt: skip
    server = StandInServer(api_key=None, reply=Curator({}, {copied: "Math - Plane Geometric",
                                                            clean.question: str(clean.image_type)}))  # fmt: skip
    run = tmp_path / "run"
    try:
        args = ["curate", "--run-dir", str(run), "--source", str(source), "--llm.base-url", server.base_url,
                "--llm.model", "curator"]  # fmt: skip
        assert main(args) == 0
    finally:
        server.close()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["kept"] == 2 and summary["written"] == 1 and summary["dropped"] == {"contaminated": 1}
    assert summary["decontamination"]["checked"] == {"mathvision_mini": 304}
    assert [p.id for p in load_problems(str(run / "problems.jsonl"), "curated")] == [clean.id]
    dropped = [json.loads(line) for line in (run / "dropped.jsonl").read_text().splitlines()]
    assert dropped[0]["id"] == "copied" and dropped[0]["reason"] == "contaminated"
    assert "exact" in (run / "decontamination.md").read_text()


def test_build_takes_the_curated_problems_unchanged(shipped_data: Path, tmp_path: Path) -> None:
    from .test_build import _build, _finish
    from .test_build import model as coder

    problems = _problems(shipped_data, 2)
    server = StandInServer(api_key=None, reply=Curator({}, {p.question: str(p.image_type) for p in problems}))
    run = tmp_path / "curated"
    try:
        assert main(_args(run, server.base_url, problems, shipped_data)) == 0
    finally:
        server.close()
    painter = StandInServer(reply=coder)
    try:
        proc = _build(painter, tmp_path / "build", 2, run / "problems.jsonl", "--source", str(run / "problems.jsonl"),
                      "--mapping", "curated")  # fmt: skip
        assert _finish(proc) == 0
    finally:
        painter.close()
    built = {
        p["id"]: p for p in map(json.loads, (tmp_path / "build" / "problems.jsonl").read_text().splitlines())
    }
    curated = {p["id"]: p for p in map(json.loads, (run / "problems.jsonl").read_text().splitlines())}
    assert built.keys() == curated.keys()
    for pid, problem in built.items():  # every curated field reaches the build as curate wrote it
        for key in (
            "question",
            "answer",
            "source",
            "image_type",
            "elements",
            "quizzes",
            "multimodal_question",
        ):
            assert problem[key] == curated[pid][key]
