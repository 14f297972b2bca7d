"""Image metrics and spectra on real SeePhys figures: identical sets score perfectly, degraded copies
score worse in the direction each metric should move."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from scigen_rl.bench.pixel import InceptionFeatures, clip_score, psnr_ssim, radial_spectrum, reference_rows


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
