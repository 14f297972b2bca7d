"""``scigen-rl bench`` (the registered per-figure metrics, a leaderboard) and ``scigen-rl bench-reference``."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from ..command_line import BAD_ARGUMENTS, Command, changed_settings, save_options
from ..llm.config import LLMConfig
from ..records import write_atomic
from .metrics import figure_metrics, known_metrics

JUDGE_MODEL = "Qwen/Qwen3-VL-235B-A22B-Instruct"


@dataclass
class BenchOptions:
    """Judge figures named by problem id (--images DIR) or a build's figures (--run-dir DIR) with a
    vision model: inverse quiz validation (R_inv), the five-dimension judge and any other registered
    metric (scigen_rl.bench.metrics.FIGURE_METRICS). Writes
    OUT_DIR/items.jsonl (resumable), summary.json, leaderboard.md and plots. --combine merges several
    OUT_DIRs into one leaderboard."""

    out_dir: str
    """Where the results go (a re-run with the same folder resumes)."""
    images: str | None = None
    """A folder of <problem id>.png/.jpg."""
    run_dir: str | None = None
    """A build's run directory (its figures and problems)."""
    generator: str | None = None
    """The name on the leaderboard (default: the folder's or the build's)."""
    metrics: str = "rinv,judge"
    """Comma-separated: the per-figure metrics of scigen_rl.bench.metrics.FIGURE_METRICS (rinv, judge, ...)
    and the image metrics pixel, spectral."""
    judge: LLMConfig = field(
        default_factory=lambda: LLMConfig(
            base_url="http://127.0.0.1:8000/v1", model=JUDGE_MODEL, max_tokens=512, concurrency=32
        )
    )
    """The vision model that answers the quizzes and judges the figures."""
    scigenbench_dir: str | None = None
    """A SciGenBench folder (default: $SCIGENBENCH_DIR, else the copy shipped with scigen-rl)."""
    ids: str | None = None
    """Comma-separated problem ids to judge."""
    limit: int | None = None
    """Judge the first N problems only."""
    protocol: Literal["strict", "paper", "both"] = "strict"
    """strict: the project's own scoring (rinv, judge). paper: the paper's evaluation code's
    (paper_rinv: micro-pooled quizzes plus a VQA item, answers graded by a second call, failures left out;
    paper_judge: question only, temperature 0.1). both: each metric both ways, side by side."""
    paper_repo: str | None = None
    """A checkout of SciGenBench/SciGenBench: the paper protocol reads the paper's own prompts from it
    (default: the project's prompts of the same form)."""
    grader_model: str | None = None
    """The text model that grades the paper protocol's answers (default: the --judge model)."""
    grader_base_url: str | None = None
    """Its endpoint (default: --judge.base-url); other settings as --judge's."""
    pixel_conventions: Literal["project", "paper", "both"] = "project"
    """The image metrics' conventions (--metrics pixel, spectral): project (alpha on white, the generated
    figure resized to the real one), paper (the paper's t2i_metric.py: plain RGB, the real figure resized,
    SSIM window 3, FID unclamped; keys paper_*), or both side by side (scigen_rl.bench.pixel)."""
    combine: list[str] | None = None
    """Merge these bench outputs (OUT_DIR ...) into one leaderboard instead; two or more are also set side
    by side on the problems all were scored on: R_inv per image type (compare.md, compare_by_type.png)."""


PAPER_COUNTERPARTS = {"rinv": "paper_rinv", "judge": "paper_judge"}


def protocol_metrics(metrics: tuple[str, ...], protocol: str) -> tuple[str, ...]:
    """The metrics a protocol scores: ``paper`` swaps rinv and judge for their paper counterparts,
    ``both`` adds those beside them.

    >>> protocol_metrics(("rinv", "judge", "pixel"), "paper"), protocol_metrics(("rinv",), "both")
    (('paper_rinv', 'paper_judge', 'pixel'), ('rinv', 'paper_rinv'))
    """
    chosen: list[str] = []
    for m in metrics:
        paper = PAPER_COUNTERPARTS.get(m)
        wanted = (
            [m] if paper is None or protocol == "strict" else [paper] if protocol == "paper" else [m, paper]
        )
        chosen += [w for w in wanted if w not in chosen]
    return tuple(chosen)


