r"""The TikZ renderer in the real sandbox, with the real TeX engine: the shipped examples render
byte-identically, hostile documents (``\write18``, ``\input{/etc/passwd}``, an endless ``\loop``,
page and size bombs) are contained and classified, and the seccomp filter lets a job start exactly
the engine and nothing else."""

from __future__ import annotations

import io
import os
import platform
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from scigen_rl.render import RenderConfig, Renderer, RendererUnavailable, _linux
from scigen_rl.render.renderers import unavailable

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "benchmarks" / "tikz").glob("*.tex"))
NO_TEX = unavailable("tikz")
needs_tex = pytest.mark.skipif(NO_TEX is not None, reason=f"TikZ cannot run here: {NO_TEX}")


def _config(**kw: object) -> RenderConfig:
    base: dict[str, object] = dict(renderer="tikz", workers=1, timeout_s=4.0, memory_mb=512, preload=[])
    return RenderConfig(**{**base, **kw})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tikz() -> Iterator[Renderer]:
    if NO_TEX is not None:
        pytest.skip(f"TikZ cannot run here: {NO_TEX}")
    with Renderer(_config()) as r:
        yield r


def _doc(body: str, preamble: str = "", cls: str = "standalone") -> str:
    return f"\\documentclass{{{cls}}}\n{preamble}\n\\begin{{document}}\n{textwrap.dedent(body).strip()}\n\\end{{document}}\n"


