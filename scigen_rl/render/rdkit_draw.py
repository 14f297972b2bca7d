"""The RDKit renderer: Python scripts that draw molecules and reactions with RDKit.

Runs inside the sandboxed child, on top of the matplotlib capture (:mod:`.capture`): the same
execution, failure classes, seeding and matplotlib figures, plus what RDKit scripts emit:

1. every image file the script writes into its working directory (``img.save("mol.png")``,
   ``Draw.MolToFile``, ``drawer.WriteDrawingText``, ``open("x.png", "wb").write(drawer.GetDrawingText())``),
   in the order of their paths;
2. every picture handed to ``show(x)`` or ``display(x)`` (both defined for the script: a PIL image,
   PNG bytes, a molecule, a reaction or a finished ``MolDraw2DCairo``) or to ``Image.show()``, in
   call order;
3. when the script emitted nothing (no file, no ``show``, no matplotlib figure): the pictures its
   drawing calls made (``Draw.MolToImage``, ``MolsToGridImage``, ``ReactionToImage``,
   ``MolsMatrixToGridImage``, a finished ``MolDraw2DCairo``), in call order.

Each is stored as an RGB PNG like a matplotlib figure (RDKit's own PNG metadata is dropped). 2D
depiction is deterministic; conformer embedding without a seed gets ``RenderConfig.seed``.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
from collections.abc import Callable
from typing import Any

from PIL import Image
from rdkit import Chem, rdBase
from rdkit.Chem import AllChem, Draw, rdChemReactions, rdDistGeom
from rdkit.Chem.Draw import rdMolDraw2D

from . import capture
from .config import RenderConfig

_DRAWING_CALLS = ("MolToImage", "MolsToGridImage", "ReactionToImage", "MolsMatrixToGridImage")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")
_MAX_SCANNED = 1000  # files looked at in the working directory (a flood of files is the script's cost)


class _Drawn:
    """What the running script drew without emitting it: the fallback of rule 3."""

    images: list[Any] = []  # PIL images and finished Cairo drawers, in call order
    depth = 0  # > 0 inside a drawing call (its inner calls are not pictures of the script's own)
    shown = 0
    seed = 0


def _picture(value: Any) -> Image.Image:
    """A PIL image of what a script hands to ``show``."""
    if isinstance(value, Image.Image):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Image.open(io.BytesIO(bytes(value)))
    if isinstance(value, rdMolDraw2D.MolDraw2DCairo):
        return Image.open(io.BytesIO(value.GetDrawingText()))
    if isinstance(value, Chem.Mol):
        return _ORIGINAL[("Draw", "MolToImage")](value)
    if isinstance(value, rdChemReactions.ChemicalReaction):
        return _ORIGINAL[("Draw", "ReactionToImage")](value)
    raise TypeError(
        f"show() takes a PIL image, PNG bytes, a molecule, a reaction or a MolDraw2DCairo, not {type(value).__name__}"
    )


def show(*values: Any, **_: Any) -> None:
    """Capture each picture given (the script's ``show`` and ``display``)."""
    session = capture.current_session()
    for value in values:
        image = _picture(value)
        if session is not None:
            _Drawn.shown += 1
            session.emit_image(("rdkit-show", _Drawn.shown), image)


def _image_show(self: Image.Image, *args: Any, **kwargs: Any) -> None:
    show(self)


_ORIGINAL: dict[tuple[str, str], Callable[..., Any]] = {}


def _drawing_call(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        _Drawn.depth += 1
        try:
            result = fn(*args, **kwargs)
        finally:
            _Drawn.depth -= 1
        session = capture.current_session()
        if session is not None and _Drawn.depth == 0:
            if isinstance(result, Image.Image):
                _Drawn.images.append(result)
            legends = kwargs.get("legends") or []
            for text in [kwargs.get("legend"), *(legends if isinstance(legends, (list, tuple)) else [])]:
                if isinstance(text, str):
                    session.add_text(text)
        return result

    return call


def _finish_drawing(self: Any) -> None:
    _ORIGINAL[("MolDraw2DCairo", "FinishDrawing")](self)
    if capture.current_session() is not None and _Drawn.depth == 0 and self not in _Drawn.images:
        _Drawn.images.append(self)


def _seeded(fn: Callable[..., Any], seed_position: int) -> Callable[..., Any]:
    """``fn`` (conformer embedding) with ``RenderConfig.seed`` where the script left the seed at -1."""

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        values: list[Any] = list(args)
        params = [v for v in [*values, *kwargs.values()] if isinstance(v, rdDistGeom.EmbedParameters)]
        for p in params:
            if p.randomSeed == -1:
                setattr(p, "randomSeed", _Drawn.seed)  # noqa: B010 - (the stubs mistype it)
        if not params:
            if len(values) > seed_position:
                if values[seed_position] == -1:
                    values[seed_position] = _Drawn.seed
            elif kwargs.get("randomSeed", -1) == -1:
                kwargs["randomSeed"] = _Drawn.seed
        return fn(*values, **kwargs)

    return call


def install_hooks() -> None:
    """Record RDKit's drawing calls, capture ``Image.show``, seed conformer embedding, log to Python."""
    for name in _DRAWING_CALLS:
        _ORIGINAL[("Draw", name)] = getattr(Draw, name)
        setattr(Draw, name, _drawing_call(getattr(Draw, name)))
    _ORIGINAL[("MolDraw2DCairo", "FinishDrawing")] = rdMolDraw2D.MolDraw2DCairo.FinishDrawing
    setattr(rdMolDraw2D.MolDraw2DCairo, "FinishDrawing", _finish_drawing)  # noqa: B010 - a C++ class
    Image.Image.show = _image_show  # type: ignore[method-assign]
    embed_one = _seeded(rdDistGeom.EmbedMolecule, 1)
    embed_many = _seeded(rdDistGeom.EmbedMultipleConfs, 2)
    for module in (AllChem, rdDistGeom):
        setattr(module, "EmbedMolecule", embed_one)  # noqa: B010
        setattr(module, "EmbedMultipleConfs", embed_many)  # noqa: B010
    # RDKit's messages (a SMILES it cannot parse) become the script's warnings instead of stderr.
    rdBase.LogToPythonLogger()
    rdBase.EnableLog("rdApp.error")
    rdBase.EnableLog("rdApp.warning")
    logging.getLogger("rdkit").addFilter(_no_clock)
    capture.catch_log("rdkit")


def _no_clock(record: logging.LogRecord) -> bool:
    """RDKit's messages without their time of day (the same script gives the same warnings)."""
    record.msg = re.sub(r"^\[\d\d:\d\d:\d\d\] ", "", record.getMessage())
    record.args = ()
    return True


def _written_images(session: Any) -> bool:
    """Capture the image files in the working directory (rule 1), in path order; whether any was."""
    if os.path.realpath(".") == "/":
        return False  # not a script's own working directory (the worker's warm-up and calibration)
    found: list[str] = []
    seen = 0
    svg = False
    for folder, dirs, files in os.walk("."):
        dirs.sort()
        for file in sorted(files):
            seen += 1
            if seen > _MAX_SCANNED:
                break
            svg = svg or file.lower().endswith(".svg")
            if file.lower().endswith(_IMAGE_SUFFIXES):
                found.append(os.path.normpath(os.path.join(folder, file)))
    for path in found:
        with Image.open(path) as image:
            session.emit_image(("rdkit-file", path), image)
    if svg and not found:
        session.warn("SVG files are not captured: draw with MolDraw2DCairo or Draw.MolToImage (PNG)")
    return bool(found)


def _finish(session: Any) -> None:
    emitted = _written_images(session) or _Drawn.shown > 0
    if emitted or session.snapshots or any(capture.has_content(f) for f in capture.open_figures()):
        return
    for n, drawn in enumerate(_Drawn.images):
        session.emit_image(("rdkit-drawn", n), _picture(drawn))


WARMUP_SCRIPT = r"""
from rdkit import Chem
from rdkit.Chem import Draw, rdChemReactions
from rdkit.Chem.Draw import rdMolDraw2D
aspirin = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
caffeine = Chem.MolFromSmiles("Cn1cnc2c1c(=O)n(C)c(=O)n2C")
show(Draw.MolsToGridImage([aspirin, caffeine], molsPerRow=2, subImgSize=(250, 250), legends=["aspirin", "caffeine"]))
rxn = rdChemReactions.ReactionFromSmarts("[C:1](=[O:2])[OH].[N:3]>>[C:1](=[O:2])[N:3]")
show(Draw.ReactionToImage(rxn))
drawer = rdMolDraw2D.MolDraw2DCairo(300, 300)
drawer.DrawMolecule(aspirin, legend="aspirin")
drawer.FinishDrawing()
show(drawer.GetDrawingText())
"""
"""A representative script: molecules, a grid with legends, a reaction and a Cairo drawer."""


def prepare(config: RenderConfig) -> None:
    """Once per worker: the matplotlib capture (RDKit pictures may be shown with matplotlib too), the
    RDKit hooks, and a warm-up render (fonts, the depictor, the PNG writer loaded before any fork)."""
    capture.prepare(config)
    install_hooks()
    run_script(WARMUP_SCRIPT, "warmup.py", config)


def run_script(code: str, name: str, config: RenderConfig) -> tuple[dict[str, Any], list[bytes]]:
    """Run one RDKit script (see the module's docstring for what is captured)."""
    _Drawn.images, _Drawn.depth, _Drawn.shown, _Drawn.seed = [], 0, 0, config.seed
    try:
        return capture.run_script(code, name, config, scope={"show": show, "display": show}, finish=_finish)
    finally:
        _Drawn.images = []
