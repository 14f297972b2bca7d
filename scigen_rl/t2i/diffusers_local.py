"""Any diffusers text-to-image pipeline on this machine (``DiffusionPipeline.from_pretrained``: a Hub id
such as ``Qwen/Qwen-Image``, or a local folder), on the GPU when there is one. Seeded, it is
deterministic; one image at a time per pipeline."""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path
from typing import Any

from .base import ImageClient, ImageResult, width_height
from .config import T2IConfig


class DiffusersImages(ImageClient):
    """``extra_body`` goes to the pipeline call as keyword arguments (``num_inference_steps``,
    ``true_cfg_scale``, ``negative_prompt``, ...); ``size`` is ``WIDTHxHEIGHT``."""

    def __init__(
        self, model: str, config: T2IConfig, cache_dir: str | None = None, device: str | None = None
    ) -> None:
        looks_local = model.startswith((".", "/", "~")) or model.count("/") > 1
        if looks_local and not Path(model).expanduser().is_dir():
            raise ValueError(f"--generator diffusers:{model}: no such pipeline folder")
        super().__init__(model, f"diffusers://{model}", config, cache_dir)
        self.device = device
        self._pipe: Any = None
        self._lock = threading.Lock()

    def body(self, prompt: str) -> dict[str, Any]:
        body: dict[str, Any] = {"prompt": prompt}
        if self.config.size:
            body["width"], body["height"] = width_height(self.config.size, "a diffusers pipeline")
        if self.config.seed is not None:
            body["seed"] = self.config.seed
        body.update(self.config.extra_body)
        return body

    async def _ask(self, body: dict[str, Any]) -> ImageResult:
        try:
            return ImageResult(await asyncio.to_thread(self._draw, dict(body)))
        except Exception as e:  # noqa: BLE001 - loading or running the pipeline: left for the next run, named
            return ImageResult(
                None, "api_error", f"diffusers pipeline {self.model}: {type(e).__name__}: {e}"[:400]
            )

    def _draw(self, arguments: dict[str, Any]) -> bytes:
        import torch

        with self._lock:
            pipe = self._pipeline()
            seed = arguments.pop("seed", None)
            if seed is not None:
                arguments["generator"] = torch.Generator(pipe.device.type).manual_seed(int(seed))
            image = pipe(**arguments).images[0]
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()

    def _pipeline(self) -> Any:
        if self._pipe is None:
            import torch
            from diffusers import DiffusionPipeline

            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            dtype = torch.bfloat16 if device == "cuda" else torch.float32
            pipe = DiffusionPipeline.from_pretrained(str(Path(self.model).expanduser()) if Path(self.model).expanduser().is_dir()
                                                     else self.model, torch_dtype=dtype)  # fmt: skip
            pipe.set_progress_bar_config(disable=True)
            self._pipe = pipe.to(device)
        return self._pipe
