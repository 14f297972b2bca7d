"""The script languages the sandbox renders: a name (``RenderConfig.renderer``) -> the module that runs
one script inside the sandboxed child.

A renderer module has::

    WARMUP_SCRIPT: str                       a typical script: each worker runs it once before any job
    prepare(config) -> None                  once per worker, before the sandbox closes (styles, imports)
    run_script(code, name, config) -> (header, [png bytes])   in each sandboxed child, one script

``header`` is what :func:`script_header` makes: status, failure class, error, warnings, the texts
drawn (for the answer-leak filter) and seconds. The parent re-checks every PNG it gets back.
A new renderer is one module and one line below; its module is imported only by a worker that uses it.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .config import RenderConfig

RENDERERS = {
    "matplotlib": "scigen_rl.render.capture",
    "rdkit": "scigen_rl.render.rdkit_draw",
    "schemdraw": "scigen_rl.render.schemdraw_draw",
    "graphviz": "scigen_rl.render.graphviz_dot",
    "tikz": "scigen_rl.render.tikz_tex",
}  # fmt: skip
"""Renderer name: the module that runs its scripts."""
PACKAGES = {"matplotlib": "matplotlib", "rdkit": "rdkit", "schemdraw": "schemdraw", "graphviz": "pygraphviz",
            "tikz": "pypdfium2"}  # fmt: skip
"""The Python package each shipped renderer needs in its workers (checked before any worker starts)."""


class RendererUnavailable(RuntimeError):
    """A renderer cannot run on this machine: a package or a program it needs is missing."""


def unavailable(name: str, tex_engine: str = "pdflatex") -> str | None:
    """Why renderer ``name`` cannot run here (its package, or for ``tikz`` the TeX engine and the
    TikZ files, is missing), or None. Cheap: nothing heavy is imported, so a caller can ask before
    it starts any worker."""
    renderer_module(name)
    package = PACKAGES.get(name)  # a renderer added without an entry: its module's imports tell
    if package is not None and importlib.util.find_spec(package) is None:
        return f"the renderer {name!r} needs the Python package {package!r}, which is not installed"
    if name == "tikz":
        from .tex_tools import missing

        return missing(tex_engine)
    return None


class RendererModule(Protocol):
    WARMUP_SCRIPT: str

    def prepare(self, config: RenderConfig) -> None: ...

    def run_script(
        self, code: str, name: str, config: RenderConfig
    ) -> tuple[dict[str, Any], list[bytes]]: ...


def renderer_module(name: str) -> str:
    """The module of renderer ``name``; a ValueError naming the known renderers for an unknown one."""
    if name not in RENDERERS:
        raise ValueError(
            f"RenderConfig.renderer: unknown renderer {name!r} (known: {', '.join(sorted(RENDERERS))})"
        )
    return RENDERERS[name]


def import_root(module: str) -> str:
    """The folder ``module`` is imported from (what a worker needs on its path to import it too)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ValueError(f"renderer module {module!r} cannot be imported")
    path = Path(spec.origin)
    for _ in range(module.count(".") + (1 if path.name == "__init__.py" else 0) + 1):
        path = path.parent
    return str(path)


def script_header(
    started: float,
    failure: str | None = None,
    error: str | None = None,
    warnings: Sequence[str] = (),
    texts: Sequence[str] = (),
) -> dict[str, Any]:
    """The result header of one script that started at ``time.perf_counter()`` = ``started``: ``ok``
    without a failure class, else ``failed`` with it (one of ``scigen_rl.records.FAILURE_CLASSES``)."""
    return {
        "status": "ok" if failure is None else "failed",
        "failure": failure,
        "error": error,
        "warnings": list(warnings),
        "texts": list(texts) if failure is None else [],
        "seconds": round(time.perf_counter() - started, 4),
    }


def preload(modules: Sequence[str]) -> list[str]:
    """Import ``modules`` now, so that forked children find them loaded; the ones that imported.

    A module that is missing or fails to import is skipped: a script that needs it fails the same
    way it would under plain python."""
    loaded = []
    for name in modules:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - an optional convenience, never a reason to stop
            continue
        loaded.append(name)
    return loaded
