"""Every configured limit of the sandboxed renderer at its edge: just under it a script renders, just
over it the script fails with the limit named. Small settings keep each case fast."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from scigen_rl.render import RenderConfig, Renderer

PLOT = "import matplotlib.pyplot as plt\nplt.plot([0, 1], [0, 1])\n"
LIMITS = RenderConfig(workers=1, timeout_s=3.0, memory_mb=256, cpu_s=1.0, file_size_mb=4, max_pixels=1_000_000,
                      max_output_mb=1, max_figures=3, recycle_after=1000)  # fmt: skip


@pytest.fixture(scope="module")
def limited() -> Iterator[Renderer]:
    with Renderer(LIMITS) as renderer:
        yield renderer


def _allocate(mb: int) -> str:
    # Touch every page: an allocation the kernel only reserves would not test the limit.
    return f"block = bytearray({mb} << 20)\nblock[::4096] = b'x' * len(block[::4096])\n" + PLOT


def test_memory_just_under_the_limit_renders_and_just_over_fails(limited: Renderer) -> None:
    under = limited.render(_allocate(LIMITS.memory_mb - 40), "under.py")
    assert under.ok, under.error
    over = limited.render(_allocate(LIMITS.memory_mb + 40), "over.py")
    assert over.failure == "memory", over.error


def _burn(cpu_s: float) -> str:
    return (
        f"import time\nend = time.process_time() + {cpu_s}\nwhile time.process_time() < end:\n    pass\n"
        + PLOT
    )


def test_cpu_time_under_the_limit_renders_and_over_it_is_stopped_before_the_wall_clock(
    limited: Renderer,
) -> None:
    assert limited.render(_burn(0.5), "under.py").ok
    started = time.monotonic()
    over = limited.render("while True:\n    pass\n", "spin.py")
    elapsed = time.monotonic() - started
    # The CPU-time limit (cpu_s + 1 = 2 s) fires, not the 3 s wall-clock deadline.
    assert over.failure == "timeout" and "CPU-time limit" in (over.error or ""), over.error
    assert elapsed < LIMITS.timeout_s


def test_wall_clock_under_the_limit_renders_and_over_it_is_stopped(limited: Renderer) -> None:
    under = limited.render("import time\ntime.sleep(1.5)\n" + PLOT, "under.py")
    assert under.ok, under.error
    over = limited.render("import time\ntime.sleep(10)\n" + PLOT, "over.py")
    assert over.failure == "timeout" and "wall-clock limit" in (over.error or ""), over.error


def _write(mb: float) -> str:
    return f"open('f.bin', 'wb').write(b'x' * int({mb} * (1 << 20)))\n" + PLOT


def test_file_size_under_the_limit_is_written_and_over_it_fails(limited: Renderer) -> None:
    assert limited.render(_write(LIMITS.file_size_mb - 0.1), "under.py").ok
    over = limited.render(_write(LIMITS.file_size_mb + 0.1), "over.py")
    assert over.failure == "runtime" and "File too large" in (over.error or ""), over.error


def _figure(inches: float) -> str:
    return f"import matplotlib.pyplot as plt\nplt.figure(figsize=({inches}, {inches}))\nplt.plot([0, 1])\n"


def test_figures_under_the_pixel_limit_keep_their_size_and_over_it_are_downscaled(limited: Renderer) -> None:
    import io

    from PIL import Image

    under = limited.render(_figure(9.9), "under.py")  # 990 x 990 px at 100 dpi: 980,100 px
    assert under.ok and not any("downscaled" in w for w in under.warnings)
    assert Image.open(io.BytesIO(under.pngs[0])).size == (990, 990)
    over = limited.render(_figure(10.1), "over.py")  # 1,020,100 px
    assert over.ok and any("downscaled" in w for w in over.warnings)
    w, h = Image.open(io.BytesIO(over.pngs[0])).size
    assert w * h <= LIMITS.max_pixels


def test_output_under_the_frame_limit_is_kept_and_over_it_is_refused(limited: Renderer) -> None:
    noise = ("import numpy as np\nimport matplotlib.pyplot as plt\nplt.figure(figsize=({0}, {0}))\n"
             "plt.imshow(np.random.default_rng(0).random((400, 400, 3)))\nplt.axis('off')\n")  # fmt: skip
    small = limited.render(noise.format(3), "small.py")  # ~90,000 px of noise: a few hundred kB
    assert small.ok and sum(len(p) for p in small.pngs) < LIMITS.max_output_mb << 20
    big = limited.render(noise.format(9), "big.py")  # ~810,000 px of noise: over 1 MB
    assert big.failure == "killed" and "exceeded 1 MB" in (big.error or ""), big.error


@pytest.mark.parametrize("extra", [0, 1, 5])
def test_figures_up_to_the_count_limit_are_kept_and_later_ones_dropped(limited: Renderer, extra: int) -> None:
    n = LIMITS.max_figures + extra
    script = (
        "import matplotlib.pyplot as plt\n"
        f"for i in range({n}):\n    plt.figure()\n    plt.plot([0, i + 1])\n    plt.title(f'figure {{i}}')\n"
    )
    result = limited.render(script, "many.py")
    assert result.ok and len(result.pngs) == LIMITS.max_figures
    assert len(set(result.pngs)) == LIMITS.max_figures  # the first ones, each its own
    dropped = [w for w in result.warnings if "past the limit" in w]
    assert dropped == ([f"dropped {extra} figure(s) past the limit of {LIMITS.max_figures}"] if extra else [])
    assert (
        "figure 0" in result.texts
        and f"figure {n - 1}" not in result.texts[: LIMITS.max_figures]
        or not extra
    )
