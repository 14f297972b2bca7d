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


def test_rlhf_dataset_reads_the_text_only_and_blank_image_controls(
    shipped_data: Path, tmp_path: Path
) -> None:
    """The controls load through the same RLHFDataset: ``none`` as text-only rows (verl builds no image
    part and finds no visual input), ``blank`` with a white image of the figure's size."""
    from verl.utils.dataset.rl_dataset import RLHFDataset

    problems = [p for p in load_scigenbench(shipped_data / "scigenbench") if p.image_type][:4]
    figure = io.BytesIO()
    Image.new("RGB", (640, 480), "black").save(figure, format="PNG")
    for mode in ("none", "blank"):
        samples = [
            make_sample(p, figure.getvalue(), "imgcoder:test", i, image_mode=mode)
            for i, p in enumerate(problems)
        ]
        export(samples, tmp_path / mode, val_fraction=0.0, fractions=(1.0,), about={"image_mode": mode})
        dataset = rlhf_dataset(tmp_path / mode / "train.parquet", tmp_path / "verl-cache")
        assert len(dataset) == len(samples)
        for i in range(len(dataset)):
            item = dataset[i]
            assert (
                item["data_source"]
                == f"scigen/imgcoder:test/{'no-image' if mode == 'none' else 'blank-image'}"
            )
            assert (
                item["extra_info"]["image_mode"] == mode
                and item["extra_info"]["problem_id"] == problems[i].id
            )
            content = item["raw_prompt"][0]["content"]
            if mode == "none":
                assert (
                    isinstance(content, str) and content.endswith("\\boxed{}.") and "<image>" not in content
                )
                assert RLHFDataset._process_multi_modal_info(item["raw_prompt"], 16, dataset.config) == (
                    None,
                    None,
                    None,
                )
            else:
                image_part, text_part = content
                assert image_part["type"] == "image" and text_part["text"].endswith("\\boxed{}.")
                white = image_part["image"].convert("RGB")
                assert white.size == (640, 480) and white.getextrema() == ((255, 255),) * 3
    features = dataset.processor(images=[white])
    assert tuple(features["image_grid_thw"].shape) == (1, 3)
