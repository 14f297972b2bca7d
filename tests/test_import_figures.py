"""import-figures: a small dataset in the released layout (built here, as datasets saves it) becomes a
build's run directory that bench, the filters and export take unchanged."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from data_builders.import_figures import normalised_question
from scigen_rl.cli import main
from scigen_rl.loaders import load_scigenbench
from scigen_rl.records import Figure, Problem, read_jsonl

from .conftest import plain


def _figure(seed: int) -> bytes:
    image = Image.new("RGBA", (400, 300), (255, 255, 255, 0))
    pen = ImageDraw.Draw(image)
    pen.rectangle((20 + seed * 7, 30, 300, 200 + seed), outline="black", width=4)
    pen.line((0, 299, 399, (seed * 53) % 300), fill=(200, 30, 30, 255), width=3)
    pen.ellipse((150, 60 + seed * 5, 250, 160), outline="blue", width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _released(tmp_path: Path, problems: list[Problem], as_parquet: bool) -> Path:
    """``nanobanana-pro``'s two splits: rows of three problems (their text respaced and re-cased), a
    question that is in no problem, and two rows of one problem."""
    import datasets

    scigen = [p for p in problems if not p.id.startswith("seephys-")][:3]
    seephys = [p for p in problems if p.id.startswith("seephys-")][:1]

    def row(question: str, seed: int) -> dict[str, object]:
        return {"image": {"bytes": _figure(seed), "path": None}, "original_question": question, "answer": "x",
                "image_type": "t", "multimodal_question": None}  # fmt: skip

    splits = {
        "scigen": [row("  " + scigen[0].question.upper().replace(" ", "   ") + " ", 1), row(scigen[1].question, 2),
                   row("What colour is the sky on Mars?", 3), row(scigen[1].question, 4), row(scigen[2].question, 5)],
        "seephys": [row(seephys[0].question, 6)],
    }  # fmt: skip
    features = datasets.Features({"image": datasets.Image(), "original_question": datasets.Value("string"),
                                  "answer": datasets.Value("string"), "image_type": datasets.Value("string"),
                                  "multimodal_question": datasets.Value("string")})  # fmt: skip
    data = datasets.DatasetDict(
        {k: datasets.Dataset.from_list(v, features=features) for k, v in splits.items()}
    )
    root = tmp_path / "released"
    if as_parquet:
        for split, table in data.items():
            table.to_parquet(str(root / "nanobanana-pro" / f"{split}-00000-of-00001.parquet"))
    else:
        data.save_to_disk(str(root / "nanobanana-pro"))
    return root


@pytest.mark.parametrize("as_parquet", [True, False])
def test_released_figures_become_a_run_directory(
    tmp_path: Path, as_parquet: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = load_scigenbench()
    source = _released(tmp_path, problems, as_parquet)
    run = tmp_path / "run"
    assert (
        main(
            [
                "import-figures",
                "--source",
                str(source),
                "--generator",
                "nanobanana-pro",
                "--run-dir",
                str(run),
            ]
        )
        == 0
    )
    err = plain(capsys.readouterr().err)
    assert (
        "imported 4 figures of released:nanobanana-pro; left out 1 unmatched, 1 ambiguous, 0 unreadable"
        in err
    )
    scigen = [p for p in problems if not p.id.startswith("seephys-")][:3]
    seephys = next(p for p in problems if p.id.startswith("seephys-"))
    chosen = [p.id for p in read_jsonl(run / "problems.jsonl", Problem)]
    assert chosen == [scigen[0].id, scigen[1].id, scigen[2].id, seephys.id]  # in the benchmark's order
    figures = list(read_jsonl(run / "synthesize" / "figures.jsonl", Figure))
    assert {f.generator for f in figures} == {"released:nanobanana-pro"} and all(
        f.status == "ok" for f in figures
    )
    with Image.open(figures[0].png_path or "") as first:
        assert first.mode == "RGB" and first.size == (400, 300)  # transparency flattened on white
    left = [json.loads(line) for line in (run / "imported_left_out.jsonl").read_text().splitlines()]
    assert [(x["reason"], x["problems"]) for x in left] == [("unmatched", []), ("ambiguous", [scigen[1].id])]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["attempted"] == 4 and summary["exported"] + summary["filtered"] == 4
    assert (run / "export" / "train.parquet").is_file()
    # export takes the run directory as it takes a build's
    assert main(["export", "--run-dir", str(run), "--val-fraction", "0"]) == 0


def test_the_question_text_is_compared_without_case_spacing_or_punctuation() -> None:
    assert normalised_question("  What IS the\n  speed, in m/s? ") == normalised_question(
        "what is the speed in m s"
    )
    assert normalised_question("a = 3") != normalised_question("a = 4")


def test_a_missing_copy_or_generator_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert (
        main(
            ["import-figures", "--source", str(tmp_path / "nope"), "--generator", "g", "--run-dir", str(run)]
        )
        == 2
    )
    assert f"{tmp_path / 'nope'}: no such folder" in plain(capsys.readouterr().err)
    (tmp_path / "copy" / "other").mkdir(parents=True)
    assert (
        main(
            ["import-figures", "--source", str(tmp_path / "copy"), "--generator", "g", "--run-dir", str(run)]
        )
        == 2
    )
    assert "no scigen parquet files and no dataset_dict.json" in plain(capsys.readouterr().err)
    assert main(["import-figures", "--generator", "g", "--run-dir", str(run), "--splits", "train"]) == 2
    assert not run.exists()
