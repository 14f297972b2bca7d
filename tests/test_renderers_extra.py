"""The RDKit, schemdraw and Graphviz renderers in the real sandbox: the shipped examples render
byte-identically, each capture rule holds, and hostile inputs are contained and classified."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from scigen_rl.render import RenderConfig, Renderer

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = {
    name: sorted((REPO / "benchmarks" / name).iterdir()) for name in ("rdkit", "schemdraw", "graphviz")
}


def _config(renderer: str) -> RenderConfig:
    return RenderConfig(renderer=renderer, workers=1, timeout_s=3.0, memory_mb=512, preload=[])


@pytest.fixture(scope="module")
def rdkit() -> Iterator[Renderer]:
    with Renderer(_config("rdkit")) as r:
        yield r


@pytest.fixture(scope="module")
def schemdraw() -> Iterator[Renderer]:
    with Renderer(_config("schemdraw")) as r:
        yield r


@pytest.fixture(scope="module")
def graphviz() -> Iterator[Renderer]:
    pytest.importorskip("pygraphviz", reason="pygraphviz (the Graphviz library, in-process) is not installed")
    with Renderer(_config("graphviz")) as r:
        yield r


def _image(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _script(src: str) -> str:
    return textwrap.dedent(src).strip() + "\n"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_shipped_examples_render_byte_identically_on_two_workers(
    name: str, request: pytest.FixtureRequest
) -> None:
    first: Renderer = request.getfixturevalue(name)
    assert first.isolation["namespaces"] == "on" and first.isolation["seccomp"] == "on"
    assert len(EXAMPLES[name]) >= 4
    with Renderer(_config(name)) as second:
        for path in EXAMPLES[name]:
            code = path.read_text()
            a, b, c = (
                first.render(code, path.name),
                first.render(code, path.name),
                second.render(code, path.name),
            )
            assert a.ok, (path.name, a.failure, a.error)
            assert len(a.pngs) == 1 and a.pngs == b.pngs == c.pngs, path.name
            image = _image(a.pngs[0])
            assert image.mode == "RGB" and min(image.size) > 50
            lo, hi = image.convert("L").getextrema()
            assert hi - lo > 100  # something was drawn
            assert a.warnings == c.warnings


# --- RDKit -----------------------------------------------------------------------------------------
MOL = "from rdkit import Chem\nfrom rdkit.Chem import Draw\nm = Chem.MolFromSmiles('c1ccccc1O')\n"


@pytest.mark.parametrize(
    ("src", "figures"),
    [
        (MOL + "Draw.MolToImage(m, legend='phenol').save('out/p.png')\n", 1),  # a missing folder: fails
        (
            MOL
            + "import os\nos.mkdir('out')\nDraw.MolToImage(m).save('out/p.png')\nDraw.MolToFile(m, 'a.png', size=(200, 200))\n",
            2,
        ),
        (MOL + "img = Draw.MolToImage(m)\n", 1),  # drawn, never saved: still captured
        (
            MOL
            + "show(m)\ndisplay(Draw.MolToImage(m, size=(200, 200)))\nDraw.MolToImage(m, size=(250, 250)).show()\n",
            3,
        ),
        (
            MOL + "from rdkit.Chem.Draw import rdMolDraw2D\nd = rdMolDraw2D.MolDraw2DCairo(300, 200)\n"
            "d.DrawMolecule(m)\nd.FinishDrawing()\nopen('x.png', 'wb').write(d.GetDrawingText())\n",
            1,
        ),
        (
            MOL
            + "from rdkit.Chem.Draw import rdMolDraw2D\nd = rdMolDraw2D.MolDraw2DCairo(300, 200)\nd.DrawMolecule(m)\nd.FinishDrawing()\n",
            1,
        ),
        (MOL + "import matplotlib.pyplot as plt\nplt.imshow(Draw.MolToImage(m))\nplt.title('phenol')\n", 1),
    ],
    ids=["missing-folder", "files", "left-over", "show", "cairo-bytes", "cairo-left-over", "matplotlib"],
)
def test_rdkit_captures_what_scripts_write_show_or_leave(rdkit: Renderer, src: str, figures: int) -> None:
    result = rdkit.render(src, "mol.py")
    if "out/p.png" in src and "mkdir" not in src:
        assert result.failure == "runtime" and "FileNotFoundError" in (result.error or "")
        return
    assert result.ok, result.error
    assert len(result.pngs) == figures
    if "legend='phenol'" in src or "title('phenol')" in src:
        assert "phenol" in result.texts


def test_rdkit_failures_are_classified_with_rdkits_own_message(rdkit: Renderer) -> None:
    bad = rdkit.render(
        "from rdkit import Chem\nfrom rdkit.Chem import Draw\nDraw.MolToImage(Chem.MolFromSmiles('C1CC'))\n",
        "bad.py",
    )
    again = rdkit.render(
        "from rdkit import Chem\nfrom rdkit.Chem import Draw\nDraw.MolToImage(Chem.MolFromSmiles('C1CC'))\n",
        "bad.py",
    )
    assert bad.failure == "runtime" and "Null molecule" in (bad.error or "")
    assert any(w.startswith("SMILES Parse Error") for w in bad.warnings), bad.warnings  # no clock time
    assert bad.warnings == again.warnings
    nothing = rdkit.render("from rdkit import Chem\nm = Chem.MolFromSmiles('CCO')\n", "nothing.py")
    assert nothing.failure == "no_figure"
    assert rdkit.render("from rdkit import Chem\nChem.MolFromSmiles(\n", "syntax.py").failure == "syntax"


def test_rdkit_unseeded_conformers_render_identically(rdkit: Renderer) -> None:
    src = "from rdkit import Chem\nfrom rdkit.Chem import AllChem\nm = Chem.AddHs(Chem.MolFromSmiles('CCCCO'))\nAllChem.EmbedMolecule(m)\nAllChem.EmbedMultipleConfs(m, 3)\nshow(m)\n"
    results = [rdkit.render(src, "embed.py") for _ in range(2)]
    assert all(r.ok for r in results) and results[0].pngs == results[1].pngs


@pytest.mark.parametrize(
    "smiles_expr",
    ["'C' * 100000", "'.'.join(['c1ccc2ccccc2c1'] * 3000)"],
    ids=["long-chain", "many-ring-systems"],
)
def test_rdkit_pathological_molecules_hit_a_limit_and_the_worker_survives(
    rdkit: Renderer, smiles_expr: str
) -> None:
    restarts = rdkit.restarts
    src = f"from rdkit import Chem\nfrom rdkit.Chem import Draw\nDraw.MolToImage(Chem.MolFromSmiles({smiles_expr}), size=(800, 800)).save('m.png')\n"
    result = rdkit.render(src, "huge.py")
    assert result.failure in ("timeout", "memory"), (result.failure, result.error)
    assert rdkit.restarts == restarts
    assert rdkit.render(MOL + "show(m)\n", "after.py").ok


def test_rdkit_scripts_get_the_same_sandbox(rdkit: Renderer, tmp_path: Path) -> None:
    target = tmp_path / "escaped.png"
    for src in (
        "import socket\nsocket.create_connection(('127.0.0.1', 9))\n",
        MOL + f"Draw.MolToImage(m).save({str(target)!r})\n",
        MOL + "Draw.MolToFile(m, '/usr/lib/planted.png')\n",
        "import os\nos.fork()\n",
    ):
        result = rdkit.render(src, "hostile.py")
        assert result.failure == "runtime", (src, result.failure, result.error)
        assert "Error" in (result.error or "")
    assert not target.exists() and not Path("/usr/lib/planted.png").exists()


# --- schemdraw -------------------------------------------------------------------------------------
CIRCUIT = "import schemdraw\nimport schemdraw.elements as elm\n"


@pytest.mark.parametrize(
    "body",
    [
        "with schemdraw.Drawing() as d:\n    elm.Resistor().label('R1')\n    elm.Capacitor().down()\n",
        "d = schemdraw.Drawing()\nd += elm.Resistor().label('R1')\nd += elm.Diode().down()\nd.save('c.svg')\n",
        "d = schemdraw.Drawing()\nd.add(elm.Resistor().label('R1'))\nd.add(elm.Battery().down())\n",
        "schemdraw.use('svg')\nd = schemdraw.Drawing(canvas='svg')\nd += elm.Resistor().label('R1')\nd.draw()\n",
    ],
    ids=["context", "save-svg", "never-drawn", "svg-backend"],
)
def test_schemdraw_captures_each_drawing_once(schemdraw: Renderer, body: str) -> None:
    result = schemdraw.render(CIRCUIT + body, "circuit.py")
    assert result.ok, result.error
    assert len(result.pngs) == 1 and "R1" in result.texts
    assert schemdraw.render(CIRCUIT + body, "circuit.py").pngs == result.pngs


def test_schemdraw_two_drawings_are_two_figures_and_an_empty_one_is_none(schemdraw: Renderer) -> None:
    two = (
        CIRCUIT
        + "for part in (elm.Resistor, elm.Inductor):\n    with schemdraw.Drawing() as d:\n        part().label(part.__name__)\n"
    )
    result = schemdraw.render(two, "two.py")
    assert result.ok and len(result.pngs) == 2
    assert schemdraw.render(CIRCUIT + "d = schemdraw.Drawing()\n", "empty.py").failure == "no_figure"


@pytest.mark.parametrize(
    ("src", "failure"),
    [
        ("import socket\nsocket.create_connection(('127.0.0.1', 9))\n", "runtime"),
        (
            CIRCUIT
            + "d = schemdraw.Drawing()\nd += elm.Resistor()\nd.save('/etc/planted.png')\nopen('/etc/planted', 'w')\n",
            "runtime",
        ),
        ("import subprocess\nsubprocess.run(['true'])\n", "runtime"),
        ("b = bytearray(8 * 1024**3)\n", "memory"),
        ("while True:\n    pass\n", "timeout"),
        ("import os\nos._exit(3)\n", "killed"),
        (CIRCUIT + "elm.Resistor(\n", "syntax"),
    ],
    ids=["socket", "write-outside", "subprocess", "memory", "spin", "exit", "syntax"],
)
def test_schemdraw_hostile_scripts_are_contained_like_matplotlibs(
    schemdraw: Renderer, src: str, failure: str
) -> None:
    result = schemdraw.render(src, "hostile.py")
    assert result.failure == failure, result.error
    assert not Path("/etc/planted").exists()


# --- Graphviz --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "dot",
    [
        'digraph { a [image="/etc/passwd"]; a -> b }',
        'digraph { node [image="/etc/hostname"]; a -> b }',
        'digraph { a [shape=box, shapefile="/etc/passwd"]; a -> b }',
        'digraph { fontpath="/etc"; a -> b }',
        'digraph { imagepath="/etc:/root"; a -> b }',
        'digraph { a [label=<<TABLE><TR><TD><IMG SRC="/etc/passwd"/></TD></TR></TABLE>>]; a -> b }',
        'digraph { "ima" + "ge" = "/etc/passwd"; subgraph s { x [ "image" = "/etc/passwd" ] } }',
    ],
    ids=["image", "node-default", "shapefile", "fontpath", "imagepath", "html-img", "quoted"],
)
def test_graphviz_refuses_graphs_that_name_files(graphviz: Renderer, dot: str) -> None:
    result = graphviz.render(dot, "files.dot")
    assert result.failure == "runtime", result.error
    assert "not allowed" in (result.error or "")
    assert "root:" not in (result.error or "")


def test_graphviz_safe_mode_refuses_files_even_past_the_check(tmp_path: Path) -> None:
    """The second layer alone, in a fresh interpreter: with the library's safe mode on, a graph that
    names a readable image draws without it; without it, the image's pixels are in the picture."""
    pytest.importorskip("pygraphviz")
    red = tmp_path / "red.png"
    Image.new("RGB", (40, 40), (255, 0, 0)).save(red)
    probe = textwrap.dedent(f"""
        import io, sys
        import pygraphviz
        from PIL import Image
        from scigen_rl.render import graphviz_dot
        if sys.argv[1] == "safe":
            graphviz_dot.enable_safe_mode()
            assert graphviz_dot.safe_mode_enabled()
        png = pygraphviz.AGraph(string='digraph {{ a [image="{red}", label=""]; a -> b }}').draw(format="png:cairo", prog="dot")
        pixels = Image.open(io.BytesIO(png)).convert("RGB").get_flattened_data()
        print(sum(1 for p in pixels if p == (255, 0, 0)))
    """)
    counts = {}
    for mode in ("safe", "plain"):
        done = subprocess.run(
            [sys.executable, "-c", probe, mode], capture_output=True, text=True, cwd=REPO, timeout=60
        )
        assert done.returncode == 0, done.stderr
        counts[mode] = int(done.stdout.split()[-1])
        if mode == "safe":
            assert "unsafe" in done.stderr or "file loading is disabled" in done.stderr
    assert counts == {"safe": 0, "plain": counts["plain"]} and counts["plain"] > 1000