def _image(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _words(result: object) -> str:
    return " ".join(result.texts)  # type: ignore[attr-defined]


@needs_tex
def test_the_shipped_examples_render_byte_identically_on_two_workers(tikz: Renderer) -> None:
    assert tikz.isolation["namespaces"] == "on" and tikz.isolation["seccomp"] == "on"
    assert tikz.isolation["preloaded"] == []  # LaTeX jobs get no Python modules preloaded
    assert len(EXAMPLES) >= 4
    with Renderer(_config()) as second:
        for path in EXAMPLES:
            code = path.read_text()
            a, b, c = (
                tikz.render(code, path.name),
                tikz.render(code, path.name),
                second.render(code, path.name),
            )
            assert a.ok, (path.name, a.failure, a.error)
            assert len(a.pngs) == 1 and a.pngs == b.pngs == c.pngs, path.name
            image = _image(a.pngs[0])
            assert image.mode == "RGB" and min(image.size) > 50
            lo, hi = image.convert("L").getextrema()
            assert hi - lo > 100
            assert a.texts and a.texts == c.texts and a.warnings == c.warnings == []


@needs_tex
def test_the_picture_is_cropped_to_what_is_drawn_at_the_configured_scale(tikz: Renderer) -> None:
    r"""A 2 cm square on an A4 article page: the PNG is the square plus the 4 pt margin, not the page."""
    body = r"\thispagestyle{empty}\noindent\begin{tikzpicture}\fill (0,0) rectangle (2,2);\end{tikzpicture}"
    result = tikz.render(_doc(body, r"\usepackage{tikz}", cls="article"), "square.tex")
    assert result.ok, result.error
    width, height = _image(result.pngs[0]).size
    dpi = 100 * RenderConfig().tex_scale  # the page is rasterised at dpi x tex_scale
    side = 2 / 2.54 * dpi  # 2 cm
    margin = 2 * 4 / 72 * dpi
    assert abs(width - (side + margin)) <= 3 and abs(height - (side + margin)) <= 3
    with Renderer(_config(tex_scale=RenderConfig().tex_scale * 2)) as fine:
        width2, _ = _image(
            fine.render(_doc(body, r"\usepackage{tikz}", cls="article"), "square.tex").pngs[0]
        ).size
    assert abs(width2 - 2 * width) <= 4


@needs_tex
def test_a_bare_picture_is_wrapped_in_a_standalone_document(tikz: Renderer) -> None:
    bare = tikz.render(r"\begin{tikzpicture}\draw (0,0) circle (1) node {bare};\end{tikzpicture}", "bare.tex")
    circuit = tikz.render(r"\begin{circuitikz}\draw (0,0) to[R, l=$R_1$] (2,0);\end{circuitikz}", "c.tex")
    plot = tikz.render(r"\begin{tikzpicture}\begin{axis}\addplot {x^2};\end{axis}\end{tikzpicture}", "p.tex")
    for result in (bare, circuit, plot):
        assert result.ok, result.error
    assert "bare" in _words(bare) and "R" in _words(circuit)


@needs_tex
def test_dates_are_fixed_so_renders_repeat(tikz: Renderer) -> None:
    doc = _doc(r"\begin{tikzpicture}\node {\today{} \the\time};\end{tikzpicture}", r"\usepackage{tikz}")
    a, b = tikz.render(doc, "date.tex"), tikz.render(doc, "date.tex")
    assert a.ok and a.pngs == b.pngs
    assert "1970" in _words(a)


# --- hostile documents --------------------------------------------------------------------------------
@needs_tex
def test_shell_escape_is_off_and_runs_nothing(tikz: Renderer) -> None:
    body = r"""
    \immediate\write18{echo ran > pwned.tex}
    \begin{tikzpicture}
    \node {\ifnum\pdfshellescape=0 escape-off\else escape-on\fi{}
           \IfFileExists{pwned.tex}{command-ran}{command-did-not-run}};
    \end{tikzpicture}
    """
    result = tikz.render(_doc(body, r"\usepackage{tikz}"), "w18.tex")
    assert result.ok, result.error
    words = _words(result)
    assert "escape-off" in words and "command-did-not-run" in words
    piped = tikz.render(_doc(r'\input|"echo piped"'), "pipe.tex")
    assert piped.failure == "runtime" and "piped" not in _words(piped)


@pytest.mark.parametrize("path", ["/etc/passwd", "../../../../../etc/passwd", "/etc/hostname"])
@needs_tex
def test_files_outside_tex_are_refused(tikz: Renderer, path: str) -> None:
    result = tikz.render(_doc(f"\\input{{{path}}}"), "input.tex")
    assert result.status == "failed" and result.failure == "runtime"
    assert "refused to open" in (result.error or "")
    assert "root:" not in (result.error or "")
    probe = _doc(
        f"\\begin{{tikzpicture}}\\node {{\\IfFileExists{{{path}}}{{readable}}{{refused}}"
        r" \IfFileExists{article.cls}{found}{missing}};\end{tikzpicture}",
        r"\usepackage{tikz}",
    )
    probed = tikz.render(probe, "probe.tex")
    assert probed.ok and "refused" in _words(probed) and "found" in _words(probed)


@needs_tex
def test_writing_outside_the_job_is_refused(tikz: Renderer) -> None:
    body = r"\immediate\openout5=/tmp/escaped.tex \immediate\write5{x}\immediate\closeout5 x"
    result = tikz.render(_doc(body), "out.tex")
    assert result.status == "failed" and "refused to open /tmp/escaped.tex" in (result.error or "")
    assert not Path("/tmp/escaped.tex").exists()


@needs_tex
def test_an_endless_loop_is_a_timeout_and_the_worker_survives() -> None:
    with Renderer(_config(timeout_s=2.0)) as r:
        result = r.render(_doc(r"\loop\iftrue\repeat"), "loop.tex")
        assert result.failure == "timeout"
        again = r.render(
            _doc(r"\begin{tikzpicture}\draw (0,0)--(1,1);\end{tikzpicture}", r"\usepackage{tikz}"), "ok.tex"
        )
        assert again.ok, again.error


@needs_tex
def test_the_engine_has_its_own_cpu_limit() -> None:
    """With a long wall-clock limit, the CPU limit inherited by the engine ends the loop."""
    with Renderer(_config(timeout_s=30.0, cpu_s=1.0)) as r:
        result = r.render(_doc(r"\loop\iftrue\repeat"), "loop.tex")
        assert result.failure == "timeout" and "CPU-time" in (result.error or "")
        assert result.seconds < 15


@needs_tex
def test_endless_recursion_is_a_memory_failure(tikz: Renderer) -> None:
    result = tikz.render(_doc(r"\def\x{\x x}\x"), "rec.tex")
    assert result.failure == "memory" and "capacity exceeded" in (result.error or "")


@needs_tex
def test_the_engine_runs_under_the_memory_limit(tikz: Renderer) -> None:
    r"""The engine gets ``memory_mb`` as its own address-space limit: too little, and the renderer says so
    at start; TeX's own memory is bounded too (a macro doubling forever), and the worker survives."""
    with pytest.raises(RuntimeError, match="cannot run within memory_mb=48.*memory exhausted"):
        Renderer(_config(memory_mb=48)).start()
    doubling = r"\def\a{0123456789}\loop\edef\a{\a\a}\iftrue\repeat"
    result = tikz.render(_doc(doubling), "big.tex")
    assert result.failure in ("memory", "timeout"), (result.failure, result.error)
    small = _doc(r"\begin{tikzpicture}\draw (0,0)--(1,1);\end{tikzpicture}", r"\usepackage{tikz}")
    assert tikz.render(small, "ok").ok


@needs_tex
def test_a_huge_page_is_rasterised_within_the_pixel_cap() -> None:
    body = r"\begin{tikzpicture}\draw[line width=20pt] (0,0) rectangle (500,500);\end{tikzpicture}"
    with Renderer(_config(max_pixels=1_000_000)) as r:
        result = r.render(_doc(body, r"\usepackage{tikz}"), "huge.tex")
    assert result.ok, result.error
    width, height = _image(result.pngs[0]).size
    assert width * height <= 1_000_000 and min(width, height) > 500
    assert any(w.startswith("downscaled") for w in result.warnings)


@needs_tex
def test_pages_past_max_figures_are_dropped_with_a_warning(tikz: Renderer) -> None:
    pictures = "\n".join(rf"\begin{{tikzpicture}}\node {{page{i}}};\end{{tikzpicture}}" for i in range(12))
    doc = _doc(pictures).replace(r"\documentclass{standalone}", r"\documentclass[tikz]{standalone}")
    result = tikz.render(doc, "pages.tex")
    assert result.ok, result.error
    assert len(result.pngs) == 8
    assert any("12 pages" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("code", "failure", "needle"),
    [
        ("import matplotlib.pyplot as plt", "syntax", "not a LaTeX document"),
        (r"\documentclass{article} no document body", "syntax", "begin{document}"),
        (_doc(r"\textbf{unclosed"), "syntax", "File ended"),
        (_doc(r"\undefinedmacro"), "runtime", "Undefined control sequence"),
        (_doc("", r"\usepackage{nosuchpackage}"), "runtime", "nosuchpackage.sty"),
        (_doc("", cls="article"), "no_figure", "no page"),
        (
            _doc(
                r"\begin{tikzpicture}\fill[white] (0,0) rectangle (1,1);\end{tikzpicture}",
                r"\usepackage{tikz}",
            ),
            "blank",
            "uniform",
        ),
    ],
)
@needs_tex
def test_failures_are_classified_with_texs_own_message(
    tikz: Renderer, code: str, failure: str, needle: str
) -> None:
    result = tikz.render(code, "bad.tex")
    assert (result.status, result.failure) == ("failed", failure), result.error
    assert needle in (result.error or "")


# --- the engine is the one program a job may start -----------------------------------------------------
def _in_filtered_child(test: str) -> str:
    """Run ``test`` (Python source) in a fresh interpreter that installs the exec-pinned filter for
    ``/bin/sh`` first; its printed output."""
    prelude = textwrap.dedent(
        """
        import ctypes, os, sys
        from scigen_rl.render import _linux
        libc = ctypes.CDLL(None, use_errno=True)
        libc.execve.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        path = ctypes.create_string_buffer(b"/bin/sh")
        args = [ctypes.create_string_buffer(a) for a in (b"sh", b"-c", b"echo shell-started; exec /bin/true")]
        argv = (ctypes.c_char_p * 4)(*[ctypes.cast(a, ctypes.c_char_p) for a in args], None)
        envp = (ctypes.c_char_p * 2)(b"PATH=/bin:/usr/bin", None)
        _linux.install_seccomp_filter((ctypes.addressof(path), ctypes.addressof(argv)))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(test)], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


@pytest.mark.skipif(not _linux.seccomp_supported(), reason=f"no seccomp table for {platform.machine()}")
def test_the_filter_allows_execve_only_with_the_pinned_path_and_argv() -> None:
    out = _in_filtered_child(
        """
        other = ctypes.create_string_buffer(b"/bin/sh")  # the same path at another address
        for p, a in ((ctypes.addressof(other), ctypes.addressof(argv)), (ctypes.addressof(path), ctypes.addressof(envp))):
            r = libc.execve(p, a, ctypes.addressof(envp))
            print("refused" if r == -1 and ctypes.get_errno() == 1 else "allowed?")
        try:
            os.execv("/bin/true", ["true"])
        except PermissionError:
            print("execv-refused")
        pid = os.fork()
        if pid == 0:
            libc.execve(ctypes.addressof(path), ctypes.addressof(argv), ctypes.addressof(envp))
            os._exit(99)
        print("child", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        """
    )
    assert out.count("refused") == 3 and "allowed?" not in out, out
    # The pinned program started (in a forked child); inside it, executing any other program fails.
    assert "shell-started" in out and "exec: /bin/true: Operation not permitted" in out, out


@pytest.mark.skipif(not _linux.seccomp_supported(), reason=f"no seccomp table for {platform.machine()}")
def test_the_pinned_filter_refuses_new_namespaces_and_the_default_one_refuses_fork() -> None:
    out = _in_filtered_child(
        """
        SIGCHLD = 17
        nr = {"x86_64": 56, "aarch64": 220}[os.uname().machine]
        libc.syscall.restype = ctypes.c_long
        r = libc.syscall(ctypes.c_long(nr), ctypes.c_ulong(_linux.CLONE_NEWUSER | SIGCHLD), None, None, None, None)
        print("clone-newuser", "refused" if r == -1 and ctypes.get_errno() == 1 else f"allowed {r}")
        if r == 0:
            os._exit(0)
        """
    )
    assert "clone-newuser refused" in out, out
    proc = subprocess.run(
        [sys.executable, "-c", "import os\nfrom scigen_rl.render import _linux\n_linux.install_seccomp_filter()\n"
         "try:\n    os.fork()\nexcept PermissionError:\n    print('fork-refused')\n"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert "fork-refused" in proc.stdout, proc.stderr


def test_a_missing_engine_is_refused_before_any_worker_starts_with_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(RendererUnavailable, match="texlive-pictures"):
        Renderer(_config(tex_engine=str(tmp_path / "pdflatex")))
    engine = tmp_path / "bin" / "pdflatex"  # an engine with no TeX installation around it
    engine.parent.mkdir()
    engine.write_text("#!/bin/sh\nexit 0\n")
    engine.chmod(0o755)
    with pytest.raises(RendererUnavailable, match="kpsewhich"):
        Renderer(_config(tex_engine=str(engine)))
    proc = subprocess.run(
        [sys.executable, "-m", "scigen_rl.cli", "render", "--renderer", "tikz", "--tex-engine", str(engine),
         str(EXAMPLES[0]), "--out-dir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, env=dict(os.environ),
    )  # fmt: skip
    assert proc.returncode == 2 and "kpsewhich" in proc.stderr, proc.stderr
    assert not list((tmp_path / "out").glob("*.png"))
