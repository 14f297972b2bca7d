"""Settings of a model endpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class LLMConfig:
    base_url: str
    """OpenAI-compatible root, e.g. ``http://127.0.0.1:8000/v1`` (vLLM) or Gemini's ``.../v1beta/openai``."""

    model: str
    """Model name as the endpoint knows it."""

    api_key_env: str | None = None
    """*Name* of the environment variable holding the key (the key itself is never stored or logged)."""

    temperature: float = 0.0
    top_p: float | None = None
    max_tokens: int | None = None
    """Sampling parameters, sent with every request (a call may override them)."""

    extra_body: dict[str, Any] = field(default_factory=dict)
    """Endpoint-specific fields merged into the request body (e.g. vLLM's ``top_k``)."""

    concurrency: int = 16
    """Requests in flight at once, per client."""

    timeout_s: float = 120.0
    """Per request; a request that takes longer is retried like a connection error."""

    max_retries: int = 5
    """Retries after 429, 5xx, time-outs and connection errors, with exponential backoff and jitter."""

    backoff_s: float = 1.0
    """First backoff; doubles per retry up to ``backoff_max_s``."""

    backoff_max_s: float = 30.0

    cache_dir: str | None = None
    """Where responses are cached by the hash of the full request; None turns caching off."""

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"LLMConfig.concurrency: must be >= 1, got {self.concurrency}")
        if self.timeout_s <= 0:
            raise ValueError(f"LLMConfig.timeout_s: must be positive, got {self.timeout_s}")
        if self.max_retries < 0:
            raise ValueError(f"LLMConfig.max_retries: must be >= 0, got {self.max_retries}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
