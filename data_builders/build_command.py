"""``scigen-rl build`` (problems -> ImgCoder figures -> verl parquet) and ``scigen-rl export``."""

from __future__ import annotations

import difflib
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import tyro

from scigen_rl.command_line import BAD_ARGUMENTS, Command, save_options
from scigen_rl.filters import FilterConfig
from scigen_rl.llm.config import LLMConfig
from scigen_rl.records import FIGURE_FAILURES
from scigen_rl.render.config import RenderConfig
from scigen_rl.t2i.config import T2IConfig

from .decontam import DecontamConfig
from .export import ExportConfig

VERIFIER_MODEL = "Qwen/Qwen3-VL-235B-A22B-Instruct"


@dataclass
class BuildOptions:
    """Plan and code a figure for every problem with a model, render it in the sandbox, filter, and
    export verl parquet to RUN_DIR/export. Re-running with the same --run-dir resumes."""

    run_dir: str
    """Where everything of this build lives; re-running with the same folder resumes."""
    source: str = "scigenbench"
    """'scigenbench', a datasets name or a local file."""
    scigenbench_dir: str | None = None
    """A SciGenBench folder (default: $SCIGENBENCH_DIR, else the copy shipped with scigen-rl)."""
    mapping: str = "webinstruct-verified"
    """Field mapping for sources other than SciGenBench."""
    ids: str | None = None
    """Comma-separated problem ids to build, in this order."""
    limit: int | None = None
    """Build the first N problems only."""
    image_types: str | None = None
    """Comma-separated 'Subject - Type' names to keep."""
    generator: str = "imgcoder"
    """Which generator makes the figures: imgcoder (a model plans and codes each figure, rendered in the
    sandbox), or another name registered in data_builders/generators (NAME or NAME:ARGUMENT)."""
    embedded: bool = False
    """Write the figures with SmolLM2-135M on CPU (ships with scigen-rl, no server) instead of --llm.*."""
    llm: LLMConfig = field(
        default_factory=lambda: LLMConfig(
            base_url="", model="", max_tokens=4096, concurrency=32, timeout_s=300.0
        )
    )
    """The model that writes the figures (an OpenAI-compatible endpoint); with --embedded only
    --llm.max-tokens applies."""
    prompt: Literal["plan-code", "skeleton", "paper"] | None = None
    """ImgCoder's prompt: plan-code (a plan, then a free-form script), skeleton (a fixed script shape
    filled in under a grammar, for small models) or paper (the paper's way: the question only, the first
    code block, saved at 100 dpi with a tight box, no repair); default: skeleton with --embedded, else
    plan-code."""
    paper_repo: str | None = None
    """With --prompt paper: a checkout of SciGenBench/SciGenBench whose own ImgCoder prompt is used
    (default: the project's prompt of the same form)."""
    concurrency: int = 32
    """Problems in flight at once (model calls and renders overlap across them)."""
    repair_rounds: int = 2
    """Extra tries with the render error fed back to the model."""
    verify: bool = False
    """Inverse quiz validation of every figure by --verifier.*; exports export/filtered too."""
    candidates: int = 1
    """Figures per problem: with N > 1 each is scored by R_inv (needs --verify) and the best kept
    (ImgCoder: N samples, --llm.temperature > 0; pixel generators: N seeds); candidates.md reports the gain."""
    candidate_judge: bool = False
    """Also score each candidate with the LMM judge (the --verifier model); it breaks ties of R_inv."""
    verifier: LLMConfig = field(
        default_factory=lambda: LLMConfig(
            base_url="http://127.0.0.1:8000/v1", model=VERIFIER_MODEL, max_tokens=256, concurrency=32
        )
    )
    """The vision model that answers the quizzes when --verify is given."""
    render: RenderConfig = field(default_factory=RenderConfig)
    routing: Literal["auto", "on", "off"] = "auto"
    """Route each image type to the renderer made for it (molecules and reactions: rdkit, circuits:
    schemdraw, graphs and flows: graphviz, the rest matplotlib; a failed one falls back to matplotlib).
    auto: on with ImgCoder's plan-code prompt and --render.renderer matplotlib, a renderer whose package
    is missing left out (said so); on: the same, but a missing package stops the build; off: every
    figure in --render.renderer."""
    routes: tuple[str, ...] = ()
    """Changes to the routes: 'TYPE=RENDERER' items or YAML files mapping types to renderers, e.g.
    --routes "Physics - Circuit=matplotlib" "Biology - Ecological=graphviz"."""
    route_workers: int = 0
    """Workers of each routed renderer's pool (0: half of --render.workers' count, at least one)."""
    t2i: T2IConfig = field(default_factory=T2IConfig)
    """Settings of a pixel generator (openai:MODEL, gateway:MODEL@URL): size, quality, seed, concurrency."""
    filters: FilterConfig = field(default_factory=FilterConfig)
    export: Annotated[ExportConfig, tyro.conf.OmitArgPrefixes] = field(default_factory=ExportConfig)
    decontam: DecontamConfig = field(default_factory=DecontamConfig)
    """Rows whose question or figure repeats an item of the evaluation sets are reported
    (export/decontamination.md) and left out; local copies of the sets: --decontam.sources NAME PATH."""


