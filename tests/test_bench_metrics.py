"""The bench's per-figure metric registry: the README's worked metric (one file and one line) run by
`scigen-rl bench` on real figures without a model server, unknown names refused with the known ones,
and every registered metric importable under its own name."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from statistics import mean

import numpy as np
import pytest
from PIL import Image

import scigen_rl.bench.metrics as registry
from scigen_rl import cli
from scigen_rl.bench.metrics import FigureMetric, figure_metric, figure_metrics, known_metrics
from scigen_rl.loaders import load_scigenbench
from scigen_rl.records import Verdict

from .conftest import readme_example


def tables(board: str) -> dict[str, list[dict[str, str]]]:
    """Each ``## title`` of a Markdown leaderboard: its table's rows as {header: cell}."""
    found: dict[str, list[dict[str, str]]] = {}
    for section in board.split("## ")[1:]:
        title, *lines = section.splitlines()
        rows = [
            [c.strip() for c in line.strip().strip("|").split("|")] for line in lines if line.startswith("|")
        ]
        found[title] = [dict(zip(rows[0], row, strict=True)) for row in rows[2:]]
    return found


def ink_share(png: Path) -> float:
    """The share of pixels more than 32 grey levels from the most common one, computed here with numpy."""
    grey = np.asarray(Image.open(png).convert("L")).astype(int)
    background = np.bincount(grey.ravel(), minlength=256).argmax()
    return float((np.abs(grey - background) > 32).mean())


def test_the_readmes_new_metric_is_one_file_and_one_line(
    shipped_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The worked example of the README, as written there, scored by the real bench with no model."""
    monkeypatch.delitem(sys.modules, "ink", raising=False)  # this test's file, not an earlier test's
    assert readme_example("scigen_rl/bench/ink.py", registry.FIGURE_METRICS, tmp_path, monkeypatch) == "ink"
    assert registry.FIGURE_METRICS["ink"] == "ink:METRIC"

    # Real figures named after SciGenBench problems of two subjects and three image types; one absent.
    problems = load_scigenbench(shipped_data / "scigenbench")
    astro = [p for p in problems if p.image_type == "Physics - Astronomical"][:2]
    circuit = next(p for p in problems if p.image_type == "Physics - Circuit")
    plot = next(p for p in problems if p.image_type == "Universal - Plot & Chart")
    absent = next(p for p in problems if p.image_type == "Math - Plane Geometric")
    chosen = [*astro, circuit, plot, absent]
    images = tmp_path / "figs"
    images.mkdir()
    real = shipped_data / "scigenbench" / "seephys_images"
    for p, figure in zip(chosen, ["5.png", "617.png", "654.png", "1919.png"], strict=False):
        shutil.copy(real / figure, images / f"{p.id}.png")
    expected = {p.id: ink_share(images / f"{p.id}.png") for p in chosen[:4]}
    assert len({round(v, 4) for v in expected.values()}) == 4 and all(0 < v < 0.5 for v in expected.values())

    out = tmp_path / "out"
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)  # a model client would refuse to start without it
    args = ["bench", "--images", str(images), "--out-dir", str(out), "--metrics", "ink",
            "--scigenbench-dir", str(shipped_data / "scigenbench"), "--ids", ",".join(p.id for p in chosen),
            "--judge.base-url", "http://127.0.0.1:9/v1", "--judge.api-key-env", "NO_SUCH_KEY"]  # fmt: skip
    assert cli.main(args) == 0
    assert not (out / "llm-cache").exists()  # no model client was made

    verdicts = {
        v["problem_id"]: Verdict.from_dict(v)
        for v in map(json.loads, (out / "items.jsonl").read_text().splitlines())
    }
    assert set(verdicts) == {p.id for p in chosen[:4]}  # --images scores the problems with a figure
    for pid, share in expected.items():
        assert verdicts[pid].extra["metrics"] == {"ink": pytest.approx(share, abs=1e-12)}
    assert all(v.r_inv is None and not v.judge_scores and not v.quiz_answers for v in verdicts.values())

    summary = json.loads((out / "summary.json").read_text())
    overall = mean(expected.values())
    assert summary["overall"]["ink"] == round(overall, 4) and summary["overall"]["figures"] == 4
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["ink"] == round(overall, 4)
    by_type = {t: [expected[p.id] for p in chosen[:4] if p.image_type == t] for t in
               ("Physics - Astronomical", "Physics - Circuit", "Universal - Plot & Chart")}  # fmt: skip
    assert {t: row["ink"] for t, row in summary["by_image_type"].items()} == {
        t: round(mean(v), 4) for t, v in by_type.items()
    }
    physics = by_type["Physics - Astronomical"] + by_type["Physics - Circuit"]
    assert {s: row["ink"] for s, row in summary["by_subject"].items()} == {
        "Physics": round(mean(physics), 4), "Universal": round(expected[plot.id], 4),
    }  # fmt: skip

    board = tables((out / "leaderboard.md").read_text())
    (row,) = board["Overall"]
    assert row["generator"] == "figs" and row["ink %"] == f"{100 * round(overall, 4):.1f}"
    # Only the metrics a run scored have columns; the image metrics always do.
    assert list(row) == [
        "generator",
        "figures",
        "ink %",
        "PSNR",
        "SSIM",
        "FID (TF-Inception)",
        "KID",
        "HF ratio",
    ]
    types = {r[""]: r["ink %"] for r in board["By image type: figs"]}
    assert types == {t: f"{100 * round(mean(v), 4):.1f}" for t, v in by_type.items()}
    subjects = {r[""]: r["ink %"] for r in board["By subject: figs"]}
    assert subjects == {"Physics": f"{100 * round(mean(physics), 4):.1f}",
                        "Universal": f"{100 * round(expected[plot.id], 4):.1f}"}  # fmt: skip


def test_unknown_metrics_are_refused_naming_the_registered_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(registry.FIGURE_METRICS, "brand-new", "nowhere:METRIC")  # known by its line alone
    out = tmp_path / "out"
    code = cli.main(
        ["bench", "--images", str(tmp_path), "--out-dir", str(out), "--metrics", "rinv,inkk,judge"]
    )
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert (
        err.strip()
        == "scigen-rl bench: unknown metrics ['inkk'] (known: rinv, judge, paper_rinv, paper_judge, brand-new, "
        "pixel, spectral)"
    )
    assert known_metrics() == ("rinv", "judge", "paper_rinv", "paper_judge", "brand-new", "pixel", "spectral")
    with pytest.raises(
        ValueError,
        match=r"^unknown bench metric 'inkk' \(known: rinv, judge, paper_rinv, paper_judge, brand-new\)$",
    ):
        figure_metric("inkk")
    with pytest.raises(
        ValueError,
        match=r"^unknown bench metrics \['inkk'\] \(known: rinv, judge, paper_rinv, paper_judge, brand-new, ",
    ):
        figure_metrics(("rinv", "inkk"))


def test_every_registered_metric_imports_under_its_own_name() -> None:
    assert list(registry.FIGURE_METRICS)[:2] == ["rinv", "judge"]  # the order of today's columns
    for name in registry.FIGURE_METRICS:
        metric = figure_metric(name)
        assert isinstance(metric, FigureMetric) and metric.name == name
        summary_keys = set(metric.aggregate([]))
        assert metric.columns() and {c.key for c in (*metric.columns(), *metric.totals())} <= summary_keys
    assert [m.name for m in figure_metrics(("judge", "pixel", "rinv"))] == ["rinv", "judge"]  # registry order
