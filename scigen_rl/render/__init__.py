"""Sandboxed rendering of model-written scripts: matplotlib, RDKit, schemdraw, Graphviz and TikZ (see
:class:`Renderer`)."""

from .config import FAILURE_CLASSES, RenderConfig
from .pool import Renderer, RenderResult, SandboxUnavailable
from .renderers import RendererUnavailable

__all__ = [
    "FAILURE_CLASSES",
    "RenderConfig",
    "RenderResult",
    "Renderer",
    "RendererUnavailable",
    "SandboxUnavailable",
]
