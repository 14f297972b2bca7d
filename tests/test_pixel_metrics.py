"""Image metrics and spectra on real SeePhys figures: identical sets score perfectly, degraded copies
score worse in the direction each metric should move; the paper's conventions (--pixel-conventions
paper) differ from the project's exactly where the paper's code does, each difference tested both ways."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scigen_rl.bench.pixel import (
    InceptionFeatures,
    clip_score,
    inception_input,
    paper_clip_pixels,
    paper_clip_scores,
    paper_clip_text,
    paper_psnr_ssim,
    pixel_metrics,
    psnr_ssim,
    radial_spectrum,
    reference_rows,
)


@pytest.fixture(scope="module")
def real(shipped_data: Path) -> list[Path]:
    return sorted((shipped_data / "scigenbench" / "seephys_images").glob("*"))[:6]


def test_reference_rows_move_the_right_way(real: list[Path]) -> None:
    rows = reference_rows(real, InceptionFeatures())
    same, blur, jpeg = rows["real (identical)"], rows["real (blur)"], rows["real (jpeg)"]
    assert math.isinf(same["psnr"]) and same["ssim"] == pytest.approx(1.0) and same["fid_tf_inception"] < 1e-3
    for worse in (blur, jpeg):
        assert math.isfinite(worse["psnr"]) and worse["ssim"] < 1.0 and worse["fid_tf_inception"] > 1.0
    assert (
        blur["psnr"] < jpeg["psnr"] and blur["fid_tf_inception"] > jpeg["fid_tf_inception"]
    )  # blur hurts more
    assert blur["kid"] > same["kid"]
    assert blur["hf_ratio"] < same["hf_ratio_real"] / 5  # blurring removes the high frequencies


def test_spectrum_and_pairwise_metrics_on_real_images(real: list[Path]) -> None:
    spectrum = radial_spectrum(real[0])
    assert spectrum.shape == (128,) and spectrum[1] > spectrum[100] > 0
    psnr, ssim = psnr_ssim(real[0], real[1])
    assert 0 < psnr < 40 and -1 <= ssim < 0.99


def test_clip_score_needs_a_local_checkpoint(real: list[Path], tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="needs a local CLIP checkpoint"):
        clip_score(real[:1], ["a physics diagram"], None)
    with pytest.raises(FileNotFoundError, match="no such file"):
        clip_score(real[:1], ["a physics diagram"], str(tmp_path / "clip"))


def test_fid_equals_the_matrix_square_root_definition() -> None:
    import numpy as np
    from scipy import linalg

    from scigen_rl.bench.pixel import fid

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(40, 30)), rng.normal(size=(35, 30)) * 1.3 + 0.2
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    by_definition = (
        ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1 + s2) - 2 * np.trace(linalg.sqrtm(s1 @ s2).real)
    )
    assert fid(a, b) == pytest.approx(by_definition, rel=1e-9)


def test_bench_reference_command(shipped_data: Path, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "scigen_rl.cli", "bench-reference", "--scigenbench-dir", str(shipped_data / "scigenbench"),
         "--out-dir", str(tmp_path), "--limit", "3"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    table = json.loads((tmp_path / "reference.json").read_text())
    assert (
        set(table) == {"real (identical)", "real (blur)", "real (jpeg)"}
        and table["real (blur)"]["pairs"] == 3
    )
    assert (tmp_path / "reference_spectrum.png").exists() and "| real (blur) |" in out.stdout


# --- The paper's conventions (--pixel-conventions paper): each difference from the project's, both ways.


def noise(size: tuple[int, int], seed: int, smooth: int = 4) -> Image.Image:
    """A deterministic RGB picture with structure at several scales (so resampling changes it)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (max(2, size[1] // smooth), max(2, size[0] // smooth), 3), dtype=np.uint8)
    base = Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC)
    fine = rng.integers(-40, 41, (size[1], size[0], 3))
    return Image.fromarray(np.clip(np.asarray(base, dtype=int) + fine, 0, 255).astype(np.uint8))


def psnr_by_hand(a: Image.Image, b: Image.Image) -> float:
    mse = np.mean((np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def ssim_by_hand(a: np.ndarray, b: np.ndarray, win: int) -> float:
    """SSIM written out: every win x win window inside the image, sample (co)variances, K1 0.01, K2
    0.03, data range 255, the mean over windows and channels."""
    from numpy.lib.stride_tricks import sliding_window_view

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    per_channel = []
    for ch in range(a.shape[2]):
        x = sliding_window_view(a[..., ch].astype(np.float64), (win, win)).reshape(-1, win * win)
        y = sliding_window_view(b[..., ch].astype(np.float64), (win, win)).reshape(-1, win * win)
        mx, my = x.mean(1), y.mean(1)
        vx, vy = x.var(1, ddof=1), y.var(1, ddof=1)
        cov = ((x - mx[:, None]) * (y - my[:, None])).sum(1) / (win * win - 1)
        s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
        per_channel.append(s.mean())
    return float(np.mean(per_channel))


def test_paper_resizes_the_real_figure_to_the_generated_ones_size() -> None:
    generated, real = noise((40, 30), seed=1), noise((96, 72), seed=2, smooth=3)
    paper_psnr, _ = paper_psnr_ssim(generated, real)
    project_psnr, _ = psnr_ssim(generated, real)
    real_shrunk = real.resize(generated.size, Image.Resampling.BICUBIC)
    generated_grown = generated.resize(real.size, Image.Resampling.BICUBIC)
    assert paper_psnr == pytest.approx(psnr_by_hand(real_shrunk, generated), rel=1e-9)
    assert project_psnr == pytest.approx(psnr_by_hand(generated_grown, real), rel=1e-9)
    assert abs(paper_psnr - project_psnr) > 0.1  # the direction shows in the number
    # the same pair given the other way round: now the other figure is resized under each convention
    assert paper_psnr_ssim(real, generated)[0] == pytest.approx(project_psnr, rel=1e-9)


def test_paper_drops_transparency_where_the_project_composites_it_on_white() -> None:
    ink = np.zeros((32, 32, 4), dtype=np.uint8)  # transparent black ...
    ink[8:24, 8:24] = (0, 0, 0, 255)  # ... around an opaque black square
    transparent = Image.fromarray(ink, "RGBA")
    on_white = np.full((32, 32, 3), 255, dtype=np.uint8)
    on_white[8:24, 8:24] = 0
    all_black = Image.new("RGB", (32, 32), "black")
    # against the square on white: the project sees the same figure, the paper a black one
    assert psnr_ssim(transparent, Image.fromarray(on_white)) == (math.inf, pytest.approx(1.0))
    paper_psnr, paper_ssim = paper_psnr_ssim(transparent, Image.fromarray(on_white))
    assert math.isfinite(paper_psnr) and paper_ssim < 0.9
    # against an all-black figure: the other way round
    assert paper_psnr_ssim(transparent, all_black) == (math.inf, pytest.approx(1.0))
    project_psnr, project_ssim = psnr_ssim(transparent, all_black)
    assert math.isfinite(project_psnr) and project_ssim < 0.9
    # the Inception input follows the same reading
    assert inception_input(transparent, "paper")[0, 0].tolist() == [0, 0, 0]
    assert inception_input(transparent, "project")[0, 0].tolist() == [255, 255, 255]


def test_paper_ssim_uses_a_3_pixel_window_on_uint8() -> None:
    a = noise((16, 16), seed=3, smooth=2)
    shake = np.random.default_rng(4).integers(-60, 61, (16, 16, 3))
    b = Image.fromarray(np.clip(np.asarray(a, dtype=int) + shake, 0, 255).astype(np.uint8))  # a, noisier
    _, ssim = paper_psnr_ssim(a, b)
    by_hand_3 = ssim_by_hand(np.asarray(b), np.asarray(a), win=3)
    assert ssim == pytest.approx(by_hand_3, rel=1e-9)
    assert ssim < ssim_by_hand(np.asarray(b), np.asarray(a), win=7) - 0.05  # the window matters
    # a 5 x 5 figure: the 3 px window fits, the project's default 7 px one does not
    small_a, small_b = noise((5, 5), seed=5, smooth=2), noise((5, 5), seed=6, smooth=2)
    assert paper_psnr_ssim(small_a, small_b)[1] == pytest.approx(
        ssim_by_hand(np.asarray(small_b), np.asarray(small_a), win=3), rel=1e-9
    )
    with pytest.raises(ValueError):
        psnr_ssim(small_a, small_b)
    with pytest.raises(ValueError):  # under 3 px: no window fits either
        paper_psnr_ssim(Image.new("RGB", (2, 2)), Image.new("RGB", (2, 2), "white"))


def test_paper_rows_keep_identical_pairs_in_the_mean_and_leave_out_tiny_ones() -> None:
    a, b = noise((24, 24), seed=7), noise((24, 24), seed=8)
    tiny = (Image.new("RGB", (2, 2)), Image.new("RGB", (2, 2), "white"))
    paper = pixel_metrics([(a, a), (a, b), tiny], conventions="paper")
    assert paper["conventions"] == "paper" and paper["pairs"] == 3 and paper["paper_failed"] == 1
    assert math.isinf(paper["paper_psnr"])  # the paper's mean keeps the identical pair
    assert paper["paper_ssim"] == round((1.0 + paper_psnr_ssim(a, b)[1]) / 2, 4)
    assert not {"psnr", "ssim", "fid_tf_inception", "kid"} & set(paper)
    both = pixel_metrics([(a, a), (a, b)], conventions="both")
    assert both["conventions"] == "both" and math.isinf(both["paper_psnr"]) and both["paper_failed"] == 0
    assert both["psnr"] == round(psnr_ssim(a, b)[0], 3)  # the project's mean leaves it out
    project = pixel_metrics([(a, a), (a, b)])
    assert project["conventions"] == "project" and not [k for k in project if k.startswith("paper_")]
    with pytest.raises(ValueError, match="pixel conventions"):
        pixel_metrics([(a, b), (b, a)], conventions="strict")


@pytest.mark.parametrize("n", [12, 60])  # fewer images than features, and more
def test_the_papers_fid_is_the_matrix_square_root_definition_unclamped(n: int) -> None:
    from scipy import linalg

    from scigen_rl.bench.pixel import fid

    rng = np.random.default_rng(n)
    gen, real = rng.normal(size=(n, 20)) * 1.2 + 0.3, rng.normal(size=(n + 5, 20))
    s_gen, s_real = np.cov(gen, rowvar=False), np.cov(real, rowvar=False)
    by_definition = (
        ((gen.mean(0) - real.mean(0)) ** 2).sum()
        + np.trace(s_gen + s_real)
        - 2 * np.trace(linalg.sqrtm(s_real @ s_gen).real)
    )
    assert fid(gen, real, clamp=False) == pytest.approx(
        by_definition, rel=1e-6
    )  # sqrtm of a singular S: 1e-8
    assert abs(fid(real, real, clamp=False)) < 1e-9 and fid(real, real) >= 0.0
    with pytest.raises(ValueError, match="two images"):
        fid(gen[:1], real, clamp=False)


def test_paper_inception_input_is_the_squashed_uint8_image_scaled_as_torch_fidelity(real: list[Path]) -> None:
    import torch

    inception = InceptionFeatures()
    x = inception_input(real[0], "paper")
    with Image.open(real[0]) as img:  # the paper: convert("RGB"), Resize((299, 299)) on the PIL image
        squashed = np.asarray(img.convert("RGB").resize((299, 299), Image.Resampling.BILINEAR))
    assert x.dtype == np.uint8 and x.shape == (299, 299, 3) and np.array_equal(x, squashed)
    ours = inception([real[0]], "paper")
    pixels = torch.from_numpy(np.array(x)).permute(2, 0, 1)[None].float()
    with torch.inference_mode():  # the network fed directly: torch-fidelity's mapping, and pytorch-fid's
        torch_fidelity = inception.helper.model((pixels - 128) / 128).numpy()
        minus_one_to_one = inception.helper.model(pixels / 127.5 - 1).numpy()
    assert ours.shape == (1, 2048) and np.allclose(ours, torch_fidelity, rtol=1e-4, atol=1e-4)
    assert not np.allclose(ours, minus_one_to_one, rtol=1e-4, atol=1e-4)


def test_the_papers_fid_reads_transparency_as_the_paper_does(real: list[Path]) -> None:
    def white_made_transparent(path: Path) -> Image.Image:  # the figure with its pure white see-through
        rgb = np.asarray(Image.open(path).convert("RGB"))
        white = (rgb == 255).all(axis=2)
        rgba = np.dstack([np.where(white[..., None], 0, rgb), np.where(white, 0, 255)]).astype(np.uint8)
        return Image.fromarray(rgba, "RGBA")

    def on_black(path: Path) -> Image.Image:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        return Image.fromarray(np.where((rgb == 255).all(axis=2)[..., None], 0, rgb).astype(np.uint8))

    inception, figures = InceptionFeatures(), real[:2]
    # against the real figures on white: the project composites the see-through back to white
    row = pixel_metrics([(white_made_transparent(r), r) for r in figures], inception, conventions="both")
    assert row["fid_tf_inception"] < 1e-3 and row["paper_fid"] > 1.0
    # against the same figures on black: the paper reads the see-through as black
    row = pixel_metrics(
        [(white_made_transparent(r), on_black(r)) for r in figures], inception, conventions="both"
    )
    assert abs(row["paper_fid"]) < 1e-3 and row["fid_tf_inception"] > 1.0
    # opaque figures: the two conventions' FIDs are one number
    row = pixel_metrics([(on_black(r), r) for r in figures], inception, conventions="both")
    assert row["paper_fid"] == pytest.approx(row["fid_tf_inception"], abs=1e-3) and row["paper_fid"] > 1.0


# --- CLIP under the paper's conventions, on a stand-in: a tiny randomly initialised CLIP (not a trained
# model: the scores mean nothing, the code path is the real one) with a byte-level tokenizer.


def save_stand_in_clip(folder: Path, negate_text: bool = False) -> Path:
    import torch
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    chars = sorted(ByteLevel.alphabet())  # every byte: any text tokenizes, one token per character
    vocab = {
        t: i for i, t in enumerate([*chars, *(c + "</w>" for c in chars), "<|startoftext|>", "<|endoftext|>"])
    }
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)
    images = CLIPImageProcessor(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224})
    small = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}
    text = {**small, "vocab_size": len(vocab), "max_position_embeddings": 77, "bos_token_id": len(vocab) - 2,
            "eos_token_id": len(vocab) - 1, "pad_token_id": len(vocab) - 1}  # fmt: skip
    torch.manual_seed(0)
    model = CLIPModel(CLIPConfig(text_config=text, vision_config={**small, "image_size": 224, "patch_size": 32}, projection_dim=8))  # fmt: skip
    if negate_text:  # every text embedding turned round: each cosine changes sign
        with torch.no_grad():
            model.text_projection.weight.neg_()
    model.save_pretrained(folder)
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def stand_in_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_stand_in_clip(tmp_path_factory.mktemp("clip"))


