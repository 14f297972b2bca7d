"""The chat client against a real HTTP stand-in server on 127.0.0.1 (it checks the request format)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from scigen_rl.llm import ChatClient, LLMConfig, image_part
from scigen_rl.llm.standin import StandInServer

T = TypeVar("T")


@pytest.fixture
def server() -> Iterator[StandInServer]:
    s = StandInServer(api_key="test-key")
    yield s
    s.close()


def _client(
    server: StandInServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **kw: object
) -> ChatClient:
    monkeypatch.setenv("STANDIN_KEY", "test-key")
    defaults = {"backoff_s": 0.01, "backoff_max_s": 0.05, "cache_dir": str(tmp_path / "cache")}
    cfg = LLMConfig(base_url=server.base_url, model="m-1", api_key_env="STANDIN_KEY", **{**defaults, **kw})  # type: ignore[arg-type]
    return ChatClient(cfg)


def _run(client: ChatClient, work: Coroutine[Any, Any, T]) -> T:
    """``work`` on an event loop of its own, the client's connections closed before the loop ends."""

    async def run() -> T:
        try:
            return await work
        finally:
            await client.close()

    return asyncio.run(run())


def _user(text: str) -> list[dict]:
    return [{"role": "system", "content": "be brief"}, {"role": "user", "content": text}]


def test_request_format_usage_and_cache(
    server: StandInServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(server, tmp_path, monkeypatch, max_tokens=64, extra_body={"top_k": 20})
    first = _run(client, client.chat(_user("draw a triangle")))
    assert first.ok and first.text == "echo: draw a triangle" and not first.cached
    assert first.usage == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    body = server.requests[0]
    assert (
        body["model"] == "m-1"
        and body["max_tokens"] == 64
        and body["top_k"] == 20
        and body["temperature"] == 0.0
    )
    again = ChatClient(client.config)  # a new run: same request, answered from disk
    second = _run(again, again.chat(_user("draw a triangle")))
    assert second.cached and second.text == first.text and len(server.requests) == 1
    assert again.stats.cache_hits == 1 and again.stats.requests == 0
    third = ChatClient(client.config)
    _run(third, third.chat(_user("draw a triangle"), temperature=0.7))  # another payload, another call
    assert len(server.requests) == 2


def test_images_are_sent_as_data_urls(
    server: StandInServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(server, tmp_path, monkeypatch)
    content = [{"type": "text", "text": "what is the angle?"}, image_part(b"\x89PNG\r\n\x1a\nfake")]
    result = _run(client, client.chat([{"role": "user", "content": content}]))
    assert result.ok, result.error
    assert server.requests[0]["messages"][0]["content"][1]["image_url"]["url"].startswith(
        "data:image/png;base64,"
    )


@pytest.mark.parametrize("script", ["fail429:2", "fail500:2"])
def test_429_and_5xx_are_retried(
    server: StandInServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str
) -> None:
    client = _client(server, tmp_path, monkeypatch, max_retries=3)
    result = _run(client, client.chat(_user(script)))
    assert result.ok and result.attempts == 3 and server.calls[script] == 3
    assert client.stats.retries == 2 and client.stats.errors == 0


def test_exhausted_retries_are_recorded_not_raised(
    server: StandInServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(server, tmp_path, monkeypatch, max_retries=1)
    result = _run(client, client.chat(_user("fail500:5")))
    assert not result.ok and result.text is None and "HTTP 500" in result.error and result.attempts == 2
    assert client.stats.errors == 1
    assert client.cache is not None and not list(
        Path(client.config.cache_dir).rglob("*.json")
    )  # failures are not cached


def test_a_malformed_answer_is_a_recorded_failure(
    server: StandInServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(server, tmp_path, monkeypatch)
    result = _run(client, client.chat(_user("malformed:")))
    assert not result.ok and result.text is None
    assert result.error.startswith("malformed response (KeyError") and "chat.completion" in result.error
    assert client.stats.errors == 1 and not list(Path(client.config.cache_dir).rglob("*.json"))


def test_a_hanging_server_times_out(
    server: StandInServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(server, tmp_path, monkeypatch, timeout_s=0.3, max_retries=1)
    started = time.monotonic()
    result = _run(client, client.chat(_user("hang:5")))
    assert result.error == "timeout" and result.attempts == 2
    assert time.monotonic() - started < 3


def test_connection_refused_and_bad_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: StandInServer
) -> None:
    dead = _client(server, tmp_path, monkeypatch, max_retries=1)
    dead._client = dead._client.with_options(base_url="http://127.0.0.1:9/v1")  # nothing listens there
    result = _run(dead, dead.chat(_user("hello")))
    assert not result.ok and result.error.startswith("connection error")
    bad = _client(server, tmp_path, monkeypatch, max_retries=3)
    result = _run(bad, bad.chat([{"role": "robot", "content": "hi"}]))
    assert "HTTP 400" in result.error and "role" in result.error and result.attempts == 1  # not retried


def test_concurrency_is_bounded(
    server: StandInServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(server, tmp_path, monkeypatch, concurrency=3)

    async def many() -> list:
        return await asyncio.gather(*(client.chat(_user(f"sleep:0.2 #{i}")) for i in range(9)))

    started = time.monotonic()
    results = _run(client, many())
    assert all(r.ok for r in results)
    assert server.max_in_flight == 3
    assert time.monotonic() - started >= 0.55  # three waves of 0.2 s


def test_missing_key_variable_is_a_clear_error(
    server: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(ValueError, match="NO_SUCH_KEY_VAR is not set"):
        ChatClient(LLMConfig(base_url=server.base_url, model="m", api_key_env="NO_SUCH_KEY_VAR"))
