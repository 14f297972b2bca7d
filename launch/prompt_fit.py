"""Pre-flight: every prompt fits ``data.max_prompt_length``, its image tokens counted.

verl's RLHFDataset drops a row whose prompt (text and image tokens) is longer than the limit, saying
only the new length of the file: a validation score is then over fewer rows than the set has. Here
each row is counted before any GPU time, the text with the policy's tokenizer and chat template, each
image as the Qwen-VL processor will cut it (:mod:`scigen_rl.image_budget`), and a row that would not
fit is named.
"""

from __future__ import annotations

import functools
import io
import math
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow.parquet as pq
from PIL import Image

from scigen_rl.image_budget import PROCESSOR_MAX_PIXELS, image_tokens

SHOWN = 10
"""Rows named per file; the rest are counted."""

TextCounter = Callable[[list[dict[str, str]]], int]


@functools.lru_cache(maxsize=4)
def text_counter(tokenizer_path: str) -> tuple[TextCounter, str]:
    """A function counting a chat's prompt tokens (chat template and generation prompt included) and
    how it counts: with the policy's tokenizer, or, where that cannot be loaded here, an estimate of one
    token per 3 bytes (said so in the pre-flight's output)."""
    try:
        from transformers import AutoTokenizer

        try:  # a local folder or the Hub cache first; the Hub itself only when it answers at once
            tokenizer = AutoTokenizer.from_pretrained(tokenizer_path, local_files_only=True)
        except OSError:
            if _offline(tokenizer_path) or not _hub_reachable():
                raise
            tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    except Exception as e:  # noqa: BLE001 - any reason means the same: estimate instead, and say so
        reason = str(e).splitlines()[0][:160] if str(e) else type(e).__name__

        def estimate(messages: list[dict[str, str]]) -> int:
            return math.ceil(sum(len(m["content"].encode()) + 8 for m in messages) / 3)

        return (
            estimate,
            f"text estimated at 3 bytes a token (tokenizer {tokenizer_path} not loaded: {reason})",
        )

    def count(messages: list[dict[str, str]]) -> int:
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        else:
            text = "\n".join(m["content"] for m in messages)
        return len(tokenizer(str(text), add_special_tokens=False)["input_ids"])

    return count, f"text counted with the tokenizer of {tokenizer_path}"


def _offline(path: str) -> bool:
    return Path(path).exists() or os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")


def _hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether the Hub's host takes a connection now (the Hub client itself retries an unreachable
    host for ~25 s a file)."""
    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    try:
        with socket.create_connection((url.hostname or "", url.port or 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def prompt_tokens(
    row: dict[str, Any],
    count_text: TextCounter,
    factor: int,
    prompt_key: str = "prompt",
    image_key: str = "images",
) -> int:
    """Tokens of one verl row's prompt: the text (``<image>`` marks removed) plus each image, sized as
    the processor will size it (a ``max_pixels`` in the image's entry honoured, as qwen_vl_utils does)."""
    messages = [
        {"role": str(m["role"]), "content": str(m["content"]).replace("<image>", "")} for m in row[prompt_key]
    ]
    tokens = count_text(messages)
    for image in row.get(image_key) or []:
        with Image.open(io.BytesIO(image["bytes"])) as opened:  # the header only: no pixels decoded
            width, height = opened.size
        tokens += image_tokens(width, height, factor, int(image.get("max_pixels") or PROCESSOR_MAX_PIXELS))
    return tokens


def _row_name(row: dict[str, Any], index: int) -> str:
    extra = row.get("extra_info") or {}
    return str(extra.get("problem_id") or f"row {extra.get('index', index)}")


def lengths(path: str, count_text: TextCounter, factor: int) -> Iterator[tuple[str, int]]:
    """(row name, prompt tokens) for each row of a parquet file, read in batches."""
    table = pq.ParquetFile(path)
    wanted = [c for c in ("prompt", "images", "extra_info") if c in table.schema_arrow.names]
    index = 0
    for batch in table.iter_batches(batch_size=256, columns=wanted):
        for row in batch.to_pylist():
            yield _row_name(row, index), prompt_tokens(row, count_text, factor)
            index += 1


def prompt_problems(files: dict[str, Sequence[str]], config: Any) -> tuple[list[str], list[str]]:
    """(problems, notes): a problem per file with rows over ``data.max_prompt_length`` (named, longest
    first), and a note per file with its longest prompt and how the text was counted."""
    limit = int(config.data.max_prompt_length)
    factor = 2 * int(config.data.get("image_patch_size") or 14)
    model = config.actor_rollout_ref.model
    count_text, how = text_counter(str(model.get("tokenizer_path") or model.path))
    problems, notes = [], []
    for kind, paths in files.items():
        for path in paths:
            if not Path(path).is_file():
                continue  # reported by the path checks
            measured = list(lengths(path, count_text, factor))
            if not measured:
                continue
            over = sorted(((t, name) for name, t in measured if t > limit), reverse=True)
            notes.append(f"{kind} file {path}: {len(measured)} rows, longest prompt {max(t for _, t in measured):,} "
                         f"tokens of data.max_prompt_length={limit:,} ({how})")  # fmt: skip
            if over:
                named = ", ".join(f"{name} ({t:,} tokens)" for t, name in over[:SHOWN])
                more = f" and {len(over) - SHOWN} more" if len(over) > SHOWN else ""
                problems.append(
                    f"{kind} file {path}: {len(over)} of {len(measured)} rows do not fit data.max_prompt_length="
                    f"{limit:,} and verl would drop them: {named}{more}. Re-export them (scigen-rl eval-sets / "
                    "export shrink images to the policy's budget) or raise data.max_prompt_length"
                )
    return problems, notes
