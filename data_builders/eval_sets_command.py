"""``scigen-rl eval-sets``: MathVision and Geometry3K test as verl parquet (the recipe's validation sets)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Literal

from scigen_rl.command_line import BAD_ARGUMENTS, Command, save_options


@dataclass
class EvalSetsOptions:
    """Write OUT_DIR/mathvision_mini.parquet (or mathvision.parquet for --mathvision-split test) and
    OUT_DIR/geometry3k_test.parquet. A source is a local folder/file in the Hub layout, the Hub name,
    or 'none' to skip it."""

    out_dir: str
    """Where the parquet files go."""
    mathvision: str = "shipped"
    """'shipped' (testmini ships with scigen-rl; other splits come from the Hub), a local folder or
    JSONL file in MATH-V's layout, a Hub name, or 'none'."""
    mathvision_split: Literal["testmini", "test"] = "testmini"
    """MathVision's split: testmini (304 problems, the paper's MathVision_mini) or test."""
    geometry3k: str = "hiyouga/geometry3k"
    """Geometry3K: a local folder in the Hub layout, the Hub name, or 'none'."""


def eval_sets(options: EvalSetsOptions) -> int:
    from .eval_sets import write_eval_sets

    def source(value: str) -> str | None:
        return None if value.lower() == "none" else value

    try:
        written = write_eval_sets(
            options.out_dir, source(options.mathvision), options.mathvision_split, source(options.geometry3k)
        )
    except (ValueError, OSError) as e:  # RecordError is a ValueError: it names the record and field
        print(f"scigen-rl eval-sets: {e}", file=sys.stderr)
        return BAD_ARGUMENTS
    save_options(options, options.out_dir, "eval-sets")
    print(json.dumps(written))
    return 0


COMMAND = Command("eval-sets", EvalSetsOptions, eval_sets)
