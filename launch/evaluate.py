"""The downstream evaluation as a Ray job on a cluster.

``scigen-rl eval --ray-address http://head:8265 ...`` submits ``python -m launch.evaluate ...`` with
``ray job submit`` (this repository uploaded as the job's working directory); on the cluster it runs
``scigen-rl eval --ray``, whose shards become Ray tasks with one vLLM engine (GPUs) each.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from .train import REPO


def job_command(address: str, eval_args: Sequence[str]) -> list[str]:
    """The ``ray job submit`` command for an evaluation with these ``scigen-rl eval`` arguments."""
    args = [a for a in eval_args if a != "--ray"]
    runtime_env = {"working_dir": str(REPO), "excludes": ["runs/", ".venv/", "checkpoints/", "wandb/"]}
    return ["ray", "job", "submit", f"--address={address}", f"--runtime-env-json={json.dumps(runtime_env)}", "--",
            "python3", "-m", "launch.evaluate", *args, "--ray"]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    from scigen_rl.cli import main as cli

    args = list(sys.argv[1:] if argv is None else argv)
    return cli(["eval", *args] if "--ray" in args else ["eval", *args, "--ray"])


if __name__ == "__main__":
    sys.exit(main())
