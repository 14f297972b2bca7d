"""Images fit the prompt: image tokens counted as transformers' own Qwen-VL image processor counts them,
the exported evaluation set shrunk to fit, and the training pre-flight naming the rows verl would drop."""

from __future__ import annotations

import dataclasses
import io
import math
from pathlib import Path

import pytest
from PIL import Image

from data_builders.eval_sets.mathvision import mathvision_rows
from data_builders.export import write_parquet
from launch.prompt_fit import PROCESSOR_MAX_PIXELS, prompt_tokens, text_counter
from launch.train import preflight
from launch.train_config import TrainConfig
from launch.verl_overrides import resolved_config
from scigen_rl.image_budget import MAX_PIXELS, MIN_PIXELS, capped_image, image_tokens

BIG = ("mathvision-2955", "mathvision-2984", "mathvision-3033")
SIZES = [(2520, 2761), (2520, 1807), (640, 480), (10, 10), (100, 50), (3000, 1000), (33, 4000), (1447, 1449),
         (1448, 1448), (4096, 4096), (31, 31), (32, 2048), (5000, 37)]  # fmt: skip


def _processor():  # type: ignore[no-untyped-def]
    """transformers' Qwen-VL image processor (its PIL backend) with Qwen3-VL's settings."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    return Qwen2VLImageProcessorPil(patch_size=16, merge_size=2, temporal_patch_size=2,
                                    size={"shortest_edge": MIN_PIXELS, "longest_edge": PROCESSOR_MAX_PIXELS})  # fmt: skip


def _tokens_by_processor(processor, image: Image.Image) -> int:  # type: ignore[no-untyped-def]
    grid = processor(images=[image], return_tensors="np")["image_grid_thw"][0]
    return int(math.prod(grid.tolist())) // 4  # 2x2 patches merged into one token


@pytest.mark.parametrize("size", SIZES)
def test_image_tokens_are_the_processors(size: tuple[int, int]) -> None:
    processor = _processor()
    image = Image.new("RGB", size, "white")
    assert image_tokens(*size, max_pixels=PROCESSOR_MAX_PIXELS) - 2 == _tokens_by_processor(processor, image)
    # A capped image is one the processor keeps as it is: the policy sees the stored pixels.
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    data, resized_from = capped_image(buf.getvalue())
    capped = Image.open(io.BytesIO(data))
    assert (resized_from != "") == (size[0] * size[1] > MAX_PIXELS)
    assert capped.width * capped.height <= max(MAX_PIXELS, size[0] * size[1] if not resized_from else 0)
    if resized_from:
        assert capped.width % 32 == 0 and capped.height % 32 == 0
        assert _tokens_by_processor(processor, capped) == capped.width * capped.height // 1024 <= 2048


def _uncapped_mathvision(shipped_data: Path) -> list:  # type: ignore[type-arg]
    """MathVision_mini rows with the shipped images as they are (as another tool would export them)."""
    rows = mathvision_rows()
    originals = shipped_data / "mathvision" / "images"
    return [
        dataclasses.replace(
            r,
            images=[
                {"bytes": (originals / f"{r.extra_info['problem_id'][11:]}.jpg").read_bytes(), "path": None}
            ],
        )  # fmt: skip
        for r in rows
    ]


def _check(tmp_path: Path, val: Path, model: str, *overrides: str) -> list[str]:
    cfg = TrainConfig(val_files=[str(val)], model=model, verifier_urls=["http://v/v1"], overrides=list(overrides),
                      checkpoint_dir=str(tmp_path / "ckpt"))  # fmt: skip
    return [p for p in preflight(cfg, resolved_config(cfg)) if "max_prompt_length" in p]


def test_the_preflight_names_the_val_rows_verl_would_drop(
    shipped_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scigen_rl.llm.embedded import model_dir

    monkeypatch.setenv("WANDB_MODE", "offline")
    model = str(model_dir())  # a real tokenizer with a chat template
    raw = write_parquet(_uncapped_mathvision(shipped_data), tmp_path / "raw.parquet")
    problems = _check(tmp_path, raw, model)
    assert len(problems) == 1 and "3 of 304 rows do not fit data.max_prompt_length=4,096" in problems[0]
    named = problems[0].split("drop them: ")[1]
    assert [n.split(" (")[0] for n in named.split(", ")][:3] == [
        "mathvision-2984",
        "mathvision-2955",
        "mathvision-3033",
    ]
    assert "tokenizer of" in capsys.readouterr().err

    exported = write_parquet(
        mathvision_rows(), tmp_path / "mathvision_mini.parquet"
    )  # as eval-sets writes it
    assert _check(tmp_path, exported, model) == []
    assert "304 rows, longest prompt" in capsys.readouterr().err

    # Without the policy's tokenizer here, the text is estimated (and said so); the images still count.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    problems = _check(tmp_path, raw, "Qwen/Qwen3-VL-8B-Instruct")
    assert len(problems) == 1 and all(b in problems[0] for b in BIG)
    assert "text estimated at 3 bytes a token" in capsys.readouterr().err


def test_a_prompt_exactly_at_the_limit_fits_and_one_token_more_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scigen_rl.llm.embedded import model_dir

    monkeypatch.setenv("WANDB_MODE", "offline")
    model = str(model_dir())
    row = mathvision_rows()[0]
    path = write_parquet([row], tmp_path / "one.parquet")
    count, _ = text_counter(model)
    tokens = prompt_tokens(row.to_row(), count, factor=32)
    assert tokens > image_tokens(*Image.open(io.BytesIO(row.images[0]["bytes"])).size)  # text counted too
    assert _check(tmp_path, path, model, f"data.max_prompt_length={tokens}") == []
    over = _check(tmp_path, path, model, f"data.max_prompt_length={tokens - 1}")
    assert len(over) == 1 and f"{row.extra_info['problem_id']} ({tokens:,} tokens)" in over[0]
