"""Export to verl parquet: rows, split, nested stratified scaling subsets, manifest."""

from __future__ import annotations

import io
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from PIL import Image

from data_builders.export import ExportConfig, export, make_sample, scaling_subsets, split_of
from scigen_rl.loaders import load_scigenbench
from scigen_rl.records import Problem, Sample, Verdict


@pytest.fixture(scope="module")
def samples(shipped_data: Path) -> list[Sample]:
    problems = [p for p in load_scigenbench(shipped_data / "scigenbench") if p.image_type][:240]
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(buf, "PNG")
    return [make_sample(p, buf.getvalue(), "imgcoder:test", i) for i, p in enumerate(problems)]


def test_rows_are_valid_samples(samples: list[Sample], tmp_path: Path) -> None:
    manifest = export(samples, tmp_path, val_fraction=0.1)
    table = pq.read_table(tmp_path / "train.parquet")
    assert set(table.column_names) == {
        "data_source",
        "prompt",
        "images",
        "ability",
        "reward_model",
        "extra_info",
    }
    rows = table.to_pylist()
    assert len(rows) == manifest["train"]["rows"] and manifest["train"]["rows"] + manifest["val"][
        "rows"
    ] == len(samples)
    for row in rows[:20]:
        s = Sample.from_dict(row)  # the record's own validation: one <image> per image, style, ...
        assert s.prompt[0]["content"].count("<image>") == 1 and s.prompt[0]["content"].endswith("\\boxed{}.")
        assert Image.open(io.BytesIO(s.images[0]["bytes"])).size == (64, 48)
        assert s.reward_model["style"] == "model" and s.extra_info["question"]


