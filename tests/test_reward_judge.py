"""The judging engine and the reward server's application in this process, in front of a stand-in
verifier (a real HTTP server on 127.0.0.1 that checks each request's format and answers by rule):
every setting that changes a score, the cache and time-out limits at their edges, the server's
refusals. ``test_reward_server.py`` runs the same server as a real process behind uvicorn."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

import reward.server
from reward.config import TOKEN_ENV, RewardConfig
from reward.judge import Item, Judge, Judgment, _reason
from reward.server import create_app
from reward.standin_verifier import verifier_reply
from scigen_rl.llm.standin import StandInServer


@pytest.fixture
def verifier() -> Iterator[StandInServer]:
    server = StandInServer(api_key=None, reply=verifier_reply, delay_s=0.05)
    yield server
    server.close()


def _config(verifier: StandInServer | None, **settings: Any) -> RewardConfig:
    urls = [verifier.base_url] if verifier is not None else []
    settings.setdefault("mode", "rule_then_verifier" if urls else "rule_only")
    return RewardConfig(
        verifier_urls=urls, verifier_timeout_s=2.0, verifier_retries=0, item_timeout_s=10, **settings
    )


def _judge(config: RewardConfig, items: list[Item]) -> list[Judgment]:
    async def run() -> list[Judgment]:
        judge = Judge(config)
        try:
            return await judge.judge_many(items)
        finally:
            await judge.close()

    return asyncio.run(run())


RIGHT = Item("Find x.", "48", "x = \\boxed{48}")
WRONG = Item("Find x.", "48", "x = \\boxed{47}")  # the rule never calls a number wrong: the verifier does
PICKED_WRONG = Item("Pick one.", "C", "\\boxed{B}", options=["1", "2", "3"])  # the rule calls it wrong
UNSURE = Item("Find v.", "3.5\\ \\mathrm{m/s}", "v = \\boxed{3.5 m/s}")  # the rule cannot decide
BROKEN = Item("Find x.", "48", "\\boxed{47} [fail500]")  # the verifier answers HTTP 500
PROSE = Item("Find x.", "48", "[garbage] 48")  # the verifier answers prose
REFUSES = Item("Find x.", "48", "[invalid] no")  # the verifier answers C


def test_rule_then_verifier_paths_and_verdicts(verifier: StandInServer) -> None:
    results = _judge(_config(verifier), [RIGHT, PICKED_WRONG, WRONG, UNSURE, REFUSES])
    assert [(r.verdict, r.path) for r in results] == [
        ("correct", "rule"),
        ("incorrect", "rule"),
        ("incorrect", "verifier"),
        ("correct", "verifier"),
        ("invalid", "verifier"),
    ]
    assert [r.score for r in results] == [1.0, 0.0, 0.0, 1.0, 0.0]
    assert [r.acc for r in results] == [1.0, 0.0, 0.0, 1.0, 0.0]
    assert [r.invalid for r in results] == [0.0, 0.0, 0.0, 0.0, 1.0]
    assert [r.format for r in results] == [1.0, 1.0, 1.0, 1.0, 0.0]
    assert len(verifier.requests) == 3  # only the three the rule left open
    assert all(r.error == "" and r.cached is False for r in results)
    assert (
        0 <= results[0].latency_ms < 5000 and 50 <= results[3].latency_ms < 5000
    )  # the stand-in takes 50 ms


def test_verifier_only_asks_the_verifier_for_every_answer(verifier: StandInServer) -> None:
    results = _judge(_config(verifier, mode="verifier_only"), [RIGHT, WRONG])
    assert [(r.verdict, r.path) for r in results] == [("correct", "verifier"), ("incorrect", "verifier")]
    assert len(verifier.requests) == 2


def test_rule_only_never_calls_a_verifier_and_calls_the_undecided_incorrect() -> None:
    results = _judge(_config(None), [RIGHT, UNSURE])
    assert [(r.verdict, r.path, r.score) for r in results] == [
        ("correct", "rule", 1.0),
        ("incorrect", "rule", 0.0),
    ]


@pytest.mark.parametrize("error_score", [0.0, 0.25, 1.0])
def test_unjudged_answers_score_the_configured_error_score(
    verifier: StandInServer, error_score: float
) -> None:
    results = _judge(_config(verifier, error_score=error_score), [BROKEN, PROSE, WRONG])
    assert [r.verdict for r in results] == ["error", "unparsed", "incorrect"]
    assert [r.score for r in results] == [error_score, error_score, 0.0]
    assert [r.acc for r in results] == [0.0, 0.0, 0.0]
    assert "HTTP 500" in results[0].error and verifier.base_url in results[0].error
    assert "garbage" in results[1].error or "Let me compare" in results[1].error


@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0])
def test_format_weight_mixes_correctness_and_the_boxed_answer(weight: float) -> None:
    unboxed_right = Item("Find x.", "48", "The answer is 48")
    results = _judge(_config(None, format_weight=weight), [RIGHT, WRONG, unboxed_right])
    scores = [r.score for r in results]
    assert scores == pytest.approx([1.0, weight, 1 - weight if results[2].acc else 0.0])
    assert [r.format for r in results] == [1.0, 1.0, 0.0]


def test_format_weight_applies_to_unjudged_answers_too(verifier: StandInServer) -> None:
    (result,) = _judge(_config(verifier, format_weight=0.5, error_score=0.5), [BROKEN])
    assert result.verdict == "error" and result.score == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)


def test_a_verdict_is_cached_by_content_past_the_thinking(verifier: StandInServer) -> None:
    async def run() -> list[Judgment]:
        judge = Judge(_config(verifier))
        try:
            first = await judge.judge(UNSURE)
            again = await judge.judge(
                Item(UNSURE.question, UNSURE.ground_truth, "<think>hm</think>" + UNSURE.response)
            )
            other_gold = await judge.judge(Item(UNSURE.question, "4 m/s", UNSURE.response))
            return [first, again, other_gold]
        finally:
            await judge.close()

    first, again, other_gold = asyncio.run(run())
    assert (first.cached, again.cached, other_gold.cached) == (False, True, False)
    assert (first.verdict, again.verdict, other_gold.verdict) == ("correct", "correct", "incorrect")
    assert len(verifier.requests) == 2


def test_errors_are_never_cached(verifier: StandInServer) -> None:
    async def run() -> list[Judgment]:
        judge = Judge(_config(verifier))
        try:
            return [await judge.judge(BROKEN), await judge.judge(BROKEN)]
        finally:
            await judge.close()

    assert [(r.verdict, r.cached) for r in asyncio.run(run())] == [("error", False), ("error", False)]
    assert len(verifier.requests) == 2


@pytest.mark.parametrize(("cache_size", "cached"), [(1, False), (2, True)])
def test_the_cache_keeps_the_newest_verdicts_up_to_its_size(
    verifier: StandInServer, cache_size: int, cached: bool
) -> None:
    async def run() -> Judgment:
        judge = Judge(_config(verifier, cache_size=cache_size))
        try:
            await judge.judge(RIGHT)
            await judge.judge(WRONG)
            return await judge.judge(RIGHT)
        finally:
            await judge.close()

    assert asyncio.run(run()).cached is cached


@pytest.mark.parametrize(("item_timeout_s", "verdict"), [(0.2, "error"), (3.0, "correct")])
def test_the_item_time_out_at_its_edge(verifier: StandInServer, item_timeout_s: float, verdict: str) -> None:
    slow = StandInServer(api_key=None, reply=verifier_reply, delay_s=0.6)
    try:
        config = RewardConfig(
            verifier_urls=[slow.base_url], item_timeout_s=item_timeout_s, verifier_retries=0
        )
        (result,) = _judge(config, [UNSURE])
    finally:
        slow.close()
    assert result.verdict == verdict
    if verdict == "error":
        assert result.error == f"no verdict within {item_timeout_s:g} s" and result.path == "verifier"
        assert result.cached is False


def test_the_verifier_sees_only_the_tail_of_the_answer(verifier: StandInServer) -> None:
    long = Item("Find v.", UNSURE.ground_truth, "x" * 500 + " v = \\boxed{3.5 m/s}")
    _judge(_config(verifier, answer_tail_chars=40), [long])
    prompt = verifier.requests[0]["messages"][0]["content"]
    candidate = prompt.split("<Candidate Response>\n")[1].split("\n</Candidate Response>")[0]
    assert candidate.endswith("\\boxed{3.5 m/s}") and len(candidate) <= 40
    assert verifier.requests[0]["max_tokens"] == 8 and verifier.requests[0]["temperature"] == 0.0


def test_endpoints_share_the_load() -> None:
    a, b = (StandInServer(api_key=None, reply=verifier_reply, delay_s=0.05) for _ in range(2))
    try:
        config = RewardConfig(
            verifier_urls=[a.base_url, b.base_url], mode="verifier_only", verifier_retries=0
        )
        items = [Item("q", str(i), f"\\boxed{{{i}}}") for i in range(8)]
        results = _judge(config, items)
    finally:
        a.close()
        b.close()
    assert all(r.verdict == "correct" for r in results)
    assert len(a.requests) == len(b.requests) == 4


@pytest.mark.parametrize(
    ("verdict", "error", "label"),
    [
        ("unparsed", "anything", "unparsed"),
        ("error", "no verdict within 3 s", "timeout"),
        ("error", "verifier x: timeout after 2 s", "timeout"),
        ("error", "verifier x: connection refused", "connection"),
        ("error", "verifier x: HTTP 503: busy", "http_5xx"),
        ("error", "verifier x: HTTP 429: slow down", "http_4xx"),
        ("error", "verifier x: bad JSON", "other"),
    ],
)
def test_error_reasons_are_bounded_labels(verdict: str, error: str, label: str) -> None:
    assert _reason(verdict, error) == label


def test_item_from_dict_keeps_the_source_and_names_the_item_and_field() -> None:
    base = {"question": "q", "ground_truth": "1", "response": "r"}
    assert Item.from_dict(dict(base, data_source="geo")).data_source == "geo"
    assert Item.from_dict(dict(base, data_source=None)).data_source == ""
    with pytest.raises(ValueError, match=r"^item: field 'response' must be a string, got NoneType$"):
        Item.from_dict(dict(base, response=None))
    assert Item.from_dict(
        {"question": "q", "ground_truth": "1", "response": "r", "options": ["a"]}
    ).options == ["a"]
    for missing in ("question", "ground_truth", "response"):
        d = {"question": "q", "ground_truth": "1", "response": "r", missing: 3}
        with pytest.raises(ValueError, match=rf"items\[7\]: field '{missing}' must be a string, got int"):
            Item.from_dict(d, "items[7]")


# -- the server's application (in this process, through Starlette's test client) ----------------


def _client(config: RewardConfig, token: str | None = None) -> TestClient:
    return TestClient(create_app(config, token))


def _metric(client: TestClient, line_start: str, headers: dict[str, str] | None = None) -> float:
    text = client.get("/metrics", headers=headers or {}).text
    values = [
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start + " ")
    ]
    return values[0] if values else 0.0


def test_server_scores_in_order_and_counts_requests(verifier: StandInServer) -> None:
    with _client(_config(verifier, error_score=0.25)) as client:
        body = {"items": [vars(RIGHT), vars(BROKEN), vars(UNSURE)]}
        response = client.post("/score", json=body)
        assert response.status_code == 200
        results = response.json()["results"]
        assert [r["verdict"] for r in results] == ["correct", "error", "correct"]
        assert [r["score"] for r in results] == [1.0, 0.25, 1.0]
        assert _metric(client, 'reward_requests_total{status="200"}') == 1
        assert _metric(client, 'reward_errors_total{reason="http_5xx"}') == 1
        assert _metric(client, 'reward_items_total{path="rule",verdict="correct"}') == 1


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"not json", 400, "not JSON"),
        (b"[1, 2]", 400, "at least one item"),
        (b'{"items": []}', 400, "at least one item"),
        (b'{"items": {"a": 1}}', 400, "at least one item"),
        (b'{"items": [{"question": "q", "ground_truth": "1", "response": "r"}, 5]}', 422, "items[1]"),
        (b'{"items": [{"question": "q", "ground_truth": 1, "response": "r"}]}', 422, "'ground_truth'"),
    ],
)
def test_server_refuses_malformed_bodies(body: bytes, status: int, message: str) -> None:
    with _client(_config(None)) as client:
        response = client.post("/score", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == status and message in response.json()["detail"]
        assert _metric(client, f'reward_requests_total{{status="{status}"}}') == 1


@pytest.mark.parametrize(("n", "status"), [(3, 200), (4, 413)])
def test_server_batch_limit_at_its_edge(monkeypatch: pytest.MonkeyPatch, n: int, status: int) -> None:
    monkeypatch.setattr(reward.server, "MAX_ITEMS", 3)
    with _client(_config(None)) as client:
        response = client.post("/score", json={"items": [vars(RIGHT)] * n})
        assert response.status_code == status
        if status == 413:
            assert "at most 3" in response.json()["detail"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": "Bearer s3cret"}, 200)],
)
def test_server_token_guards_score_and_metrics(headers: dict[str, str], status: int) -> None:
    with _client(_config(None), token="s3cret") as client:
        scored = client.post("/score", json={"items": [vars(RIGHT)]}, headers=headers)
        assert scored.status_code == status
        if status == 401:  # the refusal says what is missing, whose token it is
            assert scored.json()["detail"] == f"a bearer token is required (the run's {TOKEN_ENV})"
        assert client.get("/metrics", headers=headers).status_code == status
        assert client.get("/health").status_code == 200  # health stays open
        ok = {"Authorization": "Bearer s3cret"}
        assert _metric(client, 'reward_requests_total{status="401"}', ok) == (2 if status == 401 else 0)


def test_server_without_a_token_is_open() -> None:
    with _client(_config(None)) as client:
        assert client.post("/score", json={"items": [vars(RIGHT)]}).status_code == 200


def test_health_follows_the_verifier(verifier: StandInServer) -> None:
    dead = StandInServer(api_key=None)
    dead_url = dead.base_url
    dead.close()
    with _client(_config(None)) as client:
        assert client.get("/health").json() == {"status": "ok", "mode": "rule_only", "endpoints": []}
    locked = StandInServer(api_key="other-key")
    try:
        urls = [dead_url, verifier.base_url + "/", locked.base_url]
        with _client(RewardConfig(verifier_urls=urls)) as client:
            response = client.get("/health")
    finally:
        locked.close()
    assert response.status_code == 200
    dead, up, refused = response.json()["endpoints"]
    assert (dead["ok"], up["ok"], refused["ok"]) == (False, True, False)
    assert dead["detail"].startswith("ClientConnectorError: ") and refused["detail"] == "HTTP 401"
    assert re.fullmatch(r"\d+ ms", up["detail"]) and int(up["detail"].split()[0]) < 5000
    with _client(RewardConfig(verifier_urls=[dead_url])) as client:
        response = client.get("/health")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable" and "GET /models" in response.json()["reason"]


def test_options_reach_the_rule_and_the_verifier(verifier: StandInServer) -> None:
    by_rule = Item("Pick one.", "2", "\\boxed{B}", options=["1", "2", "3"])  # gold given as the option's text
    asked = Item("Pick one.", "2", "\\boxed{two}", options={"A": "1", "B": "2"})
    results = _judge(_config(verifier), [by_rule, asked])
    assert (results[0].verdict, results[0].path) == ("correct", "rule")
    prompt = verifier.requests[0]["messages"][0]["content"]
    assert "A. 1" in prompt and "B. 2" in prompt


def test_requests_in_flight_are_counted_back_to_zero() -> None:
    a, b = (StandInServer(api_key=None, reply=verifier_reply, delay_s=0.5) for _ in range(2))

    async def run() -> tuple[list[int], list[int], str]:
        judge = Judge(
            RewardConfig(verifier_urls=[a.base_url, b.base_url], mode="verifier_only", verifier_retries=0)
        )
        try:
            seen: list[int] = []
            task = asyncio.ensure_future(
                judge.judge_many([Item("q", str(i), f"\\boxed{{{i}}}") for i in range(6)])
            )
            await asyncio.sleep(0.1)  # every request sent, none answered
            seen = list(judge.in_flight)
            await task
            from prometheus_client import generate_latest

            return seen, list(judge.in_flight), generate_latest(judge.metrics.registry).decode()
        finally:
            await judge.close()

    try:
        during, after, metrics = asyncio.run(run())
    finally:
        a.close()
        b.close()
    assert during == [3, 3] and after == [0, 0]
    assert f'reward_verifier_in_flight{{endpoint="{a.base_url}"}} 0.0' in metrics


def test_idle_endpoints_are_taken_in_turn() -> None:
    servers = [StandInServer(api_key=None, reply=verifier_reply) for _ in range(3)]

    async def run() -> None:
        judge = Judge(RewardConfig(verifier_urls=[s.base_url for s in servers], mode="verifier_only"))
        try:
            for i in range(4):
                await judge.judge(Item("q", str(i), f"\\boxed{{{i}}}"))
        finally:
            await judge.close()

    try:
        asyncio.run(run())
    finally:
        for s in servers:
            s.close()
    assert [len(s.requests) for s in servers] == [2, 1, 1]
    firsts = [s.first_request_at or 0.0 for s in servers]
    assert firsts[0] < firsts[1] < firsts[2]


def test_unjudged_answers_are_logged_at_most_every_ten_seconds(
    verifier: StandInServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> None:
        judge = Judge(_config(verifier, error_score=0.25))
        try:
            await judge.judge_many([BROKEN, PROSE, BROKEN])
            judge._last_log = time.monotonic() - 10.5  # as if 10.5 s had passed
            await judge.judge(PROSE)
        finally:
            await judge.close()

    with caplog.at_level("WARNING", logger="scigen_rl.reward"):
        asyncio.run(run())
    lines = [r.getMessage() for r in caplog.records if r.name == "scigen_rl.reward"]
    assert len(lines) == 2
    assert lines[0].startswith("1 answers could not be judged so far (scored 0.25 each); latest: ")
    assert lines[1].startswith("4 answers could not be judged so far (scored 0.25 each); latest: unparsed: ")


@pytest.mark.parametrize("reply", ["", "x" * 100])
def test_an_unparsed_reply_is_quoted_short(reply: str) -> None:
    server = StandInServer(api_key=None, reply=lambda body: reply)
    try:
        (result,) = _judge(_config(server), [WRONG])
    finally:
        server.close()
    assert result.verdict == "unparsed" and result.error == f"unparsed verifier output: {reply[:80]!r}"


def test_every_series_of_the_judge_is_in_its_own_registry(verifier: StandInServer) -> None:
    from prometheus_client import generate_latest

    async def run() -> str:
        judge = Judge(_config(verifier))
        try:
            for item in (RIGHT, RIGHT, UNSURE, BROKEN, PROSE):
                await judge.judge(item)
            return generate_latest(judge.metrics.registry).decode()
        finally:
            await judge.close()

    text = asyncio.run(run())
    for line in (
        'reward_items_total{path="rule",verdict="correct"} 2.0',
        'reward_items_total{path="verifier",verdict="correct"} 1.0',
        "reward_rule_hits_total 1.0",
        "reward_cache_hits_total 1.0",
        'reward_errors_total{reason="http_5xx"} 1.0',
        'reward_errors_total{reason="unparsed"} 1.0',
        f'reward_verifier_in_flight{{endpoint="{verifier.base_url}"}} 0.0',
        "reward_verifier_latency_seconds_count 3.0",
    ):
        assert line in text.splitlines(), line
    buckets = re.findall(r'reward_verifier_latency_seconds_bucket\{le="([^"]+)"\}', text)
    assert buckets == [
        "0.05",
        "0.1",
        "0.25",
        "0.5",
        "1.0",
        "2.0",
        "5.0",
        "10.0",
        "30.0",
        "60.0",
        "120.0",
        "+Inf",
    ]


def test_the_verifier_clients_take_the_reward_settings(
    verifier: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_VERIFIER_KEY", "k")
    config = RewardConfig(
        verifier_urls=[verifier.base_url, verifier.base_url + "/"], verifier_api_key_env="MY_VERIFIER_KEY",
        max_in_flight=7, verifier_timeout_s=3.5, verifier_retries=2, mode="rule_then_verifier",
    )  # fmt: skip
    judge = Judge(config)
    try:
        for client in judge._endpoints:
            c = client.config
            assert (c.api_key_env, c.temperature, c.concurrency, c.timeout_s, c.max_retries) == (
                "MY_VERIFIER_KEY", 0.0, 7, 3.5, 2,
            )  # fmt: skip
            assert (c.backoff_s, c.backoff_max_s, c.cache_dir) == (0.5, 8.0, None)  # retries: 0.5 s up to 8 s
    finally:
        asyncio.run(judge.close())
    rule_only = Judge(RewardConfig(verifier_urls=[verifier.base_url], mode="rule_only"))
    assert rule_only.endpoint_urls() == []


@pytest.mark.parametrize("workers", [0, 1])
def test_the_rule_runs_in_spawned_processes_when_asked(workers: int) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from reward.judge import _init_rule_process

    judge = Judge(RewardConfig(rule_workers=workers, mode="rule_only"))
    try:
        pool = judge._rule_pool
        if workers == 0:
            assert pool is None
        else:
            assert isinstance(pool, ProcessPoolExecutor) and pool._max_workers == 1
            assert pool._mp_context.get_start_method() == "spawn" and pool._initializer is _init_rule_process
            assert _judge_with(judge, RIGHT).verdict == "correct"
    finally:
        asyncio.run(judge.close())


def _judge_with(judge: Judge, item: Item) -> Judgment:
    return asyncio.run(judge.judge(item))


def test_the_cache_key_reads_the_answer_after_the_last_thinking() -> None:
    judge = Judge(RewardConfig(mode="rule_only"))
    key = judge._key
    think = [Item("q", "1", "<think>a</think><think>b</think>x = \\boxed{1}"),
             Item("q", "1", "<think>a</think><think>c</think>x = \\boxed{1}")]  # fmt: skip
    assert key(think[0]) == key(think[1])
    assert key(Item("q", "1", "so x = 1")) != key(Item("q", "1", "so y = 1"))


def test_cached_verdicts_keep_their_path_and_have_no_error(verifier: StandInServer) -> None:
    async def run(config: RewardConfig, item: Item) -> list[Judgment]:
        judge = Judge(config)
        try:
            return [await judge.judge(item), await judge.judge(item)]
        finally:
            await judge.close()

    first, again = asyncio.run(run(_config(verifier), UNSURE))
    assert (first.path, first.cached, again.path, again.cached, again.error) == (
        "verifier",
        False,
        "verifier",
        True,
        "",
    )
    first, again = asyncio.run(
        run(_config(None), UNSURE)
    )  # rule only: undecided is incorrect, and remembered
    assert (first.verdict, first.path, first.cached, first.error) == ("incorrect", "rule", False, "")
    assert (again.verdict, again.path, again.cached, again.error) == ("incorrect", "rule", True, "")


def test_a_busy_endpoint_is_passed_over_for_the_next_in_turn() -> None:
    judge = Judge(RewardConfig(verifier_urls=["http://127.0.0.1:9/a", "http://127.0.0.1:9/b", "http://127.0.0.1:9/c"],
                               mode="verifier_only"))  # fmt: skip
    try:
        judge.in_flight = [1, 0, 0]
        assert judge._pick_endpoint() == 1  # turn 0: 0 is busy, 1 comes next
        judge.in_flight = [0, 1, 0]
        assert judge._pick_endpoint() == 2  # turn 1: 1 is busy, 2 comes next
    finally:
        asyncio.run(judge.close())


def test_a_rule_that_hangs_is_given_up_at_the_rule_time_out(monkeypatch: pytest.MonkeyPatch) -> None:
    import reward.rules

    real = reward.rules.rule_verdict

    def slow(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("parser", True) and len(args) < 5:  # the LaTeX parser's turn, off the loop
            time.sleep(3)
        return real(*args, **kwargs)

    monkeypatch.setattr(reward.rules, "rule_verdict", slow)

    async def run() -> tuple[Judgment, float]:
        judge = Judge(_config(None, rule_timeout_s=0.3))
        try:
            started = time.monotonic()
            result = await judge.judge(UNSURE)
            return result, time.monotonic() - started
        finally:
            await judge.close()

    result, seconds = asyncio.run(run())  # (the abandoned thread finishes its sleep before the loop ends)
    assert 0.3 <= seconds < 2.5  # given up after 0.3 s, not waited for
    assert (result.verdict, result.path) == ("incorrect", "rule")  # rule only: undecided is incorrect


def test_closing_a_judge_leaves_a_running_rule_check_and_drops_the_queued_ones() -> None:
    """``close`` must not wait for a rule check stuck in its process (the loop would stall behind it),
    and the checks still queued behind it never start."""
    import time as clock

    judge = Judge(RewardConfig(rule_workers=1, mode="rule_only"))
    pool = judge._rule_pool
    assert pool is not None
    running = pool.submit(clock.sleep, 30)
    queued = [pool.submit(clock.sleep, 0) for _ in range(6)]
    deadline = clock.monotonic() + 60
    while not running.running():  # the spawned process has taken the first
        assert clock.monotonic() < deadline, "the rule process did not start"
        clock.sleep(0.05)
    processes = list(pool._processes.values())  # type: ignore[attr-defined]
    try:
        asyncio.run(judge.close())
        assert not running.done()  # close came back while it still runs
        # the pool hands up to two calls ahead to its process's queue; the ones behind never start
        # (its manager thread cancels them just after close returns; a queue left alone would only
        # move once the first call ends, 30 s from now)
        deadline = clock.monotonic() + 10
        while not all(f.cancelled() for f in queued[2:]) and clock.monotonic() < deadline:
            clock.sleep(0.02)
        assert all(f.cancelled() for f in queued[2:])
    finally:
        for process in processes:
            process.kill()


def _fail_to_start() -> None:
    raise RuntimeError("planted: the worker cannot start")


def test_a_rule_pool_that_cannot_run_is_an_error_not_a_wrong_answer() -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    judge = Judge(RewardConfig(rule_workers=1, mode="rule_only"))
    try:
        # Answers the parser must read: with its workers broken, none is judged (never scored as wrong).
        judge._rule_pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                               initializer=_fail_to_start)  # fmt: skip
        judged = _judge_with(judge, Item("q", "\\frac{1}{2}", "so x = \\boxed{0.5}"))
        assert (
            judged.verdict == "error"
            and judged.path == "rule"
            and "worker processes are gone" in judged.error
        )
        assert judged.score == judge.config.error_score and judged.acc == 0.0
        # What needs no parser is still judged by the rule on the event loop.
        assert _judge_with(judge, Item("q", "12", "so \\boxed{12}")).verdict == "correct"
    finally:
        asyncio.run(judge.close())
