"""The evaluation sets as verl parquet, read back through verl 0.9.1's RLHFDataset with their images."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import scigen_rl.cli as cli
from data_builders.eval_sets import EVAL_SETS, eval_set
from data_builders.eval_sets.common import EvalSet
from data_builders.eval_sets.geometry3k import geometry3k_rows
from data_builders.eval_sets.mathvision import mathvision_rows
from data_builders.export import INSTRUCTION
from scigen_rl.image_budget import MAX_PIXELS, fitted_size
from scigen_rl.records import RecordError

from .conftest import plain, readme_example, rlhf_dataset


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
         "--sets", f"mathvision_mini={shipped_data / 'mathvision'}", f"geometry3k_test={local}"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    written = json.loads(out.stdout)
    assert written["mathvision_mini"]["rows"] == 304 and written["geometry3k_test"]["rows"] == 2
    assert Path(written["geometry3k_test"]["path"]).name == "geometry3k_test.parquet"
    assert written["geometry3k_test"]["data_source"] == "geometry3k"


def test_every_registered_set_imports_under_its_own_name() -> None:
    from data_builders.eval_sets_command import DEFAULT_SETS

    assert set(DEFAULT_SETS) <= set(EVAL_SETS)
    for name in EVAL_SETS:
        found = eval_set(name)
        assert isinstance(found, EvalSet) and found.name == name, EVAL_SETS[name]
        assert found.data_source and found.default_source and found.summary and callable(found.rows)


def test_an_unknown_set_name_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "eval"
    assert cli.main(["eval-sets", "--out-dir", str(out), "--sets", "mathvision_mini", "geometry3k"]) == 2
    error = capsys.readouterr().err.strip()
    assert "unknown evaluation set 'geometry3k'" in error and "\n" not in error
    assert all(name in error for name in EVAL_SETS)  # the one line names the known sets
    assert not out.exists()  # not even mathvision_mini, named first
    with pytest.raises(ValueError, match="unknown evaluation set 'geometry3k'") as refused:
        eval_set("geometry3k")
    assert all(name in str(refused.value) for name in EVAL_SETS)


def test_an_empty_source_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "eval"
    argv = ["eval-sets", "--out-dir", str(out), "--sets", "mathvision_mini", "geometry3k_test="]
    assert cli.main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert "'geometry3k_test=' has an empty source" in error and "\n" not in error
    assert all(name in error for name in EVAL_SETS)
    assert not out.exists()


def test_the_sets_help_names_every_registered_set(capsys: pytest.CaptureFixture[str]) -> None:
    """A set registered without a word in the --sets help fails here."""
    with pytest.raises(SystemExit):
        cli.command("eval-sets").parse(["--help"])
    shown = plain(capsys.readouterr().out)
    missing = [name for name in EVAL_SETS if not re.search(rf"(?<![\w-]){name}(?![\w-])", shown)]
    assert not missing, f"--sets help (EvalSetsOptions.sets docstring) does not name {missing}"


def _png(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", size, colour)
    image.putpixel((1, 1), (255 - colour[0], 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return image


def test_the_readmes_eval_set_is_one_file_and_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's worked example, as written there: its module, its registration line, its command."""
    monkeypatch.delitem(sys.modules, "my_physics", raising=False)
    name = readme_example("data_builders/eval_sets/my_physics.py", EVAL_SETS, tmp_path, monkeypatch)

    data = tmp_path / "data"  # the images are relative to the JSONL, wherever the command runs
    images = [
        _png(data / "figs" / "a.png", (40, 30), (20, 90, 200)),
        _png(data / "b.png", (24, 48), (200, 40, 10)),
    ]
    records: list[dict[str, Any]] = [
        {"id": "a1", "question": "A block slides down the ramp. Find its speed.", "answer": "3 m/s", "image": "figs/a.png"},
        {"id": 7, "question": "What is the period of the pendulum?", "answer": "2.0", "image": "b.png"},
    ]  # fmt: skip
    (data / "my_physics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "eval"
    argv = ["eval-sets", "--out-dir", str(out), "--sets", f"{name}={data / 'my_physics.jsonl'}"]
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["my_physics"]["rows"] == 2
    assert sorted(p.name for p in out.iterdir()) == ["eval-sets.config.yaml", "my_physics.parquet"]

    dataset = rlhf_dataset(out / "my_physics.parquet", tmp_path / "cache")
    assert len(dataset) == 2
    for i, (record, image) in enumerate(zip(records, images, strict=True)):
        item: dict[str, Any] = dataset[i]
        assert item["data_source"] == "my_physics"
        assert item["extra_info"]["question"] == record["question"]
        assert item["extra_info"]["answer"] == record["answer"] == item["reward_model"]["ground_truth"]
        assert item["extra_info"]["problem_id"] == f"my_physics-{record['id']}"
        shown = item["raw_prompt"][0]["content"][0]["image"]
        assert shown.size == image.size and shown.convert("RGB").tobytes() == image.tobytes()
