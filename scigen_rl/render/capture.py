"""The matplotlib renderer: run one script and capture exactly the figures it drew, as PNG, at a fixed
style.

This module runs *inside* the sandboxed child (and, for the benchmark's unsafe floor, in-process).
It never decides anything about isolation; it only turns a script into (result header, PNG bytes).
"""

from __future__ import annotations

import builtins
import contextlib
import io
import logging
import math
import random
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Hashable
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib._pylab_helpers import Gcf  # noqa: E402
from matplotlib.backend_bases import register_backend  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from .config import RenderConfig  # noqa: E402
from .outcome import MAX_TEXT_CHARS, MAX_TEXTS, MAX_WARNINGS, png_size  # noqa: E402
from .renderers import script_header  # noqa: E402

MAX_ERROR_CHARS = 2000  # the parent accepts up to outcome.MAX_ERROR_CHARS
_CAPTURE_FORMAT = "scigenpng"
_last_blank = False  # whether the last captured image was a single colour

_original_savefig = Figure.savefig
_PIL_SAVE = Image.Image.save  # (a renderer may capture Image.save; the capture itself never is)
_original_clear = Figure.clear
_original_randbits = np.random.bit_generator.randbits  # type: ignore[attr-defined]
_original_random_seed = random.Random.seed


class _Session:
    """What the running script emitted: one PNG per figure per drawing, in order of first emission."""

    def __init__(self, config: RenderConfig) -> None:
        self.config = config
        # Keyed by (figure, times it was cleared): savefig then show() of the same drawing is one
        # figure, while clf() and a new drawing on the same Figure object is a second one. Other
        # renderers add images of their own under keys of their own (``emit_image``).
        self.snapshots: dict[Hashable, tuple[bytes, bool]] = {}  # PNG, blank
        self.figures: list[Figure] = []  # keeps ids unique while the session lives
        self.warnings: list[str] = []
        self.texts: list[str] = []  # every label the figures show, for the answer-leakage check
        self.dropped = 0  # figures past config.max_figures

    def emit(self, fig: Figure, kwargs: dict[str, Any], explicit: bool) -> None:
        key = (id(fig), getattr(fig, "_scigen_generation", 0))
        if key in self.snapshots and not explicit:
            return  # show() after savefig: the drawing is already captured, as the script saved it
        if key not in self.snapshots:
            if len(self.snapshots) >= self.config.max_figures:
                self.dropped += 1  # never drawn to a PNG: a script looping over figures costs nothing
                return
            self.figures.append(fig)
        self.snapshots[key] = _snapshot(fig, kwargs)  # a later savefig of the same drawing wins
        for text in _drawn_texts(fig):
            if text not in self.texts and len(self.texts) < MAX_TEXTS:
                self.texts.append(text[:MAX_TEXT_CHARS])

    def emit_image(self, key: Hashable, image: Image.Image) -> None:
        """Capture a picture that is not a matplotlib figure (an RDKit drawing), under ``key``: the
        same key twice is one figure (the later image wins), as for a figure saved twice."""
        if key not in self.snapshots and len(self.snapshots) >= self.config.max_figures:
            self.dropped += 1
            return
        self.snapshots[key] = image_png(image, self.config, self.warn)

    def add_text(self, text: str) -> None:
        if isinstance(text, str) and text.strip() and text not in self.texts and len(self.texts) < MAX_TEXTS:
            self.texts.append(text[:MAX_TEXT_CHARS])

    def warn(self, message: str) -> None:
        if message not in self.warnings and len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)


_session: _Session | None = None


def current_session() -> _Session | None:
    """The capture of the script running now (None outside ``run_script``)."""
    return _session