def test_graphviz_draws_in_process_under_seccomp(graphviz: Renderer) -> None:
    """seccomp refuses execve in every script's process: a graph that renders was drawn in-process."""
    assert graphviz.isolation["seccomp"] == "on"
    for engine in ("dot", "neato", "circo", "fdp", "twopi"):
        result = graphviz.render(f"graph {{ layout={engine}; a -- b -- c -- a; c -- d }}", f"{engine}.dot")
        assert result.ok, (engine, result.error)
        assert set(result.texts) == {"a", "b", "c", "d"}


@pytest.mark.parametrize(
    ("dot", "failure", "needle"),
    [
        ("digraph { a -> }", "syntax", "syntax error"),
        ("digraph { layout=nosuch; a -> b }", "runtime", "unknown layout engine"),
        (
            "digraph {" + ";".join(f"n{i} -> n{i + 1}" for i in range(200_000)) + "}",
            ("timeout", "memory"),
            "",
        ),
    ],
    ids=["syntax", "engine", "200k-nodes"],
)
def test_graphviz_failures_are_classified(graphviz: Renderer, dot: str, failure: object, needle: str) -> None:
    restarts = graphviz.restarts
    result = graphviz.render(dot, "bad.dot")
    assert result.failure in (failure if isinstance(failure, tuple) else (failure,)), result.error
    assert needle in (result.error or "")
    assert graphviz.restarts == restarts
    assert graphviz.render("digraph { a -> b }", "after.dot").ok


def test_graphviz_size_and_dpi_cannot_exceed_the_pixel_cap(graphviz: Renderer) -> None:
    result = graphviz.render('digraph { size="1000,1000!"; dpi=3000; margin=500; a -> b }', "huge.dot")
    assert result.ok, result.error
    width, height = _image(result.pngs[0]).size
    assert width * height <= 16_000_000
    assert any(w.startswith("downscaled") for w in result.warnings)


def test_graphviz_out_of_memory_is_a_memory_failure() -> None:
    """Graphviz ends its process when an allocation fails: classified ``memory``, the worker lives on."""
    pytest.importorskip("pygraphviz")
    dot = "digraph {" + ";".join(f"n{i} -> n{i + 1}" for i in range(200_000)) + "}"
    with Renderer(RenderConfig(renderer="graphviz", workers=1, timeout_s=30, memory_mb=48, preload=[])) as r:
        result = r.render(dot, "big.dot")
        assert result.failure == "memory", result.error
        assert "Graphviz" in (result.error or "")
        assert r.render("digraph { a -> b }", "after.dot").ok and r.restarts == 0
