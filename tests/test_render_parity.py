"""Parity with plain ``python`` on realistic scripts (``benchmarks/realistic/``: 3D axes, seaborn,
pandas plotting, networkx layouts, scipy signal/stats/ODE/fit, colour bars, insets, log and twin axes,
``os.devnull``, ``np.random.RandomState``, several figures): every script that a fresh ``python``
renders, the sandbox renders too, with as many figures, byte-identically on every run and worker."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from scigen_rl.render import RenderConfig, Renderer

CORPUS = sorted((Path(__file__).resolve().parents[1] / "benchmarks" / "realistic").glob("*.py"))

# What a user's own run of the script does: a fresh interpreter, the script as __main__, then count
# the figures it left open (savefig and show do not close them under Agg).
PLAIN = """
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
path = sys.argv[1]
exec(compile(open(path, encoding="utf-8").read(), path, "exec"), {"__name__": "__main__", "__file__": path})
print("figures", len([n for n in plt.get_fignums() if plt.figure(n).get_children()[1:]]))
"""


def _plain(script: Path) -> int | None:
    """Figures a plain ``python`` run draws, None if it fails."""
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run([sys.executable, "-c", PLAIN, str(script)], cwd=cwd, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
    if proc.returncode != 0:
        return None
    return int(proc.stdout.split("figures")[-1])


@pytest.fixture(scope="module")
def plain() -> dict[str, int | None]:
    with ThreadPoolExecutor(2) as pool:
        return dict(zip((s.name for s in CORPUS), pool.map(_plain, CORPUS), strict=True))


@pytest.fixture(scope="module")
def renderer() -> Iterator[Renderer]:
    with Renderer(RenderConfig(workers=2, timeout_s=60)) as r:
        yield r


def test_the_corpus_is_there_and_plain_python_renders_it(plain: dict[str, int | None]) -> None:
    assert len(CORPUS) >= 20
    assert all(n for n in plain.values()), (
        plain
    )  # a corpus script that plain python cannot run is a bug of ours


@pytest.mark.parametrize("script", CORPUS, ids=lambda p: p.stem)
def test_the_sandbox_renders_what_plain_python_renders(
    renderer: Renderer, plain: dict[str, int | None], script: Path
) -> None:
    code = script.read_text(encoding="utf-8")
    runs = list(renderer.map([(script.name, code)] * 3))  # on both workers, one after another
    first = runs[0]
    assert first.ok == (plain[script.name] is not None), first.error
    assert len(first.pngs) == plain[script.name]
    assert all(r.pngs == first.pngs for r in runs[1:])  # byte-identical, whichever worker and order