def test_split_is_by_id_and_stable(samples: list[Sample]) -> None:
    import subprocess
    import sys

    ids = [str(s.extra_info["problem_id"]) for s in samples]
    first = [split_of(i, 0.2) for i in ids]
    assert 0.1 < first.count("val") / len(ids) < 0.3
    # The same in another process with another string-hash seed (Python's hash() would not be).
    code = "import json, sys; from data_builders.export import split_of; print(json.dumps([split_of(i, 0.2) for i in json.load(sys.stdin)]))"
    other = subprocess.run([sys.executable, "-c", code], input=json.dumps(ids), capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": "12345"}, check=True)  # fmt: skip
    assert json.loads(other.stdout) == first
    # A larger val share only moves rows into val (a row never changes side the other way) ...
    wider = [split_of(i, 0.4) for i in ids]
    assert all(w == "val" for f, w in zip(first, wider, strict=True) if f == "val") and wider.count(
        "val"
    ) > first.count("val")
    # ... the seed picks another split, and the edges hold.
    assert [split_of(i, 0.2, seed=1) for i in ids] != first
    assert {split_of(i, 0.0) for i in ids} == {"train"} and {split_of(i, 1.0) for i in ids} == {"val"}


def test_scaling_subsets_nest_and_keep_the_type_mix(samples: list[Sample], tmp_path: Path) -> None:
    subsets = scaling_subsets(samples, [0.125, 0.25, 0.5, 1.0])
    sizes = [len(subsets[f]) for f in (0.125, 0.25, 0.5, 1.0)]
    assert sizes == sorted(sizes) and sizes[-1] == len(samples)
    for small, large in ((0.125, 0.25), (0.25, 0.5), (0.5, 1.0)):
        assert set(subsets[small]) <= set(subsets[large])
    full = Counter(str(s.extra_info["image_type"]) for s in samples)
    half = Counter(str(samples[i].extra_info["image_type"]) for i in subsets[0.5])
    for image_type, n in full.items():
        assert abs(half[image_type] - n / 2) <= 1
    manifest = export(samples, tmp_path)
    paths = [tmp_path / s["path"] for s in manifest["scaling_subsets"]]
    assert [pq.read_metadata(p).num_rows for p in paths] == [s["rows"] for s in manifest["scaling_subsets"]]
    with pytest.raises(ValueError, match="not in"):
        scaling_subsets(samples, [0.0])


def _png(size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "PNG")
    return buf.getvalue()


def test_a_row_carries_what_training_and_analysis_read() -> None:
    problem = Problem(id="p1", question="Find x.", answer="48", source="webinstruct", image_type="Physics - Optics",
                      multimodal_question="In the figure, find x.")  # fmt: skip
    verdict = Verdict("p1", "imgcoder:m", r_inv=0.75, perfect=False)
    sample = make_sample(problem, _png(), "imgcoder:m", 7, verdict)
    assert sample.extra_info == {
        "problem_id": "p1", "index": 7, "image_type": "Physics - Optics", "generator": "imgcoder:m",
        "question": "Find x.", "answer": "48", "source": "webinstruct", "image_resized_from": "",
        "r_inv": 0.75, "perfect": False,
    }  # fmt: skip
    assert sample.images == [{"bytes": _png(), "path": None}] and sample.ability == "physics"
    plain = make_sample(Problem(id="p2", question="Q?", answer="1", source="s"), _png(), "g", 0)
    assert plain.ability == "science" and plain.extra_info["image_type"] == ""
    assert "r_inv" not in plain.extra_info and "perfect" not in plain.extra_info
    big = make_sample(problem, _png((4000, 3000)), "g", 0)
    assert big.extra_info["image_resized_from"] == "4000x3000"


def test_export_writes_the_files_its_manifest_names(samples: list[Sample], tmp_path: Path) -> None:
    manifest = export(samples, tmp_path / "new" / "dir")  # default 5 % validation share, seed 0
    out = tmp_path / "new" / "dir"
    assert manifest == json.loads((out / "manifest.json").read_text())
    assert manifest["train"] == {
        "path": "train.parquet",
        "rows": pq.read_metadata(out / "train.parquet").num_rows,
    }
    assert manifest["val"] == {"path": "val.parquet", "rows": pq.read_metadata(out / "val.parquet").num_rows}
    val_ids = {
        s.extra_info["problem_id"] for s in samples if split_of(s.extra_info["problem_id"], 0.05) == "val"
    }
    assert manifest["val"]["rows"] == len(val_ids) and 0 < len(val_ids) < 0.12 * len(samples)
    read_val = {r["extra_info"]["problem_id"] for r in pq.read_table(out / "val.parquet").to_pylist()}
    assert read_val == val_ids
    assert [s["fraction"] for s in manifest["scaling_subsets"]] == [0.125, 0.25, 0.5, 1.0]
    for subset in manifest["scaling_subsets"]:
        assert (
            pq.read_metadata(out / subset["path"]).num_rows
            == subset["rows"]
            == sum(subset["by_image_type"].values())
        )
    assert not list(out.rglob("*.tmp"))
    reseeded = export(samples, tmp_path / "seed1", seed=1)
    assert (
        reseeded["val"]["rows"] != manifest["val"]["rows"]
        or set(
            r["extra_info"]["problem_id"]
            for r in pq.read_table(tmp_path / "seed1" / "val.parquet").to_pylist()
        )
        != val_ids
    )


def test_scaling_subset_edges(samples: list[Sample]) -> None:
    tiny = scaling_subsets(samples, [1e-6, 1.0])
    types = {s.extra_info["image_type"] for s in samples}
    assert len(tiny[1e-6]) == len(types)  # at least one row of every image type
    assert tiny[1.0] == list(range(len(samples)))
    with pytest.raises(ValueError, match=r"scaling fraction 1.01 is not in \(0, 1\]"):
        scaling_subsets(samples, [1.01])
    with pytest.raises(ValueError, match="scaling fraction 0 is"):
        scaling_subsets(samples, [0])
    assert scaling_subsets(samples, [0.25]) == scaling_subsets(samples, [0.25], seed=0)
    assert scaling_subsets(samples, [0.25]) != scaling_subsets(samples, [0.25], seed=1)
    untyped = [
        make_sample(Problem(id=f"u{i}", question="Q", answer="1", source="s"), _png(), "g", i)
        for i in range(8)
    ]
    half = scaling_subsets(untyped, [0.5])[0.5]
    assert len(half) == 4 and half != [0, 1, 2, 3]  # ordered by a hash of the id, not by position


def test_a_non_default_seed_reaches_the_split_and_the_subsets(samples: list[Sample], tmp_path: Path) -> None:
    manifest = export(samples, tmp_path, val_fraction=0.2, fractions=(0.25, 1.0), seed=3)
    ids = [str(s.extra_info["problem_id"]) for s in samples]
    train_ids = [i for i in ids if split_of(i, 0.2, 3) == "train"]
    assert train_ids != [i for i in ids if split_of(i, 0.2, 0) == "train"]  # the seed matters here
    rows = pq.read_table(tmp_path / "train.parquet").to_pylist()
    assert [r["extra_info"]["problem_id"] for r in rows] == train_ids
    train = [s for s in samples if str(s.extra_info["problem_id"]) in set(train_ids)]
    quarter = pq.read_table(tmp_path / manifest["scaling_subsets"][0]["path"]).to_pylist()
    expected = [str(train[i].extra_info["problem_id"]) for i in scaling_subsets(train, [0.25], 3)[0.25]]
    other_seed = [str(train[i].extra_info["problem_id"]) for i in scaling_subsets(train, [0.25], 0)[0.25]]
    assert sorted(r["extra_info"]["problem_id"] for r in quarter) == sorted(expected) != sorted(other_seed)


def test_the_manifest_counts_each_subset_by_image_type(samples: list[Sample], tmp_path: Path) -> None:
    manifest = export(samples, tmp_path, fractions=(0.5, 1.0))
    for subset in manifest["scaling_subsets"]:
        rows = pq.read_table(tmp_path / subset["path"]).to_pylist()
        assert subset["by_image_type"] == dict(
            sorted(Counter(r["extra_info"]["image_type"] for r in rows).items())
        )
        assert len(subset["by_image_type"]) > 3
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest


def test_the_split_and_the_subsets_do_not_move_between_versions(samples: list[Sample]) -> None:
    """Pinned on purpose: a change of the hashing would silently move rows between train and val, and
    change every scaling subset, of runs already made (their reruns and resumed builds)."""
    ids = [f"p-{i}" for i in range(12)]
    assert [split_of(i, 0.5, 0) for i in ids] == [
        "train", "train", "val", "train", "train", "train", "val", "train", "val", "val", "train", "train",
    ]  # fmt: skip
    eighth = scaling_subsets(samples, [0.125])[0.125]
    assert len(eighth) == 30
    assert sorted(str(samples[i].extra_info["problem_id"]) for i in eighth)[:6] == [
        "amthinking-174504", "amthinking-314665", "amthinking-482110",
        "omnithought-280638", "omnithought-294278", "omnithought-303546",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"val_fraction": -0.01}, "val_fraction"),
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"scaling_fractions": ()}, "scaling_fractions"),
        ({"scaling_fractions": (0.0, 1.0)}, "scaling_fractions"),
        ({"scaling_fractions": (0.5, 1.01)}, "scaling_fractions"),
        ({"verify_threshold": -0.01}, "verify_threshold"),
        ({"verify_threshold": 1.01}, "verify_threshold"),
    ],
)
def test_export_settings_outside_their_range_are_refused(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"^ExportConfig.{field}: .*, got "):
        ExportConfig(**settings)


def test_export_settings_at_the_edges_of_their_range_are_taken() -> None:
    assert (
        ExportConfig(val_fraction=0.0, scaling_fractions=(1e-9, 1.0), verify_threshold=0.0).val_fraction
        == 0.0
    )
    assert (
        ExportConfig(val_fraction=0.99, scaling_fractions=(1.0,), verify_threshold=1.0).verify_threshold
        == 1.0
    )
    for value in (-1, 1.5):
        with pytest.raises(ValueError, match=re.escape(f"got {value}")):
            ExportConfig(val_fraction=value)
    with pytest.raises(ValueError, match=re.escape("got [0.5, 2.0]")):
        ExportConfig(scaling_fractions=(0.5, 2.0))
    with pytest.raises(ValueError, match=re.escape("got 2.0")):
        ExportConfig(verify_threshold=2.0)
