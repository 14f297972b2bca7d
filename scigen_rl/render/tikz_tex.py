r"""The TikZ renderer: a LaTeX document in, compiled by a TeX engine to PDF, each page rasterised to PNG.

Runs inside the sandboxed child. The engine is a separate program, the one thing the sandbox lets
this renderer start: the worker builds the engine's path and argument list in memory before any
child exists (:func:`prepare`), and each child's seccomp filter allows ``execve`` with exactly those
two addresses and nothing else (``_linux.install_seccomp_filter(program=...)``). The engine runs in
the child's namespaces, as its uid, under its limits (its own address-space limit of
``RenderConfig.memory_mb``; CPU, file size and open files inherited), with:

- shell escape off (``-no-shell-escape`` and ``shell_escape=f``): ``\write18`` and ``\input|`` run
  nothing, and the filter would refuse the program anyway;
- kpathsea's paranoid file access (``openin_any=p``, ``openout_any=p``): no absolute path, no ``..``,
  no dot file, in or out, so ``\input{/etc/passwd}`` fails; files are found by TeX's own search;
- no font or format generation (``MKTEX*=0``: those are programs too);
- a fixed date (``SOURCE_DATE_EPOCH=0``, ``FORCE_SOURCE_DATE=1``): ``\today`` and the PDF are the
  same on every run; no network (the child has none).

A document without ``\documentclass`` (a bare ``tikzpicture`` or ``circuitikz`` picture) is wrapped
in a ``standalone`` one with TikZ, amsmath and what it uses of circuitikz and pgfplots loaded. One pass only: figures needing ``remember picture`` cross-references are not
supported. The PDF is untrusted too: it is read with PDFium (``pypdfium2``) in the same child, each
page (at most ``max_figures``) rendered at ``RenderConfig.dpi`` x ``tex_scale`` capped to ``max_pixels``, cropped to
what is drawn plus a 4 pt margin, and stored as an RGB PNG like a matplotlib figure.

Failure classes: ``syntax`` (not a LaTeX document, or TeX could not read it: a runaway argument,
unbalanced braces, a file ended inside a group), ``runtime`` (any other TeX error; the refusal to
read a file; a missing package), ``memory`` (TeX's capacity exceeded, or its memory limit),
``timeout`` (the engine used its CPU time), ``no_figure`` (no page), ``blank``.
"""

from __future__ import annotations

import ctypes
import os
import re
import resource
import signal
import time
from typing import Any

from . import capture
from .config import RenderConfig
from .renderers import script_header
from .tex_tools import engine_path, missing

PYTHON_SCRIPTS = False
"""Scripts are LaTeX, not Python: the worker preloads no Python modules for them."""
JOB = "figure"
_ENGINE_OUTPUT = "engine-output.txt"
_ARGS = ("-no-shell-escape", "-interaction=batchmode", "-halt-on-error", "-file-line-error")
_ENV = {
    "PATH": "/nonexistent",
    "LANG": "C.UTF-8",
    "openin_any": "p",
    "openout_any": "p",
    "shell_escape": "f",
    "MKTEXTFM": "0",
    "MKTEXPK": "0",
    "MKTEXMF": "0",
    "MKTEXFMT": "0",
    "MKOCP": "0",
    "MKOFM": "0",
    "SOURCE_DATE_EPOCH": "0",
    "FORCE_SOURCE_DATE": "1",
    "max_print_line": "1000",
    "error_line": "254",
    "half_error_line": "238",
}
"""The engine's whole environment (HOME and TEXMFVAR point into the job's own folder)."""
MARGIN_PT = 4.0
_MAX_LOG_BYTES = 1 << 20
_MAX_ERROR_CHARS = 2000
_MAX_TEXTS = 500
_SYNTAX_ERRORS = (
    "Runaway argument",
    "File ended while scanning",
    "Extra }, or forgotten",
    "Missing \\begin{document}",
    "Too many }'s",
    "Paragraph ended before",
)
_MEMORY_ERRORS = ("TeX capacity exceeded", "memory exhausted", "out of memory")
_WRAPPER = "\\documentclass[tikz,border=4pt]{standalone}\n\\usepackage{amsmath,amssymb}\n%s\\begin{document}\n%s\n\\end{document}\n"
_WRAPPED_PACKAGES = {"circuitikz": ("\\begin{circuitikz}",), "pgfplots": ("\\begin{axis}", "\\addplot")}
"""Packages a bare picture gets when it uses them (pgfplots with ``compat`` set to this TeX's own)."""


