"""Model calls: one async interface for any OpenAI-compatible endpoint or the embedded CPU model."""

from .client import CachedChat, ChatClient, ChatResult, image_part
from .config import LLMConfig

EMBEDDED_URL = "embedded://"


def make_client(config: LLMConfig) -> CachedChat:
    """The HTTP client, or the in-process model when ``base_url`` is ``embedded://``."""
    if config.base_url == EMBEDDED_URL:
        from .embedded import EmbeddedChat

        return EmbeddedChat(config)
    return ChatClient(config)


__all__ = ["EMBEDDED_URL", "CachedChat", "ChatClient", "ChatResult", "LLMConfig", "image_part", "make_client"]
