"""ImgCoder prompt and response parsing, on answers formatted the many ways models format them."""

from __future__ import annotations

import pytest

from scigen_rl.imgcoder import build_messages, parse_for, parse_response, repair_messages
from scigen_rl.records import Problem

SCRIPT = "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([0, 1], [0, 1])\nplt.savefig('figure.png')"
PLAN = "1. Image content: a line.\n2. Layout: from (0,0) to (1,1).\n3. Labels: none.\n4. Drawing constraints: no answer."

RESPONSES = {
    "headings and fence": f"PLAN\n{PLAN}\n\nCODE\n```python\n{SCRIPT}\n```\n",
    "markdown headings": f"## Plan\n{PLAN}\n\n## Code\n```python\n{SCRIPT}\n```\nThis draws the figure.",
    "fence without language": f"{PLAN}\n```\n{SCRIPT}\n```",
    "unclosed fence": f"PLAN:\n{PLAN}\n```python\n{SCRIPT}\n",
    "no fence, prose before": f"Here is my plan.\n{PLAN}\n\n{SCRIPT}\n",
    "think preamble": f"<think>maybe ```python\nimport os\n``` no</think>\nPLAN\n{PLAN}\n```python\n{SCRIPT}\n```",
    "crlf": f"PLAN\r\n{PLAN}\r\n```python\r\n{SCRIPT}\r\n```".replace("\n", "\r\n").replace("\r\r", "\r"),
    "draft then final": f"{PLAN}\n```python\nimport matplotlib.pyplot as plt\nplt.plot([9])\n```\nBetter:\n```python\n{SCRIPT}\n```",
    "example output block after code": f"{PLAN}\n```python\n{SCRIPT}\n```\nOutput:\n```\nfigure.png saved\n```",
}


@pytest.mark.parametrize("kind", sorted(RESPONSES))
def test_plan_and_code_are_found(kind: str) -> None:
    parsed = parse_response(RESPONSES[kind])
    assert parsed.code == SCRIPT, kind
    assert parsed.plan is not None and "Image content" in parsed.plan
    assert "```" not in parsed.plan


def test_split_script_continues_across_blocks() -> None:
    text = f"{PLAN}\n```python\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n```\nNow the labels:\n```python\nax.text(0, 0, 'A')\nplt.savefig('f.png')\n```"
    code = parse_response(text).code
    assert code is not None
    assert code.startswith("import matplotlib") and code.endswith("plt.savefig('f.png')")


@pytest.mark.parametrize(
    "text", ["", "I cannot draw this figure.", '```json\n{"a": 1}\n```', "PLAN\n1. Image content: x"]
)
def test_no_code(text: str) -> None:
    assert parse_response(text).code is None


def test_prompt_has_the_four_plan_parts_and_no_answer() -> None:
    p = Problem(
        id="p1",
        question="A charge q = 2 nC sits 3 cm from point P. Find the field at P.",
        answer="2.0e4 N/C",
        source="t",
        image_type="Physics - Field Diagram",
        elements=["charge labelled q = 2 nC", "point P at 3 cm"],
    )
    messages = build_messages(p)
    system, user = messages[0]["content"], messages[1]["content"]
    for part in ("Image content", "Layout", "Labels", "Drawing constraints", "must NOT appear"):
        assert part in system
    assert "q = 2 nC" in user and "point P at 3 cm" in user and "Physics - Field Diagram" in user
    assert p.answer not in user and p.answer not in system
    fixed = repair_messages(
        messages, "```python\nplt.plot(\n```", "SyntaxError: '(' was never closed" + "x" * 5000
    )
    assert [m["role"] for m in fixed] == ["system", "user", "assistant", "user"]
    assert len(fixed[-1]["content"]) < 2000 and "..." in fixed[-1]["content"]  # the error's tail, truncated


TEX = (
    "\\documentclass[tikz,border=4pt]{standalone}\n\\begin{document}\n"
    "\\begin{tikzpicture}\\draw (0,0) -- (1,0) node[right] {$A$};\\end{tikzpicture}\n\\end{document}"
)
UNCLOSED = TEX.removesuffix("\\end{document}")
PICTURE = "\\begin{tikzpicture}\\draw (0,0) circle (1);\\end{tikzpicture}"
TEX_RESPONSES = {
    "latex fence": (f"PLAN\n{PLAN}\n\nCODE\n```latex\n{TEX}\n```\n", TEX),
    "tex fence, prose after": (f"{PLAN}\n```tex\n{TEX}\n```\nThis compiles with pdflatex.", TEX),
    "untagged fence": (f"{PLAN}\n```\n{TEX}\n```", TEX),
    "no fence": (f"{PLAN}\nHere it is: {TEX} Hope it helps.", TEX),
    "bare picture": (f"{PLAN}\n```latex\n{PICTURE}\n```", PICTURE),
    "draft then final": (f"{PLAN}\n```latex\n{PICTURE}\n```\nFull document:\n```latex\n{TEX}\n```", TEX),
    "think preamble": (f"<think>```latex\n{PICTURE}\n```</think>PLAN\n{PLAN}\n```latex\n{TEX}\n```", TEX),
    "unclosed document": (
        f"{PLAN}\n```latex\n{UNCLOSED}",
        UNCLOSED.strip(),
    ),
}


@pytest.mark.parametrize("kind", sorted(TEX_RESPONSES))
def test_a_tikz_answer_gives_its_document_and_plan(kind: str) -> None:
    text, expected = TEX_RESPONSES[kind]
    parsed = parse_for(text, "tikz")
    assert parsed.code == expected, kind
    assert parsed.plan is not None and "Image content" in parsed.plan and "documentclass" not in parsed.plan


@pytest.mark.parametrize("text", ["", "I cannot draw this.", f"{PLAN}\n```python\n{SCRIPT}\n```"])
def test_a_tikz_answer_without_latex_has_no_code(text: str) -> None:
    assert parse_for(text, "tikz").code is None


def test_the_tikz_prompt_asks_for_a_standalone_document_and_its_repair_for_latex() -> None:
    p = Problem(
        id="p",
        question="Triangle ABC has AB = 5.",
        answer="7",
        source="t",
        image_type="Mathematics - Plane Geometry",
    )
    system = build_messages(p, "tikz")[0]["content"]
    assert "\\documentclass[tikz,border=4pt]{standalone}" in system and "```latex" in system
    assert "Image content" in system and "matplotlib" not in system
    repair = repair_messages(
        build_messages(p, "tikz"), "```latex\nx\n```", "line 3: Undefined control sequence.", renderer="tikz"
    )
    assert "```latex" in repair[-1]["content"] and "Undefined control sequence" in repair[-1]["content"]
    assert "```python" in repair_messages([], "", "boom")[-1]["content"]
