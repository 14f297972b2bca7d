"""ImgCoder: a model plans the figure and writes a matplotlib script, repaired with the render error."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

from scigen_rl.imgcoder import build_messages, parse_response, repair_messages
from scigen_rl.records import Figure, Problem
from scigen_rl.skeletons import skeleton_request

from ..build_config import BuildConfig
from .base import Made, Tools


class ImgCoder:
    """``--generator imgcoder``: the model of ``--llm.*`` with the prompt of ``--prompt``."""

    needs_llm = True

    def __init__(self, argument: str, config: BuildConfig) -> None:
        if argument:
            raise ValueError(
                f"generator imgcoder takes no argument (got {argument!r}): the model is --llm.model"
            )
        self.name = f"imgcoder:{config.llm.model}"
        self.prompt = config.prompt
        self.repair_rounds = config.repair_rounds

    async def make(self, problem: Problem, tools: Tools) -> Made | str:
        if tools.llm is None:
            return "the build has no model client"
        request: dict[str, Any] = {}
        prompt = self.prompt
        if prompt == "skeleton":
            skeleton, messages, request = skeleton_request(problem)
            prompt = f"skeleton:{skeleton.name}"
        else:
            messages = build_messages(problem)
        usage: Counter[str] = Counter()
        timings: dict[str, float] = defaultdict(float)
        rounds = 0
        while True:
            started = time.monotonic()
            reply = await tools.llm.chat(messages, **request)
            timings["llm_s"] += time.monotonic() - started  # the wait for a free call slot included
            usage.update(reply.usage)
            if not reply.ok:
                return reply.error or "model call failed"
            parsed = parse_response(reply.text or "")
            if not parsed.has_code:
                failed = Figure(problem.id, self.name, "failed", "no_code", plan=parsed.plan,
                                raw_response=reply.text, error="the answer held no script", repair_rounds=rounds,
                                timings=dict(timings), usage=dict(usage), extra={"prompt": prompt})  # fmt: skip
                return Made(failed)
            result = await tools.render(parsed.code or "", f"{problem.id}.py", timings)
            if result.ok or rounds >= self.repair_rounds:
                break
            rounds += 1
            messages = repair_messages(messages, reply.text or "", f"{result.failure}: {result.error}")
        figure = Figure(
            problem.id,
            self.name,
            "ok" if result.ok else "failed",
            None if result.ok else result.failure or "runtime",
            plan=parsed.plan,
            code=parsed.code,
            raw_response=reply.text,
            error=result.error,
            warnings=result.warnings,
            repair_rounds=rounds,
            timings={k: round(v, 3) for k, v in timings.items()},
            usage=dict(usage),
            extra={"prompt": prompt},
        )
        return Made(figure, result.pngs[0] if result.ok else None, result.texts)
