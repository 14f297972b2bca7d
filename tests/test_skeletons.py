"""The skeleton prompt: its grammars hold a script to its shape, every sentence runs, and the embedded
model decoding under them writes a script that renders."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scigen_rl.imgcoder import parse_response
from scigen_rl.llm.embedded import EmbeddedChat, embedded_config
from scigen_rl.loaders import load_scigenbench
from scigen_rl.render import Renderer
from scigen_rl.skeletons import CHART, DIAGRAM, skeleton_for, skeleton_request

FENCE = "```"
CHART_SCRIPT = f"""{FENCE}python
import matplotlib.pyplot as plt

x = [0, 1, 2, 3]
y = [45, 40, 25, 0]

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(x, y, marker="o")
ax.set_xlabel("t (s)")
ax.set_ylabel("h (m)")
ax.set_title("Height of the ball")
ax.grid(True)
plt.savefig("figure.png")
{FENCE}"""
DIAGRAM_SCRIPT = f"""{FENCE}python
import matplotlib.pyplot as plt

points = {{
    "A": (0, 0),
    "B": (4, 0),
    "C": (0, 3),
}}
segments = [("A", "B"), ("B", "C"), ("C", "A")]

fig, ax = plt.subplots(figsize=(6, 6))
for a, b in segments:
    ax.plot(*zip(points[a], points[b]), color="black")
for name, (px, py) in points.items():
    ax.plot(px, py, "ko")
    ax.annotate(name, (px, py), textcoords="offset points", xytext=(6, 6))
