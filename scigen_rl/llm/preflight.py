"""Ask a model server one small question before a command that depends on it starts its work."""

from __future__ import annotations

import asyncio
import dataclasses

from . import EMBEDDED_URL
from .client import ChatClient
from .config import LLMConfig

PROBE_MESSAGES = [{"role": "user", "content": "Reply with OK."}]
"""The first request: text only and one token, which every chat server (vision or not) answers."""
PREFLIGHT_TIMEOUT_S = 30.0
"""How long the first request may take: a server that is up answers a one-token request in seconds."""


def server_problem(config: LLMConfig, what: str = "the model server") -> str | None:
    """None when the endpoint of ``config`` answers a one-token chat request; else one line saying which
    URL and model did not answer and why (a refused connection, a time-out, an unknown model, a bad key).

    >>> print(server_problem(LLMConfig(base_url="http://127.0.0.1:9/v1", model="m")))  # doctest: +ELLIPSIS
    the model server at http://127.0.0.1:9/v1 (model m) did not answer a first request: connection error: ...
    """
    if config.base_url == EMBEDDED_URL:
        return None
    probe = dataclasses.replace(
        config,
        cache_dir=None,  # never an answer from a cache: the question is whether the server is there
        max_retries=1,
        backoff_s=1.0,
        backoff_max_s=2.0,
        timeout_s=min(config.timeout_s, PREFLIGHT_TIMEOUT_S),
        concurrency=1,
    )
    try:
        client = ChatClient(probe)
    except ValueError as e:  # the API key's variable is not set
        return f"{what} at {config.base_url}: {e}"

    async def ask() -> str | None:
        try:
            reply = await client.chat(PROBE_MESSAGES, max_tokens=1)
        finally:
            await client.close()
        return None if reply.ok else reply.error or "no answer"

    error = asyncio.run(ask())
    if error is None:
        return None
    return f"{what} at {config.base_url} (model {config.model}) did not answer a first request: {error}"
