"""`scigen-rl build`: text problems -> figures (ImgCoder or another generator) -> filtered -> verl parquet,
resumable.

Run directory::

    DIR/problems.jsonl               the selected problems (written once)
    DIR/synthesize/figures.jsonl     one Figure per finished problem, appended as each finishes
    DIR/synthesize/png/<id>.png      the figures
    DIR/llm-cache/                   every model response, by request hash
    DIR/export/                      train/val parquet, scaling subsets, manifest, dropped.jsonl
    DIR/summary.json

A re-run skips the problems already in ``figures.jsonl``. A problem interrupted half-way is redone
from the start, but its model calls come from the cache and its render is deterministic, so a killed
and resumed build ends with exactly the output of an uninterrupted one.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image

from scigen_rl.filters import answer_leak, check_pixels
from scigen_rl.llm import LLMConfig, make_client
from scigen_rl.records import Figure, JsonlWriter, Problem, Verdict, read_jsonl, write_atomic, write_jsonl
from scigen_rl.render import Renderer

from .build_config import BuildConfig
from .candidates import best_of
from .export_run import export_run, png_intact
from .generators import make_generator
from .generators.base import Generator, Made, RendererPools, Tools
from .rerun import extension, selection_for


def _png_name(problem_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", problem_id)[:80]
    return f"{safe}-{hashlib.sha1(problem_id.encode()).hexdigest()[:8]}.png"


def _accept(made: Made, problem: Problem, cfg: BuildConfig, png_dir: Path) -> Figure:
    """Save a generated figure and note the cheap filters' verdicts on it."""
    figure = made.figure
    if figure.status != "ok" or made.png is None:
        figure.status, figure.failure = "failed", figure.failure or "runtime"
        return figure
    path = write_atomic(png_dir / _png_name(problem.id), made.png)
    if made.original is not None:  # the API's own image, beside the normalised one the export uses
        with Image.open(io.BytesIO(made.original)) as image:
            kind = {"JPEG": "jpg"}.get(str(image.format), str(image.format).lower())
        kept = png_dir.parent / "original" / f"{Path(_png_name(problem.id)).stem}.{kind}"
        write_atomic(kept, made.original)
        digest = hashlib.sha256(made.original).hexdigest()
        figure.extra = {**figure.extra, "original": str(kept), "original_sha256": digest}
    pixels = check_pixels(made.png, cfg.filters)
    rejected = list(pixels.issues)
    leak = answer_leak(problem.answer, made.texts, problem.question)
    if leak is not None:
        rejected.append("answer_leak")
    figure.error = None
    figure.png_path, figure.png_sha256 = str(path), hashlib.sha256(made.png).hexdigest()
    figure.extra = {
        **figure.extra,
        "rejected": rejected,
        "leak": leak,
        "texts": made.texts,
        "phash": pixels.phash,
    }
    return figure


async def _synthesize(
    problems: list[Problem], cfg: BuildConfig, generator: Generator, figures_path: Path, png_dir: Path
) -> tuple[Counter[str], int]:
    """Make the figures not made yet; returns the model errors that left problems to a later run and
    how many recorded figures were made again because their PNG was gone or broken."""
    model_errors: Counter[str] = Counter()
    last = {f.problem_id: f for f in read_jsonl(figures_path, Figure)} if figures_path.exists() else {}
    broken = sorted(
        i for i, f in last.items() if f.status == "ok" and not png_intact(f, cfg.render.max_pixels)
    )
    if broken:
        # A success is only kept while its PNG is the one recorded: otherwise render it again (the
        # model's answer comes from the cache) and append the new record, which then wins.
        print(
            f"build: {len(broken)} recorded figure(s) re-rendered, their PNG missing, changed or undecodable: "
            + ", ".join(broken[:5])
            + (" ..." if len(broken) > 5 else ""),
            file=sys.stderr,
        )
    done = set(last) - set(broken)
    todo = [p for p in problems if p.id not in done]
    if not todo:
        return model_errors, len(broken)
    from tqdm import tqdm

    client = make_client(cfg.llm) if generator.needs_llm else None
    verifier = make_client(cfg.verify) if cfg.candidates > 1 and cfg.verify is not None else None
    # Renders block a thread each until a render worker is free; PNG checks and record writes must
    # not queue behind them, so the loop gets enough threads for both.
    from concurrent.futures import ThreadPoolExecutor

    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=cfg.concurrency * 2 + 8))
    # Model calls are bounded by the client; this only bounds problems held in memory. It is wider
    # than the call limit so that a finished call's render never holds up the next call.
    gate = asyncio.Semaphore(cfg.concurrency * 4)
    bar = tqdm(total=len(problems), initial=len(done), desc="build", unit="problem")
    try:
        # Routed image types render in pools of their own (one per renderer, started when first needed).
        pools = RendererPools(cfg.render, cfg.route_workers) if cfg.routes is not None else None
        with Renderer(cfg.render) as renderer, JsonlWriter(figures_path) as writer:
            tools = Tools(client, renderer, pools=pools)

            async def one(problem: Problem) -> None:
                async with gate:
                    if verifier is not None:
                        keep = png_dir.parent / "candidates"
                        made = await best_of(
                            problem, generator, tools, cfg.candidates, verifier, cfg.candidate_judge, keep
                        )
                    else:
                        made = await generator.make(problem, tools)
                if isinstance(made, str):
                    model_errors[made[:120]] += 1
                else:
                    # Decoding, hashing and writing the PNG take milliseconds: off the event loop, so
                    # that no model response waits for them; the record is flushed and fsynced there too.
                    figure = await asyncio.to_thread(_accept, made, problem, cfg, png_dir)
                    await asyncio.to_thread(writer.write, figure)
                bar.update(1)

            try:
                await asyncio.gather(*(one(p) for p in todo))
            finally:
                if pools is not None:
                    await asyncio.to_thread(pools.close)
    finally:  # also when the build stops on an error: no connection is left open
        bar.close()
        for used in (client, verifier):
            if used is not None:
                await used.close()
        if (close := getattr(generator, "close", None)) is not None:
            await close()
    return model_errors, len(broken)


