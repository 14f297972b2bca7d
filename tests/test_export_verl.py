"""The exported parquet through verl 0.9.1's own RLHFDataset, images included."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from data_builders.export import export, make_sample
from scigen_rl.loaders import load_scigenbench
from scigen_rl.render import Renderer

from .conftest import rlhf_dataset


def test_rlhf_dataset_reads_exported_rows(renderer: Renderer, shipped_data: Path, tmp_path: Path) -> None:
    problems = [p for p in load_scigenbench(shipped_data / "scigenbench") if p.image_type][:6]
    script = (
        Path(__file__).resolve().parents[1] / "benchmarks" / "scripts" / "13_force_incline_fbd.py"
    ).read_text()
    png = renderer.render(script, "incline.py").pngs[0]
    samples = [make_sample(p, png, "imgcoder:test", i) for i, p in enumerate(problems)]
    export(samples, tmp_path, val_fraction=0.0, fractions=(1.0,))

    dataset = rlhf_dataset(tmp_path / "train.parquet", tmp_path / "verl-cache")
    processor = dataset.processor
    assert len(dataset) == len(samples)
    for i in range(len(dataset)):
        item = dataset[i]
        image_part, text_part = item["raw_prompt"][0]["content"]
        assert image_part["type"] == "image" and text_part["type"] == "text"
        assert text_part["text"].endswith("\\boxed{}.")
        assert image_part["image"].size == Image.open(io.BytesIO(png)).size
        assert item["reward_model"] == {"style": "model", "ground_truth": problems[i].answer}
        assert item["index"] == i and item["extra_info"]["problem_id"] == problems[i].id
    features = processor(images=[dataset[0]["raw_prompt"][0]["content"][0]["image"].convert("RGB")])
    assert features["pixel_values"].shape[0] > 0 and tuple(features["image_grid_thw"].shape) == (1, 3)