def test_paper_clip_score_is_100_cosine_of_the_embeddings(stand_in_clip: Path) -> None:
    import torch
    from transformers import CLIPModel, CLIPProcessor

    alpha = np.full((60, 90, 1), 255, dtype=np.uint8)
    alpha[:, :45] = 0  # the left half see-through
    figure = Image.fromarray(np.dstack([np.asarray(noise((90, 60), seed=9)), alpha]), "RGBA")
    question = "A ball rolls down a 30 degree slope. Find its speed."
    (score,) = paper_clip_scores([figure], [question], str(stand_in_clip))
    model, processor = CLIPModel.from_pretrained(stand_in_clip), CLIPProcessor.from_pretrained(stand_in_clip)
    rgb = figure.convert("RGB")  # the paper's reading: the colours under the see-through part, no white
    squashed = np.asarray(rgb.resize((224, 224), Image.Resampling.BILINEAR), dtype=np.float64)
    mean, std = np.array(processor.image_processor.image_mean), np.array(processor.image_processor.image_std)
    pixels = ((squashed / 255 / 255 - mean) / std).transpose(2, 0, 1)[
        None
    ]  # ToTensor, then the processor's 1/255
    assert np.allclose(paper_clip_pixels(figure, processor).numpy(), pixels, atol=1e-5)
    tokens = processor.tokenizer([question], return_tensors="pt")
    with torch.inference_mode():
        out = model(input_ids=tokens["input_ids"], pixel_values=torch.tensor(pixels, dtype=torch.float32))
    assert score == pytest.approx(100 * float((out.image_embeds[0] * out.text_embeds[0]).sum()), abs=1e-4)