def image_png(image: Image.Image, config: RenderConfig, warn: Callable[[str], None]) -> tuple[bytes, bool]:
    """A picture as the capture stores figures: RGB on white, at most ``config.max_pixels`` (a larger
    one is scaled down, with a warning), PNG at the configured compression; and whether it is blank."""
    image.load()
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
    rgb = image.convert("RGB")
    width, height = rgb.size
    if width * height > config.max_pixels:
        scale = math.sqrt(config.max_pixels / (width * height))
        size = (max(1, int(width * scale)), max(1, int(height * scale)))
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
        warn(f"downscaled: a {width}x{height} image was scaled to {size[0]}x{size[1]}")
    blank = all(hi - lo <= 2 for lo, hi in rgb.getextrema())  # type: ignore[misc]
    buf = io.BytesIO()
    _PIL_SAVE(rgb, buf, format="png", compress_level=config.png_compress_level)
    return buf.getvalue(), blank


def _drawn_texts(fig: Figure) -> list[str]:
    """The words a reader sees: titles, axis labels, annotations, legends, tables (not tick numbers)."""
    texts = [t.get_text() for t in fig.texts]
    suptitle = fig.get_suptitle()
    if suptitle:
        texts.append(suptitle)
    for legend in fig.legends:
        texts += [t.get_text() for t in legend.get_texts()]
    for ax in fig.axes:
        texts += [ax.get_title(loc) for loc in ("left", "center", "right")]
        texts += [ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.texts if t.get_visible()]
        axes_legend = ax.get_legend()
        if axes_legend is not None:
            texts += [t.get_text() for t in axes_legend.get_texts()]
        for table in ax.tables:
            texts += [cell.get_text().get_text() for cell in table.get_celld().values()]
    return [t for t in texts if isinstance(t, str) and t.strip()]


def has_content(fig: Figure) -> bool:
    return len(fig.get_children()) > 1  # the background patch is always there


def _snapshot(fig: Figure, kwargs: dict[str, Any]) -> tuple[bytes, bool]:
    assert _session is not None
    cfg = _session.config
    dpi = float(cfg.dpi)
    w_in, h_in = fig.get_size_inches()
    if w_in * h_in * dpi * dpi > cfg.max_pixels:
        dpi = max(1.0, math.floor(math.sqrt(cfg.max_pixels / (w_in * h_in))))
    keep = {
        k: kwargs[k] for k in ("bbox_inches", "pad_inches", "bbox_extra_artists", "facecolor") if k in kwargs
    }
    for _ in range(4):
        buf = io.BytesIO()
        _original_savefig(fig, buf, format=_CAPTURE_FORMAT, dpi=dpi, transparent=False, **keep)
        png = buf.getvalue()
        width, height = png_size(png)
        # A tight bounding box can grow the image past the figure's own size: the parent refuses any
        # image over the cap, so a smaller DPI is tried until it fits.
        if width * height <= cfg.max_pixels or dpi <= 1:
            break
        dpi = max(1.0, math.floor(dpi * math.sqrt(cfg.max_pixels / (width * height)) * 0.98))
    if dpi != cfg.dpi:
        _session.warn(
            f"downscaled: a {w_in:g}x{h_in:g} in figure was saved at {dpi:g} dpi instead of {cfg.dpi}"
        )
    return png, _last_blank


