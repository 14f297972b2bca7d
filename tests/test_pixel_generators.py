"""Pixel generators against a stand-in of the OpenAI Images API (a real HTTP server on 127.0.0.1 that
checks every request as the API does): the exact request, b64 and URL answers, each failure class, the
cache, Retry-After, and whole builds with --generator openai:MODEL and gateway:MODEL@URL."""

from __future__ import annotations

import asyncio
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from scigen_rl.cli import main
from scigen_rl.records import Figure, read_jsonl
from scigen_rl.t2i import T2IConfig
from scigen_rl.t2i.openai_images import OpenAIImages
from scigen_rl.t2i.standin import StandInHTTPError, StandInImages, drawn

from .conftest import plain


def _generate(client: OpenAIImages, *prompts: str) -> list[Any]:
    async def run() -> list[Any]:
        try:
            return [await client.generate(p) for p in prompts]
        finally:
            await client.close()

    return asyncio.run(run())


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    return "test-key"


def test_the_request_is_what_the_images_api_takes_and_the_answer_is_cached(key: str, tmp_path: Path) -> None:
    server = StandInImages(api_key=key)
    try:
        config = T2IConfig(size="1024x1024", quality="high", seed=7)
        client = OpenAIImages("gpt-image-1", server.base_url, config, str(tmp_path / "cache"))
        first, again = _generate(client, "a block on a ramp", "a block on a ramp")
        assert server.requests == [
            {
                "model": "gpt-image-1",
                "prompt": "a block on a ramp",
                "n": 1,
                "size": "1024x1024",
                "quality": "high",
            }
        ]  # fmt: skip  (no seed: OpenAI has none)
        assert first.ok and first.image == drawn("a block on a ramp") and not first.cached
        assert again.ok and again.cached and again.image == first.image and first.response["usage"]
    finally:
        server.close()


def test_a_gateway_answers_with_a_url_downloaded_at_once_and_gets_the_seed(key: str) -> None:
    server = StandInImages(api_key=key, as_url=True)
    try:
        gateway = OpenAIImages("qwen-image-plus", server.base_url, T2IConfig(seed=11), seeded=True)
        (result,) = _generate(gateway, "a circuit")
        assert result.ok and result.image == drawn("a circuit") and server.downloads == 1
        # the seed, and watermark and prompt rewriting off by default
        assert server.requests[0] == {"model": "qwen-image-plus", "prompt": "a circuit", "n": 1, "seed": 11,
                                      "watermark": False, "prompt_extend": False}  # fmt: skip
        plain = T2IConfig(plain_request=True, extra_body={"size": "1328*1328"})
        _generate(OpenAIImages("qwen-image-plus", server.base_url, plain, seeded=True), "a lens")
        assert server.requests[1] == {
            "model": "qwen-image-plus",
            "prompt": "a lens",
            "n": 1,
            "size": "1328*1328",
        }
    finally:
        server.close()


def _corrupt(body: dict[str, Any]) -> Any:
    prompt = body["prompt"]
    if prompt == "refuse":
        return StandInHTTPError(400, "Your request was rejected by the safety system.", "moderation_blocked")
    if prompt == "empty":
        return {"created": 1, "data": []}
    if prompt == "html":
        return b"<html>busy</html>"
    if prompt == "huge":
        out = io.BytesIO()
        Image.new("RGB", (3000, 3000), "white").save(out, format="PNG")
        return out.getvalue()
    if prompt == "bad size":
        return StandInHTTPError(400, "Invalid value for size.", "invalid_value")
    return drawn(prompt)


@pytest.mark.parametrize(
    ("prompt", "failure", "said"),
    [
        ("refuse", "refused", "rejected by the safety system"),
        ("empty", "blocked", "the response held no image"),
        ("html", "bad_image", "not an image"),
        ("huge", "bad_image", "3000x3000 pixels, over the cap of 4000000"),
        ("bad size", "api_error", "HTTP 400: Invalid value for size."),
    ],
)
def test_each_failure_is_classified(key: str, tmp_path: Path, prompt: str, failure: str, said: str) -> None:
    server = StandInImages(api_key=key, reply=_corrupt)
    try:
        client = OpenAIImages("m", server.base_url, T2IConfig(max_pixels=4_000_000), str(tmp_path / "cache"))
        first, again = _generate(client, prompt, prompt)
    finally:
        server.close()
    assert (first.failure, first.image) == (failure, None) and said in (first.error or "")
    # an answer of the API is kept (asked once); a failed call is not (asked again)
    assert len(server.requests) == (2 if first.transient else 1) and again.cached == (not first.transient)


