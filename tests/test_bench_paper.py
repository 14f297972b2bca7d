"""`bench --protocol paper`: the paper's scoring (pooled questions with a graded VQA item, failures left
out, bounded JPEG images, the question-only judge at temperature 0.1), end to end on real SeePhys problems
and figures against a stand-in vision model: a real HTTP server on 127.0.0.1 that checks the exact form of
every request (order of parts, image format and size, temperature, no output limit) and answers from
tables the test plants, so every expected number follows from the plants."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from scigen_rl.bench import paper_image
from scigen_rl.bench.paper_image import open_rgb, quiz_jpeg
from scigen_rl.bench.paper_judge import read_scores
from scigen_rl.bench.paper_prompts import paper_prompts
from scigen_rl.bench.paper_rinv import quiz_text, read_is_correct, read_verdict
from scigen_rl.cli import main
from scigen_rl.llm.standin import StandInError, StandInServer
from scigen_rl.loaders import load_scigenbench
from scigen_rl.records import JUDGE_DIMENSIONS, Problem

from .conftest import plain


def _image(url: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1], validate=True)))


class PaperModel:
    """The stand-in's answers. ``quiz``: quiz question -> reply; ``vqa``: question -> reply; a reply
    ``"500"`` fails the call; a quiz reply holding GARBLE gets a grade reply that is not JSON; the judge
    replies without a ```json block ``unfenced[question]`` times first. ``seen`` logs every request."""

    def __init__(self, markers: dict[str, str] | None = None) -> None:
        self.quiz: dict[str, str] = {}
        self.vqa: dict[str, str] = {}
        self.unfenced: dict[str, int] = {}
        self.seen: list[dict[str, Any]] = []
        self.markers = markers or {"quiz": "letter of the correct option", "vqa": "give your final answer",
                                   "judge": "Score it on five dimensions", "grade": "You grade a student's answer",
                                   "verify": "You compare a candidate's final answer"}  # fmt: skip

    def _kind(self, text: str) -> str:
        kinds = [k for k, marker in self.markers.items() if marker in text]
        if len(kinds) != 1:
            raise ValueError(f"not one known prompt: {text[:80]!r}")
        return kinds[0]

    def __call__(self, body: dict[str, Any]) -> str:
        (message,) = body["messages"]
        content = message["content"]
        if isinstance(content, list) and content[0]["type"] == "image_url":
            return self._strict(content)
        if "max_tokens" in body:
            raise ValueError("the paper's calls set no output limit")
        if isinstance(content, str):  # a grading call: text only
            return self._grade(self._kind(content), content, body)
        text, image = content
        if text["type"] != "text" or image["type"] != "image_url":
            raise ValueError("the prompt comes first, then the image")
        kind, url = self._kind(text["text"]), image["image_url"]["url"]
        img = _image(url)
        self.seen.append({"kind": kind, "model": body["model"], "size": img.size, "format": img.format,
                          "temperature": body.get("temperature"), "chars": len(url.split(",", 1)[1])})  # fmt: skip
        if kind == "judge":
            if body.get("temperature") != 0.1 or not url.startswith("data:image/png;base64,"):
                raise ValueError("the judge gets a PNG at temperature 0.1")
            question = text["text"].split("Question:\n", 1)[1].split("\n\nGive short", 1)[0]
            if self.unfenced.get(question, 0) > 0:
                self.unfenced[question] -= 1
                return "Scores: 2, 2, 2, 2, 2"
            scores = {
                "Correctness_Fidelity": 2,
                "Layout_Precision": 1,
                "Readability_Occlusion": 2,
                "Scientific_Plausibility": 1,
            }  # fmt: skip (Expressiveness_Richness left out: 0)
            return f"C&F: fine. L&P: skewed.\n```json\n{json.dumps(scores)}\n```"
        if not url.startswith("data:image/jpeg;base64,") or img.format != "JPEG":
            raise ValueError("a quiz or VQA image is sent as JPEG")
        question = text["text"].split("Question:\n", 1)[1].strip()
        if kind == "quiz":
            if body.get("temperature") != 0:
                raise ValueError("quizzes are asked at temperature 0")
            reply = self.quiz.get(question.split("\nOptions:\n", 1)[0], "I cannot tell.")
        else:
            if "temperature" in body:
                raise ValueError("the VQA item is asked at the server's default temperature")
            reply = self.vqa.get(question, "I cannot tell.")
        if reply == "500":
            raise StandInError(500, "scripted failure")
        return reply

    def _grade(self, kind: str, text: str, body: dict[str, Any]) -> str:
        self.seen.append({"kind": kind, "model": body["model"], "temperature": body.get("temperature")})
        if kind == "grade":
            if body.get("temperature") != 0:
                raise ValueError("quiz answers are graded at temperature 0")
            gold = re.search(r"Correct Option: ([A-D])\n", text)
            response = re.search(r'Student Response: "(.*)"\n', text, re.DOTALL)
            if gold is None or response is None:
                raise ValueError("a grade request shows the correct option and the quoted response")
            if "GARBLE" in response.group(1):
                return "Looks right to me."
            letters = re.findall(r"\b([A-D])\b", response.group(1))
            return "```json\n" + json.dumps({"is_correct": int(bool(letters) and letters[-1] == gold.group(1)),
                                             "reasoning": "compared"}) + "\n```"  # fmt: skip
        if "temperature" in body:
            raise ValueError("the VQA item is graded at the server's default temperature")
        gold = text.split("<Standard Answer Begin>\n", 1)[1].split("\n<Standard Answer End>", 1)[0]
        answer = text.split("<Candidate's Answer Begin>\n", 1)[1].split("\n<Candidate's Answer End>", 1)[0]
        return (
            f"The candidate says {answer[:20]}.\nFinal Judgment: \\boxed{{{'A' if gold in answer else 'B'}}}"
        )

    def _strict(self, content: list[dict[str, Any]]) -> str:
        text = content[1]["text"]
        if "Reply with a JSON object only" in text:
            return json.dumps({k: 2 for k in JUDGE_DIMENSIONS})
        question = re.search(r"Question: (.*)", text)
        reply = self.quiz.get(question.group(1) if question else "", "")
        letters = re.findall(r"\b([A-D])\b", reply)
        return letters[-1] if letters else "I cannot tell."