def test_paper_clip_cuts_a_long_question_to_77_tokens(stand_in_clip: Path) -> None:
    from transformers import CLIPTokenizer

    figure = noise((64, 64), seed=10)
    question = " ".join(f"mass{i} kg" for i in range(60))  # about 500 tokens
    tokenizer = CLIPTokenizer.from_pretrained(stand_in_clip)
    content = tokenizer(question)["input_ids"][1:-1]
    assert len(content) > 300
    assert paper_clip_text(question, tokenizer) == tokenizer.decode(content[:75])  # 75 + start + end = 77
    long, cut, shorter = paper_clip_scores(
        [figure] * 3,
        [question, tokenizer.decode(content[:75]), tokenizer.decode(content[:74])],
        str(stand_in_clip),
    )
    assert long == pytest.approx(cut, abs=1e-5) and abs(long - shorter) > 1e-3
    assert math.isfinite(clip_score([figure], [question], str(stand_in_clip)))  # the project's reading too


def test_paper_clip_clamps_each_image_at_zero(
    stand_in_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scigen_rl.bench.pixel as pixel

    figure, question = noise((50, 80), seed=11), "the electric field between two plates"
    turned = save_stand_in_clip(tmp_path / "turned", negate_text=True)
    (raw,) = paper_clip_scores([figure], [question], str(stand_in_clip))
    assert paper_clip_scores([figure], [question], str(turned)) == [pytest.approx(-raw, abs=1e-4)]
    scores = [clip_score([figure], [question], str(m), "paper") for m in (stand_in_clip, turned)]
    assert min(scores) == 0.0 and max(scores) == pytest.approx(abs(raw), abs=1e-4)
    monkeypatch.setattr(pixel, "paper_clip_scores", lambda *_: [30.0, -10.0])
    assert clip_score([figure, figure], ["a", "b"], "unused", "paper") == 15.0  # not max(0, mean) = 10


def test_bench_pixel_conventions_reach_the_summary_and_the_leaderboard(
    shipped_data: Path, tmp_path: Path
) -> None:
    import json

    from scigen_rl import cli
    from scigen_rl.loaders import load_scigenbench

    problems = [p for p in load_scigenbench(shipped_data / "scigenbench") if p.extra.get("reference_image")][
        :3
    ]
    figures = tmp_path / "half"
    figures.mkdir()
    for p in problems:  # each real figure at half its size
        with Image.open(p.extra["reference_image"]) as img:
            img.resize((img.width // 2, img.height // 2)).save(figures / f"{p.id}.png")
    runs = {}
    for conventions in ("project", "paper", "both"):
        out = tmp_path / conventions
        args = ["bench", "--images", str(figures), "--out-dir", str(out), "--metrics", "spectral",
                "--scigenbench-dir", str(shipped_data / "scigenbench"), "--ids", ",".join(p.id for p in problems)]  # fmt: skip
        assert (
            cli.main([*args, "--pixel-conventions", conventions] if conventions != "project" else args) == 0
        )
        runs[conventions] = (
            json.loads((out / "summary.json").read_text()),
            (out / "leaderboard.md").read_text(),
        )
    expected = [paper_psnr_ssim(figures / f"{p.id}.png", p.extra["reference_image"]) for p in problems]
    project, paper, both = (runs[c][0]["image_metrics"] for c in ("project", "paper", "both"))
    assert (
        project["conventions"] == "project"
        and "paper_psnr" not in project
        and "(paper)" not in runs["project"][1]
    )
    assert paper["conventions"] == "paper" and "psnr" not in paper and paper["pairs"] == 3
    assert paper["paper_psnr"] == round(float(np.mean([p for p, _ in expected])), 4)
    assert (
        both["paper_ssim"] == paper["paper_ssim"] and both["ssim"] == project["ssim"] != paper["paper_ssim"]
    )
    header, _, row = runs["both"][1].splitlines()[2:5]
    cells = dict(zip(header.strip("| ").split(" | "), row.strip("| ").split(" | "), strict=True))
    assert cells["SSIM (paper)"] == f"{both['paper_ssim']:.2f}" and cells["SSIM"] == f"{both['ssim']:.2f}"
    assert "| PSNR (paper) | SSIM (paper) |" in runs["paper"][1]  # no FID column: --metrics had no pixel
    assert "FID (paper)" not in runs["paper"][1]