ax.set_title("Right triangle ABC")
ax.set_aspect("equal")
ax.axis("off")
plt.savefig("figure.png")
{FENCE}"""


@pytest.fixture(scope="module")
def chat() -> Iterator[EmbeddedChat]:
    client = EmbeddedChat(embedded_config(max_tokens=400))
    client._load()
    yield client


def accepts(chat: EmbeddedChat, grammar: str, text: str) -> bool:
    """Whether ``text`` is a complete sentence of ``grammar``, token by token as a model would write it."""
    from llguidance import LLMatcher, grammar_from

    tokenizer = chat._ll_tokenizer()
    matcher = LLMatcher(tokenizer, grammar_from("lark", grammar))
    return matcher.consume_tokens(tokenizer.tokenize_str(text)) and matcher.is_accepting()


@pytest.mark.parametrize(
    ("grammar", "script"),
    [(CHART.grammar, CHART_SCRIPT), (DIAGRAM.grammar, DIAGRAM_SCRIPT)],
    ids=["chart", "diagram"],
)
def test_a_sentence_of_each_skeleton_is_accepted_and_renders(
    chat: EmbeddedChat, renderer: Renderer, grammar: str, script: str
) -> None:
    assert accepts(chat, grammar, script)
    result = renderer.render(parse_response(script).code or "", "skeleton.py")
    assert result.ok and len(result.pngs) == 1, result.error


BROKEN = {
    "y shorter than x": (CHART, CHART_SCRIPT.replace("y = [45, 40, 25, 0]", "y = [45, 40, 25]")),
    "eleven points": (
        CHART,
        CHART_SCRIPT.replace("x = [0, 1, 2, 3]", "x = [" + ", ".join("1" * 11) + "]").replace(
            "y = [45, 40, 25, 0]", "y = [" + ", ".join("2" * 11) + "]"
        ),
    ),
    "a chart of two points": (
        CHART,
        CHART_SCRIPT.replace("x = [0, 1, 2, 3]", "x = [0, 1]").replace("y = [45, 40, 25, 0]", "y = [1, 2]"),
    ),
    "code injected through a label": (
        CHART,
        CHART_SCRIPT.replace('ax.set_xlabel("t (s)")', 'ax.set_xlabel("t"); import os; os.system("x")'),
    ),
    "a backslash escape in the title": (CHART, CHART_SCRIPT.replace("Height of", "Height \\n of")),
    "a line after the script": (
        CHART,
        CHART_SCRIPT.replace('plt.savefig("figure.png")', 'plt.savefig("figure.png")\nimport os'),
    ),
    "a segment to a point not defined": (DIAGRAM, DIAGRAM_SCRIPT.replace('("C", "A")]', '("C", "D")]')),
    "points out of order": (DIAGRAM, DIAGRAM_SCRIPT.replace('"B": (4, 0)', '"Z": (4, 0)')),
    "a diagram of two points": (
        DIAGRAM,
        DIAGRAM_SCRIPT.replace('    "C": (0, 3),\n', "").replace(', ("B", "C"), ("C", "A")]', "]"),
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_scripts_outside_the_skeleton_are_refused(chat: EmbeddedChat, case: str) -> None:
    skeleton, script = BROKEN[case]
    assert script != (CHART_SCRIPT if skeleton is CHART else DIAGRAM_SCRIPT), "the case changed nothing"
    assert not accepts(chat, skeleton.grammar, script)


def test_the_embedded_model_fills_a_skeleton_with_a_script_that_renders(
    chat: EmbeddedChat, renderer: Renderer
) -> None:
    problem = next(p for p in load_scigenbench() if p.id == "webinstruct-487790")  # a table of speeds
    skeleton, messages, request = skeleton_request(problem)
    assert skeleton is CHART and skeleton_for(problem.image_type) is CHART
    reply = asyncio.run(chat.chat(messages, **request))
    assert reply.ok and reply.finish_reason == "stop", reply.error
    assert accepts(chat, skeleton.grammar, reply.text or "")  # the mask was applied at every step
    code = parse_response(reply.text or "").code
    assert code is not None and code in (reply.text or "")
    result = renderer.render(code, "embedded.py")
    assert result.ok, result.error
    values = [line for line in code.splitlines() if line.startswith(("x = [", "y = ["))]
    assert len(values) == 2 and values[0] != values[1]


def test_a_grammar_cut_short_by_max_tokens_is_reported_as_length(chat: EmbeddedChat) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Plot the points (1, 2), (2, 4), (3, 6)."}]
    reply = asyncio.run(chat.chat(messages, max_tokens=20, structured_outputs={"grammar": CHART.grammar}))
    assert reply.ok and reply.finish_reason == "length"
    assert reply.usage["completion_tokens"] <= 20
    assert parse_response(reply.text or "").code is None or not accepts(chat, CHART.grammar, reply.text or "")


def test_a_bad_grammar_is_a_failed_call_not_an_exception(chat: EmbeddedChat) -> None:
    messages = [{"role": "user", "content": "hi"}]
    reply = asyncio.run(chat.chat(messages, structured_outputs={"grammar": "start: undefined_rule"}))
    assert not reply.ok and "bad grammar" in (reply.error or "")


def test_skeleton_requests_carry_the_grammar_in_vllm_s_field(tmp_path: Path) -> None:
    problem = next(p for p in load_scigenbench() if p.image_type == "Math - Plane Geometric")
    skeleton, messages, request = skeleton_request(problem)
    assert skeleton is DIAGRAM
    assert request == {"structured_outputs": {"grammar": DIAGRAM.grammar}}
    assert problem.answer not in messages[1]["content"].replace(problem.question, "")


def test_the_demo_build_exports_rows_written_by_the_embedded_model(tmp_path: Path) -> None:
    """What `make demo` builds: at least two rows, each figure drawn by the script the model wrote."""
    import json
    import re
    import subprocess
    import sys

    import pyarrow.parquet as pq

    from .conftest import REPO

    ids = re.search(r"^DEMO_IDS := (\S+)$", (REPO / "Makefile").read_text(), re.M)
    assert ids is not None
    run = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "scigen_rl.cli", "build", "--embedded", "--run-dir", str(run),
         "--ids", ids.group(1), "--llm.max-tokens", "512", "--repair-rounds", "1"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["exported"] >= 2 and summary["attempted"] == len(ids.group(1).split(","))
    assert f"exported {summary['exported']}" in proc.stderr and "contact sheet:" in proc.stderr
    assert (run / "contact_sheet.png").is_file()
    figures = [json.loads(line) for line in (run / "synthesize" / "figures.jsonl").read_text().splitlines()]
    rows = pq.read_table(run / "export" / "train.parquet").to_pylist()
    rows += pq.read_table(run / "export" / "val.parquet").to_pylist()
    assert len(rows) == summary["exported"]
    for figure in figures:
        assert figure["extra"]["prompt"] == "skeleton:chart"
        assert figure["code"] and figure["code"] in figure["raw_response"]  # rendered = what the model wrote
    exported = {r["extra_info"]["problem_id"] for r in rows}
    for figure in (f for f in figures if f["problem_id"] in exported):
        png = Path(figure["png_path"]).read_bytes()
        row = next(r for r in rows if r["extra_info"]["problem_id"] == figure["problem_id"])
        assert row["images"][0]["bytes"] == png
