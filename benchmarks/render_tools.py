"""Cost per figure of the non-matplotlib renderers: the sandbox against a cold start of the same tool.

For each renderer (``rdkit``, ``schemdraw``, ``graphviz``, ``tikz``) its shipped examples
(``benchmarks/rdkit/*.py``, ``benchmarks/schemdraw/*.py``, ``benchmarks/graphviz/*.dot``,
``benchmarks/tikz/*.tex``) are drawn to PNG at the same DPI two ways:

(a) ``cold``: what a naive pipeline does per figure, one figure at a time, unsandboxed, each in a
    fresh temporary directory:

    - rdkit: a fresh ``python -c`` that imports RDKit and matplotlib (Agg), execs the example and
      saves any matplotlib figure to PNG. The examples save their pictures themselves, in various
      ways (``img.save``, ``MolDraw2DCairo`` bytes, ``plt.savefig``), so a figure counts as drawn
      when that process exits 0;
    - schemdraw: a fresh ``python -c`` that imports schemdraw (matplotlib backend, Agg), execs the
      example and saves every matplotlib figure it drew to PNG; success is exit status 0;
    - graphviz: a fresh ``python -c`` that imports pygraphviz and lays out and draws the DOT to PNG
      in-process (``AGraph.draw(format="png:cairo", prog=layout)``, as the sandbox does: no ``dot``
      program is needed); success is exit status 0 and a non-empty PNG;
    - tikz: ``pdflatex -no-shell-escape -interaction=batchmode -halt-on-error`` on the document (a
      bare ``tikzpicture`` wrapped in a standalone document as the sandbox wraps it), then a fresh
      ``python -c`` that rasterises every page of the PDF with pypdfium2 at the same DPI and saves
      PNGs: two processes per figure, as a shell pipeline would run them; success is both exiting 0.

(b) ``sandbox1``: the sandboxed ``Renderer`` with one worker, the figures one after another.

``speedup_vs_cold`` is cold / sandbox1 per renderer. Start-up of the renderer's worker (its
imports and warm-up figure; for ``tikz`` one warm-up compile) is reported as ``startup_s`` but not
counted: a pipeline pays it once. The sandboxed pass runs ``--repeat`` times on the same worker and
keeps its fastest; the cold pass runs once. A renderer this machine cannot run
(``renderers.unavailable``) is skipped, its reason printed to stderr and listed under ``skipped``.
The last line printed is one JSON object: a ``renderers`` object per renderer, the same numbers as
flat ``<renderer>_<key>`` fields (what ``benchmarks/median.py`` takes medians of), and ``skipped``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RENDERERS = ("rdkit", "schemdraw", "graphviz", "tikz")
EXAMPLES = {
    "rdkit": "rdkit/*.py",
    "schemdraw": "schemdraw/*.py",
    "graphviz": "graphviz/*.dot",
    "tikz": "tikz/*.tex",
}

# argv: script path, dpi. Run in a fresh temporary directory (what the script writes lands there).
PYTHON_RUNNER = """
import io, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
{imports}
source = open(sys.argv[1], encoding="utf-8").read()
exec(compile(source, sys.argv[1], "exec"), {{"__name__": "__main__"}})
for num in plt.get_fignums():
    plt.figure(num).savefig(f"figure-{{num}}.png", dpi=int(sys.argv[2]))
"""
RDKIT_IMPORTS = "from rdkit import Chem\nfrom rdkit.Chem import Draw"
SCHEMDRAW_IMPORTS = "import schemdraw\nimport schemdraw.elements\nschemdraw.use('matplotlib')"

# argv: DOT path, dpi.
GRAPHVIZ_RUNNER = """
import sys
import pygraphviz
graph = pygraphviz.AGraph(string=open(sys.argv[1], encoding="utf-8").read())
graph.graph_attr["dpi"] = sys.argv[2]
png = graph.draw(format="png:cairo", prog=str(graph.graph_attr.get("layout") or "dot"))
assert png, "Graphviz drew nothing"
open("graph.png", "wb").write(png)
"""

# argv: PDF path, dpi.
PDF_RUNNER = """
import sys
import pypdfium2
pdf = pypdfium2.PdfDocument(sys.argv[1])
assert len(pdf), "no page"
for index in range(len(pdf)):
    pdf[index].render(scale=int(sys.argv[2]) / 72).to_pil().convert("RGB").save(f"page-{index + 1}.png")