@pytest.fixture
def seephys(shipped_data: Path, tmp_path: Path) -> tuple[list[Problem], Path]:
    """Four SeePhys problems with 5, 4, 3 and 2 quizzes and their real figures in a folder; the last
    figure enlarged to 2400 px and given an alpha channel (the paper bounds and flattens it)."""
    everything = load_scigenbench(shipped_data / "scigenbench")
    problems = []
    for n in (5, 4, 3, 2):
        problems.append(next(p for p in everything if p.id.startswith("seephys-") and len(p.quizzes) == n
                             and p not in problems))  # fmt: skip
    folder = tmp_path / "figs"
    folder.mkdir()
    for p in problems[:3]:
        shutil.copy(p.extra["reference_image"], folder / f"{p.id}.png")
    with Image.open(problems[3].extra["reference_image"]) as img:
        scale = 2400 / max(img.size)
        big = img.convert("RGBA").resize((round(img.width * scale), round(img.height * scale)))
    big.save(folder / f"{problems[3].id}.png")
    return problems, folder


def plant(model: PaperModel, problems: list[Problem]) -> dict[str, Any]:
    """Every answer right except: the first quiz of problem 1 (another option) and its VQA item; the
    first quiz of problem 2, answered right but graded by a reply that is not JSON (0, as the paper)."""
    for p in problems:
        for q in p.quizzes:
            model.quiz[q.question] = f"Looking at the figure, the answer is {q.correct_option}."
        model.vqa[p.question] = f"Reading the figure: {p.answer}"
    q1 = problems[1].quizzes[0]
    model.quiz[q1.question] = f"The answer is {next(k for k in q1.options if k != q1.correct_option)}."
    model.vqa[problems[1].question] = "It cannot be determined."
    model.quiz[problems[2].quizzes[0].question] = f"GARBLE {problems[2].quizzes[0].correct_option}"
    quizzes = sum(len(p.quizzes) for p in problems)
    return {"questions": quizzes + len(problems), "wrong": 3, "quizzes": quizzes}


def args(
    folder: Path, out: Path, url: str, problems: list[Problem], shipped_data: Path, *extra: str
) -> list[str]:
    return ["bench", "--images", str(folder), "--out-dir", str(out), "--judge.base-url", url,
            "--judge.model", "vl", "--judge.max-retries", "0", "--scigenbench-dir", str(shipped_data / "scigenbench"),
            "--ids", ",".join(p.id for p in problems), *extra]  # fmt: skip


