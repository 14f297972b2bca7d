"""The export stage of a build's run directory: its records -> filters -> verl parquet and a summary."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from PIL import Image

from scigen_rl.contact_sheet import SheetItem, contact_sheet
from scigen_rl.filters import DuplicateIndex, FilterConfig, check_pixels
from scigen_rl.records import Figure, Problem, Verdict, read_jsonl, write_atomic, write_jsonl
from scigen_rl.render.outcome import png_problem

from .decontam import DecontamConfig, find_contamination
from .export import ExportConfig, export, make_sample


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
    run: Path, problems: list[Problem], samples: list[Any], hashes: dict[str, int], config: DecontamConfig
) -> tuple[dict[str, Any], dict[str, str]]:
    """The report of the rows about to be exported (questions, and figures by perceptual hash) and the
    problems to leave out (id -> why)."""
    exported = {s.extra_info["problem_id"] for s in samples}
    chosen = [p for p in problems if p.id in exported]
    report = find_contamination(chosen, config, images={i: h for i, h in hashes.items() if i in exported})
    report.write(run / "export")
    _, left_out = report.split(chosen)
    summary = {"hits": len(report.hits), "dropped": len(left_out), "checked": report.eval_items,
               "skipped": report.skipped}  # fmt: skip
    return summary, {p.id: reason for p, reason in left_out}


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
    ``export/decontamination.*`` and, unless ``decontam.drop`` is off, left out."""
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
    hashes: dict[str, int] = {}
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
        if not png_intact(figure):  # a build run again renders it anew; export alone can only say so
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
        hashes[problem.id] = int(phash, 16)
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
    decontamination, contaminated = _decontaminate(
        run, problems, samples, hashes, decontam or DecontamConfig()
    )
    for problem_id, reason in contaminated.items():
        image_type = next(p.image_type for p in problems if p.id == problem_id)
        per_type[image_type or "(none)"]["filtered"] += 1
        dropped.append({"id": problem_id, "reason": "contaminated", "detail": reason})
    samples = [s for s in samples if s.extra_info["problem_id"] not in contaminated]
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
        "unverified": unverified,
        "by_image_type": {k: dict(v) for k, v in sorted(per_type.items())},
        "export": manifest,
        "decontamination": decontamination,
    }
    if verification:
        summary["verification"] = verification
    if tiles:
        sheet, shown = contact_sheet(tiles, run / "contact_sheet.png")
        summary["contact_sheet"] = {"path": str(sheet), "figures": shown, "of": len(tiles)}
    else:
        (run / "contact_sheet.png").unlink(missing_ok=True)
    # Every figure the export left out, with its reason: the filter verdicts made here (near-duplicates,
    # a PNG gone) are on no figure's record, so this file is where each one is named.
    write_jsonl(run / "export" / "dropped.jsonl", dropped)
    write_atomic(run / "summary.json", json.dumps(summary, indent=2))
    return summary
