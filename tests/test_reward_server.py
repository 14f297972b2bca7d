"""The reward server as a real process on 127.0.0.1, in front of stand-in verifiers (real HTTP servers
that check each request's format and answer by rule): batching, caching, time-outs, the error policy,
health and metrics, and the verl entry point through it."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from reward.compass_reward import KEYS, close, compute_score
from reward.standin_verifier import verifier_reply
from scigen_rl.llm.standin import StandInServer


@dataclass
class Running:
    url: str
    verifier: StandInServer
    proc: subprocess.Popen[str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(*flags: str, env: dict[str, str] | None = None) -> tuple[str, subprocess.Popen[str]]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scigen_rl.cli", "serve-reward", "--port", str(port), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, VERIFIER_KEY="verifier-key", **(env or {})),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the reward server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            httpx.get(url + "/metrics", timeout=1)
            return url, proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the reward server did not start in 60 s")


def score_once(url: str, response: str, gold: str, retry_s: float) -> dict:
    """One answer through ``compute_score`` and the server at ``url``, on an event loop of its own."""

    async def run() -> dict:
        try:
            return await compute_score(
                "t", response, gold, {"question": "q"}, server_url=url, server_retry_s=retry_s
            )
        finally:
            await close()

    return asyncio.run(run())


def _stop(proc: subprocess.Popen[str]) -> str:
    """Stop the server; its log (stderr)."""
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err or ""


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    verifier = StandInServer(api_key="verifier-key", reply=verifier_reply, delay_s=0.05)
    url, proc = _start(
        "--verifier-urls", verifier.base_url, "--verifier-api-key-env", "VERIFIER_KEY",
        "--verifier-timeout-s", "0.5", "--verifier-retries", "1", "--item-timeout-s", "3",
        "--error-score", "0.25",
    )  # fmt: skip
    yield Running(url, verifier, proc)
    _stop(proc)
    verifier.close()


def _item(response: str, gold: str = "48", **extra: object) -> dict:
    return {"question": "Find x.", "ground_truth": gold, "response": response, "data_source": "geo", **extra}


BATCH = [
    _item("<think>maybe 47</think> x = \\boxed{48}"),  # rule: correct
    _item("x = \\boxed{3.5 m/s}", gold="3.5\\ \\mathrm{m/s}"),  # rule cannot parse both the same: verifier
    _item("I get \\boxed{47}"),  # verifier: incorrect
    _item("\\boxed{47} [word]"),  # verifier says INCORRECT in words
    _item("[invalid] I will not answer."),  # verifier: C
    _item("[garbage] 48"),  # verifier: prose -> unparsed
    _item("\\boxed{B}", gold="C", options=["1", "2", "3"]),  # rule: incorrect option
]


def _score(url: str, items: list[dict]) -> list[dict]:
    response = httpx.post(url + "/score", json={"items": items}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def _metric(url: str, name: str, **labels: str) -> float:
    text = httpx.get(url + "/metrics").text
    selector = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = (
        rf"^{re.escape(name)}{{{re.escape(selector)}}} (\S+)$" if labels else rf"^{re.escape(name)} (\S+)$"
    )
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_batch_verdicts_paths_and_order(server: Running) -> None:
    results = _score(server.url, BATCH)
    got = [(r["verdict"], r["path"], r["score"]) for r in results]
    assert got == [
        ("correct", "rule", 1.0),
        ("correct", "verifier", 1.0),
        ("incorrect", "verifier", 0.0),
        ("incorrect", "verifier", 0.0),
        ("invalid", "verifier", 0.0),
        ("unparsed", "verifier", 0.25),  # the configured error score, and said so
        ("incorrect", "rule", 0.0),
    ]
    assert results[5]["error"].startswith("unparsed verifier output")
    assert [r["invalid"] for r in results] == [0, 0, 0, 0, 1, 0, 0]
    assert all(r["latency_ms"] >= 0 for r in results)
    # every verifier request carried the contract: checked by the stand-in (it answers 400 otherwise)
    assert all(b["model"] == "opencompass/CompassVerifier-7B" for b in server.verifier.requests)


def test_verdicts_are_cached_by_content(server: Running) -> None:
    items = [_item(f"step {i}: \\boxed{{{40 + i}}}") for i in range(5)]
    first = _score(server.url, items)
    asked = len(server.verifier.requests)
    again = _score(server.url, items + [_item("step 0: \\boxed{40}", gold="41")])  # new gold: a new question
    assert [r["verdict"] for r in again[:5]] == [r["verdict"] for r in first]
    assert all(r["cached"] for r in again[:5]) and not again[5]["cached"]
    assert len(server.verifier.requests) == asked + 1
    assert _metric(server.url, "reward_cache_hits_total") >= 5


def test_a_failing_or_hanging_verifier_gives_error_verdicts_not_a_hang(server: Running) -> None:
    started = time.monotonic()
    results = _score(
        server.url, [_item("[fail500] \\boxed{1}"), _item("[hang] \\boxed{2}"), _item("\\boxed{48}")]
    )
    assert time.monotonic() - started < 10
    fail, hang, fine = results
    assert fail["verdict"] == "error" and "HTTP 500" in fail["error"] and fail["score"] == 0.25
    assert hang["verdict"] == "error" and ("timeout" in hang["error"] or "no verdict" in hang["error"])
    assert fine["verdict"] == "correct" and fine["path"] == "rule"
    assert _metric(server.url, "reward_errors_total", reason="http_5xx") >= 1
    assert _metric(server.url, "reward_errors_total", reason="timeout") >= 1
    assert not _score(server.url, [_item("[fail500] \\boxed{1}")])[0]["cached"]  # errors are not cached


def test_bad_requests_name_the_item_and_field(server: Running) -> None:
    r = httpx.post(
        server.url + "/score", json={"items": [_item("\\boxed{1}"), {"question": "q", "response": "r"}]}
    )
    assert r.status_code == 422 and "items[1]" in r.text and "ground_truth" in r.text
    assert httpx.post(server.url + "/score", content=b"not json").status_code == 400
    assert httpx.post(server.url + "/score", json={"items": []}).status_code == 400


def test_metrics_count_what_happened(server: Running) -> None:
    """Counted from this test's own traffic (it passes alone, in any order): 4 rule hits, 2 verifier
    calls of which 1 reply is prose (unparsed), 1 request."""
    names = [("reward_items_total", {"path": "rule", "verdict": "correct"}), ("reward_rule_hits_total", {}),
             ("reward_requests_total", {"status": "200"}), ("reward_verifier_latency_seconds_count", {}),
             ("reward_errors_total", {"reason": "unparsed"}), ("reward_items_total", {"path": "verifier", "verdict": "incorrect"})]  # fmt: skip
    before = [_metric(server.url, name, **labels) for name, labels in names]
    unique = time.monotonic_ns()  # new content: the server's verdict cache must not answer it
    _score(server.url, [*(_item(f"\\boxed{{{n}}}", gold=str(n)) for n in range(100, 104)),
                        _item(f"[garbage] {unique}"), _item(f"I get \\boxed{{{unique}}}")])  # fmt: skip
    after = [_metric(server.url, name, **labels) for name, labels in names]
    assert [a - b for a, b in zip(after, before, strict=True)] == [4, 4, 1, 2, 1, 1]


def test_health_reports_the_verifier(server: Running) -> None:
    ok = httpx.get(server.url + "/health")
    assert ok.status_code == 200 and ok.json()["endpoints"][0]["ok"] is True
    url, proc = _start("--verifier-urls", f"http://127.0.0.1:{_free_port()}/v1")
    try:
        down = httpx.get(url + "/health")
        assert down.status_code == 503 and "no verifier endpoint answers" in down.json()["reason"]
        (r,) = _score(url, [_item("\\boxed{47}")])  # undecided by rule, verifier down: error, no hang
        assert r["verdict"] == "error" and "connection" in r["error"] and r["score"] == 0.0
    finally:
        log = _stop(proc)
    assert "1 answers could not be judged so far (scored 0 each)" in log


def test_endpoints_share_the_load_within_their_bound() -> None:
    verifiers = [StandInServer(api_key=None, reply=verifier_reply, delay_s=0.3) for _ in range(2)]
    url, proc = _start(
        "--verifier-urls", *(v.base_url for v in verifiers), "--max-in-flight", "2",
        "--mode", "verifier_only",
    )  # fmt: skip
    try:
        started = time.monotonic()
        results = _score(url, [_item(f"\\boxed{{{i}}}", gold=str(i)) for i in range(8)])
        elapsed = time.monotonic() - started
        assert all(r["verdict"] == "correct" and r["path"] == "verifier" for r in results)
        assert [len(v.requests) for v in verifiers] == [4, 4]
        assert all(v.max_in_flight == 2 for v in verifiers)
        assert 0.55 < elapsed < 3  # two waves of 0.3 s per endpoint, not eight in series
    finally:
        _stop(proc)
        for v in verifiers:
            v.close()


def test_compute_score_through_the_server_and_directly(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = {"question": "Find x.", "index": 3}

    async def run() -> tuple[list[dict], list[dict], dict]:
        via_server = [
            await compute_score(
                "geo",
                b["response"],
                b["ground_truth"],
                {**extra, "options": b.get("options")},
                server_url=server.url,
            )
            for b in BATCH
        ]
        direct = [
            await compute_score(
                "geo", b["response"], b["ground_truth"], {**extra, "options": b.get("options")},
                verifier_urls=[server.verifier.base_url], verifier_api_key_env="VERIFIER_KEY", error_score=0.25,
            )
            for b in BATCH
        ]  # fmt: skip
        nowhere = f"http://127.0.0.1:{_free_port()}"
        down = await compute_score(
            "geo", "\\boxed{47}", "48", extra, server_url=nowhere, server_retry_s=1, error_score=0.25
        )
        ruled = await compute_score("geo", "\\boxed{48.0}", "48", extra, server_url=nowhere, server_retry_s=1)
        await close()  # this loop's connections, as verl's reward workers close theirs at the end
        return via_server, direct, [down, ruled]

    monkeypatch.setenv("VERIFIER_KEY", "verifier-key")
    started = time.monotonic()
    via_server, direct, (down, ruled) = asyncio.run(run())
    assert all(tuple(r) == KEYS for r in via_server + direct + [down, ruled])
    assert [r["verdict"] for r in via_server] == [r["verdict"] for r in direct]
    assert [r["score"] for r in via_server] == [1.0, 1.0, 0.0, 0.0, 0.0, 0.25, 0.0]
    assert [r["unscored"] for r in via_server] == [
        float(r["verdict"] in ("error", "unparsed")) for r in via_server
    ]
    assert not any(r["fallback"] for r in via_server)
    # Server down: retried, then what the rule cannot decide is unscored (error_score, counted) ...
    assert down["verdict"] == "error" and "reward server" in down["error"] and down["score"] == 0.25
    assert down["unscored"] == 1.0 and down["fallback"] == 0.0
    # ... and what it can decide is scored by the rule, counted as a fallback.
    assert ruled["verdict"] == "correct" and ruled["score"] == 1.0 and ruled["path"] == "rule_fallback"
    assert ruled["fallback"] == 1.0 and ruled["unscored"] == 0.0
    assert time.monotonic() - started >= 1.0  # the retries took their time before giving up


def test_a_server_with_a_run_token_serves_only_that_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bound where the cluster reaches it, the reward server answers only requests carrying the run's
    bearer token; compute_score sends the token it finds in its environment."""
    url, proc = _start("--mode", "rule_only", env={"SCIGEN_REWARD_TOKEN": "run-token-1"})
    item = {"question": "q", "ground_truth": "4", "response": "\\boxed{4}"}

    try:
        assert httpx.post(url + "/score", json={"items": [item]}, timeout=10).status_code == 401
        wrong = {"Authorization": "Bearer run-token-2"}
        assert (
            httpx.post(url + "/score", json={"items": [item]}, headers=wrong, timeout=10).status_code == 401
        )
        right = {"Authorization": "Bearer run-token-1"}
        answered = httpx.post(url + "/score", json={"items": [item]}, headers=right, timeout=10)
        assert answered.status_code == 200 and answered.json()["results"][0]["verdict"] == "correct"
        assert httpx.get(url + "/metrics", timeout=10).status_code == 401
        assert httpx.get(url + "/metrics", headers=right, timeout=10).status_code == 200
        assert httpx.get(url + "/health", timeout=10).status_code == 200  # up or down is no secret
        monkeypatch.setenv("SCIGEN_REWARD_TOKEN", "run-token-1")
        assert score_once(url, "\\boxed{4}", "4", retry_s=1)["path"] == "rule"  # the server judged it
        monkeypatch.setenv("SCIGEN_REWARD_TOKEN", "another-run")
        refused = score_once(url, "\\boxed{4}", "4", retry_s=1)
        assert refused["path"] == "rule_fallback" and "HTTP 401" in refused["error"]
    finally:
        _stop(proc)
