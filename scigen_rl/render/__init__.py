"""Sandboxed rendering of model-written matplotlib scripts (see :class:`Renderer`)."""

from .config import FAILURE_CLASSES, RenderConfig
from .pool import Renderer, RenderResult, SandboxUnavailable

__all__ = ["FAILURE_CLASSES", "RenderConfig", "RenderResult", "Renderer", "SandboxUnavailable"]
