"""ImgCoder: a model plans the figure and writes a matplotlib script, repaired with the render error."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

from scigen_rl.imgcoder import ParsedResponse, build_messages, parse_response, repair_messages
from scigen_rl.imgcoder_paper import first_code_block, paper_messages, paper_prompt, paper_script
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
        self.prompt = config.prompt
        # The paper's way is another generator: its figures must not mix with the default prompt's.
        self.name = f"imgcoder{'-paper' if self.prompt == 'paper' else ''}:{config.llm.model}"
        self.repair_rounds = 0 if self.prompt == "paper" else config.repair_rounds
        self.paper_prompt = paper_prompt(config.paper_repo) if self.prompt == "paper" else None

    async def make(self, problem: Problem, tools: Tools) -> Made | str:
        if tools.llm is None:
            return "the build has no model client"
        request: dict[str, Any] = {}
        prompt = self.prompt
        if prompt == "skeleton":
            skeleton, messages, request = skeleton_request(problem)
            prompt = f"skeleton:{skeleton.name}"
        elif self.paper_prompt is not None:
            messages, request = paper_messages(problem, self.paper_prompt), {"temperature": None}
        else:
            messages = build_messages(problem)
        usage: Counter[str] = Counter()
        timings: dict[str, float] = defaultdict(float)
        rounds = 0
        while True:
            started = time.monotonic()
            reply = await tools.llm.chat(messages, attempt=tools.candidate, **request)
            timings["llm_s"] += time.monotonic() - started  # the wait for a free call slot included
            usage.update(reply.usage)
            if not reply.ok:
                return reply.error or "model call failed"
            parsed = self._parse(reply.text or "")
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

    def _parse(self, text: str) -> ParsedResponse:
        if self.paper_prompt is None:
            return parse_response(text)
        plan, code = first_code_block(text)
        return ParsedResponse(plan=plan.strip() or None, code=paper_script(code) if code else None)
