"""``scigen-rl curate``: text problems -> SciGenBench-style problems (image type, elements, quizzes with
evidence, multimodal question), decontaminated against the evaluation sets."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scigen_rl.command_line import BAD_ARGUMENTS, Command, changed_settings, save_options
from scigen_rl.llm.config import LLMConfig

from .decontam import DecontamConfig


@dataclass
class CurateOptions:
    """Screen text problems for visualizability with a model, give each kept one an image type of the
    25-type taxonomy, elements, 3-6 quizzes whose evidence is checked verbatim by code and a multimodal
    question; drop near-duplicates of the evaluation sets. Writes RUN_DIR/problems.jsonl for build
    (--source RUN_DIR/problems.jsonl --mapping curated); re-running with the same --run-dir resumes."""

    run_dir: str
    """Where everything of this curation lives; re-running with the same folder resumes."""
    source: str = "scigenbench"
    """'scigenbench' (its problems, to compare with its own annotations), a datasets name
    (MegaScience/MegaScience, TIGER-Lab/WebInstruct-verified) or a local JSONL/parquet of {id, question, answer}."""
    mapping: str = "webinstruct-verified"
    """Field mapping for sources other than SciGenBench (megascience, webinstruct-verified, curated)."""
    scigenbench_dir: str | None = None
    """A SciGenBench folder (default: $SCIGENBENCH_DIR, else the copy shipped with scigen-rl)."""
    ids: str | None = None
    """Comma-separated problem ids to curate, in this order."""
    image_types: str | None = None
    """Comma-separated 'Subject - Type' names to keep (a source with image types only)."""
    limit: int | None = None
    """Curate the first N problems only."""
    llm: LLMConfig = field(
        default_factory=lambda: LLMConfig(
            base_url="", model="", max_tokens=4096, concurrency=32, timeout_s=300.0
        )
    )
    """The model that screens and annotates (an OpenAI-compatible endpoint)."""
    concurrency: int = 16
    """Problems in flight at once."""
    min_quizzes: int = 3
    """Fewest quizzes a kept problem has."""
    max_quizzes: int = 6
    """Most quizzes a kept problem keeps."""
    check_multimodal: bool = False
    """One more call per problem: is the multimodal question answerable, with the same answer?"""
    max_failed_share: float = 0.5
    """Stop when more than this share of the problems tried (at least 20) ended on a failed model call."""
    decontam: DecontamConfig = field(default_factory=DecontamConfig)
    """Kept problems whose question or multimodal question repeats an item of the evaluation sets are
    reported (decontamination.md) and left out; local copies of the sets: --decontam.sources NAME PATH."""


def curate(options: CurateOptions) -> int:
    from scigen_rl.loaders import load_problems, load_scigenbench
    from scigen_rl.shipped import scigenbench_root

    from .build_command import _selected
    from .curate import CurateConfig, run_curate, summarize, write_outputs

    rejected: list[Any] = []  # rows that are no valid problem (an empty question, ...): dropped, named
    try:
        if options.source == "scigenbench":
            problems = load_scigenbench(scigenbench_root(options.scigenbench_dir))
        else:
            problems = load_problems(options.source, options.mapping, rejected=rejected)
        problems = _selected(problems, options)
        if not problems:
            raise ValueError(f"no problem selected from {options.source}")
        cfg = CurateConfig(run_dir=options.run_dir, llm=options.llm, concurrency=options.concurrency,
                           min_quizzes=options.min_quizzes, max_quizzes=options.max_quizzes,
                           check_multimodal=options.check_multimodal, max_failed_share=options.max_failed_share)  # fmt: skip
    except (ValueError, OSError) as e:
        print(f"scigen-rl curate: {e}", file=sys.stderr)
        return BAD_ARGUMENTS
    if not (options.llm.base_url and options.llm.model):
        print("scigen-rl curate: give --llm.base-url and --llm.model", file=sys.stderr)
        return BAD_ARGUMENTS
    changed = changed_settings(options, options.run_dir, "curate",
                               ("llm.model", "min_quizzes", "max_quizzes", "check_multimodal"))  # fmt: skip
    if changed and (Path(options.run_dir) / "curate" / "records.jsonl").exists():
        print(f"scigen-rl curate: {options.run_dir} holds problems curated with other settings "
              f"({'; '.join(changed)}): run with those, or use a new --run-dir", file=sys.stderr)  # fmt: skip
        return BAD_ARGUMENTS
    from scigen_rl.llm.preflight import server_problem

    if problem := server_problem(cfg.llm, "the model server"):
        print(f"scigen-rl curate: {problem}", file=sys.stderr)
        return BAD_ARGUMENTS
    save_options(options, options.run_dir, "curate")
    result = run_curate(problems, cfg)
    run = Path(options.run_dir)
    invalid = [
        {
            "id": str(e.record_id),
            "status": "dropped",
            "reason": f"invalid_record:{e.field}",
            "detail": str(e)[:300],
        }
        for e in rejected
    ]
    summary = summarize(problems, result["records"], result["outcome"], invalid)
    summary["decontamination"], excluded = _decontaminate(run, problems, result["records"], options.decontam)
    if excluded:
        summary["dropped"]["contaminated"] = len(excluded)
    kept = write_outputs(run, problems, result["records"], excluded, invalid)
    summary["written"] = len(kept)
    from .curate_agreement import agreement, write_agreement

    report = agreement(problems, result["records"])
    if report is not None:
        summary["agreement"] = {
            k: report[k] for k in ("annotated", "kept_share", "type_accuracy", "subject_accuracy")
        }
        summary["agreement"]["files"] = write_agreement(report, run)
    from scigen_rl.records import write_atomic

    write_atomic(run / "summary.json", json.dumps(summary, indent=2))
    print_summary(summary, run)
    return 1 if summary["pending"] or summary["stopped"] else 0


def _decontaminate(
    run: Path, problems: list[Any], records: dict[str, dict[str, Any]], config: DecontamConfig
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The report of the kept problems against the evaluation sets and those to leave out (id -> entry)."""
    from scigen_rl.records import Problem

    from .decontam import find_contamination

    kept = [Problem.from_dict(records[p.id]["problem"]) for p in problems
            if p.id in records and records[p.id]["status"] == "kept"]  # fmt: skip
    report = find_contamination(kept, config)
    report.write(run)
    _, left_out = report.split(kept)
    summary = {"hits": len(report.hits), "dropped": len(left_out), "checked": report.eval_items,
               "skipped": report.skipped}  # fmt: skip
    return summary, {p.id: {"id": p.id, "reason": "contaminated", "detail": why} for p, why in left_out}


