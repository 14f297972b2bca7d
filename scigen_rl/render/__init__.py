"""Sandboxed rendering of model-written matplotlib scripts (see :class:`Renderer`)."""

from .config import RenderConfig
from .pool import Renderer, RenderResult, SandboxUnavailable

FAILURE_CLASSES = ("syntax", "runtime", "timeout", "memory", "no_figure", "blank", "killed")

__all__ = ["FAILURE_CLASSES", "RenderConfig", "RenderResult", "Renderer", "SandboxUnavailable"]
