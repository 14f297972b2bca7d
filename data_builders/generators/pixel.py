"""Pixel generators: a text-to-image model draws the figure from the problem, no code in between.

``--generator openai:MODEL`` (OpenAI Images; ``$OPENAI_BASE_URL`` and ``$OPENAI_API_KEY`` as the openai
SDK reads them), ``gateway:MODEL@URL`` (any service speaking the same API), ``gemini:MODEL`` and
``bfl:MODEL`` (hosted APIs), and ``diffusers:MODEL`` (a local pipeline). Settings: ``--t2i.*``. The API's image is kept as it came (``synthesize/original/``) and normalised for training
(RGB on white, shrunk to the policy's image budget) into the PNG the build exports.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image

from scigen_rl.image_budget import capped_image, rgb_png
from scigen_rl.records import Figure, Problem
from scigen_rl.t2i.base import ImageClient
from scigen_rl.t2i.bfl import BFL_URL, BFLImages
from scigen_rl.t2i.config import T2IConfig
from scigen_rl.t2i.diffusers_local import DiffusersImages
from scigen_rl.t2i.gemini import GEMINI_URL, GeminiImages
from scigen_rl.t2i.openai_images import OpenAIImages

from ..build_config import BuildConfig
from .base import Made, Tools

PIXEL_PROMPT = """You illustrate science textbooks. Draw one clear, precise diagram of the problem below, so \
that a reader sees its set-up at a glance.
- Show every object the problem names and every quantity it gives, labelled with the given value and unit.
- Help the reader understand the situation, never the solution: no answer, no derived value, no steps.
- Add nothing the problem does not state: no other objects, values or assumptions, no decoration.
- Style: a clean textbook schematic on a white background, neutral colours, legible labels, standard symbols.

Problem:
{question}"""
"""The prompt of every pixel backend (the same content for each, as in the paper's comparison)."""


def normalised(image: bytes) -> tuple[bytes, str]:
    """The image as the policy sees it: RGB (transparency on white) PNG within the image budget, and
    its original size when it had to shrink (``""`` otherwise)."""
    shrunk, was = capped_image(image)
    with Image.open(io.BytesIO(shrunk)) as picture:
        return rgb_png(picture), was


class PixelGenerator:
    """A text-to-image API behind ``--generator KIND:MODEL[@URL]``; subclasses name the API."""

    needs_llm = False
    kind = ""
    default_url: str | None = None

    def __init__(self, argument: str, config: BuildConfig) -> None:
        model, _, url = argument.partition("@")
        if not model:
            raise ValueError(f"--generator {self.kind}:MODEL needs the model's name")
        base_url = url or self.default_url
        if not base_url:
            raise ValueError(f"--generator {self.kind}:MODEL@URL needs the service's URL")
        self.client = self.client_for(model, base_url, config.t2i, str(Path(config.run_dir) / "t2i-cache"))
        self.client.body("a settings check")  # a size the API cannot take is refused before any call
        self.name = f"{self.kind}:{model}"

    def client_for(self, model: str, base_url: str, t2i: T2IConfig, cache: str) -> ImageClient:
        raise NotImplementedError

    async def make(self, problem: Problem, tools: Tools) -> Made | str:
        prompt = PIXEL_PROMPT.format(question=problem.question)
        result = await self.client.generate(prompt, tools.candidate)
        if result.transient:
            return f"{result.failure}: {result.error}"
        timings = {"t2i_s": round(result.seconds, 3)}
        extra = {"response": result.response, "cached": result.cached}
        if not result.ok or result.image is None:
            failed = Figure(problem.id, self.name, "failed", result.failure, prompt=prompt, error=result.error,
                            timings=timings, extra=extra)  # fmt: skip
            return Made(failed)
        png, was = normalised(result.image)
        figure = Figure(problem.id, self.name, "ok", None, prompt=prompt, timings=timings,
                        extra={**extra, "resized_from": was})  # fmt: skip
        return Made(figure, png, original=result.image)

    async def close(self) -> None:
        await self.client.close()


class OpenAIGenerator(PixelGenerator):
    """``--generator openai:MODEL``: OpenAI Images at ``$OPENAI_BASE_URL`` (else OpenAI's own)."""

    kind = "openai"

    def __init__(self, argument: str, config: BuildConfig) -> None:
        self.default_url = os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"  # read when used
        super().__init__(argument, config)

    def client_for(self, model: str, base_url: str, t2i: T2IConfig, cache: str) -> ImageClient:
        return OpenAIImages(model, base_url, t2i, cache, seeded=False)


class GatewayGenerator(PixelGenerator):
    """``--generator gateway:MODEL@URL``: the OpenAI Images API at another address (seed sent when given)."""

    kind = "gateway"

    def client_for(self, model: str, base_url: str, t2i: T2IConfig, cache: str) -> ImageClient:
        return OpenAIImages(model, base_url, t2i, cache, seeded=True)


class GeminiGenerator(PixelGenerator):
    """``--generator gemini:MODEL[@URL]``: Gemini image models (``$GEMINI_API_KEY``)."""

    kind = "gemini"
    default_url = GEMINI_URL

    def client_for(self, model: str, base_url: str, t2i: T2IConfig, cache: str) -> ImageClient:
        return GeminiImages(model, base_url, t2i, cache)


class BFLGenerator(PixelGenerator):
    """``--generator bfl:MODEL[@URL]``: Black Forest Labs FLUX jobs (``$BFL_API_KEY``)."""

    kind = "bfl"
    default_url = BFL_URL

    def client_for(self, model: str, base_url: str, t2i: T2IConfig, cache: str) -> ImageClient:
        return BFLImages(model, base_url, t2i, cache)


class DiffusersGenerator(PixelGenerator):
    """``--generator diffusers:MODEL``: a diffusers pipeline by Hub id or local folder, run here."""

    kind = "diffusers"
    default_url = "local"

    def client_for(self, model: str, base_url: str, t2i: T2IConfig, cache: str) -> ImageClient:
        return DiffusersImages(model, t2i, cache)
