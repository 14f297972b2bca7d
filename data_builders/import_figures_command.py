"""``scigen-rl import-figures``: the paper's released figures of one generator as a build's run directory."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from scigen_rl.command_line import BAD_ARGUMENTS, Command, save_options

from .import_figures import HUB_DATASET, SPLITS


@dataclass
class ImportFiguresOptions:
    """Read one generator's figures from a local copy of the released dataset (or the Hub), match each
    row to its SciGenBench problem by question text, and write RUN_DIR as a build writes it (figures,
    PNGs, filters, export), so that bench --run-dir, export and the filters take it unchanged."""

    generator: str
    """The dataset's config of that generator, e.g. nanobanana-pro, gpt-image1_5, qwen3-imgcoder."""
    run_dir: str
    """Where the records, PNGs and export go."""
    source: str = HUB_DATASET
    """A local copy (a folder as datasets' save_to_disk writes the dataset, or of parquet files under
    <generator>/), or the Hub name when the Hub is reachable."""
    splits: tuple[str, ...] = SPLITS
    """Which splits: scigen, seephys or both."""
    scigenbench_dir: str | None = None
    """A SciGenBench folder (default: $SCIGENBENCH_DIR, else the copy shipped with scigen-rl)."""


def import_command(options: ImportFiguresOptions) -> int:
    from scigen_rl.loaders import load_scigenbench
    from scigen_rl.shipped import scigenbench_root

    from .build_command import print_summary
    from .import_figures import import_figures

    unknown = sorted(set(options.splits) - set(SPLITS))
    if unknown or not options.splits:
        print(
            f"scigen-rl import-figures: --splits: {unknown or 'none'} (known: {', '.join(SPLITS)})",
            file=sys.stderr,
        )
        return BAD_ARGUMENTS
    try:
        problems = load_scigenbench(scigenbench_root(options.scigenbench_dir))
        summary = import_figures(options.source, options.generator, options.run_dir, problems, options.splits)
    except (ValueError, OSError, KeyError) as e:
        print(f"scigen-rl import-figures: {e}", file=sys.stderr)
        return BAD_ARGUMENTS
    save_options(options, options.run_dir, "import-figures")
    print_summary(summary, options.run_dir)
    got = summary["imported"]
    print(f"imported {got['matched']} figures of {got['generator']}; left out {got['unmatched']} unmatched, "
          f"{got['ambiguous']} ambiguous, {got['unreadable']} unreadable rows ({got['left_out']})", file=sys.stderr)  # fmt: skip
    return 0 if got["matched"] else 1


COMMAND = Command("import-figures", ImportFiguresOptions, import_command)
