"""``scigen-rl difficulty``: the policy's pass rate on each exported row, with and without its figure."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scigen_rl.command_line import BAD_ARGUMENTS, Command, changed_settings, save_options

from .difficulty import DifficultyConfig

SAMPLING = ("policy.model", "policy.temperature", "policy.top_p", "policy.max_tokens", "policy.extra_body",
            "k", "seed", "answer_tail_chars")  # fmt: skip
"""The settings the recorded pass rates depend on: a run with others would mix two measurements."""


@dataclass
class DifficultyOptions(DifficultyConfig):
    """Ask the policy each exported row of a build k times with its figure and k times without it (text
    only), grade the answers with the rule judge, and label each problem too_easy / learnable / too_hard
    and text_solvable / image_dependent. Writes RUN_DIR/difficulty/ (records.jsonl, summary.json,
    difficulty.png); export selects rows by these labels (--difficulty-bands, --drop-text-solvable).
    Re-running resumes; other thresholds relabel the records without a model call."""


def difficulty(options: DifficultyOptions) -> int:
    from .difficulty import rows_to_measure, run_difficulty

    if not (options.policy.base_url and options.policy.model):
        print("scigen-rl difficulty: give --policy.base-url and --policy.model", file=sys.stderr)
        return BAD_ARGUMENTS
    try:
        rows = rows_to_measure(options)
    except (ValueError, OSError) as e:
        print(f"scigen-rl difficulty: {e}", file=sys.stderr)
        return BAD_ARGUMENTS
    if not rows:
        print(f"scigen-rl difficulty: {options.run_dir} exports no row to measure", file=sys.stderr)
        return BAD_ARGUMENTS
    records = Path(options.run_dir) / "difficulty" / "records.jsonl"
    changed = changed_settings(options, options.run_dir, "difficulty", SAMPLING)
    if changed and records.exists():
        print(f"scigen-rl difficulty: {records} holds pass rates measured with other settings "
              f"({'; '.join(changed)}): run with those, or move {records.parent} away to measure anew",
              file=sys.stderr)  # fmt: skip
        return BAD_ARGUMENTS
    from scigen_rl.llm.preflight import server_problem

    if problem := server_problem(options.policy, "the policy server"):
        print(f"scigen-rl difficulty: {problem}", file=sys.stderr)
        return BAD_ARGUMENTS
    save_options(options, options.run_dir, "difficulty")
    summary = run_difficulty(options, rows)
    print_summary(summary)
    return 1 if summary["pending"] or summary["stopped"] else 0


def print_summary(summary: dict[str, Any]) -> None:
    """Bands and labels per image type on stderr; the summary's JSON line on stdout."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)
    table = Table(title=f"difficulty: {summary['model']}, k = {summary['k']} with and without the figure")
    columns = ("problems", "too_easy", "learnable", "too_hard", "text_solvable", "image_dependent")
    table.add_column("image type")
    for c in columns:
        table.add_column(c.replace("_", " "), justify="right")
    table.add_column("pass rate with / without", justify="right")

    def rates(row: dict[str, Any]) -> str:
        m = row["mean_pass_rate"]
        return " / ".join("-" if m[a] is None else f"{m[a]:.2f}" for a in ("with_image", "text_only"))

    for image_type, row in summary["by_image_type"].items():
        table.add_row(image_type, *(str(row[c]) for c in columns), rates(row))
    n = summary["measured"]
    table.add_row("all", str(n), *(str(summary["bands"][b]) for b in ("too_easy", "learnable", "too_hard")),
                  str(summary["text_solvable"]), str(summary["image_dependent"]),
                  rates({"mean_pass_rate": summary["mean_pass_rate"]}), style="bold")  # fmt: skip
    console.print(table)
    if n:
        console.print(f"text-solvable: {summary['text_solvable_share']:.1%} of {n} (no visual reasoning "
                      f"needed); image-dependent: {summary['image_dependent_share']:.1%}")  # fmt: skip
    cut = summary["truncated_samples"]
    if any(cut.values()):
        console.print(f"samples cut off at --policy.max-tokens: {cut['with_image']} with the figure, "
                      f"{cut['text_only']} without (graded wrong)")  # fmt: skip
    console.print(f"{summary['requests']} request(s), {summary['cache_hits']} answer(s) from the cache; "
                  f"records: {summary['files']['records']}; plot: {summary['files']['plot']}")  # fmt: skip
    if summary["pending"]:
        console.print(f"{summary['pending']} problem(s) pending after failed policy calls "
                      f"({summary['model_errors']}): run the same command again to finish them")  # fmt: skip
    print(json.dumps({k: summary[k] for k in ("problems", "measured", "pending", "bands", "text_solvable")}))


COMMAND = Command("difficulty", DifficultyOptions, difficulty)