def build(options: BuildOptions) -> int:
    from scigen_rl.loaders import load_problems, load_scigenbench
    from scigen_rl.render.renderers import renderer_module, unavailable
    from scigen_rl.shipped import scigenbench_root

    from .build import run_build
    from .build_config import BuildConfig
    from .export_run import selection_problem
    from .generators import make_generator
    from .rerun import selection_for

    try:
        if options.source == "scigenbench":
            problems = load_scigenbench(scigenbench_root(options.scigenbench_dir))
        else:
            problems = load_problems(options.source, options.mapping)
        problems = _selected(problems, options)
        if options.embedded:
            from scigen_rl.llm.embedded import embedded_config

            llm = embedded_config(max_tokens=options.llm.max_tokens or 4096)
        else:
            llm = options.llm
        prompt = options.prompt or ("skeleton" if options.embedded else "plan-code")
        routes = _routes(options, prompt)
        cfg = BuildConfig(
            run_dir=options.run_dir,
            llm=llm,
            generator=options.generator,
            concurrency=options.concurrency,
            repair_rounds=options.repair_rounds,
            prompt=prompt,
            paper_repo=options.paper_repo,
            render=options.render,
            routes=routes,
            route_workers=options.route_workers,
            t2i=options.t2i,
            filters=options.filters,
            export=options.export,
            verify=options.verifier if options.verify else None,
            decontam=options.decontam,
            candidates=options.candidates,
            candidate_judge=options.candidate_judge,
        )
        generator = make_generator(cfg.generator, cfg)  # an unknown one is refused before any work
        renderer_module(cfg.render.renderer)
        if why := unavailable(cfg.render.renderer, cfg.render.tex_engine):  # before any model call
            raise ValueError(f"--render.renderer {cfg.render.renderer}: {why}")
        selection_for(options.run_dir, problems, generator.name)  # a rerun resumes or extends, or stops
        if problem := selection_problem(options.run_dir, options.export):  # no records: before any call
            raise ValueError(problem)
    except (ValueError, OSError, RuntimeError) as e:
        print(f"scigen-rl build: {e}", file=sys.stderr)
        return BAD_ARGUMENTS
    if generator.needs_llm and not options.embedded and not (options.llm.base_url and options.llm.model):
        print("scigen-rl build: give --embedded, or --llm.base-url and --llm.model", file=sys.stderr)
        return BAD_ARGUMENTS
    from scigen_rl.llm.preflight import server_problem

    servers = [(cfg.llm, "the model server")] if generator.needs_llm else []
    servers += [(cfg.verify, "the verifier (--verifier.*)")] if cfg.verify is not None else []
    for config, what in servers:
        if problem := server_problem(config, what):
            print(f"scigen-rl build: {problem}", file=sys.stderr)
            return BAD_ARGUMENTS
    save_options(options, options.run_dir, "build")
    summary = run_build(problems, cfg)
    print_summary(summary, options.run_dir)
    if summary["attempted"] and not summary["exported"]:
        print(
            f"scigen-rl build: none of the {summary['attempted']} problems gave a training row",
            file=sys.stderr,
        )
        return 1
    return 0 if not (summary["pending"] or summary["unverified"]) else 1


def _routes(options: BuildOptions, prompt: str) -> dict[str, str] | None:
    """The routes of this build (None: no routing), from --routing and --routes; a ValueError for a route
    naming an unknown type or renderer, or routing where it cannot apply."""
    from .generators.routes import DEFAULT_ROUTES, FALLBACK, parse_routes, unavailable_renderers

    overrides = parse_routes(options.routes)  # checked whatever --routing says
    if options.routing == "off":
        return None
    fits = (options.generator.split(":")[0] == "imgcoder" and prompt == "plan-code"
            and options.render.renderer == FALLBACK)  # fmt: skip
    if not fits:
        if options.routing == "on" or options.routes:
            raise ValueError("--routing on and --routes need --generator imgcoder, --prompt plan-code and "
                             f"--render.renderer {FALLBACK} (or give --routing off)")  # fmt: skip
        return None
    routes = {t: r for t, r in {**DEFAULT_ROUTES, **overrides}.items() if r != FALLBACK}
    missing = unavailable_renderers(routes, options.render.tex_engine)
    if missing:
        names = "; ".join(f"{r}: {why}" for r, why in missing.items())
        if options.routing == "on":
            raise ValueError(f"--routing on: cannot run here: {names}; install it, or give --routing off")
        routes = {t: r for t, r in routes.items() if r not in missing}
        print(f"build: routing: cannot run here: {names}; their image types are drawn with {FALLBACK} "
              "(install what is missing, or give --routing off)", file=sys.stderr)  # fmt: skip
    by_renderer: dict[str, list[str]] = {}
    for image_type, renderer in routes.items():
        by_renderer.setdefault(renderer, []).append(image_type)
    print("build: routing " + "; ".join(f"{', '.join(ts)} -> {r}" for r, ts in sorted(by_renderer.items()))
          + f"; the rest -> {FALLBACK}", file=sys.stderr)  # fmt: skip
    return routes


