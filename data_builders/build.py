"""`scigen-rl build`: text problems -> ImgCoder figures -> filtered -> verl parquet, resumable.

Run directory::

    DIR/problems.jsonl               the selected problems (written once)
    DIR/synthesize/figures.jsonl     one Figure per finished problem, appended as each finishes
    DIR/synthesize/png/<id>.png      the figures
    DIR/llm-cache/                   every model response, by request hash
    DIR/export/                      train/val parquet, scaling subsets, manifest
    DIR/summary.json

A re-run skips the problems already in ``figures.jsonl``. A problem interrupted half-way is redone
from the start, but its model calls come from the cache and its render is deterministic, so a killed
and resumed build ends with exactly the output of an uninterrupted one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from scigen_rl.contact_sheet import SheetItem, contact_sheet
from scigen_rl.filters import DuplicateIndex, FilterConfig, answer_leak, check_pixels
from scigen_rl.imgcoder import build_messages, parse_response, repair_messages
from scigen_rl.llm import CachedChat, LLMConfig, make_client
from scigen_rl.records import Figure, JsonlWriter, Problem, Verdict, read_jsonl, write_atomic, write_jsonl
from scigen_rl.render import RenderConfig, Renderer
from scigen_rl.render.outcome import png_problem
from scigen_rl.skeletons import skeleton_request

from .export import ExportConfig, export, make_sample

PROMPTS = ("plan-code", "skeleton")
"""ImgCoder's prompts: see ``BuildConfig.prompt``."""


