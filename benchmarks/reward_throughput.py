"""Reward throughput: does the reward server keep the verifier busy, and what does it cost?

One GRPO step's worth of answers (128 prompts x 8 rollouts = 1,024), half of them decidable by rule
(the boxed answer equals the gold one), half only by the verifier (a boxed wrong number: the rule
never fails a free-form answer). The verifier is a stand-in in its own process that answers after a fixed 0.5 s and serves at
most 64 requests at once; the reward server (a real ``scigen-rl serve-reward`` process) allows 64 in
flight. The answers are sent the way verl's reward workers send them: one ``compute_score`` call per
answer, all at once. The baseline makes the same verifier calls directly (same concurrency, no
server, no rule path). Last line JSON: ``{"responses", "verifier_calls", "seconds", "bound_seconds",
"direct_seconds", "efficiency", "overhead_vs_direct", "rule_hits"}`` with bound = verifier_calls x
0.5 / 64, efficiency = bound / seconds (target >= 0.9) and overhead = seconds / direct - 1 (<= 0.05).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from typing import Any

import httpx

from reward.compass_reward import close, compute_score
from reward.standin_verifier import verifier_reply
from reward.verifier_prompt import answer_segment, verifier_messages
from scigen_rl.llm import ChatClient, LLMConfig
from scigen_rl.llm.standin import StandInServer


def serve_verifier(latency: float, slots: int, url: Any, stop: Any) -> None:
    server = StandInServer(api_key=None, reply=verifier_reply, delay_s=latency, max_concurrent=slots)
    url.put(server.base_url)
    stop.wait()
    server.close()


def rollouts(prompts: int, n: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(response, gold, extra_info): even rollouts give the gold answer boxed, odd ones another
    number, which only the verifier may call wrong."""
    out = []
    for p in range(prompts):
        gold = str(10 + p)
        for k in range(n):
            steps = " ".join(f"step {i}: {p * k + i}." for i in range(40))
            # Odd rollouts are wrong by a little: the rule never fails a free-form answer, so the
            # verifier decides them (and says B).
            answer = f"\\boxed{{{gold}}}" if k % 2 == 0 else f"\\boxed{{{int(gold) + k}}}"
            out.append(
                (
                    f"<think>{steps}</think> So the length is {answer}",
                    gold,
                    {"question": f"Problem {p}: find the length."},
                )
            )
    return out


async def through_server(url: str, items: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    results = await asyncio.gather(*(compute_score("bench", r, g, e, server_url=url) for r, g, e in items))
    await close()
    return list(results)


async def direct(verifier_url: str, items: list[tuple[str, str, dict[str, Any]]], concurrency: int) -> None:
    client = ChatClient(LLMConfig(base_url=verifier_url, model="opencompass/CompassVerifier-7B", max_tokens=8,
                                  concurrency=concurrency, timeout_s=60))  # fmt: skip
    results = await asyncio.gather(
        *(client.chat(verifier_messages(e["question"], g, answer_segment(r))) for r, g, e in items)
    )
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=128)
    parser.add_argument("--rollouts", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--in-flight", type=int, default=64)
    args = parser.parse_args()

    ctx = multiprocessing.get_context("fork")
    url_q, stop = ctx.Queue(), ctx.Event()
    verifier = ctx.Process(
        target=serve_verifier, args=(args.latency, args.in_flight, url_q, stop), daemon=True
    )
    verifier.start()
    verifier_url = url_q.get(timeout=30)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "scigen_rl.cli", "serve-reward", "--port", str(port), "--verifier-urls", verifier_url,
         "--max-in-flight", str(args.in_flight)],
        env=dict(os.environ),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/metrics", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        items = rollouts(args.prompts, args.rollouts)
        asyncio.run(
            through_server(url, [(f"\\boxed{{{i}}}", str(i), {"question": "warm-up"}) for i in range(8)])
        )
        started = time.monotonic()
        results = asyncio.run(through_server(url, items))
        seconds = time.monotonic() - started
        by_verifier = [it for it, r in zip(items, results, strict=True) if r["path"] == "verifier"]
        assert all(r["verdict"] in ("correct", "incorrect") for r in results), {r["verdict"] for r in results}
        # The baseline asks new questions (another gold answer), so no cache anywhere helps it.
        fresh = [(r, g + "0", e) for r, g, e in by_verifier]
        started = time.monotonic()
        asyncio.run(direct(verifier_url, fresh, args.in_flight))
        direct_s = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
        stop.set()
        verifier.join(timeout=10)
    calls = len(by_verifier)
    bound = calls * args.latency / args.in_flight
    rule_hits = sum(r["path"] == "rule" for r in results)
    print(f"{len(items)} answers: {rule_hits} by rule, {calls} by the verifier in {seconds:.2f} s "
          f"(bound {bound:.2f} s, direct {direct_s:.2f} s)", file=sys.stderr)  # fmt: skip
    print(json.dumps({"responses": len(items), "verifier_calls": calls, "seconds": round(seconds, 3),
                      "bound_seconds": round(bound, 3), "direct_seconds": round(direct_s, 3),
                      "efficiency": round(bound / seconds, 3), "overhead_vs_direct": round(seconds / direct_s - 1, 3),
                      "rule_hits": rule_hits}))  # fmt: skip


if __name__ == "__main__":
    main()
