"""Model calls: one async client for any OpenAI-compatible chat endpoint, cached on disk."""

from .client import ChatClient, ChatResult, image_part
from .config import LLMConfig

__all__ = ["ChatClient", "ChatResult", "LLMConfig", "image_part"]
