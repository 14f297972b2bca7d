"""Which renderer draws each image type: the default routes, a run's overrides, and the checks on them.

ImgCoder asks the model for the language of the renderer its problem's image type is routed to
(``scigen_rl.imgcoder.build_messages(problem, renderer)``). Types not listed draw with matplotlib.

Why these routes: molecules and reaction schemes are what RDKit depicts from SMILES (correct bond
angles, rings, stereo wedges) and a model draws badly by hand in matplotlib; circuit schematics are
what schemdraw's elements are; networks, trees, flowcharts and state diagrams need an automatic
layout, which Graphviz does. Genetics stays with matplotlib: Punnett squares are grids, chromosomes
and gene maps are drawings, and a pedigree's conventions (squares and circles, shading, mating and
sibship lines in generations) are not a DOT layout. Ecology (pyramids, cycles), molecular processes
(replication, transcription) and probability (Venn diagrams beside trees) are mostly drawings too;
a run can route any type elsewhere (``--routes "Biology - Ecological=graphviz"``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path

from scigen_rl.render.renderers import RENDERERS, unavailable
from scigen_rl.taxonomy import IMAGE_TYPES

FALLBACK = "matplotlib"
"""What draws a type without a route, and what a routed figure falls back to when its renderer failed."""

DEFAULT_ROUTES: dict[str, str] = {
    "Chemistry - Molecular Structure": "rdkit",
    "Chemistry - Reaction Scheme": "rdkit",
    "Physics - Circuit": "schemdraw",
    "Universal - Graph & Flow": "graphviz",
}
"""Image type -> renderer; every other type: :data:`FALLBACK`."""


def _closest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.0)
    return f"did you mean {close[0]!r}?" if close else ""


def check_routes(routes: Mapping[str, str]) -> None:
    """A ValueError naming the closest known name for a route whose type or renderer is unknown."""
    for image_type, renderer in routes.items():
        if image_type not in IMAGE_TYPES:
            raise ValueError(
                f"--routes: unknown image type {image_type!r}; {_closest(image_type, IMAGE_TYPES)}"
            )
        if renderer not in RENDERERS:
            raise ValueError(
                f"--routes: {image_type!r} routed to unknown renderer {renderer!r}; "
                f"{_closest(renderer, RENDERERS)} (known: {', '.join(sorted(RENDERERS))})"
            )


def parse_routes(items: Iterable[str]) -> dict[str, str]:
    """``TYPE=RENDERER`` items, or paths of YAML files mapping types to renderers, as one dict (later
    items win); checked by :func:`check_routes`.

    >>> parse_routes(["Physics - Circuit=matplotlib"])
    {'Physics - Circuit': 'matplotlib'}
    """
    routes: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            path = Path(item)
            if not path.is_file():
                raise ValueError(f"--routes: {item!r} is neither TYPE=RENDERER nor a YAML file")
            import yaml

            loaded = yaml.safe_load(path.read_text()) or {}
            if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
                raise ValueError(f"--routes: {item} must map image types to renderer names")
            routes.update({str(k).strip(): v.strip() for k, v in loaded.items()})
            continue
        image_type, renderer = item.rsplit("=", 1)
        routes[image_type.strip()] = renderer.strip()
    check_routes(routes)
    return routes


def unavailable_renderers(routes: Mapping[str, str], tex_engine: str = "pdflatex") -> dict[str, str]:
    """Renderer -> why it cannot run here (a missing package, or TikZ's TeX engine), for each renderer
    the routes use that cannot."""
    reasons = {r: unavailable(r, tex_engine) for r in sorted(set(routes.values()))}
    return {r: why for r, why in reasons.items() if why is not None}


def route(routes: Mapping[str, str] | None, image_type: str | None) -> str:
    """The renderer of a problem of ``image_type`` (``FALLBACK`` without routes or a route)."""
    return (routes or {}).get(image_type or "", FALLBACK)