def bench(options: BenchOptions) -> int:
    from ..llm.preflight import server_problem
    from ..loaders import load_scigenbench
    from ..shipped import scigenbench_root
    from .run import (
        BenchConfig,
        images_from_build,
        images_from_dir,
        leaderboard,
        renderers_from_build,
        run_bench,
    )

    if options.combine:
        try:
            summaries = [json.loads((Path(d) / "summary.json").read_text()) for d in options.combine]
        except (OSError, ValueError) as e:
            print(f"scigen-rl bench: --combine: {e} (each folder must be a bench --out-dir)", file=sys.stderr)
            return BAD_ARGUMENTS
        board = leaderboard(summaries)
        write_atomic(Path(options.out_dir) / "leaderboard.md", board)
        print(board)
        if len(options.combine) > 1:
            from .compare import compare

            side = compare(list(options.combine), options.out_dir)
            print((Path(options.out_dir) / "compare.md").read_text())
            print(f"bench: {side['problems']} problems scored for every generator: {Path(options.out_dir) / 'compare.md'}, "
                  f"compare_by_type.png", file=sys.stderr)  # fmt: skip
        return 0
    if bool(options.images) == bool(options.run_dir):
        print(
            "scigen-rl bench: give --images DIR or --run-dir DIR (or --combine OUT_DIR...)", file=sys.stderr
        )
        return BAD_ARGUMENTS
    metrics = tuple(m.strip() for m in options.metrics.split(",") if m.strip())
    unknown = sorted(set(metrics) - set(known_metrics()))
    if unknown:
        print(
            f"scigen-rl bench: unknown metrics {unknown} (known: {', '.join(known_metrics())})",
            file=sys.stderr,
        )
        return BAD_ARGUMENTS
    metrics = protocol_metrics(metrics, options.protocol)
    keys = ("judge.model", "metrics", "generator", "protocol", "grader_model", "paper_repo")
    # A folder from before --protocol existed holds strict results.
    changed = [
        c
        for c in changed_settings(options, options.out_dir, "bench", keys)
        if c != "protocol: None -> 'strict'"
    ]
    if changed and (Path(options.out_dir) / "items.jsonl").exists():
        print(f"scigen-rl bench: {options.out_dir} holds results of other settings ({'; '.join(changed)}): "
              "run with those, or use a new --out-dir", file=sys.stderr)  # fmt: skip
        return BAD_ARGUMENTS
    try:
        renderers = None
        if options.run_dir:
            problems, images, generator = images_from_build(options.run_dir)
            renderers = renderers_from_build(options.run_dir)
        else:
            problems = load_scigenbench(scigenbench_root(options.scigenbench_dir))
            generator = Path(str(options.images)).name
        wanted = set(options.ids.split(",")) if options.ids else None
        problems = [p for p in problems if wanted is None or p.id in wanted]
        problems = problems[: options.limit] if options.limit else problems
        if options.images:
            images = images_from_dir(options.images, problems)
            with_figure = [p for p in problems if images[p.id]]
            if not with_figure:
                raise ValueError(f"--images {options.images}: no figure named <problem id>.png/.jpg among "
                                 f"the {len(problems)} problems (e.g. {problems[0].id}.png)" if problems else
                                 f"--images {options.images}: no problem selected")  # fmt: skip
            print(f"bench: {len(with_figure)} of {len(problems)} problems have a figure in {options.images}; "
                  "scoring those", file=sys.stderr)  # fmt: skip
            problems = with_figure
        grader = None
        if options.grader_model or options.grader_base_url:
            grader = replace(options.judge, model=options.grader_model or options.judge.model,
                             base_url=options.grader_base_url or options.judge.base_url)  # fmt: skip
        if options.paper_repo:
            from .paper_prompts import paper_prompts

            paper_prompts(options.paper_repo)  # a checkout without the prompts stops here, before any call
        cfg = BenchConfig(
            out_dir=options.out_dir,
            judge=options.judge,
            generator=options.generator or generator,
            metrics=metrics,
            protocol=options.protocol,
            grader=grader,
            paper_repo=options.paper_repo,
            pixel_conventions=options.pixel_conventions,
        )
    except (ValueError, OSError) as e:
        print(f"scigen-rl bench: {e}", file=sys.stderr)
        return BAD_ARGUMENTS
    if any(m.needs_model for m in figure_metrics(metrics)):
        problem = server_problem(options.judge, "the vision model")
        if problem is None and cfg.grader is not None and any(m.startswith("paper_") for m in metrics):
            problem = server_problem(cfg.grader, "the grader model")
        if problem:
            print(f"scigen-rl bench: {problem}", file=sys.stderr)
            return BAD_ARGUMENTS
    save_options(options, options.out_dir, "bench")
    summary = run_bench(cfg, problems, images, renderers)
    print((Path(options.out_dir) / "leaderboard.md").read_text(), file=sys.stderr)
    print(json.dumps(summary["overall"]))
    failed = summary["failed_calls"]
    if failed["figures"]:
        print(f"scigen-rl bench: {failed['figures']} figure(s) left unscored, {failed['calls']} model call(s) "
              "failed after retries; run the same command again to score them", file=sys.stderr)  # fmt: skip
        return 1
    return 0