def test_rate_limits_are_waited_out_as_retry_after_says(key: str) -> None:
    calls = {"n": 0}

    def limited(body: dict[str, Any]) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            return StandInHTTPError(429, "Rate limit reached", "rate_limit_exceeded", {"Retry-After": "2"})
        return drawn(body["prompt"])

    server = StandInImages(api_key=key, reply=limited)
    try:
        started = time.monotonic()
        (result,) = _generate(OpenAIImages("m", server.base_url, T2IConfig(max_retries=2)), "p")
        assert (
            result.ok and server.arrivals[1] - server.arrivals[0] >= 2.0 and time.monotonic() - started < 15
        )
        calls["n"] = -10  # every call limited from now on: after the retries, a transient failure
        server.reply = lambda body: StandInHTTPError(429, "Rate limit reached", None, {"Retry-After": "0"})
        (limited_out,) = _generate(OpenAIImages("m", server.base_url, T2IConfig(max_retries=1)), "q")
        assert limited_out.failure == "rate_limited" and limited_out.transient
    finally:
        server.close()


def test_a_missing_key_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MY_IMAGE_KEY", raising=False)
    with pytest.raises(ValueError, match="the environment variable MY_IMAGE_KEY is not set"):
        OpenAIImages("m", "http://127.0.0.1:9/v1", T2IConfig(api_key_env="MY_IMAGE_KEY"))


def test_a_pixel_build_end_to_end_resumes_without_paying_twice(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scigen_rl.loaders import load_scigenbench

    problems = load_scigenbench()[:4]
    state = {"down": True}

    def api(body: dict[str, Any]) -> Any:
        if problems[1].question in body["prompt"]:
            return StandInHTTPError(
                400, "Your request was rejected by the safety system.", "moderation_blocked"
            )
        if problems[2].question in body["prompt"] and state["down"]:
            return StandInHTTPError(503, "The server is overloaded", None)
        image = Image.open(io.BytesIO(drawn(body["prompt"], (320, 240)))).convert("RGBA")
        out = io.BytesIO()
        image.save(out, format="PNG")  # with an alpha channel: normalised to RGB for training
        return out.getvalue()

    server = StandInImages(api_key=key, reply=api)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    run = tmp_path / "run"
    args = ["build", "--run-dir", str(run), "--generator", "openai:gpt-image-1", "--limit", "4",
            "--t2i.max-retries", "0", "--t2i.size", "1024x1024"]  # fmt: skip
    try:
        assert main(args) == 1  # one problem could not be tried: left for the next run
        err = plain(capsys.readouterr().err)
        assert "1 problems could not reach the model" in err and "api_error: HTTP 503" in err
        state["down"] = False
        asked = len(server.requests)
        assert main(args) == 0
        assert len(server.requests) == asked + 1  # only the one that failed: nothing paid for twice
    finally:
        server.close()
    assert all(r["size"] == "1024x1024" and r["model"] == "gpt-image-1" for r in server.requests)
    figures = {f.problem_id: f for f in read_jsonl(run / "synthesize" / "figures.jsonl", Figure)}
    assert figures[problems[1].id].failure == "refused" and figures[problems[1].id].status == "failed"
    for p in (problems[0], problems[2], problems[3]):
        figure = figures[p.id]
        assert (
            figure.status == "ok"
            and figure.generator == "openai:gpt-image-1"
            and p.question in (figure.prompt or "")
        )
        with Image.open(figure.png_path or "") as exported, Image.open(figure.extra["original"]) as original:
            assert exported.mode == "RGB" and original.mode == "RGBA" and exported.size == original.size
    summary = json.loads((run / "summary.json").read_text())
    assert summary["failures"] == {"refused": 1} and summary["rendered"] == 3
    written = [f for f in run.rglob("*") if f.is_file()]
    assert written and not [f for f in written if key.encode() in f.read_bytes()]  # the key is nowhere

    # bench scores a pixel build's figures as it scores ImgCoder's
    import re

    from scigen_rl.llm.standin import StandInServer

    correct = {q.question: q.correct_option for p in problems for q in p.quizzes}
    vision = StandInServer(api_key=None, reply=lambda body: correct[re.search(
        r"Question: (.*)", body["messages"][0]["content"][1]["text"]).group(1)])  # fmt: skip
    try:
        assert main(["bench", "--run-dir", str(run), "--out-dir", str(tmp_path / "bench"), "--metrics", "rinv",
                     "--judge.base-url", vision.base_url, "--judge.model", "vl"]) == 0  # fmt: skip
    finally:
        vision.close()
    benched = json.loads((tmp_path / "bench" / "summary.json").read_text())
    assert benched["generator"] == "openai:gpt-image-1" and benched["overall"]["figures"] == 4
    assert benched["overall"]["missing_or_corrupt"] == 1  # the refused one: no image, scored 0


def test_gemini_request_answer_and_blocks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from scigen_rl.t2i.gemini import GeminiImages
    from scigen_rl.t2i.standin import StandInGemini

    monkeypatch.setenv("GEMINI_API_KEY", "g-key")

    def gemini(body: dict[str, Any]) -> Any:
        text = body["contents"][0]["parts"][0]["text"]
        if text == "unsafe":
            return {"promptFeedback": {"blockReason": "SAFETY"}}
        if text == "stopped":
            return {
                "candidates": [
                    {"content": {"parts": [{"text": "I cannot draw that."}]}, "finishReason": "IMAGE_SAFETY"}
                ]
            }
        if text == "none":
            return {"candidates": []}
        return drawn(text)

    server = StandInGemini(api_key="g-key", reply=gemini)
    try:
        config = T2IConfig(aspect_ratio="4:3", size="1K", seed=3)
        client = GeminiImages("gemini-3-pro-image-preview", server.base_url, config, str(tmp_path / "c"))
        ok, unsafe, stopped, none = _generate(client, "a lens", "unsafe", "stopped", "none")
    finally:
        server.close()
    assert server.requests[0] == {
        "contents": [{"role": "user", "parts": [{"text": "a lens"}]}],
        "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "4:3", "imageSize": "1K"},
                             "seed": 3},
    }  # fmt: skip
    assert server.headers_seen[0]["x-goog-api-key"] == "g-key"
    assert ok.ok and ok.image == drawn("a lens")  # the thought part before the image is skipped
    assert (unsafe.failure, unsafe.error) == ("refused", "prompt blocked: SAFETY")
    assert (stopped.failure, stopped.error) == ("blocked", "no image (finishReason IMAGE_SAFETY)")
    assert (none.failure, none.error) == ("blocked", "the response held no candidate")


