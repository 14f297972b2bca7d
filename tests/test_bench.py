"""SciGenBench judging: letter extraction, the judge's JSON, R_inv aggregation, and `scigen-rl bench`
end to end on real SeePhys problems and their real figures against a stand-in vision server (a real
HTTP server on 127.0.0.1 that checks each request: image attached as base64, options listed)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from scigen_rl.bench.inverse import MAX_QUOTED_CHARS, image_problem, read_image, validate_figure
from scigen_rl.bench.judge import JudgeParseError, judge_messages, parse_judge
from scigen_rl.bench.letters import extract_letter
from scigen_rl.cli import main
from scigen_rl.llm import ChatClient, LLMConfig
from scigen_rl.llm.standin import StandInError, StandInServer
from scigen_rl.loaders import load_scigenbench
from scigen_rl.records import JUDGE_DIMENSIONS, Problem, Verdict

from .conftest import plain

OPTIONS = {"A": "One", "B": "Two", "C": "Three", "D": "Four"}


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("B", "B"), ("(C)", "C"), ("D.", "D"), ("**A**", "A"), ("B) Two", "B"), ("C. Three", "C"),
        ("The answer is B.", "B"), ("Answer: (D)", "D"), ("Final answer: C", "C"), ("I choose option A.", "A"),
        ("The figure shows two rods, so \\boxed{B}", "B"), ("\\boxed{\\text{C}}", "C"), ("\\boxed{Three}", "C"),
        ("Two", "B"), ("two", "B"), ("<think>maybe A</think>\nD", "D"),
        ("A rod is shown at the top.", None), ("E", None), ("I cannot tell.", None), ("", None),
        ("The answer is a guess", None),
        # only what follows the last </think> counts; a boxed letter may carry a full stop or brackets
        ("<think>maybe A</think><think>no, C</think>B", "B"), ("<think>x</think>The answer is B, as drawn", "B"),
        ("\\boxed{B.}", "B"), ("\\boxed{(C)}", "C"),
    ],
)  # fmt: skip
def test_letters_are_read_by_rule(reply: str, letter: str | None) -> None:
    assert extract_letter(reply, OPTIONS) == letter


GOOD_JUDGE = json.dumps({k: 2 for k in JUDGE_DIMENSIONS})


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (GOOD_JUDGE.replace("2}", "3}"), "expressiveness_richness: 3 is outside 0-2"),
        (GOOD_JUDGE.replace(": 2,", ': "2",', 1), "correctness_fidelity: '2' is not an integer"),
        (GOOD_JUDGE.replace(": 2,", ": 1.5,", 1), "correctness_fidelity: 1.5 is not an integer"),
        (GOOD_JUDGE.replace('"layout_precision": 2, ', ""), "missing keys: layout_precision"),
        (GOOD_JUDGE[:-1] + ', "overall": 2}', "unknown keys: overall"),
        ("Scores: fidelity 2, layout 1", "no JSON object"),
        ("{'correctness_fidelity': 2}", "invalid JSON"),
        ("", "empty reply"),
    ],
)
def test_judge_json_errors_are_errors_not_zeros(reply: str, error: str) -> None:
    with pytest.raises(JudgeParseError, match="^" + re.escape(error)):
        parse_judge(reply)


def test_judge_errors_say_exactly_what_is_wrong() -> None:
    two_missing = json.dumps({k: 2 for k in JUDGE_DIMENSIONS[2:]})
    with pytest.raises(JudgeParseError, match="^missing keys: correctness_fidelity, layout_precision$"):
        parse_judge(two_missing)
    with pytest.raises(JudgeParseError, match="^unknown keys: a, b$"):
        parse_judge(GOOD_JUDGE[:-1] + ', "b": 1, "a": 1}')
    long = "x" * 100
    with pytest.raises(JudgeParseError) as e:
        parse_judge(long)
    assert str(e.value) == f"no JSON object in the reply: {long[:80]!r}"
    bad = "{" + "'k': 1, " * 20 + "}"
    with pytest.raises(JudgeParseError) as e:
        parse_judge(bad)
    assert str(e.value).startswith("invalid JSON (") and str(e.value).endswith(f": {bad[:80]!r}")


def test_the_judge_reads_past_its_thinking_only() -> None:
    with pytest.raises(JudgeParseError, match="^no JSON object"):
        parse_judge(f"<think>draft: {GOOD_JUDGE}</think> I would give it full marks.")
    draft = GOOD_JUDGE.replace(": 2", ": 0")
    reply = f"<think>a</think> ```json\n{draft}\n``` <think>again</think> {GOOD_JUDGE}"
    assert set(parse_judge(reply).values()) == {2}  # after the last </think>
    indented = json.dumps({k: 1 for k in JUDGE_DIMENSIONS}, indent=2)
    assert set(parse_judge(f"```json\n{indented}\n```").values()) == {1}  # over several lines
    assert set(parse_judge(f"Scores:\n{indented}").values()) == {1}
    assert set(parse_judge(f"```json\n{indented}\n```\nor maybe {draft}").values()) == {1}  # a fence wins


def test_judge_json_in_prose_or_fences() -> None:
    assert parse_judge(f"Here is my grading:\n```json\n{GOOD_JUDGE}\n```\nDone.") == {
        k: 2 for k in JUDGE_DIMENSIONS
    }
    assert (
        parse_judge(f"<think>{{draft}}</think> {GOOD_JUDGE.replace(': 2', ': 1', 1)}")["correctness_fidelity"]
        == 1
    )


def vision_reply(body: dict[str, Any]) -> str:
    """The stand-in vision model: refuses malformed requests, answers quizzes from a table."""
    (message,) = body["messages"]
    image, text = message["content"]
    if image["type"] != "image_url" or not image["image_url"]["url"].startswith("data:image/png;base64,"):
        raise ValueError("the figure must be attached as a base64 PNG data URL")
    base64.b64decode(image["image_url"]["url"].split(",", 1)[1], validate=True)
    if "Reply with a JSON object only" in text["text"]:
        if "Required elements:" not in text["text"]:
            raise ValueError("the judge prompt lists the required elements")
        return GOOD_JUDGE.replace(": 2,", ": 1,", 1)
    question = re.search(r"Question: (.*)", text["text"])
    options = re.findall(r"^([A-Z])\. (.*)$", text["text"], re.MULTILINE)
    if question is None or len(options) < 2:
        raise ValueError("a quiz request shows the question and its options")
    if "Problem:" in text["text"]:
        raise ValueError("the quiz must be asked without the problem text")
    answer = TABLE.get(question.group(1))
    if answer == "500":
        raise StandInError(500, "scripted failure")
    return answer or "I cannot tell."


TABLE: dict[str, str] = {}
HMM = "Hmm, hard to tell from this. " * 5  # a reply with no option letter, longer than the quote


def _validated(problem: Problem, replies: list[str], png: bytes) -> list[Verdict]:
    """The verdicts of ``png``, of a missing and of a corrupt figure, with quiz i answered ``replies[i]``."""
    TABLE.clear()
    TABLE.update({quiz.question: reply for quiz, reply in zip(problem.quizzes, replies, strict=True)})
    server = StandInServer(api_key=None, reply=vision_reply)
    try:
        client = ChatClient(LLMConfig(base_url=server.base_url, model="vl", max_retries=1, backoff_s=0.01))

        async def run() -> list[Verdict]:
            try:
                return [await validate_figure(client, problem, png, "real"),
                        await validate_figure(client, problem, None, "real", "figs/seephys-1751.png"),
                        await validate_figure(client, problem, b"\x89PNG not really", "real")]  # fmt: skip
            finally:
                await client.close()

        return asyncio.run(run())
    finally:
        server.close()


def test_r_inv_counts_wrong_and_letterless_answers_and_missing_images_in_the_denominator(
    shipped_data: Path,
) -> None:
    problem = next(p for p in load_scigenbench(shipped_data / "scigenbench") if p.id == "seephys-1751")
    png = Path(problem.extra["reference_image"]).read_bytes()
    quizzes = problem.quizzes
    wrong = [next(k for k in q.options if k != q.correct_option) for q in quizzes]
    replies = [f"The answer is {quizzes[0].correct_option}.", wrong[1], wrong[2], HMM, wrong[4]]
    verdict, missing, corrupt = _validated(problem, replies, png)
    assert [(a.index, a.answer, a.correct) for a in verdict.quiz_answers] == [
        (0, quizzes[0].correct_option, True), (1, wrong[1], False), (2, wrong[2], False), (3, None, False),
        (4, wrong[4], False),
    ]  # fmt: skip
    assert (verdict.problem_id, verdict.generator) == ("seephys-1751", "real")
    assert verdict.r_inv == pytest.approx(1 / 5) and not verdict.perfect and verdict.errors == 0
    assert verdict.quiz_answers[3].error == f"no option letter in the reply: {HMM[:MAX_QUOTED_CHARS]!r}"
    assert all(a.error is None for i, a in enumerate(verdict.quiz_answers) if i != 3)
    assert "unscored" not in verdict.extra
    reason = "missing image: figs/seephys-1751.png"
    assert missing.r_inv == 0.0 and missing.extra["reason"] == reason and not missing.perfect
    assert [(a.index, a.answer, a.correct, a.error) for a in missing.quiz_answers] == [
        (i, None, False, reason) for i in range(5)
    ]
    assert corrupt.r_inv == 0.0 and corrupt.extra["reason"].startswith(
        "corrupt image: UnidentifiedImageError: "
    )


def test_a_failed_quiz_call_leaves_the_figure_unscored_not_wrong(shipped_data: Path) -> None:
    problem = next(p for p in load_scigenbench(shipped_data / "scigenbench") if p.id == "seephys-1751")
    png = Path(problem.extra["reference_image"]).read_bytes()
    quizzes = problem.quizzes
    replies = [f"The answer is {quizzes[0].correct_option}.", "500", "500", HMM, "500"]
    verdict = _validated(problem, replies, png)[0]
    assert verdict.errors == 3 and verdict.r_inv is None and not verdict.perfect
    assert verdict.extra["unscored"] == "3 of 5 quiz calls failed"
    assert [a.index for a in verdict.quiz_answers if "model call failed" in (a.error or "")] == [1, 2, 4]
    one_fails = [f"The answer is {q.correct_option}." for q in quizzes[:4]] + ["500"]
    assert _validated(problem, one_fails, png)[0].r_inv is None  # one failed call of five is enough


def test_image_problems_are_named() -> None:
    assert image_problem(None) == "missing image"
    assert image_problem(None, "") == "missing image"
    assert image_problem(None, "a/b.png") == "missing image: a/b.png"
    assert image_problem(b"") == "empty image file"
    assert image_problem(b"GIF8 not an image").startswith("corrupt image: UnidentifiedImageError: ")
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, "PNG")
    assert image_problem(buf.getvalue()) is None


def _validate(problem: Any, png: bytes | None) -> Verdict:
    server = StandInServer(api_key=None, reply=vision_reply)
    client = ChatClient(LLMConfig(base_url=server.base_url, model="vl", max_retries=0))

    async def run() -> Verdict:
        try:
            return await validate_figure(client, problem, png, "real")
        finally:
            await client.close()

    try:
        return asyncio.run(run())
    finally:
        server.close()


@pytest.mark.parametrize("wrong", [None, 0, -1])
def test_perfect_only_when_every_quiz_is_right(shipped_data: Path, wrong: int | None) -> None:
    problem = next(p for p in load_scigenbench(shipped_data / "scigenbench") if p.id == "seephys-1751")
    TABLE.clear()
    for quiz in problem.quizzes:
        TABLE[quiz.question] = quiz.correct_option
    if wrong is not None:
        quiz = problem.quizzes[wrong]
        TABLE[quiz.question] = next(k for k in quiz.options if k != quiz.correct_option)
    verdict = _validate(problem, Path(problem.extra["reference_image"]).read_bytes())
    n = len(problem.quizzes)
    assert verdict.perfect is (wrong is None)
    assert verdict.r_inv == pytest.approx(1.0 if wrong is None else (n - 1) / n)
    assert verdict.errors == 0 and len(verdict.quiz_answers) == n
    assert [a.index for a in verdict.quiz_answers] == list(range(n))
    assert all(a.error is None for a in verdict.quiz_answers)


def test_figures_that_cannot_be_judged_score_zero_with_the_reason(shipped_data: Path) -> None:
    problem = next(p for p in load_scigenbench(shipped_data / "scigenbench") if p.id == "seephys-1751")
    empty = _validate(problem, b"")
    assert empty.r_inv == 0.0 and empty.perfect is False and empty.extra["reason"] == "empty image file"
    assert [a.error for a in empty.quiz_answers] == ["empty image file"] * len(problem.quizzes)
    unquizzed = _validate(replace(problem, quizzes=[]), b"")
    assert unquizzed.r_inv is None and unquizzed.extra["reason"] == "no quizzes"


@pytest.mark.parametrize(
    ("value", "ok"),
    [(0, True), (2, True), (2.0, True), (-1, False), (3, False), (True, False), (None, False)],
)
def test_judge_scores_at_the_edges_of_0_to_2(value: object, ok: bool) -> None:
    reply = json.dumps({**{k: 1 for k in JUDGE_DIMENSIONS}, "layout_precision": value})
    if ok:
        assert (
            parse_judge(reply)["layout_precision"] == value
            and parse_judge(reply)["correctness_fidelity"] == 1
        )
    else:
        with pytest.raises(JudgeParseError, match="layout_precision"):
            parse_judge(reply)


def test_the_judge_reads_its_last_json_object() -> None:
    draft = GOOD_JUDGE.replace(": 2", ": 0")
    assert set(parse_judge(f"Draft: {draft}\nFinal: {GOOD_JUDGE}").values()) == {2}
    assert set(parse_judge(f"```json\n{draft}\n```\n```json\n{GOOD_JUDGE}\n```").values()) == {2}
    assert set(parse_judge(f"```json\n{draft}\n```\nthen {GOOD_JUDGE}").values()) == {0}  # a fence wins


def test_the_judge_sees_the_figure_the_problem_and_its_elements(shipped_data: Path, tmp_path: Path) -> None:
    problem = next(p for p in load_scigenbench(shipped_data / "scigenbench") if p.id == "seephys-1751")
    png = Path(problem.extra["reference_image"]).read_bytes()
    (message,) = judge_messages(replace(problem, elements=["a ramp at 30 degrees", "a block"]), png)
    image, text = message["content"]
    assert set(text) == {"type", "text"} and text["type"] == "text"
    assert text["text"].startswith(
        "You grade a scientific figure drawn for the problem below. Score each dimension"
    )
    assert (
        '0, 1 or 2.\n- "correctness_fidelity": ' in text["text"]
        and '.\n- "layout_precision": ' in text["text"]
    )
    assert (
        "\n\nReply with a JSON object only, exactly these five keys with integer values 0-2, e.g. {"
        in text["text"]
    )
    assert message["role"] == "user" and image["type"] == "image_url"
    assert base64.b64decode(image["image_url"]["url"].split(",", 1)[1]) == png
    assert problem.question in text["text"] and "- a ramp at 30 degrees\n- a block" in text["text"]
    assert all(f'- "{k}":' in text["text"] for k in JUDGE_DIMENSIONS)
    assert parse_judge(text["text"].rsplit("e.g. ", 1)[1]) == {k: 2 for k in JUDGE_DIMENSIONS}
    (bare,) = judge_messages(replace(problem, elements=[]), png)
    assert "\nRequired elements:\n- (none listed)\n" in bare["content"][1]["text"]
    (path := tmp_path / "f.png").write_bytes(png)
    assert read_image(path) == png and read_image(str(path)) == png
    assert read_image(tmp_path / "absent.png") is None and read_image(None) is None


def test_bench_end_to_end_on_seephys_figures(shipped_data: Path, tmp_path: Path) -> None:
    problems = [
        p for p in load_scigenbench(shipped_data / "scigenbench") if p.id.startswith("seephys-") and p.quizzes
    ][:4]
    images = tmp_path / "real"
    images.mkdir()
    for p in problems[:3]:  # the fourth has no image: --images scores only the figures it holds, and says so
        shutil.copy(p.extra["reference_image"], images / f"{p.id}{Path(p.extra['reference_image']).suffix}")
    TABLE.clear()
    for p in problems:
        for quiz in p.quizzes:
            TABLE[quiz.question] = quiz.correct_option
    TABLE[problems[1].quizzes[0].question] = next(
        k for k in problems[1].quizzes[0].options if k != problems[1].quizzes[0].correct_option
    )
    server = StandInServer(api_key="vl-key", reply=vision_reply)
    cmd = [sys.executable, "-m", "scigen_rl.cli", "bench", "--images", str(images), "--out-dir", str(tmp_path / "out"),
           "--judge.base-url", server.base_url, "--judge.model", "vl", "--judge.api-key-env", "VL_KEY",
           "--scigenbench-dir", str(shipped_data / "scigenbench"), "--ids", ",".join(p.id for p in problems),
           "--metrics", "rinv,judge,pixel,spectral"]  # fmt: skip
    env = {"VL_KEY": "vl-key", **dict(__import__("os").environ)}
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        assert f"3 of 4 problems have a figure in {images}" in done.stderr
        calls = len(server.requests)
        again = subprocess.run(
            cmd, capture_output=True, text=True, env=env, timeout=300
        )  # resumed: nothing to do
        assert again.returncode == 0 and len(server.requests) == calls
        assert server.probes == 2  # each run asked the server once before starting
    finally:
        server.close()
    overall = json.loads(done.stdout.strip().splitlines()[-1])
    verdicts = {json.loads(line)["problem_id"]: Verdict.from_dict(json.loads(line))
                for line in (tmp_path / "out" / "items.jsonl").read_text().splitlines()}  # fmt: skip
    assert verdicts[problems[0].id].perfect and verdicts[problems[0].id].r_inv == 1.0
    assert verdicts[problems[1].id].r_inv == pytest.approx(1 - 1 / len(problems[1].quizzes))
    assert problems[3].id not in verdicts
    assert verdicts[problems[0].id].judge_scores["correctness_fidelity"] == 1
    assert (
        overall["figures"] == 3
        and overall["missing_or_corrupt"] == 0
        and overall["perfect"] == round(2 / 3, 4)
    )
    assert overall["r_inv"] == round(sum(v.r_inv or 0 for v in verdicts.values()) / 3, 4)
    board = (tmp_path / "out" / "leaderboard.md").read_text()
    untyped = f"| (none) | 3 | {100 * overall['r_inv']:.1f} | {100 * overall['perfect']:.1f} |"  # SeePhys has no types
    assert "| real | 3 |" in board and "## By image type: real" in board and untyped in board
    assert (tmp_path / "out" / "rinv_by_type.png").stat().st_size > 1000 and (
        tmp_path / "out" / "judge.png"
    ).exists()
    combined = subprocess.run([sys.executable, "-m", "scigen_rl.cli", "bench", "--combine", str(tmp_path / "out"),
                               str(tmp_path / "out"), "--out-dir", str(tmp_path / "board")], capture_output=True, text=True)  # fmt: skip
    assert combined.returncode == 0 and combined.stdout.count("| real | 3 |") == 2


def _bench_args(images: Path, out: Path, url: str, ids: list[str], shipped_data: Path) -> list[str]:
    return ["bench", "--images", str(images), "--out-dir", str(out), "--metrics", "rinv",
            "--judge.base-url", url, "--judge.model", "vl", "--judge.max-retries", "0",
            "--scigenbench-dir", str(shipped_data / "scigenbench"), "--ids", ",".join(ids)]  # fmt: skip


def _one_real_figure(shipped_data: Path, tmp_path: Path) -> tuple[Problem, Path]:
    """SeePhys problem 1751 and a folder holding its real figure, named by its id."""
    problem = next(p for p in load_scigenbench(shipped_data / "scigenbench") if p.id == "seephys-1751")
    images = tmp_path / "figs"
    images.mkdir()
    shutil.copy(problem.extra["reference_image"], images / f"{problem.id}.png")
    return problem, images


def test_bench_refuses_to_start_when_the_vision_model_does_not_answer(
    shipped_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problem, images = _one_real_figure(shipped_data, tmp_path)
    out = tmp_path / "out"
    dead = "http://127.0.0.1:9/v1"
    assert main(_bench_args(images, out, dead, [problem.id], shipped_data)) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(
        f"scigen-rl bench: the vision model at {dead} (model vl) did not answer a first request"
    )
    assert not out.exists()


def test_failed_quiz_calls_are_counted_exit_1_and_scored_by_the_next_run(
    shipped_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = [p for p in load_scigenbench(shipped_data / "scigenbench") if p.id.startswith("seephys-")][:2]
    images = tmp_path / "figs"
    images.mkdir()
    for p in problems:
        shutil.copy(p.extra["reference_image"], images / f"{p.id}.png")
    TABLE.clear()
    TABLE.update({q.question: q.correct_option for p in problems for q in p.quizzes})
    broken = problems[1].quizzes[0].question
    TABLE[broken] = "500"  # the server fails this call: the figure is not a result yet
    server = StandInServer(api_key=None, reply=vision_reply)
    out = tmp_path / "out"
    args = _bench_args(images, out, server.base_url, [p.id for p in problems], shipped_data)
    try:
        assert main(args) == 1
        err = plain(capsys.readouterr().err)
        assert (
            "1 figure(s) left unscored, 1 model call(s) failed after retries; run the same command again"
            in err
        )
        summary = json.loads((out / "summary.json").read_text())
        assert summary["failed_calls"] == {"figures": 1, "calls": 1}
        assert summary["overall"]["r_inv"] == 1.0  # over the scored figure only: a failed call is no answer
        TABLE[broken] = problems[1].quizzes[0].correct_option  # the server is back
        asked = len(server.requests)
        assert main(args) == 0
        # the unscored figure again: its failed call asked anew, its answered ones from the cache
        again = [r["messages"][0]["content"][1]["text"] for r in server.requests[asked:]]
        assert len(again) == 1 and f"Question: {broken}\n" in again[0]
    finally:
        server.close()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["failed_calls"] == {"figures": 0, "calls": 0} and summary["overall"]["figures"] == 2
    assert summary["overall"]["r_inv"] == 1.0 and summary["overall"]["perfect"] == 1.0


def test_a_rerun_with_other_settings_on_the_same_out_dir_stops(
    shipped_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problem, images = _one_real_figure(shipped_data, tmp_path)
    TABLE.clear()
    TABLE.update({q.question: q.correct_option for q in problem.quizzes})
    server = StandInServer(api_key=None, reply=vision_reply)
    out = tmp_path / "out"
    args = _bench_args(images, out, server.base_url, [problem.id], shipped_data)
    try:
        assert main(args) == 0
        capsys.readouterr()
        for extra, said in ((["--metrics", "rinv,judge"], "metrics: 'rinv' -> 'rinv,judge'"),
                            (["--judge.model", "vl-2"], "judge.model: 'vl' -> 'vl-2'")):  # fmt: skip
            assert main([*args, *extra]) == 2
            assert plain(capsys.readouterr().err) == (
                f"scigen-rl bench: {out} holds results of other settings ({said}): run with those, or use a "
                "new --out-dir"
            )
        assert main(args) == 0  # the same settings: resumed
    finally:
        server.close()


def test_image_metrics_count_a_corrupt_figure_instead_of_failing(shipped_data: Path, tmp_path: Path) -> None:
    from scigen_rl.bench.run import image_metrics

    problems = [p for p in load_scigenbench(shipped_data / "scigenbench") if p.extra.get("reference_image")][
        :3
    ]
    images: dict[str, str | None] = {}
    for i, p in enumerate(problems):
        path = tmp_path / f"{p.id}.png"
        if i < 2:
            shutil.copy(p.extra["reference_image"], path)
        else:
            path.write_bytes(b"\x89PNG\r\n\x1a\n but the rest is not")
        images[p.id] = str(path)
    row = image_metrics(problems, images, tmp_path, "g", inception=False)
    assert row["unreadable"] == 1 and row["ssim"] == 1.0  # the two real copies, compared with themselves
