"""The export stage of a build's run directory: its records -> filters -> verl parquet and a summary."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from scigen_rl.contact_sheet import SheetItem, contact_sheet
from scigen_rl.filters import DuplicateIndex, FilterConfig, check_pixels
from scigen_rl.records import (
    Figure,
    Problem,
    Sample,
    Verdict,
    latest_by_id,
    read_jsonl,
    write_atomic,
    write_jsonl,
)
from scigen_rl.render.outcome import png_problem

from .decontam import DecontamConfig, find_contamination
from .export import BANDS, ExportConfig, export, export_folder, make_sample
from .generators.base import UNAVAILABLE

DIFFICULTY_RECORDS = Path("difficulty") / "records.jsonl"
"""Where ``scigen-rl difficulty`` keeps each problem's pass rates and labels, in a build's run directory."""


def png_intact(figure: Figure, max_pixels: int | None = None) -> bool:
    """Whether a recorded figure's PNG is still there, unchanged, and a valid PNG (within
    ``max_pixels`` when given: the cap of the render settings it is checked against)."""
    try:
        png = Path(figure.png_path or "").read_bytes()
    except OSError:
        return False
    if hashlib.sha256(png).hexdigest() != figure.png_sha256:
        return False
    return png_problem(png, max_pixels or Image.MAX_IMAGE_PIXELS or 1 << 62) is None


def _last_line(error: str | None, limit: int = 160) -> str:
    """The line of an error that says what went wrong (a traceback's last), cut to ``limit``."""
    lines = [line.strip() for line in (error or "").splitlines() if line.strip()]
    return lines[-1][:limit] if lines else ""


def _decontaminate(
    out: Path, problems: list[Problem], samples: list[Any], hashes: dict[str, int], config: DecontamConfig
) -> tuple[dict[str, Any], dict[str, str]]:
    """The report of the rows about to be exported (questions, and figures by perceptual hash), written
    to the export folder ``out``, and the problems to leave out (id -> why)."""
    exported = {s.extra_info["problem_id"] for s in samples}
    chosen = [p for p in problems if p.id in exported]
    report = find_contamination(chosen, config, images={i: h for i, h in hashes.items() if i in exported})
    report.write(out)
    _, left_out = report.split(chosen)
    summary = {"hits": len(report.hits), "dropped": len(left_out), "checked": report.eval_items,
               "skipped": report.skipped}  # fmt: skip
    return summary, {p.id: reason for p, reason in left_out}


def routing_summary(problems: list[Problem], figures: dict[str, Figure]) -> dict[str, Any] | None:
    """What routing did in a build (None without routed figures): the figures each renderer drew, and per
    routed renderer the figures that fell back to matplotlib, ``unavailable`` of them because it could
    not start (``unavailable``: renderer -> why, as its first such figure recorded it)."""
    drawn: Counter[str] = Counter()
    fell_back: dict[str, Counter[str]] = defaultdict(Counter)
    why: dict[str, str] = {}
    routed = False
    for problem in problems:
        figure = figures.get(problem.id)
        if figure is None or not figure.extra.get("renderer"):
            continue
        routed = True
        drawn[figure.extra["renderer"]] += figure.status == "ok"
        fallback = figure.extra.get("fallback")
        if isinstance(fallback, dict) and fallback.get("renderer"):
            counts = fell_back[fallback["renderer"]]
            counts["figures"] += 1
            counts["unavailable"] += fallback.get("failure") == UNAVAILABLE
            if fallback.get("failure") == UNAVAILABLE:
                why.setdefault(fallback["renderer"], _last_line(fallback.get("error"), 300))
    if not routed:
        return None
    return {"drawn": {r: n for r, n in sorted(drawn.items()) if n},
            "fell_back": {r: {"figures": c["figures"], "unavailable": c["unavailable"]}
                          for r, c in sorted(fell_back.items())},
            "unavailable": dict(sorted(why.items()))}  # fmt: skip


@dataclass
class Filtered:
    """What the filters made of a build's figures, in problem order: the rows they keep (each problem
    with its figure) and, for every other figure, why not."""

    kept: list[tuple[Problem, Figure]] = field(default_factory=list)
    dropped: list[dict[str, str]] = field(default_factory=list)
    per_type: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failures: Counter[str] = field(default_factory=Counter)
    tiles: list[SheetItem] = field(default_factory=list)
    hashes: dict[str, int] = field(default_factory=dict)
    """Perceptual hash of each figure that passed the pixel checks (decontamination compares them)."""


def read_build(run: Path) -> tuple[list[Problem], dict[str, Figure]]:
    """A build's problems (in their order) and its figures by problem id."""
    problems_path, figures_path = run / "problems.jsonl", run / "synthesize" / "figures.jsonl"
    if not problems_path.exists():
        raise FileNotFoundError(f"{problems_path}: not a build's run directory (no problems.jsonl)")
    problems = list(read_jsonl(problems_path, Problem))
    figures = {f.problem_id: f for f in read_jsonl(figures_path, Figure)} if figures_path.exists() else {}
    return problems, figures


def filtered(problems: list[Problem], figures: dict[str, Figure], filters: FilterConfig) -> Filtered:
    """The figures the export may turn into rows: rendered, PNG intact, not rejected at build time and
    not a near-duplicate of an earlier one (decided here, in problem order: the same every time)."""
    out = Filtered()
    duplicates = DuplicateIndex(filters.max_hash_distance)
    for problem in problems:  # problem order, not completion order: the same output every time
        figure = figures.get(problem.id)
        if figure is None:
            continue
        counts = out.per_type[problem.image_type or "(none)"]
        counts["attempted"] += 1
        counts["repaired"] += figure.status == "ok" and figure.repair_rounds > 0
        if figure.status != "ok":
            failure = figure.failure or "runtime"
            out.failures[failure] += 1
            counts[failure] += 1
            out.dropped.append({"id": problem.id, "reason": failure, "detail": _last_line(figure.error)})
            continue
        counts["rendered"] += 1
        png_path = Path(figure.png_path or "")
        if not png_intact(figure):  # a build run again renders it anew; export alone can only say so
            counts["filtered"] += 1
            out.dropped.append(
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
        out.hashes[problem.id] = int(phash, 16)
        out.tiles.append(SheetItem(str(png_path), problem.id, ", ".join(rejected) or "exported"))
        if rejected:
            counts["filtered"] += 1
            reason, _, twin_id = rejected[0].partition(":")
            detail = [f"of {twin_id}"] if twin_id else []
            detail += [f"also {r.replace(':', ' of ')}" for r in rejected[1:]]
            out.dropped.append({"id": problem.id, "reason": reason, "detail": ", ".join(detail)})
            continue
        out.kept.append((problem, figure))
    return out


def exportable(run_dir: str | Path, filters: FilterConfig | None = None) -> list[tuple[Problem, Figure]]:
    """The rows a build's run directory exports (each problem with its figure), before the
    decontamination and the difficulty selection: what ``scigen-rl difficulty`` measures."""
    problems, figures = read_build(Path(run_dir))
    return filtered(problems, figures, filters or FilterConfig()).kept


def read_difficulty(path: Path) -> dict[str, dict[str, Any]]:
    """Each problem's last difficulty record by id."""
    return latest_by_id(path)


def selection_problem(run_dir: str | Path, settings: ExportConfig) -> str | None:
    """Why ``settings`` cannot select the rows of ``run_dir`` by difficulty (no records), else None."""
    path = Path(run_dir) / DIFFICULTY_RECORDS
    if settings.by_difficulty and not path.is_file():
        asked = "--difficulty-bands" if settings.difficulty_bands else "--drop-text-solvable"
        return (f"{asked} selects rows by their difficulty, but {path} does not exist: run "
                f"scigen-rl difficulty --run-dir {run_dir} first")  # fmt: skip
    return None


def _by_difficulty(
    run: Path, settings: ExportConfig, samples: list[Sample], figures: dict[str, Figure]
) -> tuple[dict[str, Any] | None, dict[str, tuple[str, str]]]:
    """The mix of difficulty bands among ``samples`` and the rows the selection leaves out (id ->
    (reason, detail)); (None, {}) when the run has no difficulty records and none is asked for.

    A row without a record (never measured, or measured on a figure since rendered anew) is
    ``unmeasured``: with a selection it is left out as ``difficulty:unmeasured``, and counted either way."""
    if problem := selection_problem(run, settings):
        raise ValueError(problem)
    path = run / DIFFICULTY_RECORDS
    if not path.is_file():
        return None, {}
    records = read_difficulty(path)
    left_out: dict[str, tuple[str, str]] = {}
    mix: Counter[str] = Counter()
    text_solvable = 0
    for sample in samples:
        pid = str(sample.extra_info["problem_id"])
        record = records.get(pid)
        if record is not None and record.get("png_sha256") != figures[pid].png_sha256:
            record, why = None, "measured on an earlier figure; run scigen-rl difficulty again"
        else:
            why = "no difficulty record; run scigen-rl difficulty again"
        if record is None:
            if settings.by_difficulty:
                left_out[pid] = ("difficulty:unmeasured", why)
            else:
                mix["unmeasured"] += 1
            continue
        rates = (f"pass rate {record['with_image']['pass_rate']:g} with the figure, "
                 f"{record['text_only']['pass_rate']:g} without")  # fmt: skip
        if settings.difficulty_bands and record["band"] not in settings.difficulty_bands:
            left_out[pid] = (f"difficulty:{record['band']}", rates)
        elif settings.drop_text_solvable and record["text_solvable"]:
            left_out[pid] = ("text_solvable", rates)
        else:
            mix[record["band"]] += 1
            text_solvable += bool(record["text_solvable"])
    summary = {
        "records": str(path),
        "bands": list(settings.difficulty_bands) or "all",
        "drop_text_solvable": settings.drop_text_solvable,
        "exported_by_band": {b: mix[b] for b in (*BANDS, "unmeasured") if mix[b] or b != "unmeasured"},
        "exported_text_solvable": text_solvable,
        "left_out": dict(Counter(reason for reason, _ in left_out.values()).most_common()),
    }
    return summary, left_out


def export_run(
    run_dir: str | Path,
    filters: FilterConfig | None = None,
    settings: ExportConfig | None = None,
    model_errors: Counter[str] | None = None,
    rerendered: int = 0,
    unverified: int = 0,
    decontam: DecontamConfig | None = None,
) -> dict[str, Any]:
    """The export stage alone, from a run directory's records (``scigen-rl export``): no model call
    and no render, so the split or the scaling fractions can change after a build. The pixel and
    leakage verdicts are those recorded at build time; near-duplicates are decided here. When the
    build was verified (``verify/verdicts.jsonl``), every row carries its R_inv and the figures with
    R_inv >= ``settings.verify_threshold`` are also exported to ``export/filtered/``. Problems whose
    question or figure repeats an evaluation item (``decontam``, on by default) are reported in
    ``export/decontamination.*`` and, unless ``decontam.drop`` is off, left out. With difficulty
    records (``difficulty/records.jsonl``) the rows can be selected by band and text-solvability, and
    the summary gives the mix of bands exported. A control (``settings.image_mode`` none or blank)
    goes to its own folder (:func:`~data_builders.export.export_folder`) with its own summary."""
    filters = filters or FilterConfig()
    settings = settings or ExportConfig()
    val_fraction, scaling_fractions, seed = settings.val_fraction, settings.scaling_fractions, settings.seed
    verify_threshold = settings.verify_threshold
    run = Path(run_dir)
    if problem := selection_problem(run, settings):  # before any file is written
        raise ValueError(problem)
    problems, figures = read_build(run)
    out = run / export_folder(settings.image_mode)
    verdicts_path = run / "verify" / "verdicts.jsonl"
    verdicts = {v.problem_id: v for v in read_jsonl(verdicts_path, Verdict)} if verdicts_path.exists() else {}
    order = {p.id: i for i, p in enumerate(problems)}
    rows = filtered(problems, figures, filters)
    per_type, failures, dropped, tiles = rows.per_type, rows.failures, rows.dropped, rows.tiles
    samples = [
        make_sample(problem, Path(figure.png_path or "").read_bytes(), figure.generator, order[problem.id],
                    verdicts.get(problem.id), settings.image_mode)
        for problem, figure in rows.kept
    ]  # fmt: skip
    decontamination, contaminated = _decontaminate(
        out, problems, samples, rows.hashes, decontam or DecontamConfig()
    )
    image_types = {p.id: p.image_type for p in problems}
    for problem_id, reason in contaminated.items():
        per_type[image_types[problem_id] or "(none)"]["filtered"] += 1
        dropped.append({"id": problem_id, "reason": "contaminated", "detail": reason})
    samples = [s for s in samples if s.extra_info["problem_id"] not in contaminated]
    difficulty, selected_out = _by_difficulty(run, settings, samples, figures)
    for problem_id, (reason, detail) in selected_out.items():
        per_type[image_types[problem_id] or "(none)"]["filtered"] += 1
        dropped.append({"id": problem_id, "reason": reason, "detail": detail})
    samples = [s for s in samples if s.extra_info["problem_id"] not in selected_out]
    about: dict[str, Any] = {"image_mode": settings.image_mode}
    if difficulty is not None:
        about["difficulty"] = {k: difficulty[k] for k in ("bands", "drop_text_solvable", "exported_by_band")}
    manifest = export(samples, out, val_fraction, scaling_fractions, seed, about)
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
        verification["export"] = export(kept, out / "filtered", val_fraction, scaling_fractions, seed, about)
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
        "unverified": unverified,
        "by_image_type": {k: dict(v) for k, v in sorted(per_type.items())},
        "export": manifest,
        "export_dir": str(out),
        "image_mode": settings.image_mode,
        "decontamination": decontamination,
    }
    if difficulty is not None:
        summary["difficulty"] = difficulty
    if (routing := routing_summary(problems, figures)) is not None:
        summary["routing"] = routing
    if verification:
        summary["verification"] = verification
    if settings.image_mode != "figure":  # a control: the build's summary and contact sheet stay as they are
        write_jsonl(out / "dropped.jsonl", dropped)
        write_atomic(out / "summary.json", json.dumps(summary, indent=2))
        return summary
    from .candidates import candidates_report

    best_of_n = candidates_report(problems, figures, run)
    if best_of_n is not None:
        summary["candidates"] = best_of_n["overall"]
    if tiles:
        sheet, shown = contact_sheet(tiles, run / "contact_sheet.png")
        summary["contact_sheet"] = {"path": str(sheet), "figures": shown, "of": len(tiles)}
    else:
        (run / "contact_sheet.png").unlink(missing_ok=True)
    # Every figure the export left out, with its reason: the filter verdicts made here (near-duplicates,
    # a PNG gone) are on no figure's record, so this file is where each one is named.
    write_jsonl(out / "dropped.jsonl", dropped)
    write_atomic(run / "summary.json", json.dumps(summary, indent=2))
    return summary