def test_bfl_jobs_are_polled_until_ready_then_downloaded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from scigen_rl.t2i.bfl import BFLImages
    from scigen_rl.t2i.standin import StandInBFL

    monkeypatch.setenv("BFL_API_KEY", "b-key")
    server = StandInBFL(
        api_key="b-key",
        polls=2,
        reply=lambda body: "Content Moderated" if body["prompt"] == "x" else drawn(body["prompt"]),
    )
    try:
        config = T2IConfig(size="1024x768", seed=5)
        client = BFLImages("flux-2-flex", server.base_url, config, str(tmp_path / "c"), poll_s=0.05)
        ready, moderated = _generate(client, "a prism", "x")
        slow = BFLImages("flux-2-flex", server.base_url, T2IConfig(timeout_s=0.2), poll_s=0.05)
        server.polls = 100
        (late,) = _generate(slow, "never ready")
    finally:
        server.close()
    assert server.requests[0] == {
        "prompt": "a prism",
        "output_format": "png",
        "width": 1024,
        "height": 768,
        "seed": 5,
    }
    assert server.headers_seen[0]["x-key"] == "b-key" and server.downloads == 1
    assert ready.ok and ready.image == drawn("a prism")
    assert (moderated.failure, moderated.error) == ("refused", "Content Moderated")
    assert late.failure == "timeout" and late.transient


def test_a_pixel_generator_refuses_settings_its_api_cannot_take(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BFL_API_KEY", "b-key")
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    run = tmp_path / "run"
    for args, said in (
        (
            ["bfl:flux-2-flex", "--t2i.size", "big"],
            "--t2i.size: BFL takes WIDTHxHEIGHT (e.g. 1024x768), got 'big'",
        ),
        (["gemini:gemini-2.5-flash-image"], "the environment variable GEMINI_API_KEY is not set"),
        (["gateway:qwen-image-plus"], "--generator gateway:MODEL@URL needs the service's URL"),
        (["openai:"], "--generator openai:MODEL needs the model's name"),
    ):
        assert main(["build", "--run-dir", str(run), "--generator", *args]) == 2
        assert said in plain(capsys.readouterr().err)
    assert not run.exists()


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte-to-character table (what CLIP's byte-level BPE vocabulary is written in)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    extra = [b for b in range(256) if b not in keep]
    return {**{b: chr(b) for b in keep}, **{b: chr(256 + i) for i, b in enumerate(extra)}}


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised Stable Diffusion pipeline of a few MB, saved as a local folder (no download)."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    root = tmp_path_factory.mktemp("tiny-sd")
    chars = list(_bytes_to_unicode().values())
    vocab = {
        c: i for i, c in enumerate([*chars, *(c + "</w>" for c in chars), "<|startoftext|>", "<|endoftext|>"])
    }
    (root / "vocab.json").write_text(json.dumps(vocab))
    (root / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(root / "vocab.json"), str(root / "merges.txt"), model_max_length=77)
    torch.manual_seed(0)
    special = {
        "bos_token_id": vocab["<|startoftext|>"],
        "eos_token_id": vocab["<|endoftext|>"],
        "pad_token_id": vocab["<|endoftext|>"],
    }
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=37, num_attention_heads=4,
                                        num_hidden_layers=2, max_position_embeddings=77, **special))  # fmt: skip
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=16, cross_attention_dim=32,
                                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"))  # fmt: skip
    vae = AutoencoderKL(block_out_channels=(32, 64), down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4)  # fmt: skip
    pipe = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text, tokenizer=tokenizer, scheduler=DDIMScheduler(),
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)  # fmt: skip
    pipe.save_pretrained(root / "pipe")
    return root / "pipe"