class _Program:
    """The engine's path and argv, in memory that lives as long as the process (their addresses are
    what the seccomp filter allows ``execve`` with)."""

    path: Any = None
    argv: Any = None
    strings: list[Any] = []  # argv's strings, kept alive with it
    engine = ""


def exec_program() -> tuple[int, int] | None:
    """(address of the engine's path, address of its argv): the one program children may start."""
    if _Program.path is None:
        return None
    return ctypes.addressof(_Program.path), ctypes.addressof(_Program.argv)


def _build_program(config: RenderConfig) -> None:
    problem = missing(config.tex_engine)
    if problem is not None:
        raise RuntimeError(f"TikZ renderer: {problem}")
    paths = engine_path(config.tex_engine)
    assert paths is not None
    path, name = paths
    args = [name.encode(), *(a.encode() for a in _ARGS), f"{JOB}.tex".encode()]
    _Program.path = ctypes.create_string_buffer(path.encode())
    _Program.strings = [ctypes.create_string_buffer(a) for a in args]
    argv = (ctypes.c_char_p * (len(args) + 1))()
    for i, buf in enumerate(_Program.strings):
        argv[i] = ctypes.cast(buf, ctypes.c_char_p)
    argv[len(args)] = None
    _Program.argv = argv
    _Program.engine = path


def _environment(job_dir: str) -> Any:
    env = dict(_ENV, HOME=job_dir, TEXMFVAR=os.path.join(job_dir, ".texmf-var"))
    items = [f"{k}={v}".encode() for k, v in env.items()]
    return (ctypes.c_char_p * (len(items) + 1))(*items, None)


def _run_engine(config: RenderConfig) -> tuple[int, Any]:
    """Start the engine on ``figure.tex`` in the working directory; its (wait status, rusage)."""
    envp = _environment(os.getcwd())
    libc = ctypes.CDLL(None, use_errno=True)
    libc.execve.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    program = exec_program()
    assert program is not None
    pid = os.fork()
    if pid == 0:  # pragma: no cover - replaced by the engine
        try:
            out = os.open(_ENGINE_OUTPUT, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out, 1)
            os.dup2(out, 2)  # kpathsea's refusals to open a file are written here, not to the log
            limit = config.memory_mb << 20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            libc.execve(program[0], program[1], ctypes.cast(envp, ctypes.c_void_p))
        finally:
            os._exit(127)
    _, status, rusage = os.wait4(pid, 0)
    return status, rusage


def _log_lines() -> list[str]:
    """The end of the engine's log, then what it wrote to its standard output and error."""
    lines = []
    for path in (f"{JOB}.log", _ENGINE_OUTPUT):
        try:
            with open(path, "rb") as f:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(0, size - _MAX_LOG_BYTES))
                lines += f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            continue
    return lines


_REFUSED = re.compile(r"Not (?:reading from|writing to) (.*?) \(open(?:in|out)_any = p\)")
_FATAL = re.compile(
    r"^(?:fatal:|kpathsea: .*(?:out of memory|exhausted))|memory exhausted|I can't write on file"
)
_FILE_LINE = re.compile(rf"^\./{JOB}\.tex:(\d+): (.*)")


def _errors(lines: list[str]) -> list[str]:
    """TeX's error messages (``! ...`` or ``./figure.tex:N: ...``), with the line that follows each."""
    errors = []
    for i, line in enumerate(lines):
        m = _FILE_LINE.match(line)
        if m or line.startswith("! "):
            message = f"line {m.group(1)}: {m.group(2)}" if m else line[2:]
            context = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if context.startswith("l.") or context.startswith("<"):
                message += f" ({context[:160]})"
            if message not in errors:
                errors.append(message[:400])
    if not errors:  # a fatal error before TeX's own reporting (memory, a file it cannot write)
        errors = [line.strip()[:400] for line in lines if _FATAL.search(line)][:3]
    refused = []
    for line in lines:
        m = _REFUSED.search(line)
        # Packages probe /dev/null (refused, harmlessly) in every run.
        if m and m.group(1) not in refused and m.group(1) != "/dev/null":
            refused.append(m.group(1))
    if refused and errors:
        return [
            f"refused to open {', '.join(refused[:3])[:300]} (no absolute paths, '..' or dot files)",
            *errors,
        ]
    return errors


