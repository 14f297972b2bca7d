"""ImgCoder: a model plans the figure and writes a script in the language of the renderer its image type
is routed to (matplotlib by default), repaired with the render error; a routed figure that still fails
is asked once more as matplotlib, and one whose renderer could not start in this build is asked as
matplotlib from the start (``extra.fallback`` says which, and why)."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

from scigen_rl.imgcoder import LANGUAGES, ParsedResponse, build_messages, parse_for, repair_messages
from scigen_rl.imgcoder_paper import first_code_block, paper_messages, paper_prompt, paper_script
from scigen_rl.records import Figure, Problem
from scigen_rl.skeletons import skeleton_request

from ..build_config import BuildConfig
from .base import UNAVAILABLE, Made, Tools
from .routes import FALLBACK, check_routes, route

_SUFFIXES = {"graphviz": ".dot", "tikz": ".tex"}
"""The file name ending of a script in each renderer's language (Python: ``.py``)."""
_NOT_PYTHON = ("graphviz", "tikz")


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
        self.routes = config.routes
        if self.routes is not None:
            check_routes(self.routes)
        # Without routing, the model writes in the build's own renderer's language.
        self.language = config.render.renderer if config.render.renderer in LANGUAGES else FALLBACK
        if self.prompt != "plan-code" and config.render.renderer in _NOT_PYTHON:
            raise ValueError(
                f"--prompt {self.prompt} writes Python (matplotlib) scripts, which the "
                f"{config.render.renderer} renderer cannot run: give --prompt plan-code"
            )

    async def make(self, problem: Problem, tools: Tools) -> Made | str:
        if tools.llm is None:
            return "the build has no model client"
        if self.routes is None:
            return await self._make(problem, tools, None)
        renderer = route(self.routes, problem.image_type)
        if renderer != FALLBACK and (why := await tools.unavailable(renderer)) is not None:
            # its pool could not start on this machine: written for matplotlib from the start, said so
            made = await self._make(problem, tools, FALLBACK)
            if not isinstance(made, str):
                made.figure.extra["fallback"] = {"renderer": renderer, "failure": UNAVAILABLE, "error": why}
            return made
        made = await self._make(problem, tools, renderer)
        if isinstance(made, str) or made.figure.status == "ok" or renderer == FALLBACK:
            return made
        first = made.figure  # the routed renderer failed after its repair rounds: once more as matplotlib
        again = await self._make(problem, tools, FALLBACK, repair_rounds=0)
        if isinstance(again, str):
            return again
        figure = again.figure
        figure.repair_rounds = first.repair_rounds
        for key, value in first.timings.items():
            figure.timings[key] = round(figure.timings.get(key, 0.0) + value, 3)
        figure.usage = dict(Counter(figure.usage) + Counter(first.usage))
        error = first.error if first.error is None or len(first.error) <= 1500 else first.error[-1500:]
        figure.extra["fallback"] = {"renderer": renderer, "failure": first.failure, "error": error}
        return again

    async def _make(
        self, problem: Problem, tools: Tools, renderer: str | None, repair_rounds: int | None = None
    ) -> Made | str:
        """One figure written for ``renderer`` (None: the build's own renderer, no routing)."""
        assert tools.llm is not None
        request: dict[str, Any] = {}
        prompt = self.prompt
        language = renderer or self.language
        if prompt == "skeleton":
            skeleton, messages, request = skeleton_request(problem)
            prompt = f"skeleton:{skeleton.name}"
        elif self.paper_prompt is not None:
            messages, request = paper_messages(problem, self.paper_prompt), {"temperature": None}
        else:
            messages = build_messages(problem, language)
        extra: dict[str, Any] = {"prompt": prompt}
        if renderer is not None:
            extra.update(renderer=renderer, fallback=None)
        limit = self.repair_rounds if repair_rounds is None else repair_rounds
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
            parsed = self._parse(reply.text or "", language)
            if not parsed.has_code:
                failed = Figure(problem.id, self.name, "failed", "no_code", plan=parsed.plan,
                                raw_response=reply.text, error="the answer held no script", repair_rounds=rounds,
                                timings=dict(timings), usage=dict(usage), extra=extra)  # fmt: skip
                return Made(failed)
            suffix = _SUFFIXES.get(language, ".py")
            result = await tools.render(parsed.code or "", f"{problem.id}{suffix}", timings, renderer)
            if result.ok or rounds >= limit:
                break
            rounds += 1
            error = f"{result.failure}: {result.error}"
            messages = repair_messages(messages, reply.text or "", error, renderer=language)
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
            extra=extra,
        )
        return Made(figure, result.pngs[0] if result.ok else None, result.texts)

    def _parse(self, text: str, renderer: str = FALLBACK) -> ParsedResponse:
        if self.paper_prompt is None:
            return parse_for(text, renderer)
        plan, code = first_code_block(text)
        return ParsedResponse(plan=plan.strip() or None, code=paper_script(code) if code else None)