"""


def _python(runner: str, path: Path, dpi: int, cwd: str) -> bool:
    proc = subprocess.run(
        [sys.executable, "-c", runner, str(path), str(dpi)],
        cwd=cwd,
        env=dict(os.environ, MPLBACKEND="Agg"),
        capture_output=True,
    )
    return proc.returncode == 0


def _cold_tikz(source: str, engine: str, dpi: int, cwd: str) -> bool:
    Path(cwd, "figure.tex").write_text(source, encoding="utf-8")
    args = [engine, "-no-shell-escape", "-interaction=batchmode", "-halt-on-error", "figure.tex"]
    if subprocess.run(args, cwd=cwd, capture_output=True, stdin=subprocess.DEVNULL).returncode != 0:
        return False
    return _python(PDF_RUNNER, Path(cwd, "figure.pdf"), dpi, cwd)


def _tex_scale() -> float:
    from scigen_rl.render import RenderConfig

    return RenderConfig().tex_scale


def cold_steps(name: str, examples: list[Path], dpi: int) -> list[Callable[[str], bool]]:
    """Per example: draw it cold in the given fresh directory; whether it succeeded. Whatever is
    prepared here (the TeX documents, the engine's path) is not timed."""
    if name == "tikz":
        from scigen_rl.render.tex_tools import engine_path
        from scigen_rl.render.tikz_tex import document

        found = engine_path("pdflatex")
        assert found is not None, "pdflatex is not installed"
        engine = found[1]
        steps: list[Callable[[str], bool]] = []
        for path in examples:
            source = document(path.read_text(encoding="utf-8"))
            # rasterised as the sandbox does: at dpi x tex_scale
            scaled = round(dpi * _tex_scale())
            steps.append(functools.partial(_cold_tikz, source or "", engine, scaled))
        return steps
    runner = {
        "rdkit": PYTHON_RUNNER.format(imports=RDKIT_IMPORTS),
        "schemdraw": PYTHON_RUNNER.format(imports=SCHEMDRAW_IMPORTS),
        "graphviz": GRAPHVIZ_RUNNER,
    }[name]
    return [functools.partial(_python, runner, path, dpi) for path in examples]


def run_cold(name: str, examples: list[Path], dpi: int) -> tuple[float, int]:
    """(seconds, successes): each example cold, one at a time."""
    steps = cold_steps(name, examples, dpi)
    ok = 0
    started = time.perf_counter()
    for step in steps:
        with tempfile.TemporaryDirectory() as cwd:
            ok += step(cwd)
    return time.perf_counter() - started, ok


def sandbox_pass(renderer: Any, sources: list[tuple[str, str]]) -> tuple[float, int]:
    """(seconds, successes): the examples on the renderer's one worker, one after another."""
    started = time.perf_counter()
    results = list(renderer.map(sources))
    return time.perf_counter() - started, sum(r.ok for r in results)


def measure(name: str, examples: list[Path], dpi: int, repeat: int) -> dict[str, Any]:
    from scigen_rl.render import RenderConfig, Renderer

    sources = [(p.name, p.read_text(encoding="utf-8")) for p in examples]
    cold_s, cold_ok = run_cold(name, examples, dpi)
    started = time.perf_counter()
    renderer = Renderer(RenderConfig(renderer=name, workers=1, dpi=dpi)).__enter__()
    startup = time.perf_counter() - started
    best, sandbox_ok = float("inf"), 0
    try:
        for _ in range(repeat):
            seconds, sandbox_ok = sandbox_pass(renderer, sources)
            best = min(best, seconds)
    finally:
        renderer.close()
    n = len(examples)
    if cold_ok < n or sandbox_ok < n:
        print(
            f"warning: {name}: {n - cold_ok} cold and {n - sandbox_ok} sandboxed figures failed; "
            "the timings compare unequal work",
            file=sys.stderr,
        )
    return {
        "figures": n,
        "cold_s_per_figure": round(cold_s / n, 4),
        "sandbox_s_per_figure": round(best / n, 4),
        "speedup_vs_cold": round(cold_s / best, 2),
        "startup_s": round(startup, 3),
        "cold_ok": cold_ok,
        "sandbox_ok": sandbox_ok,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renderers", nargs="+", choices=RENDERERS, default=list(RENDERERS))
    parser.add_argument("--repeat", type=int, default=3, help="sandboxed passes per renderer (fastest kept)")
    parser.add_argument("--dpi", type=int, default=100)
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    from scigen_rl.render.renderers import unavailable

    print(f"dpi {args.dpi}, {os.cpu_count()} cores, {args.repeat} sandboxed passes each", flush=True)
    measured: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    for name in args.renderers:
        reason = unavailable(name)
        if reason is not None:
            print(f"skipping {name}: {reason}", file=sys.stderr, flush=True)
            skipped[name] = reason
            continue
        examples = sorted(HERE.glob(EXAMPLES[name]))
        row = measure(name, examples, args.dpi, args.repeat)
        measured[name] = row
        print(
            f"{name:<10} {row['figures']} figures  cold {row['cold_s_per_figure'] * 1000:7.1f} ms/figure "
            f"({row['cold_ok']} ok)  sandbox1 {row['sandbox_s_per_figure'] * 1000:7.1f} ms/figure "
            f"({row['sandbox_ok']} ok)  x{row['speedup_vs_cold']:.1f}  start-up {row['startup_s']:.2f} s",
            flush=True,
        )
    flat = {f"{name}_{key}": value for name, row in measured.items() for key, value in row.items()}
    print(
        json.dumps(
            {**flat, "dpi": args.dpi, "repeat": args.repeat, "renderers": measured, "skipped": skipped}
        )
    )


if __name__ == "__main__":
    main()
