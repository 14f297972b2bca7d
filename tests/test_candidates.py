"""`build --candidates N`: N figures per problem, each scored by R_inv with the verifier, the best kept
with every candidate's scores, and the report of the gain and its cost; end to end with a stand-in model
whose k-th sample of a problem draws a figure of a known colour, and a stand-in vision verifier that
answers a figure's quizzes right according to its colour (green: all, blue: the first half, red: none)."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from data_builders.candidates import rank
from scigen_rl.llm.standin import StandInServer
from scigen_rl.loaders import load_scigenbench

from .test_build import _build, _finish

COLOURS = ("red", "green", "blue")
SCRIPT = """PLAN
1. Image content: a block.
CODE
```python
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(4, 3))
ax.add_patch(plt.Rectangle((0.05, 0.05), 0.6, 0.6, color="{colour}"))
ax.plot([0.7, 0.95], [0.2, 0.9], color="black")
ax.text(0.7, 0.05, "{tag}")
ax.set_xlim(0, 1)
ax.set_ylim(0, 1)
ax.axis("off")
plt.savefig("figure.png")
```"""


class Painter:
    """The k-th call for a problem draws in COLOURS[k % 3] (a build asks a problem's candidates in order)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, body: dict[str, Any]) -> str:
        if body.get("temperature") != 0.7:
            raise ValueError("candidates are sampled at the build's temperature")
        user = body["messages"][1]["content"]
        n = self.calls[user]
        self.calls[user] += 1
        return SCRIPT.replace("{colour}", COLOURS[n % 3]).replace("{tag}", user.split("\n")[1][:12])


def colour_of(png: bytes) -> str:
    with Image.open(io.BytesIO(png)) as image:
        pixels = list(image.convert("RGB").resize((40, 30)).get_flattened_data())
        counts = Counter("red" if r > 200 and g < 80 and b < 80 else "green" if g > 100 and r < 80 and b < 80
                         else "blue" if b > 200 and r < 80 and g < 80 else "other" for r, g, b in pixels)  # fmt: skip
    counts.pop("other", None)
    return counts.most_common(1)[0][0]


class Verifier:
    """Answers each quiz from the figure's colour; ``correct`` maps a quiz question to its letter."""

    def __init__(self, correct: dict[str, tuple[str, int, int]]) -> None:
        self.correct = correct

    def __call__(self, body: dict[str, Any]) -> str:
        import base64

        image, text = body["messages"][0]["content"]
        colour = colour_of(base64.b64decode(image["image_url"]["url"].split(",", 1)[1]))
        if "Reply with a JSON object only" in text["text"]:
            score = {"red": 0, "blue": 1, "green": 2}[colour]
            return json.dumps({k: score for k in ("correctness_fidelity", "layout_precision", "readability_occlusion",
                                                  "scientific_plausibility", "expressiveness_richness")})  # fmt: skip
        question = re.search(r"Question: (.*)", text["text"])
        letter, index, total = self.correct[question.group(1) if question else ""]
        right = colour == "green" or (colour == "blue" and index < total // 2)
        return letter if right else ("A" if letter != "A" else "B")


def _setup(shipped_data: Path, n: int) -> tuple[list[Any], Verifier]:
    problems = [p for p in load_scigenbench(shipped_data / "scigenbench") if len(p.quizzes) >= 4][:n]
    table = {
        q.question: (q.correct_option, i, len(p.quizzes)) for p in problems for i, q in enumerate(p.quizzes)
    }
    return problems, Verifier(table)


def test_the_best_of_three_is_kept_with_every_candidates_scores(shipped_data: Path, tmp_path: Path) -> None:
    problems, verifier = _setup(shipped_data, 2)
    model, vision = StandInServer(reply=Painter()), StandInServer(api_key=None, reply=verifier)
    run = tmp_path / "run"
    ids = ",".join(p.id for p in problems)
    args = ("--ids", ids, "--candidates", "3", "--llm.temperature", "0.7", "--verify",
            "--verifier.base-url", vision.base_url, "--verifier.model", "vl", "--candidate-judge")  # fmt: skip
    try:
        assert _finish(_build(model, run, 2, shipped_data / "scigenbench", *args)) == 0
        asked = len(model.requests) + len(vision.requests)
        assert _finish(_build(model, run, 2, shipped_data / "scigenbench", *args)) == 0
        assert len(model.requests) + len(vision.requests) == asked  # resumed: nothing asked again
    finally:
        model.close()
        vision.close()
    figures = {
        f["problem_id"]: f
        for f in map(json.loads, (run / "synthesize" / "figures.jsonl").read_text().splitlines())
    }
    for p in problems:
        figure = figures[p.id]
        scores = figure["extra"]["candidates"]
        half = (len(p.quizzes) // 2) / len(p.quizzes)
        assert [c["r_inv"] for c in scores] == [0.0, 1.0, half]  # red, green, blue, in sampling order
        assert [c["judge_total"] for c in scores] == [0, 10, 5]
        assert (
            figure["extra"]["candidate"] == 1 and colour_of(Path(figure["png_path"]).read_bytes()) == "green"
        )
        assert all(Path(c["png"]).exists() for c in scores)
    summary = json.loads((run / "summary.json").read_text())
    c = summary["candidates"]
    assert (c["r_inv_first"], c["r_inv_best"], c["perfect_first"], c["perfect_best"]) == (0.0, 1.0, 0.0, 1.0)
    assert 2.5 < c["cost_all"] / c["cost_first"] < 3.5  # three samples for the price of one, about
    assert "| overall | 2 | 0.0 | 100.0 | 0.0 | 100.0 |" in (run / "candidates.md").read_text()
    assert (run / "candidates.png").stat().st_size > 1000


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (("--candidates", "2", "--llm.temperature", "0.7"), "--candidates N needs --verify"),
        (("--candidates", "2", "--verify"), "needs --llm.temperature > 0"),
        (("--candidates", "0"), "BuildConfig.candidates: must be >= 1, got 0"),
    ],
)
def test_candidates_without_what_they_need_are_refused(
    shipped_data: Path, tmp_path: Path, extra: tuple[str, ...], said: str
) -> None:
    model = StandInServer(reply=Painter())
    try:
        proc = _build(model, tmp_path / "run", 1, shipped_data / "scigenbench", *extra)
        out, err = proc.communicate(timeout=120)
    finally:
        model.close()
    assert proc.returncode == 2 and said in " ".join(err.split()) and not model.requests


def test_ties_go_to_the_judge_then_the_cost_then_the_first() -> None:
    rows = [{"index": 0, "r_inv": 0.5, "judge_total": 6, "cost": 30.0},
            {"index": 1, "r_inv": 0.5, "judge_total": 8, "cost": 90.0},
            {"index": 2, "r_inv": None, "judge_total": None, "cost": 1.0}]  # fmt: skip
    assert max(rows, key=rank)["index"] == 1
    rows[1]["judge_total"] = 6
    assert max(rows, key=rank)["index"] == 0  # cheaper
    rows[1]["cost"] = 30.0
    assert max(rows, key=rank)["index"] == 0  # earlier
    rows[0]["r_inv"] = 0.25
    assert max(rows, key=rank)["index"] == 1  # R_inv first, whatever the rest
    assert max([rows[2], {**rows[2], "index": 3, "r_inv": 0.0}], key=rank)["index"] == 3  # 0 beats a failure
