"""Pixel build throughput: does a build keep a slow text-to-image API busy?

Builds N SciGenBench problems (default 64) with ``--generator gateway:stand-in@URL`` against a
stand-in OpenAI Images server (its own process) that answers each request after a latency drawn
between 8 and 20 s (seeded; what hosted image models take), at ``--t2i.concurrency`` 8. ``seconds``
runs from the first request to the last exported row; ``bound_seconds`` is the sum of the latencies
divided by the concurrency (what the API alone needs); the last line printed is ``{"images",
"seconds", "bound_seconds", "efficiency"}`` with efficiency = bound / seconds (target >= 0.9).

No scheduler can reach that bound exactly with latencies it does not know in advance: the last
requests to start finish up to one latency after the rest (32 images lose about 15%); with 64 the
tail weighs half as much, which is why that is the default.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import sys
import tempfile
import time
from typing import Any

from data_builders.build import run_build
from data_builders.build_config import BuildConfig
from scigen_rl.llm import LLMConfig
from scigen_rl.loaders import load_scigenbench
from scigen_rl.t2i import T2IConfig
from scigen_rl.t2i.standin import StandInImages, drawn


def latency(prompt: str, low: float, high: float) -> float:
    """The stand-in's answer time for ``prompt``: between ``low`` and ``high``, fixed by the prompt."""
    unit = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big") / 2**32
    return low + (high - low) * unit


def serve(low: float, high: float, url: Any, first: Any, stop: Any) -> None:
    def slow(body: dict[str, Any]) -> bytes:
        time.sleep(latency(body["prompt"], low, high))
        return drawn(body["prompt"], (640, 480))

    server = StandInImages(api_key="bench-key", reply=slow)
    url.put(server.base_url)
    stop.wait()
    first.value = server.arrivals[0] if server.arrivals else 0.0
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--low", type=float, default=8.0)
    parser.add_argument("--high", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    from data_builders.generators.pixel import PIXEL_PROMPT

    problems = load_scigenbench()[: args.images]
    total = sum(latency(PIXEL_PROMPT.format(question=p.question), args.low, args.high) for p in problems)
    os.environ["OPENAI_API_KEY"] = "bench-key"
    ctx = multiprocessing.get_context("fork")
    url, first, stop = ctx.Queue(), ctx.Value("d", 0.0), ctx.Event()
    server = ctx.Process(target=serve, args=(args.low, args.high, url, first, stop), daemon=True)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as run_dir:
            cfg = BuildConfig(
                run_dir=run_dir,
                llm=LLMConfig(base_url="", model=""),
                generator=f"gateway:stand-in@{url.get(timeout=30)}",
                concurrency=args.concurrency,
                t2i=T2IConfig(concurrency=args.concurrency, max_retries=0),
            )
            summary = run_build(problems, cfg)
            finished = time.monotonic()
    finally:
        stop.set()
        server.join(timeout=30)
    seconds = finished - first.value
    bound = total / args.concurrency
    print(f"{len(problems)} images: {summary['rendered']} made, {summary['exported']} exported; {seconds:.1f} s "
          f"against a bound of {bound:.1f} s", file=sys.stderr)  # fmt: skip
    print(json.dumps({"images": len(problems), "seconds": round(seconds, 2), "bound_seconds": round(bound, 2),
                      "efficiency": round(bound / seconds, 3)}))  # fmt: skip


if __name__ == "__main__":
    main()
