"""The reward server (``scigen-rl serve-reward``): one place that judges every rollout of a training
run, in front of one or more served verifiers.

``POST /score`` ``{"items": [{question, ground_truth, response, data_source, options?}, ...]}`` ->
``{"results": [{score, acc, format, invalid, verdict, path, error, latency_ms, cached}, ...]}`` in
the same order. ``GET /health``: 200 when it can judge (a verifier endpoint answers, or rule-only
mode), else 503 with the reason. ``GET /metrics``: Prometheus text.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

from .config import TOKEN_ENV, RewardConfig
from .judge import Item, Judge, JudgeMetrics

MAX_ITEMS = 65_536
"""Largest batch one request may carry (a GRPO step of 128 x 8 is 1,024)."""


def create_app(config: RewardConfig, token: str | None = None) -> FastAPI:
    """The FastAPI application; its judge lives on the server's event loop.

    With ``token``, ``POST /score`` and ``GET /metrics`` need ``Authorization: Bearer <token>`` (401
    otherwise): a server bound to a cluster-reachable address serves the run's own workers only.
    ``GET /health`` stays open (it says only whether a verifier answers).
    """
    metrics = JudgeMetrics()
    requests = Counter("reward_requests", "POST /score requests", ["status"], registry=metrics.registry)
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state["judge"] = Judge(config, metrics)
        key = os.environ.get(config.verifier_api_key_env) if config.verifier_api_key_env else None
        state["probe"] = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=5), headers={"Authorization": f"Bearer {key}"} if key else {}
        )
        yield
        await state["judge"].close()
        await state["probe"].close()

    app = FastAPI(title="scigen-rl reward", lifespan=lifespan)

    def authorize(request: Request) -> None:
        if token is None:
            return
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            requests.labels(status="401").inc()
            raise HTTPException(401, f"a bearer token is required (the run's {TOKEN_ENV})")

    @app.post("/score")
    async def score(request: Request) -> dict[str, Any]:
        authorize(request)
        try:
            body = await request.json()
        except ValueError:
            requests.labels(status="400").inc()
            raise HTTPException(400, "the body is not JSON") from None
        raw = body.get("items") if isinstance(body, dict) else None
        if not isinstance(raw, list) or not raw:
            requests.labels(status="400").inc()
            raise HTTPException(400, 'the body must be {"items": [ ... ]} with at least one item')
        if len(raw) > MAX_ITEMS:
            requests.labels(status="413").inc()
            raise HTTPException(413, f"{len(raw)} items: at most {MAX_ITEMS} per request")
        try:
            items = [
                Item.from_dict(d if isinstance(d, dict) else {}, f"items[{i}]") for i, d in enumerate(raw)
            ]
        except ValueError as e:
            requests.labels(status="422").inc()
            raise HTTPException(422, str(e)) from None
        results = await state["judge"].judge_many(items)
        requests.labels(status="200").inc()
        return {"results": [r.to_dict() for r in results]}

    @app.get("/health")
    async def health() -> JSONResponse:
        judge: Judge = state["judge"]
        if config.mode == "rule_only":
            return JSONResponse({"status": "ok", "mode": config.mode, "endpoints": []})
        checks = await asyncio.gather(*(_probe(state["probe"], url) for url in judge.endpoint_urls()))
        endpoints = [
            {"url": url, "ok": ok, "detail": detail}
            for url, (ok, detail) in zip(judge.endpoint_urls(), checks, strict=True)
        ]
        up = any(e["ok"] for e in endpoints)
        body = {"status": "ok" if up else "unavailable", "mode": config.mode, "endpoints": endpoints}
        if not up:
            body["reason"] = "no verifier endpoint answers GET /models"
        return JSONResponse(body, status_code=200 if up else 503)

    @app.get("/metrics")
    async def prometheus(request: Request) -> PlainTextResponse:
        authorize(request)
        return PlainTextResponse(generate_latest(metrics.registry).decode(), media_type=CONTENT_TYPE_LATEST)

    return app


async def _probe(session: aiohttp.ClientSession, base_url: str) -> tuple[bool, str]:
    started = time.monotonic()
    try:
        async with session.get(base_url.rstrip("/") + "/models") as response:
            if response.status != 200:
                return False, f"HTTP {response.status}"
    except (aiohttp.ClientError, asyncio.TimeoutError) as e:
        return False, f"{type(e).__name__}: {e}"[:200]
    return True, f"{(time.monotonic() - started) * 1000:.0f} ms"


def serve(
    config: RewardConfig,
    host: str = "127.0.0.1",
    port: int = 8765,
    log_level: str = "warning",
    token: str | None = None,
) -> None:  # pragma: no mutate block (runs only in the server's own process: test_reward_server.py)
    """Run the server until interrupted (uvicorn, one process: the judge is I/O-bound)."""
    import uvicorn

    uvicorn.run(create_app(config, token), host=host, port=port, log_level=log_level)
