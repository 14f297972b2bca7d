"""The Graphviz renderer: a DOT graph in, one PNG out, laid out and drawn in-process.

Runs inside the sandboxed child. The graph is parsed, laid out and drawn by the Graphviz C library
that pygraphviz links (``gvLayout`` and ``gvRenderData``): no program is run, which the sandbox's
seccomp filter would refuse anyway. The engine is the graph's ``layout`` attribute (``dot`` when
unset); the picture is drawn by the cairo plugin at ``RenderConfig.dpi`` whatever the graph asks,
at most ``max_pixels`` (the graph's ``size`` is capped so), and stored as RGB PNG like a figure.

Nothing may be read from the machine: a graph that names a file (``image``, ``shapefile``,
``imagepath``, ``fontpath``, an HTML ``<IMG>``) is refused before layout, and Graphviz's own safe
mode (what its command-line tools enable when ``SERVER_NAME`` is set, here switched on in the
library itself) refuses to load any file a graph names, as a second layer.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import math
import os
import re
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pygraphviz
from PIL import Image

from . import capture
from .config import RenderConfig
from .outcome import MEMORY_EXIT_STATUS
from .renderers import script_header

PYTHON_SCRIPTS = False
"""Scripts are DOT, not Python: the worker preloads no Python modules for them."""
ENGINES = ("dot", "neato", "fdp", "sfdp", "twopi", "circo", "osage", "patchwork")
FILE_ATTRIBUTES = ("image", "shapefile", "imagepath", "fontpath")
"""Attributes whose value is a path Graphviz would open: a graph that sets one is refused."""
_HTML_IMAGE = re.compile(r"<\s*img\b", re.I)
_MAX_ERROR_CHARS = 2000
_MAX_LABELS = 500
_safe_mode_name = ctypes.create_string_buffer(b"scigen-render")  # lives as long as the process


def graphviz_library() -> str:
    """The path of the Graphviz library (libgvc) this process has loaded through pygraphviz."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if os.path.basename(path).startswith("libgvc"):
                return path
    raise RuntimeError("pygraphviz is imported but no libgvc is mapped in this process")


def enable_safe_mode() -> None:
    """Switch on Graphviz's file-loading refusal in-process: with ``HTTPServerEnVar`` set and no
    ``GV_FILE_PATH``, the library's ``safefile`` refuses every file a graph names (images, shape
    files). Raises when the library has no such switch, so a worker never runs without it."""
    library = ctypes.CDLL(graphviz_library())
    try:
        server = ctypes.c_void_p.in_dll(library, "HTTPServerEnVar")
        file_path = ctypes.c_void_p.in_dll(library, "Gvfilepath")
    except ValueError as e:
        raise RuntimeError(f"this Graphviz library has no safe mode to switch on ({e})") from e
    server.value = ctypes.addressof(_safe_mode_name)
    file_path.value = None


def safe_mode_enabled() -> bool:
    library = ctypes.CDLL(graphviz_library())
    return ctypes.c_char_p.in_dll(library, "HTTPServerEnVar").value is not None


class _Messages:
    armed = False  # set once the worker is prepared: only the processes of scripts end this way
    hooked_pid = 0


def _exit_means_memory() -> None:
    """In a script's process: make a C ``exit()`` end it with ``MEMORY_EXIT_STATUS``.

    Graphviz ends the process with ``exit(1)`` when an allocation fails at the memory limit; nothing
    else in a Graphviz script's process calls ``exit`` (it returns its result and is ended with
    ``_exit``). The handler is libc's own ``_exit``, so it needs no memory to run."""
    if not _Messages.armed or _Messages.hooked_pid == os.getpid():
        return
    libc = ctypes.CDLL(None)
    libc.__cxa_atexit(ctypes.cast(libc._exit, ctypes.c_void_p), ctypes.c_void_p(MEMORY_EXIT_STATUS), None)
    _Messages.hooked_pid = os.getpid()


@contextlib.contextmanager
def _graphviz_messages() -> Iterator[list[str]]:
    """Collect what Graphviz writes to stderr (its errors and warnings) while the block runs."""
    messages: list[str] = []
    try:
        sink = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    except OSError:
        yield messages
        return
    saved = os.dup(2)
    os.dup2(sink.fileno(), 2)
    try:
        yield messages
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        sink.seek(0)
        text = sink.read(64 << 10).decode("utf-8", "backslashreplace")
        sink.close()
        for line in text.splitlines():
            line = " ".join(line.split())
            if line and not line.startswith("Fontconfig") and line not in messages:
                messages.append(line[:300])


def _refused(graph: pygraphviz.AGraph, code: str) -> str | None:
    """Why the graph may not be drawn (it names a file), or None."""
    declared = {*graph.graph_attr.keys(), *graph.node_attr.keys(), *graph.edge_attr.keys()}
    named = [a for a in FILE_ATTRIBUTES if a in declared]
    if named:
        return f"the graph sets {', '.join(named)}: attributes that name files are not allowed"
    if _HTML_IMAGE.search(code):
        return "the graph draws an image from a file (an HTML <IMG>): not allowed"
    return None


