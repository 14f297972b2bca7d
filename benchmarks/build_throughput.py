"""Build throughput: do model calls and rendering overlap?

Builds N SciGenBench problems (default 512) against a local stand-in model server that answers every
request after a fixed 2 s (a realistic ImgCoder generation) with a small varied script, at
concurrency 32, self-repair off. ``seconds`` runs from the first model request to the last exported
row (start-up excluded). Two things bound it from below: the model calls alone, N x 2 / 32
(``call_bound_seconds``), and the rendering alone, the same N scripts rendered again by a fresh
renderer on all its workers with no model in the way (``render_bound_seconds``): on a small machine
the renders need the cores for longer than the calls take. ``bound_seconds`` is the larger; the last
line printed is ``{"problems", "seconds", "call_bound_seconds", "render_bound_seconds",
"bound_seconds", "efficiency"}`` with efficiency = bound / seconds (target >= 0.9: calls never wait on
rendering, nor rendering on calls, so the slower of the two sets the pace).

What no pipeline can hide is a fixed tail: the figures of the last wave of answers are rendered
after it arrives (32 figures on 2 cores: about 1.5 s here) and then the parquet is written. That
tail weighs twice as much on 256 problems as on 512, which is why the default is 512; N is a
multiple of the concurrency because with 200 problems the calls alone already take 7 waves of 2 s
(14 s) while the bound counts 6.25.
"""

from __future__ import annotations

import argparse
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
from scigen_rl.llm.standin import StandInServer
from scigen_rl.loaders import load_scigenbench
from scigen_rl.records import Figure, read_jsonl
from scigen_rl.render import RenderConfig, Renderer

SCRIPT = """PLAN
1. Image content: a labelled polygon. 2. Layout: centred. 3. Labels: given values. 4. Drawing constraints: no answer.
```python
import numpy as np
import matplotlib.pyplot as plt
rng = np.random.default_rng({seed})
fig, ax = plt.subplots(figsize=(5, 4))
pts = rng.uniform(0, 4, size=({n}, 2))
ax.fill(pts[:, 0], pts[:, 1], alpha=0.5)
for i, (x, y) in enumerate(pts):
    ax.annotate(chr(65 + i), (x, y), xytext=(4, 4), textcoords="offset points")
ax.set_title("Figure {seed}")
ax.set_aspect("equal")
plt.savefig("figure.png", bbox_inches="tight")
```
"""


def reply(body: dict) -> str:
    text = body["messages"][-1]["content"]
    seed = sum(map(ord, text[:200]))
    return SCRIPT.replace("{seed}", str(seed)).replace("{n}", str(3 + seed % 5))


def serve(latency: float, url: Any, first: Any, stop: Any) -> None:
    """The stand-in model server, in its own process like a real one (not competing for our GIL)."""
    server = StandInServer(api_key=None, reply=reply, delay_s=latency)
    url.put(server.base_url)
    stop.wait()
    first.value = server.first_request_at or 0.0
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=512)
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--scigenbench-dir", default=os.environ.get("SCIGENBENCH_DIR"), help="default: the shipped copy"
    )
    args = parser.parse_args()

    problems = load_scigenbench(args.scigenbench_dir)[: args.problems]
    ctx = multiprocessing.get_context("fork")
    url, first, stop = ctx.Queue(), ctx.Value("d", 0.0), ctx.Event()
    server = ctx.Process(target=serve, args=(args.latency, url, first, stop), daemon=True)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as run_dir:
            cfg = BuildConfig(
                run_dir=run_dir,
                llm=LLMConfig(
                    base_url=url.get(timeout=30), model="stand-in", concurrency=args.concurrency, timeout_s=60
                ),
                concurrency=args.concurrency,
                repair_rounds=0,
                render=RenderConfig(),
            )
            summary = run_build(problems, cfg)
            finished = time.monotonic()  # CLOCK_MONOTONIC: the same clock in both processes
            scripts = [
                (f"{f.problem_id}.py", f.code or "")
                for f in read_jsonl(f"{run_dir}/synthesize/figures.jsonl", Figure)
            ]
    finally:
        stop.set()
        server.join(timeout=30)
    seconds = finished - first.value
    call_bound = len(problems) * args.latency / args.concurrency
    render_bound = render_alone(scripts, cfg.render)
    bound = max(call_bound, render_bound)
    print(f"{len(problems)} problems: {summary['rendered']} rendered, {summary['exported']} exported; "
          f"{seconds:.1f} s against a bound of {bound:.1f} s (calls alone {call_bound:.1f} s, "
          f"renders alone {render_bound:.1f} s)", file=sys.stderr)  # fmt: skip
    print(json.dumps({"problems": len(problems), "seconds": round(seconds, 2),
                      "call_bound_seconds": round(call_bound, 2), "render_bound_seconds": round(render_bound, 2),
                      "bound_seconds": round(bound, 2), "efficiency": round(bound / seconds, 3)}))  # fmt: skip


def render_alone(scripts: list[tuple[str, str]], config: RenderConfig) -> float:
    """Seconds a fresh renderer takes for ``scripts`` on all its workers, start-up excluded."""
    with Renderer(config) as renderer:
        started = time.monotonic()
        failed = sum(not r.ok for r in renderer.map(scripts))
    if failed:
        print(f"{failed} of {len(scripts)} scripts failed to render alone", file=sys.stderr)
    return time.monotonic() - started


if __name__ == "__main__":
    main()
