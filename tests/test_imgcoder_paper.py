"""`build --prompt paper`: ImgCoder the paper's way (the question only in one user message, no
temperature, the first code block, `plt.show()` saved at 100 dpi with a tight box, no repair), built
end to end in the real sandbox against a stand-in model that checks each request's exact form."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from scigen_rl.imgcoder_paper import PROMPT, first_code_block, paper_script
from scigen_rl.llm.standin import StandInServer
from scigen_rl.loaders import load_scigenbench

from .test_build import _build, _finish

FIRST = """1. **Image Content**: a block.
2. **Layout**: centred.
3. **Labels**: the given values.
4. **Drawing Considerations**: no answer.

```python
def draw_diagram():
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.set_aspect('equal')
    ax.axis('off')
    ax.add_patch(patches.Rectangle((0, 0), 2, 1, color="tab:blue"))
    ax.text(0.2, 1.2, "FIRST {n}")
    ax.set_xlim(-1, 3)
    ax.set_ylim(-1, 3)
    plt.show()
    plt.close()

if __name__ == "__main__":
    draw_diagram()
```
A second version, which the paper's runner never takes:
```python
import matplotlib.pyplot as plt
plt.text(0, 0, "SECOND")
plt.show()
```
"""
NO_SHOW = "```python\nimport matplotlib.pyplot as plt\nplt.plot([0, 1], [0, {n}])\nplt.title('NOSHOW')\n```"
BROKEN = "```python\nimport matplotlib.pyplot as plt\nplt.plot([0, 1]\n```"


class PaperCoder:
    """Checks the request (one user message: the template with the question, nothing else; no
    temperature) and answers by the problem: the two-block reply, one without plt.show(), one broken."""

    def __init__(self, template: str, problems: dict[str, Any]) -> None:
        self.template, self.problems, self.asked = template, problems, []

    def __call__(self, body: dict[str, Any]) -> str:
        (message,) = body["messages"]
        if message["role"] != "user" or "temperature" in body:
            raise ValueError("one user message and no temperature, as the paper sends")
        matches = [
            p
            for p in self.problems.values()
            if message["content"] == self.template.format(question=p.question)
        ]
        if len(matches) != 1:
            raise ValueError("the prompt is the template filled with the question only")
        problem = matches[0]
        self.asked.append(problem.id)
        n = len(self.asked)
        order = list(self.problems)
        if problem.id == order[1]:
            return NO_SHOW.replace("{n}", str(n))
        if problem.id == order[2]:
            return BROKEN
        return FIRST.replace("{n}", problem.id)


def _figures(run: Path) -> dict[str, dict[str, Any]]:
    lines = (run / "synthesize" / "figures.jsonl").read_text().splitlines()
    return {f["problem_id"]: f for f in map(json.loads, lines)}


def _run(
    tmp_path: Path, shipped_data: Path, template: str, *extra: str
) -> tuple[dict[str, Any], PaperCoder, Path]:
    problems = {p.id: p for p in load_scigenbench(shipped_data / "scigenbench")[:3]}
    coder = PaperCoder(template, problems)
    server = StandInServer(reply=coder)
    run = tmp_path / "run"
    try:
        proc = _build(
            server, run, 3, shipped_data / "scigenbench", "--prompt", "paper", "--repair-rounds", "2", *extra
        )
        assert _finish(proc) == 0  # a broken script is a failed figure (a result), not a failed build
    finally:
        server.close()
    return problems, coder, run


def test_the_papers_way_takes_the_first_block_saves_it_tight_and_never_repairs(
    tmp_path: Path, shipped_data: Path
) -> None:
    problems, coder, run = _run(tmp_path, shipped_data, PROMPT)
    first, no_show, broken = list(problems)
    assert sorted(coder.asked) == sorted(problems)  # one call per problem, the broken one included
    figures = _figures(run)
    assert {f["generator"] for f in figures.values()} == {"imgcoder-paper:stand-in"}
    assert figures[broken]["status"] == "failed" and figures[broken]["repair_rounds"] == 0
    taken = figures[first]
    assert taken["status"] == "ok" and "SECOND" not in taken["code"] and f"FIRST {first}" in taken["code"]
    assert (
        "plt.savefig('figure.png', dpi=100, bbox_inches='tight')" in taken["code"]
        and "plt.show()" not in taken["code"]
    )
    assert taken["plan"].startswith("1. **Image Content**") and taken["extra"]["prompt"] == "paper"
    with Image.open(io.BytesIO(Path(taken["png_path"]).read_bytes())) as png:
        # 6 x 6 in at 100 dpi, cut to the drawing's tight box: narrower than 600 px on some side
        assert max(png.size) <= 600 and min(png.size) < 600
    # A script without plt.show() is saved at its end; the names the paper's runner gives are there.
    assert figures[no_show]["status"] == "ok" and figures[no_show]["code"].endswith("bbox_inches='tight')")


def test_the_prompt_is_read_from_a_checkout_of_the_papers_repository(
    tmp_path: Path, shipped_data: Path
) -> None:
    repo = tmp_path / "SciGenBench"
    (repo / "src" / "infer" / "scigen").mkdir(parents=True)
    template = "CHECKOUT IMGCODER for `{{question}}`:\n{question}\nEnd."
    (repo / "src" / "infer" / "scigen" / "prompts.py").write_text(
        f'import os\nos.remove("/nonexistent")\nIMGCODER_PYTHON_PROMPT = """{template}"""\n'
    )
    problems, coder, run = _run(tmp_path, shipped_data, template, "--paper-repo", str(repo))
    assert sorted(coder.asked) == sorted(problems)
    assert _figures(run)[next(iter(problems))]["status"] == "ok"


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ("```python\nA\n```\n```python\nB\n```", "A\n"),
        ("```\nbare\n```\n```py\nshort\n```", "short\n"),  # a tagged block wins over an earlier bare one
        ("```\nbare\n```", "bare\n"),
        ("```python code\nA\n```", None),  # the tag must end its line
        ("no code at all", None),
    ],
)
def test_the_first_block_by_the_papers_order(reply: str, code: str | None) -> None:
    assert first_code_block(reply)[1] == code


def test_show_becomes_the_save_and_close_a_no_op_in_both_directions() -> None:
    shown = paper_script("plt.plot([1])\nplt.show()\nplt.close()")
    assert shown.count("savefig") == 1 and "plt.show()" not in shown and "plt.close()" not in shown
    unshown = paper_script("plt.plot([1])")
    assert unshown.rstrip().endswith("plt.savefig('figure.png', dpi=100, bbox_inches='tight')")
    assert paper_script("plt.close('all')").count("plt.close('all')") == 1  # only the bare call is removed
