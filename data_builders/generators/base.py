"""What a generator gets (:class:`Tools`) and gives back (:class:`Made`), and what it must have."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Protocol

from scigen_rl.llm import CachedChat
from scigen_rl.records import Figure, Problem
from scigen_rl.render import RenderConfig, Renderer, RenderResult

UNAVAILABLE = "unavailable"
"""``extra.fallback.failure`` of a routed figure whose renderer could not start in its build (rather than
failing on the figure's script): it was written for matplotlib from the start."""


class PoolUnavailable(RuntimeError):
    """A renderer's pool could not start in this build (its workers die at start: a broken package, a
    missing library); ``why`` says what its first worker reported."""

    def __init__(self, renderer: str, why: str) -> None:
        super().__init__(f"the {renderer!r} renderer could not start: {why}")
        self.renderer, self.why = renderer, why


class RendererPools:
    """One sandboxed :class:`Renderer` pool per renderer a build uses besides its main one, each
        started the first time a script needs it and closed by :meth:`close`.

        An extra pool runs ``workers`` workers (0: half the main pool's, at least one: it serves only the
        image types routed to it). A graphviz or tikz pool preloads nothing (the worker knows its input is DOT or
    LaTeX, never Python).
        A pool that fails to start is not tried again: :meth:`get` raises :class:`PoolUnavailable` for it
        from then on, and the build draws its image types with matplotlib.
    """

    def __init__(self, config: RenderConfig, workers: int = 0) -> None:
        self.config = config
        self.workers = workers or max(1, config.n_workers // 2)
        self._pools: dict[str, Renderer] = {}
        self._failed: dict[str, str] = {}
        self._lock = threading.Lock()
        self._closed = False

    def get(self, renderer: str) -> Renderer:
        """The pool of ``renderer``, started now if this is its first script (blocks while it starts);
        :class:`PoolUnavailable` if it could not start (now or before)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the build's renderer pools are closed")
            if renderer in self._failed:
                raise PoolUnavailable(renderer, self._failed[renderer])
            pool = self._pools.get(renderer)
            if pool is None:
                config = replace(self.config, renderer=renderer, workers=self.workers)
                try:
                    pool = Renderer(config)
                    pool.start()  # closes what it started when a worker fails
                except (RuntimeError, OSError) as e:
                    self._failed[renderer] = why = _reason(e)
                    print(f"build: routing: the {renderer} renderer could not start ({why}); the image types "
                          f"routed to it are drawn with matplotlib", file=sys.stderr)  # fmt: skip
                    raise PoolUnavailable(renderer, why) from e
                self._pools[renderer] = pool
            return pool

    @property
    def started(self) -> list[str]:
        return sorted(self._pools)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


def _reason(error: BaseException, limit: int = 600) -> str:
    """An error's message on one line: with a traceback in it (a worker's log tail), what came before the
    traceback and its last line, the exception that killed the worker.

    >>> _reason(RuntimeError("worker failed (EOF): Traceback (most recent call last):\\n  x\\nImportError: y"))
    'worker failed (EOF): ImportError: y'
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if len(lines) > 1:
        head = lines[0].split("Traceback (most recent call last)")[0].rstrip(": ")
        lines = [f"{head}:" if head else "", lines[-1]]
    text = " ".join(line for line in lines if line) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    pools: RendererPools | None = None
    """The pools of the other renderers (``--routes``), started when first used; None: only ``renderer``."""

    async def unavailable(self, renderer: str) -> str | None:
        """Why ``renderer`` cannot draw in this build (its pool could not start), or None; the first ask
        starts its pool (off the event loop)."""
        if self.pools is None or renderer == self.renderer.config.renderer:
            return None
        try:
            await asyncio.to_thread(self.pools.get, renderer)
        except PoolUnavailable as e:
            return e.why
        return None

    async def render(
        self, code: str, name: str, timings: dict[str, float] | None = None, renderer: str | None = None
    ) -> RenderResult:
        """Render ``code`` in the sandbox off the event loop (adding its seconds to ``timings["render_s"]``),
        with the renderer named ``renderer`` (default: the build's ``--render.renderer``)."""
        started = time.monotonic()
        pool = self.renderer
        if renderer is not None and renderer != pool.config.renderer:
            if self.pools is None:
                raise ValueError(f"this build has no {renderer!r} renderer (only {pool.config.renderer!r})")
            pool = await asyncio.to_thread(self.pools.get, renderer)
        result = await asyncio.to_thread(pool.render, code, name)
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
