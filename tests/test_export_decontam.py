"""The export leaves out rows that repeat an evaluation item: a question copied from MathVision testmini
(text) and a figure that is a MathVision image (perceptual hash), with the report of every hit; a clean
row is exported. The run directory is written by hand, as a build leaves it."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from data_builders.decontam import DecontamConfig
from data_builders.export_run import export_run
from scigen_rl.records import Figure, Problem, write_jsonl


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")
    return out.getvalue()


def _drawing(seed: int) -> bytes:
    image = Image.new("RGB", (320, 240), "white")
    draw = ImageDraw.Draw(image)
    for i in range(6):
        x = (seed * 37 + i * 53) % 280
        draw.rectangle((x, 20 + i * 30, x + 30, 40 + i * 30), outline="black", width=3)
    return _png(image)


@pytest.fixture
def run(shipped_data: Path, tmp_path: Path) -> Path:
    rows = [
        json.loads(line) for line in (shipped_data / "mathvision" / "testmini.jsonl").read_text().splitlines()
    ]
    copied = next(r for r in rows if len(r["question"].split()) > 20)
    imaged = next(r for r in rows if r is not copied and r.get("image"))
    with Image.open(shipped_data / "mathvision" / imaged["image"]) as real:
        eval_png = _png(real)
    problems = [
        Problem(id="copied", question=copied["question"].replace("<image1>", ""), answer="1", source="t",
                image_type="Math - Plane Geometric"),
        Problem(id="imaged", question="A ladder leans on a wall; label its length 5 m and the angle 60 degrees.",
                answer="2", source="t", image_type="Physics - Mechanical"),
        Problem(id="clean", question="Three resistors of 2, 3 and 6 ohms are joined in parallel across 12 V.",
                answer="3", source="t", image_type="Physics - Circuit"),
    ]  # fmt: skip
    pngs = {"copied": _drawing(1), "imaged": eval_png, "clean": _drawing(2)}
    folder = tmp_path / "run"
    (folder / "synthesize" / "png").mkdir(parents=True)
    figures = []
    for p in problems:
        path = folder / "synthesize" / "png" / f"{p.id}.png"
        path.write_bytes(pngs[p.id])
        figures.append(Figure(p.id, "imgcoder:test", "ok", png_path=str(path),
                              png_sha256=hashlib.sha256(pngs[p.id]).hexdigest(), extra={"rejected": []}))  # fmt: skip
    write_jsonl(folder / "problems.jsonl", problems)
    write_jsonl(folder / "synthesize" / "figures.jsonl", figures)
    return folder


def test_rows_repeating_an_evaluation_item_are_left_out_and_reported(run: Path) -> None:
    summary = export_run(run, settings=None)
    d = summary["decontamination"]
    assert d["dropped"] == 2 and d["checked"] == {"mathvision_mini": 304}
    assert set(d["skipped"]) == {"mathvision", "geometry3k_test"}  # no local copy here: named, not silent
    assert summary["exported"] == 1
    reasons = {x["id"]: x for x in summary["dropped"]}
    assert reasons["copied"]["reason"] == reasons["imaged"]["reason"] == "contaminated"
    assert "exact" in reasons["copied"]["detail"] and "phash" in reasons["imaged"]["detail"]
    hits = [json.loads(line) for line in (run / "export" / "decontamination.jsonl").read_text().splitlines()]
    assert {(h["problem_id"], h["method"]) for h in hits} >= {("copied", "exact"), ("imaged", "phash")}
    assert "mathvision_mini" in (run / "export" / "decontamination.md").read_text()


def test_with_drop_off_the_hits_are_reported_and_kept(run: Path) -> None:
    summary = export_run(run, decontam=DecontamConfig(drop=False, progress=False))
    assert summary["exported"] == 3 and summary["decontamination"]["hits"] >= 2
    assert summary["decontamination"]["dropped"] == 0
