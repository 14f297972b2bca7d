"""``scigen-rl eval-sets``: the registered evaluation sets as verl parquet (the recipe's validation sets)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Annotated

import tyro

from scigen_rl.command_line import BAD_ARGUMENTS, Command, save_options

from .eval_sets import EVAL_SETS

DEFAULT_SETS = ("mathvision_mini", "geometry3k_test")
SETS_HELP = (
    "The sets to write, each NAME or NAME=SOURCE (SOURCE, instead of the set's default: a local folder or "
    f"file in the set's layout, or a Hub name). Registered: {', '.join(EVAL_SETS)}."
)
"""The help of --sets: its docstring and the names registered now (a new set shows up by itself)."""


@dataclass
class EvalSetsOptions:
    """Write OUT_DIR/NAME.parquet for each evaluation set of --sets, with the training data's
    instruction and the gold answer where the reward reads it."""

    out_dir: str
    """Where the parquet files go."""
    sets: Annotated[tuple[str, ...], tyro.conf.arg(metavar="NAME[=SOURCE] ...", help=SETS_HELP)] = (
        DEFAULT_SETS
    )
    """The sets to write, each NAME or NAME=SOURCE (SOURCE, instead of the set's default: a local
    folder or file in the set's layout, or a Hub name)."""


def chosen_sets(sets: tuple[str, ...]) -> dict[str, str | None]:
    """``NAME[=SOURCE]`` arguments as name -> source (None: the set's default source).

    >>> chosen_sets(("mathvision_mini", "geometry3k_test=geo.parquet"))
    {'mathvision_mini': None, 'geometry3k_test': 'geo.parquet'}
    >>> chosen_sets(("geometry3k",))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: --sets: unknown evaluation set 'geometry3k' (known: mathvision_mini, mathvision, ...)
    """
    known = f"(known: {', '.join(EVAL_SETS)})"
    if not sets:
        raise ValueError(f"--sets: no evaluation set named {known}")
    chosen: dict[str, str | None] = {}
    for item in sets:
        name, given, source = item.partition("=")
        if name not in EVAL_SETS:
            raise ValueError(f"--sets: unknown evaluation set {name!r} {known}")
        if given and not source.strip():
            raise ValueError(f"--sets: {item!r} has an empty source (NAME=SOURCE, or NAME alone) {known}")
        if name in chosen:
            raise ValueError(f"--sets: {name!r} named twice {known}")
        chosen[name] = source if given else None
    return chosen


def eval_sets(options: EvalSetsOptions) -> int:
    from .eval_sets import write_eval_sets

    try:
        chosen = chosen_sets(options.sets)  # an unknown name or an empty source: nothing is written
    except ValueError as e:
        print(f"scigen-rl eval-sets: {e}", file=sys.stderr)
        return BAD_ARGUMENTS
    try:
        written = write_eval_sets(options.out_dir, chosen)
    except (ValueError, OSError) as e:  # RecordError is a ValueError: it names the record and field
        print(f"scigen-rl eval-sets: {e}", file=sys.stderr)
        return BAD_ARGUMENTS
    save_options(options, options.out_dir, "eval-sets")
    print(json.dumps(written))
    return 0


COMMAND = Command("eval-sets", EvalSetsOptions, eval_sets)
