"""What a generator gets (:class:`Tools`) and gives back (:class:`Made`), and what it must have."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Protocol

from scigen_rl.llm import CachedChat
from scigen_rl.records import Figure, Problem
from scigen_rl.render import Renderer, RenderResult


@dataclass
class Tools:
    """What a build lends its generator: made once per build, shared by every problem in flight."""

    llm: CachedChat | None
    """The build's model client (``--llm.*``): cached by request, bounded in concurrency, retried;
    None for a generator whose ``needs_llm`` is false."""
    renderer: Renderer
    """The sandbox (``--render.*``)."""
    candidate: int = 0
    """Which of a problem's figures this is (``build --candidates N``: 0 .. N-1). A generator makes
    candidate k as a new sample: cached apart from the others, a seed moved by k where its API takes one."""

    async def render(self, code: str, name: str, timings: dict[str, float] | None = None) -> RenderResult:
        """Render ``code`` in the sandbox off the event loop (adding its seconds to ``timings["render_s"]``)."""
        started = time.monotonic()
        result = await asyncio.to_thread(self.renderer.render, code, name)
        if timings is not None:
            timings["render_s"] = timings.get("render_s", 0.0) + time.monotonic() - started
        return result


@dataclass
class Made:
    """A generator's answer for one problem."""

    figure: Figure
    """The record of how it was made; ``status`` is ``ok`` (then ``png`` is the image) or ``failed``
    with a failure class. The build fills in where the PNG went and the filters' verdicts."""
    png: bytes | None = None
    """The image, PNG-encoded, when the figure succeeded."""
    texts: list[str] = field(default_factory=list)
    """Text drawn in the image, when known: the answer-leak filter reads it."""
    original: bytes | None = None
    """The image as the generator's API sent it, when ``png`` is a normalised copy: kept beside it."""


class Generator(Protocol):
    """Makes one figure per problem.

    ``make`` returns a :class:`Made` (recorded, success or failure) or a string: the reason the
    problem could not be tried at all (a model server down), which records nothing so that the next
    run of the build tries it again.
    """

    name: str
    """How its figures are labelled (``Figure.generator``), e.g. ``imgcoder:Qwen3-VL``."""
    needs_llm: bool
    """Whether it calls the build's model (``--llm.*`` or ``--embedded``): then the build refuses to
    start without one, and ``Tools.llm`` is set."""

    async def make(self, problem: Problem, tools: Tools) -> Made | str: ...

    # A generator that holds connections may also have ``async def close(self)``: the build calls it.
