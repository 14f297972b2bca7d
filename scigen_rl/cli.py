"""The ``scigen-rl`` command line: each command lives beside the stage it drives; this only names them.

A new command is one module with a :class:`~scigen_rl.command_line.Command` and one line below.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from .command_line import BAD_ARGUMENTS, Command

COMMANDS = {
    "render": ("scigen_rl.render.command:COMMAND", "render matplotlib scripts in the sandbox"),
    "curate": ("data_builders.curate_command:COMMAND", "text problems -> image type, elements, quizzes, multimodal question (resumable)"),
    "build": ("data_builders.build_command:BUILD", "text problems -> figures (ImgCoder, ...) -> verl parquet (resumable)"),
    "export": ("data_builders.build_command:EXPORT", "re-export a build's run directory (no model, no render)"),
    "difficulty": ("data_builders.difficulty_command:COMMAND", "the policy's pass rate per row, with and without its figure (resumable)"),
    "import-figures": ("data_builders.import_figures_command:COMMAND", "the paper's released figures as a build's run directory"),
    "eval-sets": ("data_builders.eval_sets_command:COMMAND", "evaluation sets (MathVision_mini, Geometry3K test, ...) as verl parquet"),
    "serve-reward": ("reward.serve_command:COMMAND", "the Compass-Verifier reward server (/score, /health, /metrics)"),
    "bench": ("scigen_rl.bench.command:BENCH", "SciGenBench: R_inv and the LMM judge, with a leaderboard"),
    "bench-reference": ("scigen_rl.bench.command:BENCH_REFERENCE", "image metrics of the real SeePhys figures"),
    "eval": ("launch.eval_command:COMMAND", "AVG@k of a model on the evaluation parquets, with a report"),
    "train": ("launch.train_command:TRAIN", "GRPO training on verl with the verifier and reward server managed"),
    "sweep": ("launch.train_command:SWEEP", "one training run per scaling subset (the fit) or per data arm (curves side by side)"),
}  # fmt: skip
"""Command name: (``module:attribute`` of its Command, one line for ``scigen-rl --help``)."""


def command(name: str) -> Command[object]:
    """The command of this name (its module is imported only now: ``--help`` stays fast)."""
    module, attribute = COMMANDS[name][0].split(":")
    found: Command[object] = getattr(importlib.import_module(module), attribute)
    return found


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: scigen-rl COMMAND [OPTIONS] (scigen-rl COMMAND --help for its options)", "", "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    lines += ["", "Every command also takes --config FILE (YAML or JSON of its options; flags override it)."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if args else sys.stderr)
        return 0 if args else BAD_ARGUMENTS
    if args[0] not in COMMANDS:
        print(f"scigen-rl: unknown command {args[0]!r}\n\n{usage()}", file=sys.stderr)
        return BAD_ARGUMENTS
    return command(args[0]).main(args[1:])


if __name__ == "__main__":
    sys.exit(main())