def test_paper_protocol_pools_questions_grades_answers_and_reruns_from_the_cache(
    seephys: tuple[list[Problem], Path], shipped_data: Path, tmp_path: Path
) -> None:
    problems, folder = seephys
    model = PaperModel()
    planted = plant(model, problems)
    server = StandInServer(api_key=None, reply=model)
    out = tmp_path / "out"
    cmd = args(folder, out, server.base_url, problems, shipped_data, "--protocol", "both")
    try:
        assert main(cmd) == 0
        summary = json.loads((out / "summary.json").read_text())
        asked = len(server.requests)
        (out / "items.jsonl").unlink()
        (out / "summary.json").unlink()
        assert main(cmd) == 0  # every figure scored again, every answer from the cache
        assert len(server.requests) == asked
    finally:
        server.close()
    again = json.loads((out / "summary.json").read_text())
    assert again["overall"] == summary["overall"] and again["by_image_type"] == summary["by_image_type"]
    o = summary["overall"]
    right = planted["questions"] - planted["wrong"]
    assert o["paper_questions"] == planted["questions"]
    assert o["paper_acc"] == round(right / planted["questions"], 4)  # pooled over every question
    assert o["paper_quiz_acc"] == round((planted["quizzes"] - 2) / planted["quizzes"], 4)
    assert o["paper_vqa_acc"] == 0.75 and o["paper_perfect"] == 0.5 and o["paper_ungraded"] == 1
    # The strict protocol reads letters by rule (the GARBLE answer counts) and averages per figure.
    assert o["r_inv"] == round((3 + (1 - 1 / 4)) / 4, 4) and o["r_inv"] != o["paper_acc"]
    assert o["paper_correctness_fidelity"] == 2 and o["paper_expressiveness_richness"] == 0
    assert o["paper_judged"] == 4 and summary["protocol"] == "both"
    assert summary["paper_prompts"] == "scigen-rl's own wording" and summary["grader"] == "vl"
    board = (out / "leaderboard.md").read_text()
    assert "| generator | figures | R_inv % | perfect % |" in board and "paper acc %" in board
    assert (out / "paper_acc_by_type.png").stat().st_size > 1000
    # The images as the paper sends them: quizzes bounded to 1024 px as JPEG, the judge's at full size.
    with Image.open(folder / f"{problems[3].id}.png") as enlarged:
        big = enlarged.size
    quiz_sizes = {s["size"] for s in model.seen if s["kind"] in ("quiz", "vqa")}
    assert max(map(max, quiz_sizes)) == 1024 and all(
        s["chars"] <= 2 * 1024 * 1024 for s in model.seen if "chars" in s
    )
    assert big in {s["size"] for s in model.seen if s["kind"] == "judge"}
    assert 1024 in {max(s) for s in quiz_sizes} and big not in quiz_sizes


def test_the_strict_leaderboard_shows_no_paper_columns(
    seephys: tuple[list[Problem], Path], shipped_data: Path, tmp_path: Path
) -> None:
    problems, folder = seephys
    model = PaperModel()
    plant(model, problems)
    server = StandInServer(api_key=None, reply=model)
    try:
        assert (
            main(
                args(
                    folder, tmp_path / "out", server.base_url, problems[:1], shipped_data, "--metrics", "rinv"
                )
            )
            == 0
        )
    finally:
        server.close()
    board = (tmp_path / "out" / "leaderboard.md").read_text()
    assert "R_inv %" in board and "paper" not in board and "fidelity" not in board