@dataclass
class BuildConfig:
    run_dir: str
    """Where everything of this build lives; re-running with the same directory resumes."""
    llm: LLMConfig
    """The model that writes the figures (its cache goes to ``run_dir/llm-cache``)."""
    concurrency: int = 32
    """Problems in flight at once (model calls and renders overlap across them)."""
    repair_rounds: int = 2
    """Extra tries with the render error fed back to the model."""
    prompt: str = "plan-code"
    """ImgCoder's prompt: ``plan-code`` (a four-part plan, then a free-form script; for capable models)
    or ``skeleton`` (a script of fixed shape whose slots the model fills under a grammar; for small
    models such as the embedded one, see ``scigen_rl.skeletons``)."""
    render: RenderConfig = field(default_factory=RenderConfig)
    filters: FilterConfig = field(default_factory=FilterConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    verify: LLMConfig | None = None
    """The vision model of inverse quiz validation (``--verify``); None skips verification."""

    def __post_init__(self) -> None:
        if self.prompt not in PROMPTS:
            raise ValueError(f"BuildConfig.prompt: {self.prompt!r} is not one of {', '.join(PROMPTS)}")


def _png_name(problem_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", problem_id)[:80]
    return f"{safe}-{hashlib.sha1(problem_id.encode()).hexdigest()[:8]}.png"


def _png_intact(figure: Figure, max_pixels: int | None = None) -> bool:
    """Whether a recorded figure's PNG is still there, unchanged, and a valid PNG (within
    ``max_pixels`` when given: the cap of the render settings it is checked against)."""
    try:
        png = Path(figure.png_path or "").read_bytes()
    except OSError:
        return False
    if hashlib.sha256(png).hexdigest() != figure.png_sha256:
        return False
    return png_problem(png, max_pixels or Image.MAX_IMAGE_PIXELS or 1 << 62) is None


async def _make_figure(
    problem: Problem, client: CachedChat, renderer: Renderer, cfg: BuildConfig, png_dir: Path
) -> Figure | str:
    """The problem's Figure, or (a string) why the model could not be asked: then nothing is recorded
    and the next run asks again, so an outage of the model server loses no problem."""
    generator = f"imgcoder:{cfg.llm.model}"
    request: dict[str, Any] = {}
    prompt = cfg.prompt
    if cfg.prompt == "skeleton":
        skeleton, messages, request = skeleton_request(problem)
        prompt = f"skeleton:{skeleton.name}"
    else:
        messages = build_messages(problem)
    usage: Counter[str] = Counter()
    timings: dict[str, float] = defaultdict(float)
    rounds = 0
    while True:
        started = time.monotonic()
        reply = await client.chat(messages, **request)
        timings["llm_s"] += time.monotonic() - started
        usage.update(reply.usage)
        if not reply.ok:
            return reply.error or "model call failed"
        parsed = parse_response(reply.text or "")
        if not parsed.has_code:
            return Figure(
                problem.id,
                generator,
                "failed",
                "no_code",
                plan=parsed.plan,
                raw_response=reply.text,
                error="the answer held no script",
                repair_rounds=rounds,
                timings=dict(timings),
                usage=dict(usage),
                extra={"prompt": prompt},
            )
        started = time.monotonic()
        result = await asyncio.to_thread(renderer.render, parsed.code or "", f"{problem.id}.py")
        timings["render_s"] += time.monotonic() - started
        if result.ok or rounds >= cfg.repair_rounds:
            break
        rounds += 1
        messages = repair_messages(messages, reply.text or "", f"{result.failure}: {result.error}")
    figure = Figure(
        problem.id,
        generator,
        "failed",
        result.failure or "runtime",
        plan=parsed.plan,
        code=parsed.code,
        raw_response=reply.text,
        error=result.error,
        warnings=result.warnings,
        repair_rounds=rounds,
        timings={k: round(v, 3) for k, v in timings.items()},
        usage=dict(usage),
        extra={"prompt": prompt},
    )
    if not result.ok:
        return figure
    # Decoding, hashing and writing the PNG take milliseconds: off the event loop, so that no model
    # response waits for them.
    return await asyncio.to_thread(_accept, figure, result.pngs[0], result.texts, problem, cfg, png_dir)


def _accept(
    figure: Figure, png: bytes, texts: list[str], problem: Problem, cfg: BuildConfig, png_dir: Path
) -> Figure:
    """Save a rendered figure and note the cheap filters' verdicts on it."""
    path = write_atomic(png_dir / _png_name(problem.id), png)
    pixels = check_pixels(png, cfg.filters)
    rejected = list(pixels.issues)
    leak = answer_leak(problem.answer, texts, problem.question)
    if leak is not None:
        rejected.append("answer_leak")
    figure.status, figure.failure, figure.error = "ok", None, None
    figure.png_path, figure.png_sha256 = str(path), hashlib.sha256(png).hexdigest()
    figure.extra = {**figure.extra, "rejected": rejected, "leak": leak, "texts": texts, "phash": pixels.phash}
    return figure


async def _synthesize(
    problems: list[Problem], cfg: BuildConfig, figures_path: Path, png_dir: Path
) -> tuple[Counter[str], int]:
    """Make the figures not made yet; returns the model errors that left problems to a later run and
    how many recorded figures were made again because their PNG was gone or broken."""
    model_errors: Counter[str] = Counter()
    last = {f.problem_id: f for f in read_jsonl(figures_path, Figure)} if figures_path.exists() else {}
    broken = sorted(
        i for i, f in last.items() if f.status == "ok" and not _png_intact(f, cfg.render.max_pixels)
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

    client = make_client(cfg.llm)
    # Renders block a thread each until a render worker is free; PNG checks and record writes must
    # not queue behind them, so the loop gets enough threads for both.
    from concurrent.futures import ThreadPoolExecutor

    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=cfg.concurrency * 2 + 8))
    # Model calls are bounded by the client; this only bounds problems held in memory. It is wider
    # than the call limit so that a finished call's render never holds up the next call.
    gate = asyncio.Semaphore(cfg.concurrency * 4)
    bar = tqdm(total=len(problems), initial=len(done), desc="build", unit="problem")
    with Renderer(cfg.render) as renderer, JsonlWriter(figures_path) as writer:

        async def one(problem: Problem) -> None:
            async with gate:
                figure = await _make_figure(problem, client, renderer, cfg, png_dir)
            if isinstance(figure, str):
                model_errors[figure[:120]] += 1
            else:
                await asyncio.to_thread(writer.write, figure)  # flushed and fsynced: off the event loop
            bar.update(1)

        await asyncio.gather(*(one(p) for p in todo))
    bar.close()
    await client.close()
    return model_errors, len(broken)


async def _verify(run: Path, cfg: LLMConfig) -> None:
    """Inverse quiz validation of every rendered figure not verified yet (``verify/verdicts.jsonl``)."""
    from scigen_rl.bench.inverse import read_image, validate_figure

    problems = {p.id: p for p in read_jsonl(run / "problems.jsonl", Problem)}
    figures = [f for f in read_jsonl(run / "synthesize" / "figures.jsonl", Figure) if f.status == "ok"]
    path = run / "verify" / "verdicts.jsonl"
    done = {v.problem_id for v in read_jsonl(path, Verdict)} if path.exists() else set()
    todo = [f for f in figures if f.problem_id not in done and f.problem_id in problems]
    if not todo:
        return
    from tqdm import tqdm

    client = make_client(cfg)
    bar = tqdm(total=len(figures), initial=len(figures) - len(todo), desc="verify", unit="figure")
    with JsonlWriter(path) as writer:

        async def one(figure: Figure) -> None:
            problem = problems[figure.problem_id]
            verdict = await validate_figure(
                client, problem, read_image(figure.png_path), figure.generator, figure.png_path
            )
            if verdict.errors:  # a model outage: ask again on the next run rather than record a 0
                bar.update(1)
                return
            await asyncio.to_thread(writer.write, verdict)
            bar.update(1)

        await asyncio.gather(*(one(f) for f in todo))
    bar.close()
    await client.close()


def run_build(problems: list[Problem], cfg: BuildConfig) -> dict[str, Any]:
    """Synthesize, filter and export; returns the summary also written to ``summary.json``."""
    run = Path(cfg.run_dir)
    (run / "synthesize" / "png").mkdir(parents=True, exist_ok=True)
    problems_path = run / "problems.jsonl"
    if problems_path.exists():
        problems = list(read_jsonl(problems_path, Problem))  # a resumed run keeps its own selection
    else:
        write_jsonl(problems_path, problems)
    if cfg.llm.cache_dir is None:
        cfg.llm.cache_dir = str(run / "llm-cache")
    figures_path = run / "synthesize" / "figures.jsonl"
    model_errors, rerendered = asyncio.run(
        _synthesize(problems, cfg, figures_path, run / "synthesize" / "png")
    )
    if cfg.verify is not None:
        if cfg.verify.cache_dir is None:
            cfg.verify.cache_dir = str(run / "llm-cache")
        asyncio.run(_verify(run, cfg.verify))
    return export_run(run, cfg.filters, cfg.export, model_errors, rerendered)


def _last_line(error: str | None, limit: int = 160) -> str:
    """The line of an error that says what went wrong (a traceback's last), cut to ``limit``."""
    lines = [line.strip() for line in (error or "").splitlines() if line.strip()]
    return lines[-1][:limit] if lines else ""


def export_run(
    run_dir: str | Path,
    filters: FilterConfig | None = None,
    settings: ExportConfig | None = None,
    model_errors: Counter[str] | None = None,
    rerendered: int = 0,
) -> dict[str, Any]:
    """The export stage alone, from a run directory's records (``scigen-rl export``): no model call
    and no render, so the split or the scaling fractions can change after a build. The pixel and
    leakage verdicts are those recorded at build time; near-duplicates are decided here. When the
    build was verified (``verify/verdicts.jsonl``), every row carries its R_inv and the figures with
    R_inv >= ``settings.verify_threshold`` are also exported to ``export/filtered/``."""
    filters = filters or FilterConfig()
    settings = settings or ExportConfig()
    val_fraction, scaling_fractions, seed = settings.val_fraction, settings.scaling_fractions, settings.seed
    verify_threshold = settings.verify_threshold
    run = Path(run_dir)
    problems_path, figures_path = run / "problems.jsonl", run / "synthesize" / "figures.jsonl"
    if not problems_path.exists():
        raise FileNotFoundError(f"{problems_path}: not a build's run directory (no problems.jsonl)")
    problems = list(read_jsonl(problems_path, Problem))
    figures = {f.problem_id: f for f in read_jsonl(figures_path, Figure)} if figures_path.exists() else {}
    verdicts_path = run / "verify" / "verdicts.jsonl"
    verdicts = {v.problem_id: v for v in read_jsonl(verdicts_path, Verdict)} if verdicts_path.exists() else {}
    order = {p.id: i for i, p in enumerate(problems)}
    duplicates = DuplicateIndex(filters.max_hash_distance)
    samples = []
    per_type: dict[str, Counter[str]] = defaultdict(Counter)
    failures: Counter[str] = Counter()
    dropped: list[dict[str, str]] = []
    tiles: list[SheetItem] = []
    for problem in problems:  # problem order, not completion order: the same output every time
        figure = figures.get(problem.id)
        if figure is None:
            continue
        counts = per_type[problem.image_type or "(none)"]
        counts["attempted"] += 1
        counts["repaired"] += figure.status == "ok" and figure.repair_rounds > 0
        if figure.status != "ok":
            failure = figure.failure or "runtime"
            failures[failure] += 1
            counts[failure] += 1
            dropped.append({"id": problem.id, "reason": failure, "detail": _last_line(figure.error)})
            continue
        counts["rendered"] += 1
        png_path = Path(figure.png_path or "")
        if not _png_intact(figure):  # a build run again renders it anew; export alone can only say so
            counts["filtered"] += 1
            dropped.append(
                {
                    "id": problem.id,
                    "reason": "png_invalid",
                    "detail": f"{png_path} is gone, changed "
                    "or no longer decodes; run the build again to render it anew",
                }
            )
            continue
        rejected = list(figure.extra.get("rejected", []))
        phash = figure.extra.get("phash") or check_pixels(png_path.read_bytes(), filters).phash
        twin = duplicates.check_and_add(problem.id, phash)
        if twin is not None:
            rejected.append(f"near_duplicate:{twin}")
        tiles.append(SheetItem(str(png_path), problem.id, ", ".join(rejected) or "exported"))
        if rejected:
            counts["filtered"] += 1
            reason, _, twin_id = rejected[0].partition(":")
            detail = [f"of {twin_id}"] if twin_id else []
            detail += [f"also {r.replace(':', ' of ')}" for r in rejected[1:]]
            dropped.append({"id": problem.id, "reason": reason, "detail": ", ".join(detail)})
            continue
        samples.append(
            make_sample(
                problem, png_path.read_bytes(), figure.generator, order[problem.id], verdicts.get(problem.id)
            )
        )
    manifest = export(samples, run / "export", val_fraction, scaling_fractions, seed)
    verification: dict[str, Any] = {}
    if verdicts_path.exists():
        kept = [s for s in samples if (s.extra_info.get("r_inv") or 0.0) >= verify_threshold]
        verified = [s for s in samples if s.extra_info.get("r_inv") is not None]
        verification = {
            "verified": len(verified),
            "unverifiable": len(samples) - len(verified),  # no quizzes, or the model could not be asked
            "threshold": verify_threshold,
            "filtered_exported": len(kept),
            "mean_r_inv": round(sum(s.extra_info["r_inv"] for s in verified) / len(verified), 4)
            if verified
            else None,
        }
        verification["export"] = export(
            kept, run / "export" / "filtered", val_fraction, scaling_fractions, seed
        )
    summary = {
        "attempted": sum(c["attempted"] for c in per_type.values()),
        "rendered": sum(c["rendered"] for c in per_type.values()),
        "filtered": sum(c["filtered"] for c in per_type.values()),
        "exported": len(samples),
        "failures": dict(sorted(failures.items())),
        "dropped": dropped,
        "pending": len(problems) - len(figures),
        "model_errors": dict(model_errors or {}),
        "rerendered": rerendered,
        "by_image_type": {k: dict(v) for k, v in sorted(per_type.items())},
        "export": manifest,
    }
    if verification:
        summary["verification"] = verification
    if tiles:
        sheet, shown = contact_sheet(tiles, run / "contact_sheet.png")
        summary["contact_sheet"] = {"path": str(sheet), "figures": shown, "of": len(tiles)}
    else:
        (run / "contact_sheet.png").unlink(missing_ok=True)
    write_atomic(run / "summary.json", json.dumps(summary, indent=2))
    return summary
