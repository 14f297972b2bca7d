"""Pixel generators: a text-to-image model draws the figure from the problem, no code in between.

``--generator openai:MODEL`` (OpenAI Images; ``$OPENAI_BASE_URL`` and ``$OPENAI_API_KEY`` as the openai
SDK reads them) and ``--generator gateway:MODEL@URL`` (any service speaking the same API). Settings:
``--t2i.*``. The API's image is kept as it came (``synthesize/original/``) and normalised for training
(RGB on white, shrunk to the policy's image budget) into the PNG the build exports.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image

from scigen_rl.image_budget import capped_image
from scigen_rl.records import Figure, Problem
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
        picture.load()
        if picture.mode in ("RGBA", "LA", "P"):
            rgba = picture.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
        else:
            flat = picture.convert("RGB")
    out = io.BytesIO()
    flat.save(out, format="PNG")
    return out.getvalue(), was


class OpenAIGenerator:
    """``--generator openai:MODEL``."""

    needs_llm = False
    kind = "openai"

    def __init__(self, argument: str, config: BuildConfig) -> None:
        model, _, url = argument.partition("@")
        if not model:
            raise ValueError(
                f"--generator {self.kind}:MODEL needs the model's name (e.g. {self.kind}:gpt-image-1)"
            )
        base_url = self.base_url(url)
        cache = str(Path(config.run_dir) / "t2i-cache")
        self.client = OpenAIImages(model, base_url, config.t2i, cache, seeded=self.kind != "openai")
        self.name = f"{self.kind}:{model}"

    def base_url(self, given: str) -> str:
        return given or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"

    async def make(self, problem: Problem, tools: Tools) -> Made | str:
        prompt = PIXEL_PROMPT.format(question=problem.question)
        result = await self.client.generate(prompt)
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


class GatewayGenerator(OpenAIGenerator):
    """``--generator gateway:MODEL@URL``: the same API at another address (seed sent when given)."""

    kind = "gateway"

    def base_url(self, given: str) -> str:
        if not given:
            raise ValueError(
                "--generator gateway:MODEL@URL needs the gateway's URL (e.g. gateway:qwen-image-plus@https://host/v1)"
            )
        return given
