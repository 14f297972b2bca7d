"""The data sets shipped in the package: complete, the loaders' default, and damaged or misnamed files
reported by name without touching what a run already wrote."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from data_builders.eval_sets.mathvision import mathvision_rows
from scigen_rl.loaders import load_problems, load_scigenbench
from scigen_rl.shipped import MATHVISION, SCIGENBENCH, DataFileError, local_or_hub, shipped_dir


def test_the_shipped_data_sets_are_complete_with_licence_and_source() -> None:
    bench, mathvision = shipped_dir(SCIGENBENCH), shipped_dir(MATHVISION)
    assert len(list((bench / "seephys_images").glob("*.png"))) == 330
    assert len(list((mathvision / "images").glob("*.jpg"))) == 304
    assert "Apache License" in (bench / "LICENSE").read_text()
    assert "MIT License" in (mathvision / "LICENSE").read_text()
    for folder in (bench, mathvision):
        source = (folder / "SOURCE.md").read_text()
        assert "commit" in source and "Changed" in source


def test_loaders_default_to_the_shipped_copy() -> None:
    problems = load_scigenbench()
    assert len(problems) == 1387 and sum(len(p.quizzes) for p in problems) == 5250
    seephys = [p for p in problems if p.id.startswith("seephys-")]
    assert all(Path(p.extra["reference_image"]).is_file() for p in seephys)
    rows = mathvision_rows()
    assert len(rows) == 304 and rows[0].data_source == "mathvision_mini"
    assert rows[0].images[0]["bytes"][:3] == b"\xff\xd8\xff"  # the JPEG itself, read from the package


def _copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(shipped_dir(name), target, ignore=shutil.ignore_patterns("*.png", "*.jpg"))
    return target


def test_a_corrupt_scigenbench_file_is_named(tmp_path: Path) -> None:
    root = _copy(tmp_path, SCIGENBENCH)
    (root / "seephys.json").write_text((root / "seephys.json").read_text()[:5000])
    with pytest.raises(DataFileError) as error:
        load_scigenbench(root)
    assert str(root / "seephys.json") in str(error.value) and "not valid JSON" in str(error.value)
    (root / "seephys.json").write_text(json.dumps({"problems": []}))
    with pytest.raises(DataFileError, match=r"seephys\.json: holds a dict"):
        load_scigenbench(root)
    (root / "seephys.json").unlink()
    with pytest.raises(DataFileError, match=r"seephys\.json: no such file"):
        load_scigenbench(root)


def test_a_corrupt_mathvision_line_is_named_with_its_number(tmp_path: Path) -> None:
    root = _copy(tmp_path, MATHVISION)
    lines = (root / "testmini.jsonl").read_text().splitlines()
    lines[6] = lines[6][:40]
    (root / "testmini.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError, match=r"testmini\.jsonl: line 7 is not valid JSON"):
        mathvision_rows(str(root))


def test_a_wrong_local_path_is_not_sent_to_the_hub(tmp_path: Path) -> None:
    for wrong in (str(tmp_path / "missing.jsonl"), "data/problems.parquet", "./x"):
        with pytest.raises(DataFileError, match="no such file or folder"):
            load_problems(wrong)
    with pytest.raises(DataFileError, match="no such file or folder"):
        mathvision_rows(str(tmp_path / "mathvision"))
    assert local_or_hub("TIGER-Lab/WebInstruct-verified", "x") is None
    assert local_or_hub(str(tmp_path), "x") == tmp_path


def test_build_with_a_damaged_source_stops_before_touching_the_run(tmp_path: Path) -> None:
    root = _copy(tmp_path, SCIGENBENCH)
    (root / "scigen.json").write_text("[{")
    run = tmp_path / "run"
    run.mkdir()
    (run / "problems.jsonl").write_text("kept\n")
    proc = subprocess.run(
        [sys.executable, "-m", "scigen_rl.cli", "build", "--embedded", "--run-dir", str(run),
         "--scigenbench-dir", str(root)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert f"{root / 'scigen.json'}: not valid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (run / "problems.jsonl").read_text() == "kept\n" and sorted(p.name for p in run.iterdir()) == [
        "problems.jsonl"
    ]


def test_unknown_ids_are_an_error_naming_them(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "scigen_rl.cli", "build", "--embedded", "--run-dir", str(tmp_path / "r"),
         "--ids", "webinstruct-487790,no-such-problem"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and "no-such-problem" in proc.stderr
    assert not (tmp_path / "r").exists()
