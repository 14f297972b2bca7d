"""A user's mistake is one line naming the flag or file and what it accepts, exit 2, nothing written:
never a traceback, never a Hub look-up for a path that looks local."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scigen_rl.cli import main

from .conftest import plain


def _refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 2
    err = plain(capsys.readouterr().err)
    assert "Traceback" not in err
    return err


def test_an_unknown_image_type_names_the_closest_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    err = _refused(capsys, "build", "--run-dir", str(run), "--embedded", "--image-types", "Physics - Circut")
    assert err.startswith(
        "scigen-rl build: --image-types: no problem of type 'Physics - Circut' in scigenbench; "
        "did you mean 'Physics - Circuit'"
    )
    err = _refused(
        capsys, "build", "--run-dir", str(run), "--embedded", "--image-types", "Physics - Circuit,Zzz"
    )
    assert "no problem of type 'Zzz' in scigenbench; known: Biology - " in err  # nothing close: all of them
    assert not run.exists()


def test_a_known_image_type_is_kept(tmp_path: Path) -> None:
    from data_builders.build_command import BuildOptions, _selected
    from scigen_rl.loaders import load_scigenbench

    problems = load_scigenbench()
    options = BuildOptions(run_dir=str(tmp_path), image_types="Physics - Circuit, Math - Plane Geometric")
    chosen = _selected(problems, options)
    assert chosen and {p.image_type for p in chosen} == {"Physics - Circuit", "Math - Plane Geometric"}
    assert len(chosen) == sum(
        p.image_type in ("Physics - Circuit", "Math - Plane Geometric") for p in problems
    )


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("empty.jsonl", "", "empty.jsonl: it is empty: no records"),
        ("blank.jsonl", "\n\n", "blank.jsonl: it is empty: no records"),
        ("bad.jsonl", '{"id": 1, "question": "q", "answer": "a"}\n{bad json\n',
         "bad.jsonl: line 2 is not JSON (Expecting property name enclosed in double quotes at column 2)"),
        ("list.jsonl", '{"id": 1, "question": "q", "answer": "a"}\n[1, 2]\n',
         "list.jsonl: line 2 is a JSON list, not an object of fields"),
        ("absent.jsonl", None, "absent.jsonl: no such file or folder"),
        ("data/problems.parquet", None, "problems.parquet: no such file or folder"),
    ],
)  # fmt: skip
def test_a_bad_problem_source_is_named_by_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str | None, said: str
) -> None:
    source = tmp_path / name
    if text is not None:
        source.write_text(text)
    run = tmp_path / "run"
    err = _refused(capsys, "build", "--run-dir", str(run), "--embedded", "--source", str(source))
    assert said in err and "Hugging Face" not in err, err
    assert not run.exists()


def test_a_good_jsonl_source_loads(tmp_path: Path) -> None:
    from scigen_rl.loaders import load_problems

    source = tmp_path / "ok.jsonl"
    source.write_text(
        '{"id": 1, "question": "q1", "answer": "a"}\n\n{"id": 2, "question": "q2", "answer": "b"}\n'
    )
    assert [p.question for p in load_problems(str(source), "webinstruct-verified")] == ["q1", "q2"]


def test_numbers_out_of_range_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    err = _refused(capsys, "build", "--run-dir", str(run), "--embedded", "--val-fraction", "1.5")
    assert "val_fraction" in err and "1.5" in err
    assert not run.exists()


def test_bench_combine_names_a_folder_that_is_not_a_bench_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "summary.json").write_text(json.dumps({"generator": "g", "overall": {"figures": 0}}))
    err = _refused(
        capsys, "bench", "--combine", str(good), str(tmp_path / "nope"), "--out-dir", str(tmp_path / "o")
    )
    assert err == (
        f"scigen-rl bench: --combine: [Errno 2] No such file or directory: '{tmp_path / 'nope' / 'summary.json'}' "
        "(each folder must be a bench --out-dir)"
    )
    assert not (tmp_path / "o").exists()
