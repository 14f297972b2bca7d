"""The figure generators a build can use: ``--generator NAME[:ARGUMENT]``.

A generator is one module here with a class that takes ``(argument, config)`` and has an async
``make(problem, tools)`` (see :mod:`.base`), plus one line below. Its module is imported only when a
build names it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..build_config import BuildConfig
    from .base import Generator

GENERATORS = {
    "imgcoder": "data_builders.generators.imgcoder:ImgCoder",
    "openai": "data_builders.generators.pixel:OpenAIGenerator",
    "gateway": "data_builders.generators.pixel:GatewayGenerator",
    "gemini": "data_builders.generators.pixel:GeminiGenerator",
    "bfl": "data_builders.generators.pixel:BFLGenerator",
    "diffusers": "data_builders.generators.pixel:DiffusersGenerator",
}  # fmt: skip
"""Generator name: ``module:Class`` of its implementation."""


def make_generator(spec: str, config: BuildConfig) -> Generator:
    """The generator ``spec`` names (``NAME`` or ``NAME:ARGUMENT``), made for this build.

    Raises ValueError naming the known generators when ``NAME`` is not one of them.
    """
    name, _, argument = spec.partition(":")
    if name not in GENERATORS:
        raise ValueError(f"unknown generator {name!r} (known: {', '.join(sorted(GENERATORS))})")
    module, attribute = GENERATORS[name].split(":")
    factory = getattr(importlib.import_module(module), attribute)
    made: Generator = factory(argument, config)
    return made