def _warnings(lines: list[str]) -> list[str]:
    found = []
    for line in lines:
        if "Warning:" in line and line not in found and "Shell escape disabled" not in line:
            found.append(line.strip()[:300])
        if len(found) >= 20:
            break
    return found


def _classify(errors: list[str]) -> str:
    text = "\n".join(errors)
    if any(e in text for e in _MEMORY_ERRORS):
        return "memory"
    if text.startswith("refused to open "):
        return "runtime"
    if any(e in text for e in _SYNTAX_ERRORS):
        return "syntax"
    return "runtime"


def _failure_of(status: int, rusage: Any, config: RenderConfig, lines: list[str]) -> tuple[str, str] | None:
    """(failure class, error) of the engine's run, or None when it succeeded."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        cpu = rusage.ru_utime + rusage.ru_stime
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= config.cpu_limit_s - 0.5):
            return "timeout", f"the TeX engine used its {config.cpu_limit_s} s CPU-time limit and was killed"
        if sig == signal.SIGSEGV and not lines:
            return "memory", f"the TeX engine could not start within the {config.memory_mb} MB memory limit"
        return "killed", f"the TeX engine was killed by {signal.Signals(sig).name}"
    code = os.WEXITSTATUS(status)
    if code == 127 and not lines:
        return "runtime", f"the TeX engine {_Program.engine} could not be started"
    errors = _errors(lines)
    if code == 0 and not errors:
        return None
    if not errors:
        errors = [f"the TeX engine ended with exit status {code} and no error in its log"]
    text = "\n".join(errors)
    if len(text) > _MAX_ERROR_CHARS:
        text = text[:_MAX_ERROR_CHARS] + "..."
    return _classify(errors), text


def document(code: str) -> str | None:
    r"""The LaTeX document to compile: ``code`` itself, or a bare picture wrapped in a standalone
    document; None when ``code`` is neither (no ``\documentclass`` and nothing TikZ).

    >>> document(r"\begin{tikzpicture}\draw (0,0) -- (1,1);\end{tikzpicture}").splitlines()[0]
    '\\documentclass[tikz,border=4pt]{standalone}'
    >>> document("plt.plot([1, 2])") is None
    True
    """
    if "\\documentclass" in code:
        return code
    if not any(m in code for m in ("\\begin{tikzpicture}", "\\begin{circuitikz}", "\\tikz")):
        return None
    used = [name for name, markers in _WRAPPED_PACKAGES.items() if any(m in code for m in markers)]
    preamble = "".join(f"\\usepackage{{{name}}}\n" for name in used)
    if "pgfplots" in used:
        preamble += "\\pgfplotsset{compat=newest}\n"
    return _WRAPPER % (preamble, code.strip())


def run_script(code: str, name: str, config: RenderConfig) -> tuple[dict[str, Any], list[bytes]]:
    """Compile one LaTeX document and rasterise its pages: (result header, [PNG per page])."""
    started = time.perf_counter()
    source = document(code)
    if source is None:
        return script_header(
            started, "syntax", "not a LaTeX document: no \\documentclass and no TikZ picture"
        ), []
    if "\\begin{document}" not in source:
        return script_header(started, "syntax", "not a LaTeX document: no \\begin{document}"), []
    try:
        with open(f"{JOB}.tex", "w", encoding="utf-8") as f:
            f.write(source)
    except OSError as e:
        return script_header(started, "runtime", f"the document could not be written: {e}"), []
    status, rusage = _run_engine(config)
    lines = _log_lines()
    failure = _failure_of(status, rusage, config, lines)
    if failure is not None:
        return script_header(started, *failure), []
    warnings = _warnings(lines)
    try:
        pngs, texts, blank = _rasterise(f"{JOB}.pdf", config, warnings.append)
    except MemoryError:
        return script_header(started, "memory", "MemoryError while rasterising the PDF"), []
    except Exception as e:  # noqa: BLE001 - PDFium's errors on a PDF it cannot read
        return script_header(
            started, "runtime", f"the PDF could not be read: {type(e).__name__}: {e}"[:400]
        ), []
    if not pngs:
        return script_header(started, "blank" if blank else "no_figure", _no_pages(blank)), []
    return script_header(started, warnings=warnings[:20], texts=texts[:_MAX_TEXTS]), pngs


def _no_pages(blank: bool) -> str:
    return "every page of the PDF is a single uniform colour" if blank else "the document made no page"


def _rasterise(path: str, config: RenderConfig, warn: Any) -> tuple[list[bytes], list[str], bool]:
    """(PNG per page, the texts drawn, whether some page was blank); at most ``max_figures`` pages."""
    import pypdfium2
    from PIL import ImageChops, ImageOps

    if not os.path.exists(path):
        return [], [], False
    pdf = pypdfium2.PdfDocument(path)
    try:
        pages = len(pdf)
        if pages > config.max_figures:
            warn(f"the document has {pages} pages; only the first {config.max_figures} were kept")
        pngs: list[bytes] = []
        texts: list[str] = []
        blank = False
        for index in range(min(pages, config.max_figures)):
            page = pdf[index]
            width, height = page.get_size()
            scale = config.dpi * config.tex_scale / 72
            if width * height * scale * scale > config.max_pixels:
                scale = (config.max_pixels / max(width * height, 1e-9)) ** 0.5 * 0.999
                warn(
                    f"downscaled: page {index + 1} ({width:.0f}x{height:.0f} pt) was drawn at {scale * 72:.1f} dpi"
                )
            image = page.render(scale=scale, draw_annots=False).to_pil().convert("RGB")
            texts += [t for t in page.get_textpage().get_text_range().splitlines() if t.strip()]
            box = ImageChops.difference(image, _white(image)).getbbox()
            if box is None:
                blank = True
                continue
            pad = max(1, round(MARGIN_PT * scale))
            image = ImageOps.expand(image.crop(box), border=pad, fill="white")
            png, is_blank = capture.image_png(image, config, warn)
            if is_blank:
                blank = True
                continue
            pngs.append(png)
        return pngs, texts, blank
    finally:
        pdf.close()


def _white(image: Any) -> Any:
    from PIL import Image

    return Image.new("RGB", image.size, "white")


WARMUP_SCRIPT = r"""
\documentclass[tikz,border=4pt]{standalone}
\usepackage{amsmath}
\usetikzlibrary{arrows.meta,calc}
\begin{document}
\begin{tikzpicture}[>=Stealth]
  \coordinate (A) at (0,0); \coordinate (B) at (4,0); \coordinate (C) at (1.2,2.6);
  \draw[thick] (A) -- (B) -- (C) -- cycle;
  \node[below left] at (A) {$A$}; \node[below right] at (B) {$B$}; \node[above] at (C) {$C$};
  \draw[->] (0,-0.8) -- node[below] {$F = 10\,\mathrm{N}$} (2,-0.8);
  \draw[dashed] (C) -- ($(A)!(C)!(B)$) node[below] {$h$};
\end{tikzpicture}
\end{document}
"""
"""A representative figure: TikZ paths, nodes, math, a library (calc) and an arrow tip library."""


def prepare(config: RenderConfig) -> None:
    """Once per worker: find the engine and fix its path and argv, then compile the warm-up figure
    once (the engine's files are then in the page cache for every child)."""
    _build_program(config)
    cwd = os.getcwd()
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            header, _ = run_script(WARMUP_SCRIPT, "warmup.tex", config)
        finally:
            os.chdir(cwd)
    if header["failure"] == "memory":
        raise RuntimeError(
            f"TikZ renderer: the TeX engine cannot run within memory_mb={config.memory_mb} "
            f"({header['error']}); give it more memory"
        )
    if header["status"] != "ok":
        raise RuntimeError(
            f"TikZ renderer: the warm-up figure failed ({header['failure']}: {header['error']})"
        )