def _print_capture_png(canvas: FigureCanvasAgg, filename_or_obj: Any, **kwargs: Any) -> None:
    """Draw once and write an RGB PNG (the models read RGB; matplotlib's own writer is slower, RGBA)."""
    FigureCanvasAgg.draw(canvas)
    renderer = canvas.get_renderer()
    size = (int(renderer.width), int(renderer.height))
    img = Image.frombuffer("RGBA", size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    alpha = img.getchannel("A").getextrema()
    # A transparent figure goes on white, as a viewer would show it.
    if float(alpha[0]) < 255:  # type: ignore[arg-type]
        img = Image.alpha_composite(Image.new("RGBA", size, "white"), img)
    rgb = img.convert("RGB")
    global _last_blank
    _last_blank = all(hi - lo <= 2 for lo, hi in rgb.getextrema())  # type: ignore[misc]
    level = _session.config.png_compress_level if _session is not None else 6
    _PIL_SAVE(rgb, filename_or_obj, format="png", compress_level=level)


FigureCanvasAgg.print_scigenpng = _print_capture_png  # type: ignore[attr-defined]
register_backend(_CAPTURE_FORMAT, "matplotlib.backends.backend_agg", "PNG for the capture")


def _patched_savefig(self: Figure, fname: Any, *args: Any, **kwargs: Any) -> None:
    if _session is None:
        return _original_savefig(self, fname, *args, **kwargs)
    _session.emit(self, kwargs, explicit=True)
    if not isinstance(fname, (str, bytes)) and not hasattr(fname, "__fspath__"):
        # A file-like target: the script may read it back, so honour it.
        _original_savefig(self, fname, *args, **kwargs)
    return None


def _pyplot_savefig(*args: Any, **kwargs: Any) -> None:
    # pyplot's own savefig redraws the whole figure afterwards for interactive windows; we have none.
    return _patched_savefig(plt.gcf(), *args, **kwargs)


def open_figures() -> list[Figure]:
    """The pyplot figures, in number order, without making any of them current (plt.figure(n) would)."""
    managers = sorted(Gcf.get_all_fig_managers(), key=lambda m: m.num)
    return [m.canvas.figure for m in managers]


def _patched_show(*args: Any, **kwargs: Any) -> None:
    if _session is None:
        return None
    for fig in open_figures():
        if has_content(fig):
            _session.emit(fig, {}, explicit=False)
    return None


def _figure_show(self: Figure, *args: Any, **kwargs: Any) -> None:
    if _session is not None and has_content(self):
        _session.emit(self, {}, explicit=False)


def _counting_clear(self: Figure, *args: Any, **kwargs: Any) -> Any:
    self._scigen_generation = getattr(self, "_scigen_generation", 0) + 1  # type: ignore[attr-defined]
    return _original_clear(self, *args, **kwargs)


class _Entropy:
    """Where unseeded generators get their seed while a script runs: a stream seeded from
    ``RenderConfig.seed``, so each new generator differs from the last, as under plain python, and
    every run of a script draws the same ones. Only the *source* of fresh seeds is replaced: numpy's
    and Python's generator classes stay what they are (networkx, scikit-learn and scipy check them)."""

    stream: random.Random | None = None

    @classmethod
    def bits(cls, n: int) -> int:
        if cls.stream is None:
            return _original_randbits(n)
        return cls.stream.getrandbits(n)


def _seeded_random_seed(self: random.Random, a: Any = None, version: int = 2) -> None:
    if a is None and _Entropy.stream is not None:
        a = _Entropy.stream.getrandbits(64)  # random.Random() and random.seed() without a seed
    _original_random_seed(self, a, version)


class _LogCatcher(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if _session is not None:
            _session.warn(_describe_warning(record.getMessage()))


def _describe_warning(message: str) -> str:
    text = " ".join(message.split())
    if ("missing from font" in text or "does not have a glyph" in text) and not text.startswith(
        "missing_glyph"
    ):
        return "missing_glyph: " + text
    return text[:300]


def apply_style(config: RenderConfig) -> None:
    """The fixed style every script starts from (a script may still change it for itself)."""
    matplotlib.rcdefaults()
    known = {f.fname for f in font_manager.fontManager.ttflist}
    for path in font_manager.findSystemFonts():
        if path not in known:  # installed after matplotlib cached its font list
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                font_manager.fontManager.addfont(path)
    available = {f.name for f in font_manager.fontManager.ttflist}
    fallbacks = [name for name in config.fallback_fonts if name in available]
    plt.rcParams.update(
        {
            # Listing the fallbacks as families is what makes matplotlib fall back per glyph.
            "font.family": ["DejaVu Sans", *fallbacks],
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
            "savefig.dpi": config.dpi,
            "figure.max_open_warning": 0,
        }
    )


def install_hooks() -> None:
    """Route savefig/show through the capture, and make unseeded randomness reproducible."""
    Figure.savefig = _patched_savefig  # type: ignore[method-assign]
    Figure.show = _figure_show  # type: ignore[method-assign]
    Figure.clear = _counting_clear  # type: ignore[method-assign]
    plt.show = _patched_show
    plt.savefig = _pyplot_savefig
    # numpy draws a fresh seed (RandomState(), default_rng(), SeedSequence()) through this name.
    np.random.bit_generator.randbits = _Entropy.bits  # type: ignore[attr-defined]
    random.Random.seed = _seeded_random_seed  # type: ignore[method-assign]
    for name in ("matplotlib", "PIL"):
        catch_log(name)


_log_handler = _LogCatcher(level=logging.WARNING)


def catch_log(name: str) -> None:
    """Report the warnings logger ``name`` logs while a script runs as the script's warnings."""
    logger = logging.getLogger(name)
    if _log_handler not in logger.handlers:
        logger.addHandler(_log_handler)
    logger.propagate = False


WARMUP_SCRIPT = r"""
import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, Polygon, Rectangle
fig, ax = plt.subplots(figsize=(5, 4))
ax.plot([0, 1, 2], [0, 1, 0], "o-", label=r"$\alpha^2 + \frac{a}{b}\sqrt{x}$")
ax.bar([0.5, 1.5], [0.3, 0.6], alpha=0.4, label="bars")
ax.scatter([0.3, 1.2], [0.4, 0.9], marker="s")
ax.add_patch(Circle((1.0, 0.5), 0.2, fill=False, linestyle="--"))
ax.add_patch(Polygon([[0, 0], [0.5, 0], [0, 0.4]], closed=True, alpha=0.3, hatch="//"))
ax.add_patch(Rectangle((1.5, 0.1), 0.3, 0.2, facecolor="tab:orange"))
ax.add_patch(FancyArrowPatch((0.1, 0.9), (0.6, 0.7), arrowstyle="-|>", mutation_scale=12))
ax.annotate("F = 10 N", xy=(1, 1), xytext=(1.5, 0.5), arrowprops={"arrowstyle": "->"})
ax.text(0.2, 0.8, "速度 テスト 한국어 θ = 30°", fontsize=9)
ax.text(0.2, 0.2, "bold", fontweight="bold", fontstyle="italic", family="serif")
ax.set_xlabel("t (s)")
ax.set_ylabel(r"$v$ (m/s)")
ax.set_title(r"$\Delta x = v_0 t + \frac{1}{2} a t^2$")
ax.legend(loc="upper right")
ax.grid(True)
ax.set_aspect("equal")
fig.tight_layout()
plt.savefig("warmup.png", bbox_inches="tight")
"""
"""A representative diagram: rendering it loads fonts, the mathtext parser and the PNG writer."""


_COMMON_FONT_SIZES = (5.79, 6, 6.94, 7, 8, 8.33, 9, 10, 11, 12, 13, 14, 14.4, 15, 16, 17.28, 18, 20, 22, 24)


def prepare(config: RenderConfig) -> None:
    """Once per worker, before it forks any child: the fixed style, the capture hooks, a warm start."""
    apply_style(config)
    install_hooks()
    warm_up(config)


def warm_up(config: RenderConfig) -> None:
    """Run the representative script once and resolve common fonts, so that forked children start warm.

    Choosing a font scores every installed font for each new (family, style, weight, size); done once
    here, each child finds the answers cached instead of spending about a tenth of its time on it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_script(WARMUP_SCRIPT, "warmup.py", config)
        manager = font_manager.fontManager
        for family in (plt.rcParams["font.family"], ["serif"], ["monospace"]):
            for size in _COMMON_FONT_SIZES:
                for weight in ("normal", "bold"):
                    for style in ("normal", "italic"):
                        prop = font_manager.FontProperties(
                            family=family, size=size, weight=weight, style=style
                        )
                        font_manager.get_font(manager._find_fonts_by_props(prop))
    plt.close("all")


def _printable(text: str) -> str:
    """``text`` with each lone surrogate written as its escape: the parent refuses raw ones."""
    return text.encode("utf-8", "backslashreplace").decode()


def _safe(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else "..." + text[-MAX_ERROR_CHARS:]


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)[:200]
    except BaseException:  # noqa: BLE001 - a script's object may raise from __repr__
        return f"<unprintable {type(value).__name__}>"


def _script_traceback(exc: BaseException, name: str) -> str:
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == name]
        lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
        return _safe("".join(lines).strip())
    except BaseException:  # noqa: BLE001 - a script's exception may raise from __str__
        return f"{type(exc).__name__} (its message could not be printed)"


def run_script(
    code: str,
    name: str,
    config: RenderConfig,
    *,
    scope: dict[str, Any] | None = None,
    finish: Callable[[_Session], None] | None = None,
) -> tuple[dict[str, Any], list[bytes]]:
    """Execute ``code`` as ``__main__`` and return (result header, PNGs of the figures it drew).

    The header has ``status`` (ok/failed), ``failure`` (syntax, runtime, memory, no_figure, blank or
    None), ``error``, ``warnings`` and ``seconds``. Other renderers built on this one give ``scope``
    (names the script finds defined) and ``finish`` (called after the script, before the figures it
    left open are captured: where they capture what the script drew but never showed).
    """
    global _session
    started = time.perf_counter()
    # Figures another script left open in this process (in-process rendering; a sandboxed child starts
    # from its worker's state) are not this script's.
    plt.close("all")
    session = _session = _Session(config)
    failure: str | None = None
    error: str | None = None
    _Entropy.stream = random.Random(config.seed)  # before the global generators draw from it
    random.seed(config.seed)
    np.random.seed(config.seed)
    old_argv = sys.argv
    sys.argv = [name]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                compiled = compile(code, name, "exec", dont_inherit=True)
            except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError) as e:
                # (the last three: source nested too deeply for the compiler)
                failure, error = "syntax", _safe("".join(traceback.format_exception_only(type(e), e)).strip())
            else:
                try:
                    namespace = dict(scope or {})
                    namespace.update(__name__="__main__", __file__=name, __builtins__=builtins)
                    exec(compiled, namespace)
                except SystemExit as e:
                    if not (e.code is None or (type(e.code) is int and e.code == 0)):
                        failure, error = "runtime", f"the script exited with status {_safe_repr(e.code)}"
                except MemoryError as e:
                    failure, error = "memory", _script_traceback(e, name) or "MemoryError"
                except BaseException as e:  # noqa: BLE001 - anything the script raised is its failure
                    failure, error = "runtime", _script_traceback(e, name)
            pngs: list[bytes] = []
            blank: list[bytes] = []
            if failure is None:
                try:
                    if finish is not None:
                        finish(session)
                    for fig in open_figures():  # drawn but never shown or saved (or drawn after that)
                        if has_content(fig):
                            session.emit(fig, {}, explicit=False)
                    for png, is_blank in session.snapshots.values():
                        if png not in pngs and png not in blank:
                            (blank if is_blank else pngs).append(png)
                except MemoryError:
                    failure, error = "memory", "MemoryError while saving the figure"
                except BaseException as e:  # noqa: BLE001 - a figure that cannot be drawn is the script's fault
                    failure, error = "runtime", "saving the figure failed: " + _script_traceback(e, "")
            for w in caught:
                try:
                    session.warn(_describe_warning(str(w.message)))
                except BaseException:  # noqa: BLE001 - a script's warning object may raise from __str__
                    session.warn("a warning that could not be printed")
        if failure is None:
            if not pngs and not blank:
                failure, error = "no_figure", "the script drew no figure"
            elif not pngs:
                failure, error = "blank", "every captured figure is a single uniform colour"
            elif blank:
                session.warn(f"dropped {len(blank)} blank figure(s)")
            if session.dropped:
                session.warn(f"dropped {session.dropped} figure(s) past the limit of {config.max_figures}")
    finally:
        sys.argv = old_argv
        _session = None
        _Entropy.stream = None
    if failure is not None:
        pngs = []
    header = script_header(
        started,
        failure,
        None if error is None else _printable(error),
        [_printable(w) for w in session.warnings],
        [_printable(t) for t in session.texts],
    )
    return header, pngs