@dataclass
class BenchReferenceOptions:
    """PSNR, SSIM, FID (TF-Inception), KID and the high-frequency ratio of the real SeePhys figures
    against themselves, a blurred and a JPEG copy: the scale to read generators' numbers on."""

    out_dir: str = "runs/bench/reference"
    """Where reference.md, reference.json and reference_spectrum.png go."""
    scigenbench_dir: str | None = None
    """A SciGenBench folder (default: $SCIGENBENCH_DIR, else the copy shipped with scigen-rl)."""
    limit: int = 330
    """The first N real figures (by name)."""


def bench_reference(options: BenchReferenceOptions) -> int:
    from ..shipped import scigenbench_root
    from .pixel import InceptionFeatures, reference_rows, spectrum_plot

    try:
        root = scigenbench_root(options.scigenbench_dir)
    except ValueError as e:
        print(f"scigen-rl bench-reference: {e}", file=sys.stderr)
        return BAD_ARGUMENTS
    folder = root / "seephys_images"
    real = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))[
        : options.limit
    ]
    if len(real) < 2:
        print(f"scigen-rl bench-reference: fewer than two real figures in {folder}", file=sys.stderr)
        return BAD_ARGUMENTS
    out = Path(options.out_dir)
    save_options(options, out, "bench-reference")
    rows = reference_rows(real, InceptionFeatures())
    spectrum_plot(rows, out / "reference_spectrum.png")
    table = {k: {m: v for m, v in row.items() if not m.startswith("spectrum")} for k, row in rows.items()}
    lines = [
        "| real SeePhys figures vs | PSNR | SSIM | FID (TF-Inception) | KID | HF ratio |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in table.items():
        lines.append(f"| {name} | {row['psnr']:.2f} | {row['ssim']:.4f} | {row['fid_tf_inception']:.3f} | "
                     f"{row['kid']:.4f} | {row['hf_ratio']:.5f} |")  # fmt: skip
    write_atomic(out / "reference.md", "\n".join(lines) + "\n")
    write_atomic(out / "reference.json", json.dumps(table, indent=2))
    print("\n".join(lines))
    return 0


BENCH = Command("bench", BenchOptions, bench)
BENCH_REFERENCE = Command("bench-reference", BenchReferenceOptions, bench_reference)