class Selection(Protocol):
    """The options that choose problems (build's and curate's)."""

    source: str
    ids: str | None
    image_types: str | None
    limit: int | None


def _selected(problems: list[Any], options: Selection) -> list[Any]:
    """The problems ``--ids`` (in its order), ``--image-types`` and ``--limit`` keep."""
    if options.ids:
        wanted_ids = [i.strip() for i in options.ids.split(",") if i.strip()]
        unknown = sorted(set(wanted_ids) - {p.id for p in problems})
        if unknown:
            raise ValueError(f"--ids: no problem with id {', '.join(unknown[:5])} in {options.source}")
        by_id = {p.id: p for p in problems}
        problems = [by_id[i] for i in dict.fromkeys(wanted_ids)]
    if options.image_types:
        wanted = {t.strip() for t in options.image_types.split(",") if t.strip()}
        known = sorted({p.image_type for p in problems if p.image_type})
        for name in sorted(wanted - set(known)):
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            hint = (
                f"did you mean {' or '.join(repr(c) for c in close)}?"
                if close
                else f"known: {', '.join(known)}"
            )
            raise ValueError(f"--image-types: no problem of type {name!r} in {options.source}; {hint}")
        problems = [p for p in problems if p.image_type in wanted]
    return problems if options.limit is None else problems[: options.limit]


@dataclass
class ExportOptions:
    """Write RUN_DIR/export again from a build's records (no model, no render), e.g. with other scaling
    fractions or another validation share. Prints the same summary as build."""

    run_dir: str
    """A build's run directory."""
    export: Annotated[ExportConfig, tyro.conf.OmitArgPrefixes] = field(default_factory=ExportConfig)
    decontam: DecontamConfig = field(default_factory=DecontamConfig)
    """What the rows are checked against (the evaluation sets); hits are reported and left out."""


def export_again(options: ExportOptions) -> int:
    from .export_run import export_run

    try:
        summary = export_run(options.run_dir, None, options.export, decontam=options.decontam)
    except (ValueError, OSError) as e:
        print(f"scigen-rl export: {e}", file=sys.stderr)
        return BAD_ARGUMENTS
    save_options(options, options.run_dir, "export")
    print_summary(summary, options.run_dir)
    return 0


