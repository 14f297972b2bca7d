"""Sampling k answers per evaluation problem: through an OpenAI-compatible endpoint, or a vLLM engine
on a GPU; shard by shard, each shard's generations saved as they arrive (a re-run skips them)."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..llm import ChatClient, LLMConfig, image_part
from ..records import JsonlWriter, Sample


@dataclass
class SamplingConfig:
    k: int = 4
    """Samples per problem (AVG@k)."""
    temperature: float = 0.6
    top_p: float = 1.0
    max_tokens: int = 8192
    """The recipe's max response length."""
    seed: int = 0
    """Sample i of a problem uses seed + i: reproducible, and each sample its own request."""


@dataclass
class VllmEngineConfig:
    """A vLLM engine per shard (GPU machines; vLLM is not installed on CPU ones)."""

    model: str
    tensor_parallel_size: int = 1
    max_model_len: int = 16384
    gpu_memory_utilization: float = 0.85
    limit_mm_per_prompt: int = 1

    def engine_args(self) -> dict[str, Any]:
        """Keyword arguments of ``vllm.LLM`` for this engine."""
        return {
            "model": self.model,
            "tensor_parallel_size": self.tensor_parallel_size,
            "max_model_len": self.max_model_len,
            "gpu_memory_utilization": self.gpu_memory_utilization,
            "limit_mm_per_prompt": {"image": self.limit_mm_per_prompt},
            "trust_remote_code": True,
        }


def sampling_params(cfg: SamplingConfig, sample: int) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams`` for sample ``sample`` of a problem."""
    return {"n": 1, "temperature": cfg.temperature, "top_p": cfg.top_p, "max_tokens": cfg.max_tokens,
            "seed": cfg.seed + sample}  # fmt: skip


def _mime(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/png"


def chat_messages(row: Sample) -> list[dict[str, Any]]:
    """The row's prompt as OpenAI chat content: the image where ``<image>`` stood, then the text."""
    content = row.prompt[0]["content"]
    images = [img["bytes"] for img in row.images]
    parts: list[dict[str, Any]] = []
    pieces = content.split(Sample.IMAGE_TOKEN)
    for i, piece in enumerate(pieces):
        if piece.strip():
            parts.append({"type": "text", "text": piece.strip()})
        if i < len(images):
            parts.append(image_part(images[i], _mime(images[i])))
    return [{"role": "user", "content": parts}]


def read_by_sample(*paths: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """The records of JSONL files (generations or verdicts) by (problem id, sample); a line torn by a
    killed run is skipped (it is written again), a pair written twice is kept once (the first)."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            out.setdefault((rec["problem_id"], rec["sample"]), rec)
    return out


async def _generate_http(rows: list[Sample], llm: LLMConfig, cfg: SamplingConfig, out: Path) -> None:
    done = read_by_sample(out)
    client = ChatClient(llm)
    with JsonlWriter(out) as writer:

        async def one(row: Sample, sample: int) -> None:
            reply = await client.chat(
                chat_messages(row), temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_tokens,
                seed=cfg.seed + sample,
            )  # fmt: skip
            if not reply.ok:
                return  # not recorded: the next run asks again (an outage must not read as wrong answers)
            record = {"problem_id": row.extra_info["problem_id"], "sample": sample, "data_source": row.data_source,
                      "response": reply.text, "finish_reason": reply.finish_reason, "usage": reply.usage}  # fmt: skip
            await asyncio.to_thread(writer.write, record)

        await asyncio.gather(
            *(one(r, s) for r in rows for s in range(cfg.k) if (r.extra_info["problem_id"], s) not in done)
        )
    await client.close()


def _generate_vllm(rows: list[Sample], engine: VllmEngineConfig, cfg: SamplingConfig, out: Path) -> None:
    from vllm import LLM, SamplingParams

    done = read_by_sample(out)
    llm = LLM(**engine.engine_args())
    todo = [(r, s) for r in rows for s in range(cfg.k) if (r.extra_info["problem_id"], s) not in done]
    messages = [chat_messages(r) for r, _ in todo]
    params = [SamplingParams(**sampling_params(cfg, s)) for _, s in todo]
    outputs = llm.chat(messages, params)
    with JsonlWriter(out) as writer:
        for (row, sample), output in zip(todo, outputs, strict=True):
            choice = output.outputs[0]
            writer.write({"problem_id": row.extra_info["problem_id"], "sample": sample, "data_source": row.data_source,
                          "response": choice.text, "finish_reason": choice.finish_reason,
                          "usage": {"completion_tokens": len(choice.token_ids)}})  # fmt: skip


def generate_shard(
    rows_json: list[dict[str, Any]], backend: dict[str, Any], sampling: dict[str, Any], out_path: str
) -> str:
    """Generate one shard's samples into ``out_path`` (JSONL); plain data in and out, so it runs as a
    Ray task. ``backend`` is ``{"kind": "http", **LLMConfig}`` or ``{"kind": "vllm", **VllmEngineConfig}``."""
    rows = [Sample.from_dict(r) for r in rows_json]
    cfg = SamplingConfig(**sampling)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    kind = backend.get("kind")
    settings = {k: v for k, v in backend.items() if k != "kind"}
    if kind == "http":
        asyncio.run(_generate_http(rows, LLMConfig(**settings), cfg, out))
    elif kind == "vllm":
        _generate_vllm(rows, VllmEngineConfig(**settings), cfg, out)
    else:
        raise ValueError(f"backend kind {kind!r}: expected 'http' or 'vllm'")
    return str(out)


def rows_as_json(rows: list[Sample]) -> list[dict[str, Any]]:
    """Rows as JSON-safe dicts (image bytes in base64), for a Ray task's arguments."""
    out = []
    for r in rows:
        d = r.to_dict()
        d["images"] = [
            {"bytes": base64.b64encode(i["bytes"]).decode(), "path": i.get("path")} for i in r.images
        ]
        out.append(d)
    return out


def backend_dict(kind: str, config: LLMConfig | VllmEngineConfig) -> dict[str, Any]:
    return {"kind": kind, **asdict(config)}