def test_failed_calls_leave_the_figure_or_the_vqa_item_out_then_the_next_run_scores_them(
    seephys: tuple[list[Problem], Path],
    shipped_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    problems, folder = seephys
    model = PaperModel()
    planted = plant(model, problems)
    broken_quiz, broken_vqa = problems[0].quizzes[1].question, problems[3].question
    kept = model.quiz[broken_quiz], model.vqa[broken_vqa]
    model.quiz[broken_quiz], model.vqa[broken_vqa] = "500", "500"
    server = StandInServer(api_key=None, reply=model)
    out = tmp_path / "out"
    cmd = args(
        folder, out, server.base_url, problems, shipped_data, "--protocol", "paper", "--metrics", "rinv"
    )
    try:
        assert main(cmd) == 1
        assert "2 figure(s) left unscored, 2 model call(s) failed" in plain(capsys.readouterr().err)
        o = json.loads((out / "summary.json").read_text())["overall"]
        # Problem 0 leaves the pool (a failed quiz call); problem 3 loses its VQA item only.
        assert o["paper_excluded"] == 1
        assert o["paper_questions"] == planted["questions"] - len(problems[0].quizzes) - 1 - 1
        assert o["paper_vqa_acc"] == 0.5 and "r_inv" in o and o["r_inv"] is None
        model.quiz[broken_quiz], model.vqa[broken_vqa] = kept
        asked = len(server.requests)
        assert main(cmd) == 0
        # Only the failed calls (and the grading of their answers) are asked again.
        assert len(server.requests) - asked == 4
    finally:
        server.close()
    o = json.loads((out / "summary.json").read_text())["overall"]
    assert o["paper_questions"] == planted["questions"] and o["paper_excluded"] == 0


def test_missing_and_unreadable_figures_are_excluded_not_wrong(
    seephys: tuple[list[Problem], Path], shipped_data: Path, tmp_path: Path
) -> None:
    problems, folder = seephys
    (folder / f"{problems[1].id}.png").write_bytes(b"\x89PNG broken")
    model = PaperModel()
    plant(model, problems)
    server = StandInServer(api_key=None, reply=model)
    out = tmp_path / "out"
    try:
        assert main(args(folder, out, server.base_url, problems, shipped_data, "--protocol", "both")) == 0
    finally:
        server.close()
    o = json.loads((out / "summary.json").read_text())["overall"]
    assert o["paper_excluded"] == 1 and o["paper_judged"] == 3
    # Without problem 1 every question is right but problem 2's ungraded one.
    assert o["paper_questions"] == sum(len(p.quizzes) + 1 for i, p in enumerate(problems) if i != 1)
    assert o["paper_acc"] == round(1 - 1 / o["paper_questions"], 4)
    assert o["missing_or_corrupt"] == 1 and o["r_inv"] < 1  # the strict protocol scores it 0


def test_the_judge_is_asked_again_until_it_writes_the_json_block(
    seephys: tuple[list[Problem], Path], shipped_data: Path, tmp_path: Path
) -> None:
    problems, folder = seephys
    model = PaperModel()
    plant(model, problems)
    model.unfenced = {problems[0].question: 2, problems[1].question: 3}  # 3 = every attempt unfenced
    server = StandInServer(api_key=None, reply=model)
    out = tmp_path / "out"
    cmd = args(
        folder, out, server.base_url, problems[:2], shipped_data, "--protocol", "paper", "--metrics", "judge"
    )
    try:
        assert main(cmd) == 0
        assert [s["kind"] for s in model.seen].count("judge") == 2 * 3
        items = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
        (out / "items.jsonl").unlink()
        asked = len(server.requests)
        assert main(cmd) == 0 and len(server.requests) == asked  # each sample came from the cache
    finally:
        server.close()
    judged = {i["problem_id"]: i["extra"]["paper_judge"] for i in items}
    assert (
        judged[problems[0].id]["samples"] == 3 and judged[problems[0].id]["scores"]["Layout_Precision"] == 1
    )
    assert "unparsed" in judged[problems[1].id]
    o = json.loads((out / "summary.json").read_text())["overall"]
    assert o["paper_judged"] == 1 and o["paper_judge_unparsed"] == 1 and o["paper_layout_precision"] == 1


def test_a_grader_model_grades_and_its_server_is_checked_first(
    seephys: tuple[list[Problem], Path],
    shipped_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    problems, folder = seephys
    model = PaperModel()
    plant(model, problems)
    server = StandInServer(api_key=None, reply=model)
    out = tmp_path / "out"
    base = args(
        folder, out, server.base_url, problems[:1], shipped_data, "--protocol", "paper", "--metrics", "rinv"
    )
    try:
        assert main([*base, "--grader-model", "grader", "--grader-base-url", "http://127.0.0.1:9/v1"]) == 2
        assert "the grader model at http://127.0.0.1:9/v1 (model grader) did not answer" in plain(
            capsys.readouterr().err
        )
        assert not (out / "items.jsonl").exists()
        assert main([*base, "--grader-model", "grader"]) == 0
    finally:
        server.close()
    models = {(s["kind"], s["model"]) for s in model.seen}
    assert models == {("quiz", "vl"), ("vqa", "vl"), ("grade", "grader"), ("verify", "grader")}
    assert json.loads((out / "summary.json").read_text())["grader"] == "grader"


PAPER_FILES = {
    "src/eval/prompts.py": 'raise SystemExit("never run")\nVQA_ANSWER_PROMPT = """CHECKOUT QUIZ\nQuestion:\n'
    '{quiz_content}\n"""\nANSWER_VERIFICATION_PROMPT = """CHECKOUT GRADE\nCorrect Option: {answer}\n'
    'Student Response: "{model_response}"\nof {question} {{ "is_correct": 1 }}"""\n'
    'ANSWER_VERIFICATION_COT_PROMPT = """CHECKOUT VERIFY {question}\n<Standard Answer Begin>\n{answer}\n'
    "<Standard Answer End>\n<Candidate's Answer Begin>\n{model_response}\n<Candidate's Answer End>\"\"\"\n",
    "src/eval/ve_infer.py": 'VQA_ANSWER_PROMPT = """CHECKOUT VQA\nQuestion:\n{quiz_content}\n"""\n',
    "src/eval/llm_as_judge.py": 'QUESTION_EVAL_PROMPT = """CHECKOUT JUDGE\nQuestion:\n{question}\n\nGive short."""\n',
}  # fmt: skip


def test_paper_repo_prompts_are_read_from_a_checkout_without_running_it(
    seephys: tuple[list[Problem], Path], shipped_data: Path, tmp_path: Path
) -> None:
    problems, folder = seephys
    repo = tmp_path / "SciGenBench"
    for name, text in PAPER_FILES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    markers = {k: f"CHECKOUT {k.upper()}" for k in ("quiz", "vqa", "judge", "grade", "verify")}
    model = PaperModel(markers)
    plant(model, problems)
    server = StandInServer(api_key=None, reply=model)
    out = tmp_path / "out"
    try:
        cmd = args(
            folder,
            out,
            server.base_url,
            problems[:1],
            shipped_data,
            "--protocol",
            "paper",
            "--paper-repo",
            str(repo),
        )
        assert main(cmd) == 0
    finally:
        server.close()
    texts = [m["content"] if isinstance(m["content"], str) else m["content"][0]["text"]
             for r in server.requests for m in r["messages"]]  # fmt: skip
    quiz = problems[0].quizzes[0]
    assert f"CHECKOUT QUIZ\nQuestion:\n{quiz_text(quiz)}\n" in texts
    assert f"CHECKOUT JUDGE\nQuestion:\n{problems[0].question}\n\nGive short." in texts
    assert sum(t.startswith("CHECKOUT GRADE") for t in texts) == len(problems[0].quizzes)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["paper_prompts"] == f"read from {repo.resolve()}"
    assert summary["overall"]["paper_acc"] == 1.0


@pytest.mark.parametrize(
    ("file", "text", "said"),
    [
        ("src/eval/ve_infer.py", "OTHER = 'x'\n", "src/eval/ve_infer.py defines no VQA_ANSWER_PROMPT"),
        ("src/eval/ve_infer.py", "VQA_ANSWER_PROMPT = f'{x}'\n", "VQA_ANSWER_PROMPT is not a plain string"),
        ("src/eval/llm_as_judge.py", "QUESTION_EVAL_PROMPT = 'no slot'\n", "QUESTION_EVAL_PROMPT lacks {question}"),
        ("src/eval/llm_as_judge.py", "QUESTION_EVAL_PROMPT = '{question} {other}'\n", "is not a template of {question}"),
        ("src/eval/prompts.py", "def broken(:\n", "cannot read"),
    ],
)  # fmt: skip
def test_a_checkout_without_usable_prompts_stops_before_any_call(
    file: str, text: str, said: str, seephys: tuple[list[Problem], Path], shipped_data: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    problems, folder = seephys
    repo = tmp_path / "SciGenBench"
    for name, body in {**PAPER_FILES, file: text}.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(body)
    paper_prompts.cache_clear()
    cmd = args(folder, tmp_path / "out", "http://127.0.0.1:9/v1", problems[:1], shipped_data, "--protocol", "paper",
               "--paper-repo", str(repo))  # fmt: skip
    assert main(cmd) == 2
    assert said in plain(capsys.readouterr().err)
    assert not (tmp_path / "out" / "items.jsonl").exists()


@pytest.mark.parametrize(
    ("reply", "grade"),
    [
        ('{"is_correct": 1}', True), ('{"is_correct": true}', True), ('```json\n{"is_correct": 1}\n```', True),
        ('{"is_correct": 0}', False), ('{"is_correct": 2}', False), ('{"is_correct": "1"}', False),
        ('{"reasoning": "x"}', False), ("Correct.", None), ('Here: {"is_correct": 1}', None), ("[1]", None),
    ],
)  # fmt: skip
def test_grades_are_read_as_the_paper_reads_them(reply: str, grade: bool | None) -> None:
    assert read_is_correct(reply) is grade


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ("Final Judgment: \\boxed{A}", "A"), ("boxed{B} then boxed{A}", "A"), ("C", "C"), (" A", "A"),
        ("Final Judgment: (B)", "B"), ("A first. Final Judgment: B", "B"), ("Final Judgment: none", ""),
        ("Correct", "C"),  # the paper's last rule reads any capital A-C: kept, it decides its numbers
    ],
)  # fmt: skip
def test_vqa_verdicts_are_read_by_the_papers_rules(reply: str, verdict: str) -> None:
    assert read_verdict(reply) == verdict


@pytest.mark.parametrize(
    ("reply", "scores"),
    [
        ('```json\n{"Correctness_Fidelity": 2}\n```', [2, 0, 0, 0, 0]),
        ('```JSON\n{"Layout_Precision": 1, "Correctness_Fidelity": "2"}\n```', [0, 1, 0, 0, 0]),
        ('```json\n{}\n```', None), ('```json\n{"a": 1\n```', None), ('{"Correctness_Fidelity": 2}', None),
        ('```json\n{"Correctness_Fidelity": 1}\n```\n```json\n{"Correctness_Fidelity": 2}\n```', [1, 0, 0, 0, 0]),
    ],
)  # fmt: skip
def test_judge_scores_are_read_from_the_first_fenced_block(reply: str, scores: list[int] | None) -> None:
    read = read_scores(reply)
    assert (list(read.values()) if read is not None else None) == scores


def _noise(size: tuple[int, int], seed: int = 0) -> Image.Image:
    import numpy as np

    return Image.fromarray(
        np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    )


@pytest.mark.parametrize("side", [1023, 1024, 1025, 3000])
def test_the_long_side_is_bounded_to_1024_from_above_only(side: int) -> None:
    sent = Image.open(io.BytesIO(quiz_jpeg(Image.new("RGB", (side, side // 3), "white")) or b""))
    assert sent.size == ((side, side // 3) if side <= 1024 else (1024, int(side // 3 * 1024 / side)))


def test_jpeg_quality_drops_to_the_first_that_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    image = _noise((300, 300))
    sizes = {q: len(base64.b64encode(paper_image._jpeg(image, q))) for q in paper_image.QUALITIES}
    # A limit just at quality 55's size takes 55; one byte less takes the next quality down.
    monkeypatch.setattr(paper_image, "MAX_BASE64", sizes[55])
    assert quiz_jpeg(image) == paper_image._jpeg(image, 55)
    monkeypatch.setattr(paper_image, "MAX_BASE64", sizes[55] - 1)
    assert quiz_jpeg(image) == paper_image._jpeg(image, 45)


def test_an_image_too_large_at_quality_5_shrinks_then_ends_as_a_256_square(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = _noise((1000, 500))
    monkeypatch.setattr(paper_image, "MAX_BASE64", len(base64.b64encode(paper_image._jpeg(image, 5))) - 1)
    shrunk = Image.open(io.BytesIO(quiz_jpeg(image) or b""))
    assert shrunk.size == (800, 400)  # one step of 20 %: the first size that fits
    monkeypatch.setattr(paper_image, "MAX_BASE64", 10)
    assert Image.open(io.BytesIO(quiz_jpeg(image) or b"")).size == (256, 256)
    assert quiz_jpeg(Image.new("RGB", (5000, 3))) is None  # bounded to 1024 x 0: cannot be encoded


def test_alpha_is_dropped_not_laid_on_white_as_the_paper_loads_images() -> None:
    clear_black = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    out = io.BytesIO()
    clear_black.save(out, format="PNG")
    rgb = open_rgb(out.getvalue())
    assert rgb is not None and rgb.getpixel((0, 0)) == (0, 0, 0)
    assert open_rgb(b"not an image") is None