def _cap_size(graph: pygraphviz.AGraph, config: RenderConfig) -> float:
    """Force the configured DPI and cap ``size`` so that the picture fits ``max_pixels``; the cap in inches."""
    graph.graph_attr["dpi"] = str(config.dpi)
    if graph.graph_attr.get("resolution"):
        graph.graph_attr["resolution"] = str(config.dpi)
    cap = math.floor(math.sqrt(config.max_pixels) * 0.95) / config.dpi
    size = str(graph.graph_attr.get("size") or "")
    bang = size.endswith("!")
    try:
        parts = [float(v) for v in size.rstrip("!").split(",") if v.strip()]
    except ValueError:
        parts = []
    width, height = (parts + parts)[:2] if parts else (cap, cap)
    graph.graph_attr["size"] = f"{min(width, cap):g},{min(height, cap):g}" + ("!" if bang else "")
    for name in ("pad", "margin"):  # around the drawing, outside ``size``
        value = str(graph.graph_attr.get(name) or "")
        with contextlib.suppress(ValueError):
            if value and max(float(v) for v in value.split(",")) > 1:
                graph.graph_attr[name] = "1"
    return cap


def _labels(graph: pygraphviz.AGraph) -> list[str]:
    """The words drawn: graph, cluster, node and edge labels (a node without one shows its name)."""
    texts: list[str] = []

    def add(value: Any) -> None:
        if value and isinstance(value, str) and not value.startswith("\\"):
            texts.append(value)

    add(graph.graph_attr.get("label"))
    for sub in graph.subgraphs_iter():
        add(sub.graph_attr.get("label"))
    for n, node in enumerate(graph.nodes_iter()):
        if n >= _MAX_LABELS:
            break
        label = node.attr.get("label")
        add(str(node) if label in (None, "", "\\N") else label)
        add(node.attr.get("xlabel"))
    for n, edge in enumerate(graph.edges_iter()):
        if n >= _MAX_LABELS:
            break
        for name in ("label", "xlabel", "headlabel", "taillabel"):
            add(edge.attr.get(name))
    return texts


def run_script(code: str, name: str, config: RenderConfig) -> tuple[dict[str, Any], list[bytes]]:
    """Lay out and draw one DOT graph: (result header, [PNG]) or a failure class."""
    started = time.perf_counter()
    _exit_means_memory()
    try:
        with _graphviz_messages() as messages:
            failure, error, graph, png, cap = _draw(code, config)
    except MemoryError:
        return script_header(started, "memory", "MemoryError while laying out or drawing the graph"), []
    if failure is not None:
        return script_header(started, failure, _error(messages, error)), []
    warnings = [m for m in messages if not m.startswith("Error")]
    try:
        with Image.open(io.BytesIO(png), formats=["PNG"]) as image:
            width, height = image.size
            if max(width, height) >= cap * config.dpi - 1:
                warnings.append(f"downscaled: the graph was drawn at most {cap:g} in wide and high")
            figure, blank = capture.image_png(image, config, warnings.append)
    except MemoryError:
        return script_header(started, "memory", "MemoryError while storing the graph's picture"), []
    if blank:
        return script_header(started, "blank", "the graph's picture is a single uniform colour"), []
    return script_header(started, warnings=warnings[:20], texts=_labels(graph)[:_MAX_LABELS]), [figure]


def _draw(code: str, config: RenderConfig) -> tuple[str | None, str, Any, bytes, float]:
    """(failure class or None, error, graph, PNG, size cap in inches)."""
    try:
        graph = pygraphviz.AGraph(string=code)
    except (ValueError, TypeError) as e:
        return "syntax", str(e), None, b"", 0.0
    refusal = _refused(graph, code)
    if refusal is not None:
        return "runtime", refusal, graph, b"", 0.0
    engine = str(graph.graph_attr.get("layout") or "dot")
    if engine not in ENGINES:
        return (
            "runtime",
            f"unknown layout engine {engine[:40]!r} (known: {', '.join(ENGINES)})",
            graph,
            b"",
            0.0,
        )
    cap = _cap_size(graph, config)
    try:
        png = graph.draw(format="png:cairo", prog=engine)
    except ValueError as e:
        return "runtime", str(e), graph, b"", cap
    if not png:
        return "runtime", "Graphviz drew nothing", graph, b"", cap
    return None, "", graph, png, cap


def _error(messages: list[str], error: str) -> str:
    text = "\n".join([*[m for m in messages if m.startswith("Error")], error])
    return text if len(text) <= _MAX_ERROR_CHARS else text[:_MAX_ERROR_CHARS] + "..."


WARMUP_SCRIPT = r"""
digraph pipeline {
    rankdir=LR;
    node [shape=box, style="rounded,filled", fillcolor="#e8f0fe", fontname="DejaVu Sans"];
    start [shape=ellipse, label="Start"];
    decide [shape=diamond, label="x > 0 ?"];
    subgraph cluster_work { label="work"; a [label="compute f(x)"]; b [label="store"]; }
    start -> decide; decide -> a [label="yes"]; decide -> b [label="no", style=dashed]; a -> b;
}
"""
"""A representative graph: clusters, several shapes, edge labels, the default font."""


def prepare(config: RenderConfig) -> None:
    """Once per worker: the safe mode, then a warm-up graph (plugins and fonts loaded before any fork)."""
    enable_safe_mode()
    run_script(WARMUP_SCRIPT, "warmup.dot", config)
    _Messages.armed = True
