"""Text-to-image backends: one client per API, each cached by request, bounded, retried, validated."""

from .base import TRANSIENT_FAILURES, ImageResult
from .config import T2IConfig

__all__ = ["TRANSIENT_FAILURES", "ImageResult", "T2IConfig"]