def test_a_local_diffusers_pipeline_is_seeded_and_deterministic(tiny_pipeline: Path) -> None:
    from scigen_rl.t2i.diffusers_local import DiffusersImages

    def image(seed: int, prompt: str = "a block on a ramp") -> Any:
        config = T2IConfig(size="32x32", seed=seed, extra_body={"num_inference_steps": 2})
        client = DiffusersImages(str(tiny_pipeline), config, device="cpu")
        assert client.body(prompt) == {
            "prompt": prompt,
            "width": 32,
            "height": 32,
            "seed": seed,
            "num_inference_steps": 2,
        }
        (result,) = _generate(client, prompt)
        return result

    first, again, other = image(3), image(3), image(4)
    assert first.ok and Image.open(io.BytesIO(first.image)).size == (32, 32)
    assert again.image == first.image and other.image != first.image  # the seed decides the image


def test_a_build_with_a_local_pipeline(
    tiny_pipeline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    args = ["build", "--run-dir", str(run), "--generator", f"diffusers:{tiny_pipeline}", "--limit", "2",
            "--t2i.size", "64x64", "--t2i.seed", "1"]  # fmt: skip
    main(args)  # 64 px figures are filtered as too small: what matters here is that they were made
    figures = list(read_jsonl(run / "synthesize" / "figures.jsonl", Figure))
    assert [f.status for f in figures] == ["ok", "ok"] and figures[
        0
    ].generator == f"diffusers:{tiny_pipeline}"
    with Image.open(figures[0].png_path or "") as png:
        assert png.size == (64, 64) and png.mode == "RGB"
    missing = tmp_path / "no-pipeline"
    assert main(["build", "--run-dir", str(tmp_path / "r2"), "--generator", f"diffusers:{missing}"]) == 2
    assert f"--generator diffusers:{missing}: no such pipeline folder" in plain(capsys.readouterr().err)


def test_gemini_rate_limits_are_waited_out_and_slow_answers_time_out(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    from scigen_rl.t2i.gemini import GeminiImages
    from scigen_rl.t2i.standin import StandInGemini

    monkeypatch.setenv("GEMINI_API_KEY", "g-key")
    calls = {"n": 0}

    def limited(body: dict[str, Any]) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            return StandInHTTPError(429, "Resource has been exhausted", None, {"Retry-After": "1"})
        return drawn("ok")

    server = StandInGemini(api_key="g-key", reply=limited)
    slow = StandInImages(api_key=key, delay_s=3)
    try:
        started = time.monotonic()
        (result,) = _generate(GeminiImages("m", server.base_url, T2IConfig(max_retries=1)), "p")
        assert result.ok and calls["n"] == 2 and time.monotonic() - started >= 1.0
        (late,) = _generate(OpenAIImages("m", slow.base_url, T2IConfig(timeout_s=0.5, max_retries=0)), "p")
        assert late.failure == "timeout" and late.transient
    finally:
        server.close()
        slow.close()


def test_candidates_move_the_seed_where_there_is_one_and_are_cached_apart(key: str, tmp_path: Path) -> None:
    server = StandInImages(api_key=key)
    try:
        config = T2IConfig(seed=5)
        gateway = OpenAIImages("m", server.base_url, config, str(tmp_path / "g"), seeded=True)
        openai = OpenAIImages("m", server.base_url, config, str(tmp_path / "o"), seeded=False)

        async def run() -> list[Any]:
            try:
                return [await gateway.generate("p", k) for k in (0, 2, 2)] + [
                    await openai.generate("p", k) for k in (0, 1, 1)
                ]
            finally:
                await gateway.close()
                await openai.close()

        results = asyncio.run(run())
    finally:
        server.close()
    seeds = [r.get("seed") for r in server.requests]
    assert seeds == [5, 7, None, None]  # a seeded API gets seed + k; OpenAI's has no seed: sampled anew
    assert [r.cached for r in results] == [False, False, True, False, False, True]