def print_summary(summary: dict[str, Any], run: Path) -> None:
    """Kept, dropped by reason and kept per type on stderr; the summary's JSON line on stdout."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    table = Table(title=f"curate summary: {run}")
    table.add_column("")
    table.add_column("problems", justify="right")
    table.add_row("kept", str(summary["kept"]))
    for reason, n in summary["dropped"].items():
        table.add_row(f"dropped: {reason}", str(n))
    for image_type, n in summary["kept_by_type"].items():
        table.add_row(f"kept: {image_type}", str(n))
    if summary["pending"]:
        table.add_row("pending (failed model calls: run again)", str(summary["pending"]))
    console.print(table)
    if summary["checks_found"]:
        found = ", ".join(f"{k} {n}" for k, n in summary["checks_found"].items())
        console.print(f"the checks found in first replies: {found}; {summary['repairs']} repair call(s)")
    d = summary["decontamination"]
    console.print(f"decontamination: {d['hits']} hit(s), {d['dropped']} left out; checked "
                  + ", ".join(f"{k} ({n})" for k, n in d["checked"].items())
                  + "".join(f"; NOT checked {k}: {why}" for k, why in d["skipped"].items()))  # fmt: skip
    if summary.get("agreement"):
        a = summary["agreement"]
        console.print(f"agreement with the source's annotations: type {a['type_accuracy']}, subject "
                      f"{a['subject_accuracy']} ({run / 'agreement.md'})")  # fmt: skip
    print(json.dumps({k: summary[k] for k in ("problems", "kept", "written", "dropped", "pending")}))


COMMAND = Command("curate", CurateOptions, curate)