async def _verify(run: Path, cfg: LLMConfig) -> int:
    """Inverse quiz validation of every rendered figure not verified yet (``verify/verdicts.jsonl``);
    returns how many are left unverified by failed model calls (asked again by the next run)."""
    from scigen_rl.bench.inverse import read_image, validate_figure

    problems = {p.id: p for p in read_jsonl(run / "problems.jsonl", Problem)}
    figures = [f for f in read_jsonl(run / "synthesize" / "figures.jsonl", Figure) if f.status == "ok"]
    path = run / "verify" / "verdicts.jsonl"
    done = {v.problem_id for v in read_jsonl(path, Verdict)} if path.exists() else set()
    todo = [f for f in figures if f.problem_id not in done and f.problem_id in problems]
    if not todo:
        return 0
    from tqdm import tqdm

    failed = 0
    client = make_client(cfg)
    bar = tqdm(total=len(figures), initial=len(figures) - len(todo), desc="verify", unit="figure")
    with JsonlWriter(path) as writer:

        async def one(figure: Figure) -> None:
            problem = problems[figure.problem_id]
            verdict = await validate_figure(
                client, problem, read_image(figure.png_path), figure.generator, figure.png_path
            )
            if verdict.errors:  # a model outage: ask again on the next run rather than record a 0
                nonlocal failed
                failed += 1
                bar.update(1)
                return
            await asyncio.to_thread(writer.write, verdict)
            bar.update(1)

        await asyncio.gather(*(one(f) for f in todo))
    bar.close()
    await client.close()
    return failed


def run_build(problems: list[Problem], cfg: BuildConfig) -> dict[str, Any]:
    """Synthesize, filter and export; returns the summary also written to ``summary.json``."""
    run = Path(cfg.run_dir)
    (run / "synthesize" / "png").mkdir(parents=True, exist_ok=True)
    generator = make_generator(cfg.generator, cfg)
    problems = selection_for(run, problems, generator.name)  # the same, or more: never another one
    added = extension(run, problems)
    if added:
        print(f"build: extending {run} by {added} problem(s) this selection adds", file=sys.stderr)
    problems_path = run / "problems.jsonl"
    if added or not problems_path.exists():
        write_jsonl(problems_path, problems)
    if cfg.llm.cache_dir is None:
        cfg.llm.cache_dir = str(run / "llm-cache")
    figures_path = run / "synthesize" / "figures.jsonl"
    if cfg.verify is not None and cfg.verify.cache_dir is None:
        cfg.verify.cache_dir = str(run / "llm-cache")  # candidates are scored with it during synthesis
    model_errors, rerendered = asyncio.run(
        _synthesize(problems, cfg, generator, figures_path, run / "synthesize" / "png")
    )
    if cfg.verify is not None:
        if cfg.verify.cache_dir is None:
            cfg.verify.cache_dir = str(run / "llm-cache")
        unverified = asyncio.run(_verify(run, cfg.verify))
    else:
        unverified = 0
    return export_run(run, cfg.filters, cfg.export, model_errors, rerendered, unverified, cfg.decontam)