def print_summary(summary: dict[str, Any], run_dir: str) -> None:
    """The per-image-type table and totals on stderr; the command's JSON line on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"build summary ({run_dir})")
    # Failure classes that never occurred would only widen the table past one screen.
    seen = {c for counts in summary["by_image_type"].values() for c, n in counts.items() if n}
    columns = ["attempted", "rendered", "repaired", "filtered"]
    columns += [c for c in FIGURE_FAILURES if c in seen]
    table.add_column("image type")
    for c in columns:
        table.add_column(c, justify="right")
    for image_type, counts in summary["by_image_type"].items():
        table.add_row(image_type, *(str(counts.get(c, 0)) for c in columns))
    console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)
    console.print(table)
    for line in summary_lines(summary, Path(run_dir)):
        console.print(line, soft_wrap=True)
    print(json.dumps({k: summary[k] for k in ("attempted", "rendered", "filtered", "exported", "failures")}))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _routing_line(routing: dict[str, Any]) -> str:
    """Which renderers drew the figures, and every fallback to matplotlib with its cause."""
    drawn = ", ".join(f"{r} {n}" for r, n in routing["drawn"].items()) or "none"
    line = f"routing: drawn by {drawn}"
    fell = routing["fell_back"]
    if not fell:
        return line + "; no fallback to matplotlib"
    causes = []
    for renderer, counts in fell.items():
        failed, unavailable = counts["figures"] - counts["unavailable"], counts["unavailable"]
        why = []
        if failed:
            why.append(f"{failed} failed to render" if unavailable else "failed to render")
        if unavailable:
            why.append(f"{unavailable} " if failed else "")
            why[-1] += f"could not start: {routing['unavailable'].get(renderer, '?')}"
        causes.append(f"{renderer} {counts['figures']}: {', '.join(why)}")
    total = sum(c["figures"] for c in fell.values())
    return line + f"; {total} fell back to matplotlib ({'; '.join(causes)})"


def summary_lines(summary: dict[str, Any], run: Path) -> list[str]:
    """What a build did, where its outputs are, and what is left to do, a line each."""
    out = Path(summary.get("export_dir") or run / "export")
    dropped = summary.get("dropped", [])
    reasons = Counter(d["reason"] for d in dropped)
    lines = [
        f"tried {summary['attempted']}, rendered {summary['rendered']}, dropped {len(dropped)}"
        + (f" ({', '.join(f'{r} {n}' for r, n in reasons.most_common())})" if dropped else "")
        + f", exported {summary['exported']}"
        + (
            f"; re-rendered {summary['rerendered']} whose PNG was gone or broken"
            if summary.get("rerendered")
            else ""
        )
    ]
    lines += [
        f"  dropped {d['id']}: {d['reason']}" + (f" ({d['detail']})" if d["detail"] else "")
        for d in dropped[:10]
    ]
    if len(dropped) > 10:
        lines.append(f"  ... and {len(dropped) - 10} more in {out / 'dropped.jsonl'}")
    subsets = ", ".join(f"{s['fraction']:g}: {s['rows']}" for s in summary["export"]["scaling_subsets"])
    lines.append(
        f"parquet: {out} (train {summary['export']['train']['rows']}, "
        f"val {summary['export']['val']['rows']}; scaling subsets {subsets})"
    )
    mode = summary.get("image_mode", "figure")
    if mode != "figure":
        shown = "no image (text only)" if mode == "none" else "a white image of the figure's size"
        lines.append(f"image mode {mode}: a control, every row shows {shown}, not the figure")
    if "difficulty" in summary:
        d = summary["difficulty"]
        mix = ", ".join(f"{band} {n}" for band, n in d["exported_by_band"].items())
        left = ", ".join(f"{r} {n}" for r, n in d["left_out"].items()) or "none"
        lines.append(f"difficulty (bands {', '.join(d['bands']) if d['bands'] != 'all' else 'all'}"
                     f"{', text-solvable dropped' if d['drop_text_solvable'] else ''}): exported {mix}, "
                     f"{d['exported_text_solvable']} text-solvable; left out: {left}")  # fmt: skip
    lines.append(f"figures: {run / 'synthesize' / 'png'}")
    if "routing" in summary:
        lines.append(_routing_line(summary["routing"]))
    if "candidates" in summary:
        c = summary["candidates"]
        ratio = f"{c['cost_all'] / c['cost_first']:.2f}x the cost" if c["cost_first"] else "cost unknown"
        lines.append(f"best of N: R_inv {_pct(c['r_inv_first'])} (first candidate) -> {_pct(c['r_inv_best'])} "
                     f"(kept), perfect {_pct(c['perfect_first'])} -> {_pct(c['perfect_best'])}, {ratio} "
                     f"({run / 'candidates.md'})")  # fmt: skip
    if "decontamination" in summary:
        d = summary["decontamination"]
        checked = ", ".join(f"{k} ({n})" for k, n in d["checked"].items()) or "nothing"
        skipped = "".join(f"; NOT checked: {k} ({why})" for k, why in d["skipped"].items())
        lines.append(f"decontamination: {d['hits']} hit(s), {d['dropped']} row(s) left out; checked {checked}"
                     f"{skipped} ({out / 'decontamination.md'})")  # fmt: skip
    if "contact_sheet" in summary:
        sheet = summary["contact_sheet"]
        shown = f"{sheet['figures']} figures" + (
            f" of {sheet['of']}" if sheet["of"] > sheet["figures"] else ""
        )
        lines.append(f"contact sheet: {sheet['path']} ({shown})")
    if "verification" in summary:
        v = summary["verification"]
        lines.append(
            f"verified {v['verified']} (mean R_inv {v['mean_r_inv']}), {v['unverifiable']} without a verdict; "
            f"filtered set (R_inv >= {v['threshold']:g}): {v['filtered_exported']} rows in export/filtered"
        )
    if summary["pending"]:
        lines.append(
            f"{summary['pending']} problems could not reach the model ({summary['model_errors']}); "
            "run the same command again to finish them"
        )
    if summary.get("unverified"):
        lines.append(
            f"{summary['unverified']} figures left unverified by failed model calls (not in export/filtered); "
            "run the same command again to verify them"
        )
    return lines


BUILD = Command("build", BuildOptions, build)
EXPORT = Command("export", ExportOptions, export_again)
