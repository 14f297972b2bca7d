"""bench --combine sets generators side by side on the problems every one of them was scored on."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageOps

from scigen_rl.cli import main
from scigen_rl.llm.standin import StandInServer
from scigen_rl.loaders import load_scigenbench


def test_generators_side_by_side_on_the_same_problems(
    shipped_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = [
        p for p in load_scigenbench(shipped_data / "scigenbench") if p.id.startswith("seephys-") and p.quizzes
    ][:4]
    answers = {q.question: q for p in problems for q in p.quizzes}
    mirrored: set[str] = set()  # generator B's figures: mirrored copies, on which quiz 0 is answered wrong

    def vision(body: dict[str, Any]) -> str:
        image, text = body["messages"][0]["content"]
        digest = hashlib.sha256(base64.b64decode(image["image_url"]["url"].split(",", 1)[1])).hexdigest()
        question = re.search(r"Question: (.*)", text["text"])
        quiz = answers[question.group(1) if question else ""]
        first = any(p.quizzes[0] is quiz for p in problems)
        if digest in mirrored and first:
            return next(k for k in quiz.options if k != quiz.correct_option)
        return quiz.correct_option

    folders = {"a": tmp_path / "a", "b": tmp_path / "b"}
    for f in folders.values():
        f.mkdir()
    for i, p in enumerate(problems):
        real = Path(p.extra["reference_image"]).read_bytes()
        if i < 3:
            (folders["a"] / f"{p.id}.png").write_bytes(real)
        if i > 0:  # B has no figure for problem 0, A none for problem 3: the comparison keeps 1 and 2
            out = io.BytesIO()
            ImageOps.mirror(Image.open(io.BytesIO(real)).convert("RGB")).save(out, format="PNG")
            (folders["b"] / f"{p.id}.png").write_bytes(out.getvalue())
            mirrored.add(hashlib.sha256(out.getvalue()).hexdigest())
    server = StandInServer(api_key=None, reply=vision)
    try:
        for name, folder in folders.items():
            args = ["bench", "--images", str(folder), "--out-dir", str(tmp_path / f"out-{name}"), "--metrics", "rinv",
                    "--judge.base-url", server.base_url, "--judge.model", "vl", "--generator", f"gen-{name}",
                    "--scigenbench-dir", str(shipped_data / "scigenbench"), "--ids", ",".join(p.id for p in problems)]  # fmt: skip
            assert main(args) == 0
    finally:
        server.close()
    capsys.readouterr()
    board = tmp_path / "board"
    assert (
        main(
            ["bench", "--combine", str(tmp_path / "out-a"), str(tmp_path / "out-b"), "--out-dir", str(board)]
        )
        == 0
    )
    result = json.loads((board / "compare.json").read_text())
    assert result["generators"] == ["gen-a", "gen-b"] and result["problems"] == 2
    assert result["scored"] == {"gen-a": 3, "gen-b": 3}
    shared = problems[1:3]
    expected_b = sum(1 - 1 / len(p.quizzes) for p in shared) / 2
    assert result["overall_r_inv"] == {"gen-a": 1.0, "gen-b": round(expected_b, 4)}
    (row,) = result["by_image_type"].values()  # SeePhys problems have no image type
    assert row["problems"] == 2 and row["gen-a"] == {"r_inv": 1.0, "perfect": 1.0}
    assert row["gen-b"] == {"r_inv": round(expected_b, 4), "perfect": 0.0}
    table = (board / "compare.md").read_text()
    assert f"| (none) | 2 | 100.0 (100.0) | {100 * round(expected_b, 4):.1f} (0.0) |" in table
    assert table in capsys.readouterr().out
    assert (board / "compare_by_type.png").stat().st_size > 1000
