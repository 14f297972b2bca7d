"""verl's entry point (``compute_score``) as a client of the reward server, in this process: the
server's application under uvicorn on a thread (a real HTTP server on 127.0.0.1) and scripted
misbehaving servers. Batching, the bearer token, retries, and what happens to each answer when the
server cannot judge it: the rule where it can (``fallback``), else ``error_score`` and ``unscored``.
``test_reward_server.py`` runs the server as its own process behind the ``serve-reward`` command."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import numpy as np
import pytest
import uvicorn

from reward.compass_reward import (
    BATCH_MAX_ITEMS,
    CONNECT_TIMEOUT_S,
    KEYS,
    MAX_BODY_CHARS,
    MAX_REASON_CHARS,
    SERVER_TIMEOUT_S,
    _ServerBatcher,
    close,
    compute_score,
)
from reward.config import TOKEN_ENV, RewardConfig
from reward.server import create_app


class AppServer:
    """The reward server's application on a uvicorn thread."""

    def __init__(self, config: RewardConfig, token: str | None = None) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(
            uvicorn.Config(create_app(config, token), host="127.0.0.1", port=port, log_level="error")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the app did not start"
            time.sleep(0.01)

    def requests(self, status: str = "200") -> float:
        import httpx

        text = httpx.get(self.url + "/metrics", headers={"Authorization": "Bearer t0k"}).text
        line = f'reward_requests_total{{status="{status}"}} '
        return next((float(x.split()[-1]) for x in text.splitlines() if x.startswith(line)), 0.0)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class Scripted:
    """An HTTP server that answers ``POST /score`` from a list of ``(status, body)``, the last repeated,
    or with what ``answers(request_body)`` returns."""

    def __init__(self, answers: Any) -> None:
        self.answers, self.bodies = answers, []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                outer.paths.append(self.path)
                outer.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                if callable(outer.answers):
                    status, body = outer.answers(outer.bodies[-1])
                else:
                    status, body = outer.answers[min(len(outer.bodies), len(outer.answers)) - 1]
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def app() -> Iterator[AppServer]:
    server = AppServer(RewardConfig(mode="rule_only"), token="t0k")
    yield server
    server.close()


RIGHT = ("<think>hmm</think> x = \\boxed{48}", "48")
WRONG = ("x = \\boxed{47}", "48")  # the rule cannot call a number wrong
UNBOXED = ("x is 48", "48")


def _score_all(answers: list[tuple[str, str]], **kwargs: Any) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        try:
            # A hang is a failure of its own, in seconds (verl would wait for ever): no test here
            # needs more than a few.
            return list(
                await asyncio.wait_for(
                    asyncio.gather(
                        *(compute_score("geo", r, g, {"question": "Find x."}, **kwargs) for r, g in answers)
                    ),
                    timeout=20,
                )
            )
        finally:
            await close()

    return asyncio.run(run())


def test_answers_of_one_moment_go_in_one_request(app: AppServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "t0k")
    results = _score_all([RIGHT, WRONG, RIGHT] * 5, server_url=app.url)
    assert [r["verdict"] for r in results[:3]] == ["correct", "incorrect", "correct"]
    assert all(list(r) == list(KEYS) for r in results)
    assert all(r["unscored"] == 0.0 and r["fallback"] == 0.0 and r["path"] == "rule" for r in results)
    assert app.requests("200") == 1


def test_the_run_token_is_sent(app: AppServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    (refused,) = _score_all([WRONG], server_url=app.url, server_retry_s=0.2, error_score=0.25)
    assert refused["verdict"] == "error" and "HTTP 401" in refused["error"] and refused["score"] == 0.25
    assert app.requests("401") == 1


def test_the_server_url_may_come_from_the_environment(
    app: AppServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "t0k")
    monkeypatch.setenv("SCIGEN_REWARD_URL", app.url)
    (result,) = _score_all([RIGHT])
    assert result["verdict"] == "correct" and app.requests("200") == 1


@pytest.mark.parametrize("max_items", [1, 2, 3])
def test_a_batch_holds_at_most_max_items(max_items: int) -> None:
    server = Scripted(lambda body: (200, {"results": [{"echo": it["response"]} for it in body["items"]]}))

    async def run() -> list[dict[str, Any]]:
        batcher = _ServerBatcher(server.url, retry_s=1, window_s=0.05, max_items=max_items)
        try:
            items = [{"response": str(i), "ground_truth": "1"} for i in range(max_items + 1)]
            results = list(await asyncio.gather(*(batcher.score(it, (0.0, 0.0)) for it in items)))
            await asyncio.sleep(0)  # the finished sends' done-callbacks run
            assert not batcher.sending  # each finished send leaves the set
            return results
        finally:
            await batcher.close()

    try:
        results = asyncio.run(run())
    finally:
        server.close()
    assert sorted(len(b["items"]) for b in server.bodies) == sorted([max_items, 1])
    assert results == [{"echo": str(i)} for i in range(max_items + 1)]
    assert all("_scoring" not in item for b in server.bodies for item in b["items"])


@pytest.mark.parametrize(("error_score", "format_weight"), [(None, 0.0), (0.0, 0.0), (0.25, 0.5), (1.0, 1.0)])
def test_a_server_that_is_down_leaves_the_rule_or_an_unscored_error(
    error_score: float | None, format_weight: float
) -> None:
    """``error_score=None``: not given, the default (0.0) scores an unjudged answer."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    started = time.monotonic()
    right, wrong, unboxed = _score_all(
        [RIGHT, WRONG, UNBOXED],
        server_url=dead,
        server_retry_s=0.3,
        format_weight=format_weight,
        **({} if error_score is None else {"error_score": error_score}),
    )
    error_score = 0.0 if error_score is None else error_score
    assert time.monotonic() - started < 10
    assert (right["verdict"], right["path"], right["fallback"], right["unscored"]) == (
        "correct",
        "rule_fallback",
        1.0,
        0.0,
    )
    assert right["score"] == pytest.approx(1.0) and right["acc"] == 1.0 and right["format"] == 1.0
    for unjudged, boxed in ((wrong, 1.0), (unboxed, 0.0)):
        assert (unjudged["verdict"], unjudged["path"], unjudged["unscored"], unjudged["fallback"]) == (
            "error", "server", 1.0, 0.0)  # fmt: skip
        expected = (1 - format_weight) * error_score + format_weight * boxed  # as the judge scores it
        assert (
            unjudged["score"] == pytest.approx(expected)
            and unjudged["acc"] == 0.0
            and unjudged["format"] == boxed
        )
        assert unjudged["error"].startswith(f"reward server {dead}/score: ClientConnectorError")


def test_fallback_scores_follow_the_format_weight() -> None:
    server = Scripted([(400, "bad")])  # refused: not retried, judged by the rule at once
    try:
        right, picked, unboxed = _score_all(
            [RIGHT, ("\\boxed{B}", "C"), UNBOXED], server_url=server.url, format_weight=0.5, error_score=0.25
        )
    finally:
        server.close()
    assert (right["verdict"], right["score"], right["fallback"]) == ("correct", 1.0, 1.0)
    assert (picked["verdict"], picked["path"], picked["score"]) == ("incorrect", "rule_fallback", 0.5)
    assert (unboxed["verdict"], unboxed["unscored"], unboxed["score"]) == ("error", 1.0, 0.5 * 0.25)


def test_a_failing_server_is_retried_then_used() -> None:
    ok = {
        "results": [
            dict.fromkeys(KEYS, 0.0) | {"verdict": "correct", "path": "verifier", "error": "", "score": 1.0}
        ]
    }
    server = Scripted([(503, "restarting"), (502, "busy"), (200, ok)])
    try:
        (result,) = _score_all([WRONG], server_url=server.url, server_retry_s=20)
    finally:
        server.close()
    assert len(server.bodies) == 3 and result["verdict"] == "correct" and result["score"] == 1.0


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (422, "no", "ValueError: HTTP 422: no"),
        (200, {"results": []}, "ValueError: 0 results for 1 answers"),
        (200, {"nothing": 1}, "KeyError: 'results'"),
        (200, "not json", "JSONDecodeError: Expecting value"),
    ],
)
def test_a_wrong_answer_from_the_server_is_not_retried_and_not_trusted(
    status: int, body: Any, error: str
) -> None:
    server = Scripted([(status, body)])
    try:
        (result,) = _score_all([WRONG], server_url=server.url, server_retry_s=20, error_score=0.5)
    finally:
        server.close()
    assert len(server.bodies) == 1
    assert result["verdict"] == "error" and result["unscored"] == 1.0 and result["score"] == 0.5
    assert error in result["error"] and result["error"].startswith(f"reward server {server.url}/score: ")


def test_a_failing_server_past_its_retry_time_gives_up() -> None:
    server = Scripted([(500, "down")])
    try:
        started = time.monotonic()
        (result,) = _score_all([WRONG], server_url=server.url, server_retry_s=1.0)
    finally:
        server.close()
    assert 1.0 <= time.monotonic() - started < 8 and 2 <= len(server.bodies) <= 5
    assert result["unscored"] == 1.0 and "_ServerUnavailable: HTTP 500: down" in result["error"]


def test_local_judging_takes_every_setting_and_ignores_verls_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCIGEN_REWARD_URL", raising=False)
    right, unboxed = _score_all(
        [RIGHT, UNBOXED],
        mode="rule_only",
        format_weight=0.5,
        reward_router_address="x",
        reward_model_tokenizer=None,
    )
    assert (right["score"], right["path"], right["fallback"], right["unscored"]) == (1.0, "rule", 0.0, 0.0)
    assert unboxed["score"] == pytest.approx(0.5 * unboxed["acc"])
    with pytest.raises(ValueError, match="unknown setting"):
        _score_all([RIGHT], mode="rule_only", bogus=1)


def test_options_from_parquet_arrive_as_plain_json(app: AppServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "t0k")

    async def run() -> dict[str, Any]:
        try:
            return await compute_score(
                "mv", "\\boxed{B}", "B", {"question": "Pick", "options": np.array(["1", "2"], dtype=object)},
                server_url=app.url,
            )  # fmt: skip
        finally:
            await close()

    assert asyncio.run(run())["verdict"] == "correct"


def test_local_judges_are_kept_per_event_loop_and_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from omegaconf import OmegaConf

    from reward.standin_verifier import verifier_reply
    from scigen_rl.llm.standin import StandInServer

    monkeypatch.delenv("SCIGEN_REWARD_URL", raising=False)
    verifier = StandInServer(api_key=None, reply=verifier_reply)
    unsure = ("v = \\boxed{3.5 m/s}", "3.5\\ \\mathrm{m/s}")  # the rule leaves it to the verifier
    urls = OmegaConf.create([verifier.base_url])  # verl hands its settings over as OmegaConf objects
    try:

        async def twice() -> list[dict[str, Any]]:
            try:
                first = await compute_score(
                    "g", *unsure, {"question": "v?"}, verifier_urls=urls, verifier_retries=0
                )
                again = await compute_score(
                    "g", *unsure, {"question": "v?"}, verifier_retries=0, verifier_urls=urls
                )
                return [first, again]
            finally:
                await close()

        assert [r["verdict"] for r in asyncio.run(twice())] == ["correct", "correct"]
        assert (
            len(verifier.requests) == 1
        )  # the same judge (and its cache), whatever the order of the settings
        assert [r["verdict"] for r in asyncio.run(twice())] == [
            "correct",
            "correct",
        ]  # a new loop, a new judge
        assert len(verifier.requests) == 2
    finally:
        verifier.close()


def test_an_unexpected_error_in_a_batch_fails_every_answer_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never a hang: an error the batcher does not expect reaches each waiting answer as an exception."""
    import reward.compass_reward as compass

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the rule broke")

    monkeypatch.setattr(compass, "decide_by_rule", broken)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # the server is down: the rule fallback runs

    async def run() -> list[Any]:
        try:
            return list(
                await asyncio.wait_for(
                    asyncio.gather(
                        *(
                            compute_score("geo", r, g, {}, server_url=dead, server_retry_s=0.1)
                            for r, g in (RIGHT, WRONG)
                        ),
                        return_exceptions=True,
                    ),
                    timeout=20,
                )
            )
        finally:
            await close()

    results = asyncio.run(run())
    assert [type(r).__name__ for r in results] == ["RuntimeError", "RuntimeError"]
    assert all(str(r) == "the rule broke" for r in results)


def test_the_rule_fallback_reads_the_rows_options() -> None:
    """With the server down, an answer that names an option's text is judged through the options."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"

    async def run() -> dict[str, Any]:
        try:
            info = {"question": "Which force?", "options": {"A": "1 N", "B": "3 N"}}
            return await compute_score(
                "geo", r"It is \boxed{3 N}", "B", info, server_url=dead, server_retry_s=0.1
            )
        finally:
            await close()

    result = asyncio.run(run())
    assert (result["verdict"], result["path"], result["fallback"], result["score"], result["invalid"]) == (
        "correct", "rule_fallback", 1.0, 1.0, 0.0,
    )  # fmt: skip


def _echo(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Scores like a server that leaves out the keys a client fills in (``unscored``, ``fallback``)."""
    keys = [k for k in KEYS if k not in ("unscored", "fallback")]
    verdicts = [("error" if it["response"] == "?" else "correct") for it in body["items"]]
    return 200, {
        "results": [dict.fromkeys(keys, 0.0) | {"verdict": v, "path": "x", "error": ""} for v in verdicts]
    }


def test_each_answer_reaches_the_server_as_verl_gave_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    server = Scripted(_echo)

    async def run() -> list[dict[str, Any]]:
        try:
            options = np.array([np.str_("1 N"), np.str_("3 N")], dtype=object)  # as parquet hands them over
            return list(
                await asyncio.gather(
                    compute_score("geo3k", "\\boxed{B}", "B", {"question": "Which?", "options": options},
                                  server_url=server.url),
                    compute_score("mv", "?", "7", None, server_url=server.url + "/api/"),
                )
            )  # fmt: skip
        finally:
            await close()

    try:
        picked, unsure = asyncio.run(run())
    finally:
        server.close()
    assert sorted((b["items"] for b in server.bodies), key=lambda items: items[0]["data_source"]) == [[
        {"question": "Which?", "ground_truth": "B", "response": "\\boxed{B}", "data_source": "geo3k",
         "options": ["1 N", "3 N"]},
    ], [
        {"question": "", "ground_truth": "7", "response": "?", "data_source": "mv", "options": None},
    ]]  # fmt: skip
    assert "authorization" not in server.headers[0]  # no token, no header
    assert sorted(server.paths) == ["/api/score", "/score"]  # with or without a trailing slash on the URL
    # keys the server left out are filled in from the verdict, in both directions
    assert (picked["unscored"], picked["fallback"], unsure["unscored"], unsure["fallback"]) == (
        0.0,
        0.0,
        1.0,
        0.0,
    )


def test_a_batch_closes_after_its_window() -> None:
    """Answers within the window share a request; one arriving well after it goes in the next."""

    async def send(batcher: _ServerBatcher) -> None:
        together = asyncio.gather(*(batcher.score({"response": str(i)}, (0.0, 0.0)) for i in range(2)))
        await asyncio.sleep(0.2)  # far past the window: its timer has fired before this returns
        await asyncio.gather(together, batcher.score({"response": "late"}, (0.0, 0.0)))

    bodies = _sent_by_a_default_batcher(send)
    assert [len(b["items"]) for b in bodies] == [2, 1]


def test_the_default_batch_takes_max_items_and_no_more() -> None:
    async def send(batcher: _ServerBatcher) -> None:
        await asyncio.gather(
            *(batcher.score({"response": str(i)}, (0.0, 0.0)) for i in range(BATCH_MAX_ITEMS + 1))
        )

    bodies = _sent_by_a_default_batcher(send)
    assert sorted(len(b["items"]) for b in bodies) == [1, BATCH_MAX_ITEMS]


def _sent_by_a_default_batcher(send: Any) -> list[Any]:
    """The bodies a batcher with the default window and size posts while ``send(batcher)`` runs."""
    server = Scripted(_echo)

    async def run() -> None:
        batcher = _ServerBatcher(server.url, retry_s=1)
        try:
            await send(batcher)
        finally:
            await batcher.close()

    try:
        asyncio.run(run())
    finally:
        server.close()
    return list(server.bodies)


def test_the_client_bounds_connecting_and_each_request() -> None:
    async def run() -> aiohttp.ClientTimeout:
        batcher = _ServerBatcher("http://127.0.0.1:9")
        try:
            return batcher.session.timeout
        finally:
            await batcher.close()

    timeout = asyncio.run(run())
    assert (timeout.total, timeout.sock_connect) == (SERVER_TIMEOUT_S, CONNECT_TIMEOUT_S)


@pytest.mark.parametrize("status", [422, 500])
def test_a_refusal_is_quoted_short(status: int) -> None:
    """The server's answer is quoted up to MAX_BODY_CHARS, the whole reason up to MAX_REASON_CHARS."""
    server = Scripted([(status, "x" * 1000)])
    try:
        (short,) = _score_all([WRONG], server_url=server.url, server_retry_s=0.2)
        (long,) = _score_all([WRONG], server_url=server.url + "/" + "p" * 300, server_retry_s=0.2)
    finally:
        server.close()
    assert short["error"].count("x") == MAX_BODY_CHARS and short["error"].endswith("x")
    assert len(short["error"]) < MAX_REASON_CHARS and len(long["error"]) == MAX_REASON_CHARS


def _slow_server(seconds: float) -> Scripted:
    def answer(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        time.sleep(seconds)
        return _echo(body)

    return Scripted(answer)


def test_closing_waits_for_the_answers_in_flight() -> None:
    server = _slow_server(0.5)

    async def run() -> list[dict[str, Any]]:
        answers = asyncio.gather(
            *(compute_score("g", r, g, {}, server_url=server.url) for r, g in (RIGHT, WRONG))
        )
        await asyncio.sleep(0.2)  # the batch is on its way
        await close()
        return list(await asyncio.wait_for(answers, 20))

    try:
        results = asyncio.run(run())
    finally:
        server.close()
    assert [(r["path"], r["fallback"]) for r in results] == [("x", 0.0), ("x", 0.0)]  # the server's


def test_closing_does_not_raise_for_a_batch_that_failed_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's answers hear of its failure; ``close`` (verl's loop ending) goes on."""
    import reward.compass_reward as compass

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the rule broke")

    monkeypatch.setattr(compass, "decide_by_rule", broken)
    server = Scripted(lambda body: (time.sleep(0.5), (503, "busy"))[1])

    async def run() -> list[Any]:
        answers = asyncio.gather(compute_score("g", *WRONG, {}, server_url=server.url, server_retry_s=0.3),
                                 return_exceptions=True)  # fmt: skip
        await asyncio.sleep(0.2)
        await close()
        return list(await asyncio.wait_for(answers, 20))

    try:
        (result,) = asyncio.run(run())
    finally:
        server.close()
    assert isinstance(result, RuntimeError) and str(result) == "the rule broke"
