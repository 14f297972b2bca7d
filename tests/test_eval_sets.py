"""The evaluation sets as verl parquet, read back through verl 0.9.1's RLHFDataset with their images."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from data_builders.eval_sets import geometry3k_rows, mathvision_rows
from data_builders.export import INSTRUCTION
from scigen_rl.image_budget import MAX_PIXELS, fitted_size
from scigen_rl.records import RecordError

from .conftest import rlhf_dataset


def _geometry3k_parquet(path: Path, images: list[bytes]) -> Path:
    """A small file in the Hub's layout (``images`` as an image list, ``problem``, ``answer``)."""
    from datasets import Dataset, Features, Sequence, Value
    from datasets import Image as ImageFeature

    features = Features(
        {"images": Sequence(ImageFeature()), "problem": Value("string"), "answer": Value("string")}
    )
    data = {
        "images": [[{"bytes": b, "path": None}] for b in images],
        "problem": [f"<image>Find x in triangle {i}." for i in range(len(images))],
        "answer": ["48", "2 \\sqrt { 221 }", "7.5"][: len(images)],
    }
    Dataset.from_dict(data, features=features).to_parquet(str(path))
    return path


def test_mathvision_testmini_rows_load_in_verl(shipped_data: Path, tmp_path: Path) -> None:
    rows = mathvision_rows(str(shipped_data / "mathvision"), "testmini")
    assert len(rows) == 304 and {r.data_source for r in rows} == {"mathvision_mini"}
    multiple_choice = [r for r in rows if r.extra_info["options"]]
    assert len(multiple_choice) == 190
    listed = [r for r in multiple_choice if "\nOptions:\nA. " in r.prompt[0]["content"]]
    in_figure = [
        r
        for r in multiple_choice
        if all(re.fullmatch(r"\(?[A-Z]\)?|<image\d>", o) for o in r.extra_info["options"])
    ]
    assert listed and in_figure and len(listed) + len(in_figure) == len(multiple_choice)
    for r in rows:
        content = r.prompt[0]["content"]
        assert content.startswith("<image>") and content.count("<image>") == 1 and "<image1>" not in content
        assert content.endswith(INSTRUCTION)  # the training data's instruction, word for word
        assert (
            r.extra_info["question"] in content and r.reward_model["ground_truth"] == r.extra_info["answer"]
        )
    assert len({r.extra_info["subject"] for r in rows}) == 16

    from data_builders.export import write_parquet

    path = write_parquet(rows, tmp_path / "mathvision_mini.parquet")
    dataset = rlhf_dataset(path, tmp_path / "cache")
    assert len(dataset) == 304
    big = [
        i for i, r in enumerate(rows) if r.extra_info["problem_id"] in ("mathvision-2984", "mathvision-3033")
    ]
    for i in (0, 2, 150, *big):
        item = dataset[i]
        image = item["raw_prompt"][0]["content"][0]["image"]
        with Image.open(
            shipped_data / "mathvision" / "images" / f"{rows[i].extra_info['problem_id'][11:]}.jpg"
        ) as original:
            w, h = original.size
        if w * h > MAX_PIXELS:  # shrunk to the size Qwen-VL's processor keeps as it is
            assert image.size == fitted_size(w, h) and item["extra_info"]["image_resized_from"] == f"{w}x{h}"
        else:
            assert image.size == (w, h) and item["extra_info"]["image_resized_from"] == ""
        assert item["data_source"] == "mathvision_mini" and item["extra_info"]["index"] == i
    resized = {r.extra_info["problem_id"] for r in rows if r.extra_info["image_resized_from"]}
    assert {"mathvision-2955", "mathvision-2984", "mathvision-3033"} <= resized  # the ~2500x2500 px ones
    for r in rows:  # every image within the budget
        width, height = Image.open(io.BytesIO(r.images[0]["bytes"])).size
        assert width * height <= MAX_PIXELS


def test_geometry3k_from_a_local_file_in_the_hub_layout(shipped_data: Path, tmp_path: Path) -> None:
    images = [p.read_bytes() for p in sorted((shipped_data / "mathvision" / "images").glob("*.jpg"))[:3]]
    rows = geometry3k_rows(str(_geometry3k_parquet(tmp_path / "test.parquet", images)))
    assert [r.reward_model["ground_truth"] for r in rows] == ["48", "2 \\sqrt { 221 }", "7.5"]
    assert rows[0].prompt[0]["content"] == f"<image>Find x in triangle 0.\n\n{INSTRUCTION}"
    assert rows[0].extra_info["question"] == "Find x in triangle 0." and rows[0].data_source == "geometry3k"
    assert geometry3k_rows(str(tmp_path))[1].extra_info == rows[1].extra_info  # a folder holding test.parquet

    from data_builders.export import write_parquet

    dataset = rlhf_dataset(write_parquet(rows, tmp_path / "g.parquet"), tmp_path / "cache")
    assert [dataset[i]["raw_prompt"][0]["content"][0]["image"].size for i in range(3)] == [
        Image.open(io.BytesIO(b)).size for b in images
    ]


def test_a_missing_image_names_the_record_and_field(tmp_path: Path) -> None:
    (tmp_path / "testmini.jsonl").write_text(
        json.dumps(
            {"id": "9", "question": "q <image1>", "options": [], "answer": "1", "image": "images/9.jpg"}
        )
        + "\n"
    )
    with pytest.raises(RecordError, match=r"MathVision testmini record '9': field 'image': no file"):
        mathvision_rows(str(tmp_path), "testmini")


def test_eval_sets_command(shipped_data: Path, tmp_path: Path) -> None:
    images = [p.read_bytes() for p in sorted((shipped_data / "mathvision" / "images").glob("*.jpg"))[:2]]
    local = _geometry3k_parquet(tmp_path / "geo.parquet", images)
    out = subprocess.run(
        [sys.executable, "-m", "scigen_rl.cli", "eval-sets", "--out-dir", str(tmp_path / "eval"),
         "--mathvision", str(shipped_data / "mathvision"), "--geometry3k", str(local)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    written = json.loads(out.stdout)
    assert written["mathvision_mini"]["rows"] == 304 and written["geometry3k"]["rows"] == 2
    assert Path(written["geometry3k"]["path"]).name == "geometry3k_test.parquet"
