"""`scigen-rl bench`: judge a generator's figures on SciGenBench with the registered per-figure metrics
(R_inv, the LMM judge, ...: ``metrics.FIGURE_METRICS``), resumably, with per-item records, a summary
and a Markdown leaderboard."""

from __future__ import annotations

import asyncio
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..llm import LLMConfig, make_client
from ..records import JUDGE_DIMENSIONS, Figure, JsonlWriter, Problem, Verdict, read_jsonl, write_atomic
from .inverse import image_problem, read_image
from .metrics import IMAGE_METRICS, FigureInput, FigureMetric, figure_metrics

METRICS = ("rinv", "judge")
"""The per-figure metrics a run scores by default."""
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
IMAGE_COLUMNS = {"psnr": "PSNR", "ssim": "SSIM", "fid_tf_inception": "FID (TF-Inception)", "kid": "KID", "hf_ratio": "HF ratio"}  # fmt: skip
"""The image metrics' summary keys and leaderboard headers (overall table only)."""
PAPER_IMAGE_COLUMNS = {"paper_psnr": "PSNR (paper)", "paper_ssim": "SSIM (paper)", "paper_fid": "FID (paper)"}
"""The same under the paper's conventions (``--pixel-conventions paper|both``), shown when a summary has them."""


@dataclass
class BenchConfig:
    out_dir: str
    """Per-item verdicts (``items.jsonl``), ``summary.json``, ``leaderboard.md``, plots, the model cache."""
    judge: LLMConfig
    """The vision model that answers the quizzes and grades the figures."""
    generator: str = "generator"
    """The name this generator has on the leaderboard."""
    metrics: tuple[str, ...] = METRICS
    """Registered per-figure metrics (``metrics.FIGURE_METRICS``) and image metrics (pixel, spectral)."""
    concurrency: int = 16
    """Figures judged at once (each asks its quizzes at once, within the model client's own bound)."""
    protocol: str = "strict"
    """Which protocol chose the metrics (strict, paper, both): recorded in the summary."""
    grader: LLMConfig | None = None
    """A text model that grades the paper protocol's answers; None: the vision model grades them."""
    paper_repo: str | None = None
    """A checkout of the paper's repository whose prompts the paper protocol uses (None: the project's)."""
    pixel_conventions: str = "project"
    """The image metrics' conventions: project, paper or both (``scigen_rl.bench.pixel``)."""
    extra: dict[str, Any] = field(default_factory=dict)


