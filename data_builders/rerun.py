"""What a build run again on an existing run directory works on: the same selection (resumed), a
larger one (extended), or, for another selection or another generator, nothing: it stops and says why."""

from __future__ import annotations

import os
from pathlib import Path

from scigen_rl.records import Figure, Problem, read_jsonl


def selection_for(run_dir: str | os.PathLike[str], problems: list[Problem], generator: str) -> list[Problem]:
    """``problems`` when ``run_dir`` is new, holds the same selection, or holds a part of it (the run is
    extended by the rest); a ValueError naming the difference when it holds problems this selection
    leaves out, or figures of another generator (another model), so that no rerun silently keeps an
    old selection or mixes two models' figures in one export."""
    run = Path(run_dir)
    path = run / "problems.jsonl"
    if not path.exists():
        return problems
    recorded = [p.id for p in read_jsonl(path, Problem)]
    chosen = {p.id for p in problems}
    left_out = [i for i in recorded if i not in chosen]
    if left_out:
        raise ValueError(
            f"{run} holds a build of another selection: {len(left_out)} of its {len(recorded)} problems are "
            f"not in this one (e.g. {left_out[0]}; this one has {len(problems)}). Run it with its own options "
            f"(scigen-rl build --config {run / 'build.config.yaml'}), a selection that includes them "
            "(a larger --limit extends it), or use a new --run-dir"
        )
    figures = run / "synthesize" / "figures.jsonl"
    made_by = (
        sorted({f.generator for f in read_jsonl(figures, Figure)} - {generator}) if figures.exists() else []
    )
    if made_by:
        raise ValueError(
            f"{run} holds figures made by {made_by[0]}; this build would make them with {generator}. "
            "Use a new --run-dir for another generator or model"
        )
    return problems


def extension(run_dir: str | os.PathLike[str], problems: list[Problem]) -> int:
    """How many of ``problems`` a run directory's recorded selection does not hold yet."""
    path = Path(run_dir) / "problems.jsonl"
    recorded = {p.id for p in read_jsonl(path, Problem)} if path.exists() else set()
    return sum(p.id not in recorded for p in problems) if recorded else 0
