"""The downstream evaluation as a Ray job on a cluster.

``scigen-rl eval --ray-address http://head:8265 ...`` submits ``python -m launch.evaluate ...`` as a Ray
job (``launch.ray_jobs``: this repository uploaded as the job's working directory); on the cluster it
runs ``scigen-rl eval --ray``, whose shards become Ray tasks with one vLLM engine (GPUs) each.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from .ray_jobs import Job


def eval_job(
    eval_args: Sequence[str], out_dir: str, eval_files: Sequence[str], model: str | None = None
) -> Job:
    """The Ray job of an evaluation with these ``scigen-rl eval`` arguments.

    The job runs in an uploaded copy of this repository, in a temporary folder: its output folder, the
    eval files and a local checkpoint are given again as absolute paths (the last flag given wins), so
    that the report lands where it was asked for, not in a folder deleted with the job.
    """
    args = [a for a in eval_args if a != "--ray"]
    args += [
        "--out-dir",
        str(Path(out_dir).resolve()),
        "--eval-files",
        *(str(Path(f).resolve()) for f in eval_files),
    ]
    if model and Path(model).exists():
        args += ["--vllm-model", str(Path(model).resolve())]
    entrypoint = shlex.join(["python3", "-m", "launch.evaluate", *args, "--ray"])
    return Job(entrypoint, excludes=["scigen_rl/data/*/seephys_images/"], name="eval")


def main(argv: Sequence[str] | None = None) -> int:
    from scigen_rl.cli import main as cli

    args = list(sys.argv[1:] if argv is None else argv)
    return cli(["eval", *args] if "--ray" in args else ["eval", *args, "--ray"])


if __name__ == "__main__":
    sys.exit(main())