def images_from_dir(folder: str | os.PathLike[str], problems: list[Problem]) -> dict[str, str | None]:
    """``<problem id>.png`` (or .jpg/.jpeg/.webp) in ``folder`` for each problem; None when absent."""
    root = Path(folder)
    found = {p.stem: str(p) for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    return {p.id: found.get(p.id) for p in problems}


def images_from_build(run_dir: str | os.PathLike[str]) -> tuple[list[Problem], dict[str, str | None], str]:
    """A build's problems, its rendered figures (None for a failed one) and its generator name."""
    run = Path(run_dir)
    problems = list(read_jsonl(run / "problems.jsonl", Problem))
    figures = {f.problem_id: f for f in read_jsonl(run / "synthesize" / "figures.jsonl", Figure)}
    paths = {
        p.id: (figures[p.id].png_path if p.id in figures and figures[p.id].status == "ok" else None)
        for p in problems
    }
    generator = next((f.generator for f in figures.values()), run.name)
    return problems, paths, generator


def renderers_from_build(run_dir: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Each figure's renderer in a build that routed image types (``Figure.extra.renderer``): problem id
    -> ``{"renderer", "ok", "fallback"}`` (``fallback``: the routed renderer that failed first, or None).
    Empty for a build without that record."""
    out: dict[str, dict[str, Any]] = {}
    for f in read_jsonl(Path(run_dir) / "synthesize" / "figures.jsonl", Figure):
        if f.extra.get("renderer"):
            fallback = f.extra.get("fallback")
            out[f.problem_id] = {"renderer": f.extra["renderer"], "ok": f.status == "ok",
                                 "fallback": fallback.get("renderer") if isinstance(fallback, dict) else None}  # fmt: skip
        else:
            out.pop(f.problem_id, None)  # the last record of a problem wins
    return out


def by_renderer(
    verdicts: list[Verdict], problems: list[Problem], renderers: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Per renderer, and per image type within it: the metrics of the figures it drew (or last tried),
    and its render success, figures ok / attempted, where a fallback counts as a failed attempt of the
    routed renderer and an attempt of the one that drew it."""
    types = {p.id: p.image_type or "(none)" for p in problems}
    drawn: dict[str, dict[str, list[Verdict]]] = defaultdict(lambda: defaultdict(list))
    for v in verdicts:
        if v.problem_id in renderers:
            drawn[renderers[v.problem_id]["renderer"]][types.get(v.problem_id, "(none)")].append(v)
    counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for pid, info in renderers.items():
        if pid not in types:
            continue
        attempts = [(info["fallback"], False)] if info["fallback"] else []
        for renderer, ok in [*attempts, (info["renderer"], info["ok"])]:
            tally = counts[renderer][types[pid]]
            tally[0] += 1
            tally[1] += int(ok)
        if info["fallback"]:
            counts[info["fallback"]][types[pid]][2] += 1

    def row(vs: list[Verdict], attempted: int, rendered: int, fell_back: int) -> dict[str, Any]:
        return {**_aggregate(vs), "attempted": attempted, "rendered": rendered, "fell_back": fell_back,
                "render_success": rendered / attempted if attempted else None}  # fmt: skip

    out: dict[str, Any] = {}
    for renderer in sorted(set(counts) | set(drawn)):
        per_type = {
            t: row(drawn[renderer].get(t, []), *counts[renderer].get(t, [0, 0, 0]))
            for t in sorted(set(counts[renderer]) | set(drawn[renderer]))
        }
        totals = [sum(c[i] for c in counts[renderer].values()) for i in range(3)]
        everything = [v for vs in drawn[renderer].values() for v in vs]
        out[renderer] = {**row(everything, *totals), "by_image_type": per_type}
    return out


async def _bench(
    cfg: BenchConfig, metrics: list[FigureMetric], problems: list[Problem], images: dict[str, str | None]
) -> None:
    out = Path(cfg.out_dir)
    done = {i for i, v in latest_verdicts(out / "items.jsonl").items() if not failed_calls(metrics, v)}
    items_path = out / "items.jsonl"
    todo = [p for p in problems if p.id not in done]
    if not todo:
        return
    from tqdm import tqdm

    client = grader = None
    if any(m.needs_model for m in metrics):
        if cfg.judge.cache_dir is None:
            cfg.judge.cache_dir = str(out / "llm-cache")
        client = make_client(cfg.judge)
        if cfg.grader is not None:
            cfg.grader.cache_dir = cfg.grader.cache_dir or cfg.judge.cache_dir
            grader = make_client(cfg.grader)
    gate = asyncio.Semaphore(cfg.concurrency)
    bar = tqdm(total=len(problems), initial=len(done), desc=f"bench {cfg.generator}", unit="figure")
    with JsonlWriter(items_path) as writer:

        async def one(problem: Problem) -> None:
            async with gate:
                path = images.get(problem.id)
                png = read_image(path)
                verdict = Verdict(problem.id, cfg.generator)
                for metric in metrics:
                    await metric.score(
                        FigureInput(problem, png, path, client, grader, cfg.paper_repo), verdict
                    )
                verdict.extra.update(
                    image_type=problem.image_type or "", subject=problem.subject or "", image=path
                )
            await asyncio.to_thread(writer.write, verdict)
            bar.update(1)

        await asyncio.gather(*(one(p) for p in todo))
    bar.close()
    for used in (client, grader):
        if used is not None:
            await used.close()


def latest_verdicts(items: Path) -> dict[str, Verdict]:
    """Each problem's last verdict in ``items.jsonl`` (a figure scored again is appended, and wins)."""
    return {v.problem_id: v for v in read_jsonl(items, Verdict)} if items.exists() else {}


def failed_calls(metrics: list[FigureMetric], verdict: Verdict) -> int:
    """The model calls that failed on this figure, over ``metrics``."""
    return sum(m.failed_calls(verdict) for m in metrics)


def _aggregate(verdicts: list[Verdict]) -> dict[str, Any]:
    row: dict[str, Any] = {"figures": len(verdicts)}
    for metric in figure_metrics():
        row.update(metric.aggregate(verdicts))
    return row


def summarize(verdicts: list[Verdict], generator: str) -> dict[str, Any]:
    """Overall, by subject and by image type: every registered metric's keys (None where unscored)."""
    by: dict[str, dict[str, list[Verdict]]] = {"subject": defaultdict(list), "image_type": defaultdict(list)}
    for v in verdicts:
        by["subject"][str(v.extra.get("subject") or "(none)")].append(v)
        by["image_type"][str(v.extra.get("image_type") or "(none)")].append(v)
    return {
        "generator": generator,
        "overall": _aggregate(verdicts),
        "by_subject": {k: _aggregate(vs) for k, vs in sorted(by["subject"].items())},
        "by_image_type": {k: _aggregate(vs) for k, vs in sorted(by["image_type"].items())},
    }


def _cell(value: Any, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.1f}" if percent else (f"{value:.2f}" if isinstance(value, float) else str(value))


def _scored(metric: FigureMetric, summary: dict[str, Any]) -> bool:
    overall = summary["overall"]
    return any(overall.get(c.key) is not None for c in metric.columns()) or any(
        overall.get(c.key) for c in metric.totals()
    )


def leaderboard(summaries: list[dict[str, Any]]) -> str:
    """One Markdown leaderboard from one or several generators' summaries: the columns of every
    registered metric that one of them scored (ranked by R_inv, else the paper protocol's accuracy)."""
    metrics = [m for m in figure_metrics() if any(_scored(m, s) for s in summaries)] or figure_metrics()
    columns = [c for m in metrics for c in m.columns()]
    overall = columns + [c for m in metrics for c in m.totals()]
    shown = [k for k in PAPER_IMAGE_COLUMNS if any(k in s.get("image_metrics", {}) for s in summaries)]
    image_columns = {**IMAGE_COLUMNS, **{k: PAPER_IMAGE_COLUMNS[k] for k in shown}}
    head = ["generator", "figures", *(c.header for c in overall), *image_columns.values()]
    lines = ["## Overall", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    ranked = sorted(
        summaries, key=lambda s: -(s["overall"].get("r_inv") or s["overall"].get("paper_acc") or 0)
    )
    for s in ranked:
        o = s["overall"]
        im = s.get("image_metrics", {})
        cells = [s["generator"], str(o["figures"]), *(_cell(o.get(c.key), c.percent) for c in overall),
                 *(_cell(im.get(k)) for k in image_columns)]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    for s in ranked:
        if s.get("by_renderer"):
            lines += _renderer_section(s, columns)
    for section, title in (("by_subject", "By subject"), ("by_image_type", "By image type")):
        for s in ranked:
            cols = ["", "figures", *(c.header for c in columns)]
            lines += [
                "",
                f"## {title}: {s['generator']}",
                "",
                "| " + " | ".join(cols) + " |",
                "|---" * len(cols) + "|",
            ]
            for k, row in s[section].items():
                cells = [k, str(row["figures"]), *(_cell(row.get(c.key), c.percent) for c in columns)]
                lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _renderer_section(summary: dict[str, Any], columns: list[Any]) -> list[str]:
    """The leaderboard's rows per renderer, then per renderer and image type (a routed build's)."""
    cols = ["renderer", "image type", "attempted", "rendered", "render success", "fell back", "figures",
            *(c.header for c in columns)]  # fmt: skip
    lines = ["", f"## By renderer: {summary['generator']}", "", "| " + " | ".join(cols) + " |",
             "|---" * len(cols) + "|"]  # fmt: skip
    for renderer, total in summary["by_renderer"].items():
        for image_type, row in [("(all)", total), *total["by_image_type"].items()]:
            cells = [renderer, image_type, str(row["attempted"]), str(row["rendered"]),
                     _cell(row["render_success"], True), str(row["fell_back"]), str(row["figures"]),
                     *(_cell(row.get(c.key), c.percent) for c in columns)]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def plots(summary: dict[str, Any], verdicts: list[Verdict], out_dir: Path) -> list[str]:
    """R_inv by image type, the judge's means, and R_inv against the judge's total per figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for key, label, name in (("r_inv", "R_inv", "rinv_by_type.png"),
                             ("paper_acc", "question accuracy, paper protocol", "paper_acc_by_type.png")):  # fmt: skip
        types = {k: v[key] for k, v in summary["by_image_type"].items() if v.get(key) is not None}
        if not types:
            continue
        fig, ax = plt.subplots(figsize=(7, max(3, 0.28 * len(types))))
        ax.barh(list(types), [100 * v for v in types.values()])
        ax.set_xlabel(f"{label} (%)")
        ax.set_title(f"{label} by image type: {summary['generator']}")
        fig.tight_layout()
        fig.savefig(out_dir / name, dpi=110)
        plt.close(fig)
        written.append(name)
    judged = [v for v in verdicts if v.judge_scores and v.r_inv is not None]
    if judged:
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
        means = [summary["overall"][k] for k in JUDGE_DIMENSIONS]
        left.bar(range(len(means)), means)
        left.set_xticks(range(len(means)), [k.split("_")[0] for k in JUDGE_DIMENSIONS], rotation=20)
        left.set_ylim(0, 2)
        left.set_title("LMM judge: mean score (0-2)")
        right.scatter([sum(v.judge_scores.values()) for v in judged], [v.r_inv for v in judged], alpha=0.5)
        right.set_xlabel("judge total (0-10)")
        right.set_ylabel("R_inv")
        right.set_title("R_inv vs judge")
        fig.tight_layout()
        fig.savefig(out_dir / "judge.png", dpi=110)
        plt.close(fig)
        written.append("judge.png")
    return written


def image_metrics(
    problems: list[Problem],
    images: dict[str, str | None],
    out_dir: Path,
    generator: str,
    inception: bool,
    conventions: str = "project",
) -> dict[str, Any]:
    """PSNR/SSIM/FID/KID and spectra of the figures whose problem has a real figure (SeePhys)."""
    from .pixel import InceptionFeatures, pixel_metrics, spectrum_plot

    pairs, unreadable = [], 0
    for p in problems:
        path = images.get(p.id)
        if not (path and p.extra.get("reference_image") and Path(path).exists()):
            continue
        if image_problem(read_image(path), path) is not None:
            unreadable += 1  # a corrupt figure has no pixels to compare: counted, not a crash
            continue
        pairs.append((path, p.extra["reference_image"]))
    if len(pairs) < 2:
        return {
            "pairs": len(pairs),
            "unreadable": unreadable,
            "note": "image metrics need at least two figures with a real counterpart",
        }
    row = pixel_metrics(pairs, InceptionFeatures() if inception else None, conventions=conventions)
    spectrum_plot({generator: row}, out_dir / "spectrum.png")
    return {**row, "unreadable": unreadable}


def run_bench(
    cfg: BenchConfig,
    problems: list[Problem],
    images: dict[str, str | None],
    renderers: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Judge every figure not judged yet, then write ``summary.json``, ``leaderboard.md`` and plots;
    with ``renderers`` (:func:`renderers_from_build`, not empty) also ``by_renderer``."""
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = figure_metrics(cfg.metrics)
    if metrics:
        asyncio.run(_bench(cfg, metrics, problems, images))
    latest = latest_verdicts(out / "items.jsonl")
    verdicts = [latest[p.id] for p in problems if p.id in latest]
    summary = summarize(verdicts, cfg.generator)
    if renderers:
        summary["by_renderer"] = by_renderer(verdicts, problems, renderers)
    failing = [v for v in verdicts if failed_calls(metrics, v)]
    summary["failed_calls"] = {
        "figures": len(failing),
        "calls": sum(failed_calls(metrics, v) for v in failing),
    }
    summary["protocol"] = cfg.protocol
    if any(m.name.startswith("paper_") for m in metrics):
        from .paper_prompts import paper_prompts

        summary["paper_prompts"] = paper_prompts(cfg.paper_repo).origin
        summary["grader"] = cfg.grader.model if cfg.grader else cfg.judge.model
    summary["plots"] = plots(summary, verdicts, out)
    if set(cfg.metrics) & set(IMAGE_METRICS):
        row = image_metrics(problems, images, out, cfg.generator, inception="pixel" in cfg.metrics,
                            conventions=cfg.pixel_conventions)  # fmt: skip
        summary["image_metrics"] = {k: v for k, v in row.items() if not k.startswith("spectrum")}
    write_atomic(out / "summary.json", json.dumps(summary, indent=2))
    write_atomic(out / "leaderboard.md", leaderboard([summary]))
    return summary
