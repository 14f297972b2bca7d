"""The schemdraw renderer: Python scripts that draw circuits with ``schemdraw.Drawing()``.

schemdraw draws through matplotlib, so this is the matplotlib capture (:mod:`.capture`) with schemdraw
imported once per worker and its matplotlib backend forced: ``d.draw()``, ``d.save(any path)``,
``with schemdraw.Drawing() as d:`` and a drawing that is built but never drawn are each captured as one
figure, sized to the circuit as ``d.save`` would (``schemdraw.use("svg")`` and ``canvas="svg"`` still
draw with matplotlib: an SVG cannot be captured as PNG in-process).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import schemdraw
import schemdraw.elements  # noqa: F401 - preloaded for the scripts
from schemdraw import schemdraw as drawing_module

from . import capture
from .config import RenderConfig


class _Drawings:
    made: list[Any] = []  # every Drawing the running script made, in order


_original_init = schemdraw.Drawing.__init__
_original_draw = schemdraw.Drawing.draw


def _recording_init(self: Any, *args: Any, **kwargs: Any) -> None:
    if kwargs.get("canvas") == "svg":
        kwargs["canvas"] = "matplotlib"
    _original_init(self, *args, **kwargs)
    if capture.current_session() is not None:
        _Drawings.made.append(self)


@functools.wraps(_original_draw)
def _matplotlib_draw(self: Any, show: bool = True, canvas: Any = None) -> Any:
    if canvas == "svg" or (canvas is None and self.canvas == "svg"):
        canvas = "matplotlib"
    return _original_draw(self, show=show, canvas=canvas)


def _use(backend: str = "matplotlib") -> None:
    """``schemdraw.use``: the sandbox always draws with matplotlib."""


def install_hooks() -> None:
    schemdraw.use("matplotlib")
    schemdraw.Drawing.__init__ = _recording_init  # type: ignore[method-assign]
    schemdraw.Drawing.draw = _matplotlib_draw  # type: ignore[method-assign]
    schemdraw.use = _use
    drawing_module.use = _use


def _finish(session: Any) -> None:
    """Size and capture every drawing with elements, as ``d.save`` would (one already shown or saved
    keeps that capture: the same figure drawn again is the same key)."""
    for drawing in _Drawings.made:
        if not drawing.elements:
            continue
        if drawing.fig is None:
            drawing.draw(show=False)
        figure = drawing.fig.getfig()
        if capture.has_content(figure):
            options = {"bbox_inches": "tight", "pad_inches": 0}
            key = (id(figure), getattr(figure, "_scigen_generation", 0))
            if key not in session.snapshots:
                session.emit(figure, options, explicit=False)


WARMUP_SCRIPT = r"""
import schemdraw
import schemdraw.elements as elm
with schemdraw.Drawing() as d:
    d.config(unit=2.5)
    elm.SourceV().up().label("$V_s$ = 10 V")
    elm.Resistor().right().label(r"R1 = 2 k$\Omega$")
    elm.Capacitor().down().label("C1\n10 µF", loc="bottom")
    elm.Inductor().left().label("L1")
    elm.Ground()
"""
"""A representative circuit: sources, passive parts, mathtext and plain labels, a ground."""


def prepare(config: RenderConfig) -> None:
    """Once per worker: the matplotlib capture, schemdraw's hooks and a warm-up circuit."""
    capture.prepare(config)
    install_hooks()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_script(WARMUP_SCRIPT, "warmup.py", config)
    import matplotlib.pyplot as plt

    plt.close("all")


def run_script(code: str, name: str, config: RenderConfig) -> tuple[dict[str, Any], list[bytes]]:
    """Run one schemdraw script: the matplotlib capture, plus the drawings it never drew."""
    _Drawings.made = []
    try:
        return capture.run_script(code, name, config, finish=_finish)
    finally:
        _Drawings.made = []
