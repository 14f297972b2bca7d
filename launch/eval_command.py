"""``scigen-rl eval``: AVG@k of a model on the evaluation parquets, here or as a Ray job on a cluster.

With ``--ray-address http://head:8265`` the evaluation is submitted as a Ray job (``launch.ray_jobs``:
this repository uploaded as the job's working directory). The job runs ``python3 -m
launch.eval_command``, which reads the resolved options from ``$SCIGEN_EVAL_OPTIONS`` and runs them
with ``--ray``: its shards become Ray tasks with one vLLM engine (GPUs) each.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import tyro

from scigen_rl.command_line import (
    BAD_ARGUMENTS,
    Command,
    OptionsError,
    changed_settings,
    options_from_yaml,
    options_yaml,
    save_options,
)
from scigen_rl.evaluate.generate import SamplingConfig
from scigen_rl.llm.config import LLMConfig
from scigen_rl.llm.preflight import server_problem

from .train_config import wandb_credentials_problem

JOB_OPTIONS_ENV = "SCIGEN_EVAL_OPTIONS"
"""The resolved options of an evaluation submitted as a Ray job (YAML)."""


@dataclass
class EvalOptions:
    """Sample k answers per problem (an OpenAI-compatible --llm.base-url, or vLLM engines with
    --vllm-model, sharded over Ray tasks with --ray), judge them rule first and by Compass-Verifier
    (--verifier-urls), score them again with MathVision's official scorer (--scorer), and write
    OUT_DIR/report.json and report.md. Resumable."""

    eval_files: list[str] = field(
        default_factory=lambda: ["runs/eval/mathvision_mini.parquet", "runs/eval/geometry3k_test.parquet"]
    )
    """Evaluation parquets as ``scigen-rl eval-sets`` writes them."""
    out_dir: str = "runs/eval-results/model"
    """Generations, verdicts, report.json and report.md; a re-run with the same folder resumes."""
    name: str = "model"
    """The checkpoint's name in reports and comparison tables."""
    llm: LLMConfig = field(
        default_factory=lambda: LLMConfig(base_url="", model="", concurrency=64, timeout_s=600.0)
    )
    """A served model (OpenAI-compatible) to evaluate; its responses are cached in OUT_DIR/llm-cache."""
    vllm_model: str | None = None
    """A checkpoint to load in vLLM engines instead (GPU machines)."""
    tensor_parallel_size: int = 1
    """GPUs per vLLM engine (one engine per shard)."""
    max_model_len: int = 16384
    """vLLM's context length."""
    sampling: Annotated[SamplingConfig, tyro.conf.OmitArgPrefixes] = field(default_factory=SamplingConfig)
    verifier_urls: list[str] = field(default_factory=list)
    """Compass-Verifier endpoint(s); none: rules only."""
    scorer: Literal["official", "official-exact"] = "official"
    """The second scorer, reported beside the judge (its AVG@k and the samples on which they disagree):
    MathVision's official scorer, reproduced verdict for verdict; official-exact names the same one."""
    shards: int = 1
    """Problems split over this many generation tasks."""
    ray: bool = False
    """Run the shards as Ray tasks (on the cluster ray.init finds, or a local one)."""
    limit: int | None = None
    """The first N problems of each file."""
    dry_run: bool = False
    """With --vllm-model or --ray-address: print the engine and sampling arguments, or the job, and stop."""
    compare: list[str] | None = None
    """Print the paper's table from these report.json files instead."""
    wandb_project: str | None = None
    """Also log the numbers and a table of generations with images to W&B."""
    ray_address: str | None = None
    """Submit the evaluation as a Ray job to this cluster (http://head:8265)."""


def evaluate(options: EvalOptions) -> int:
    from scigen_rl.evaluate.generate import VllmEngineConfig, backend_dict, sampling_params
    from scigen_rl.evaluate.run import EvalConfig, compare, run_eval

    if options.compare:
        try:
            reports = [json.loads(Path(p).read_text()) for p in options.compare]
        except (OSError, ValueError) as e:
            print(f"scigen-rl eval: --compare: {e} (each a report.json of scigen-rl eval)", file=sys.stderr)
            return BAD_ARGUMENTS
        print(compare(reports))
        return 0
    if options.wandb_project and (problem := wandb_credentials_problem(remote=bool(options.ray_address))):
        print(f"scigen-rl eval: --wandb-project: {problem}", file=sys.stderr)
        return BAD_ARGUMENTS
    if options.ray_address:
        return _submit(options)
    if options.vllm_model:
        if not options.dry_run and (problem := _missing_eval_file(options.eval_files) or _other_run(options)):
            print(f"scigen-rl eval: {problem}", file=sys.stderr)
            return BAD_ARGUMENTS
        engine = VllmEngineConfig(options.vllm_model, tensor_parallel_size=options.tensor_parallel_size,
                                  max_model_len=options.max_model_len)  # fmt: skip
        backend = backend_dict("vllm", engine)
        if options.dry_run:
            print(json.dumps({"engine_args": engine.engine_args(), "sampling_params": sampling_params(options.sampling, 0),
                              "shards": options.shards, "gpus_per_shard": options.tensor_parallel_size}, indent=2))  # fmt: skip
            return 0
    elif options.llm.base_url and options.llm.model:
        problem = _missing_eval_file(options.eval_files) or _other_run(options) or server_problem(options.llm)
        if problem:
            print(f"scigen-rl eval: {problem}", file=sys.stderr)
            return BAD_ARGUMENTS
        llm = dataclasses.replace(
            options.llm, cache_dir=options.llm.cache_dir or str(Path(options.out_dir) / "llm-cache")
        )
        backend = backend_dict("http", llm)
    else:
        print("scigen-rl eval: give --llm.base-url and --llm.model, or --vllm-model (or --compare REPORT...)",
              file=sys.stderr)  # fmt: skip
        return BAD_ARGUMENTS
    reward: dict[str, Any] = (
        {"mode": "rule_then_verifier", "verifier_urls": options.verifier_urls}
        if options.verifier_urls
        else {"mode": "rule_only"}
    )
    cfg = EvalConfig(
        out_dir=options.out_dir, eval_files=options.eval_files, backend=backend, sampling=options.sampling,
        reward=reward, shards=options.shards, use_ray=options.ray,
        gpus_per_shard=options.tensor_parallel_size if options.vllm_model else 0.0, limit=options.limit, name=options.name,
        scorer=options.scorer,
    )  # fmt: skip
    save_options(options, options.out_dir, "eval")
    try:
        result = run_eval(cfg)
    except (ValueError, OSError, RuntimeError) as e:
        print(f"scigen-rl eval: {e}", file=sys.stderr)
        return 1
    if options.wandb_project:
        from scigen_rl.evaluate.run import load_rows, log_to_wandb

        log_to_wandb(cfg, result, load_rows(cfg.eval_files, cfg.limit), options.wandb_project)
    print((Path(options.out_dir) / "report.md").read_text(), file=sys.stderr)
    print(json.dumps(result["benchmarks"]))
    samples = result["samples"]
    if samples["judged"] < samples["expected"]:
        print(f"scigen-rl eval: {samples['expected'] - samples['judged']} of {samples['expected']} samples have no "
              f"verdict yet ({samples['expected'] - samples['generated']} not generated, "
              f"{samples['generated'] - samples['judged']} not judged: failed model calls); run the same command "
              "again to finish them", file=sys.stderr)  # fmt: skip
        return 1
    return 0


def _other_run(options: EvalOptions) -> str | None:
    """Why OUT_DIR's generations cannot be reused: they came from another model or other sampling."""
    keys = ("llm.model", "vllm_model", "sampling")
    changed = changed_settings(options, options.out_dir, "eval", keys)
    if changed and (Path(options.out_dir) / "generations").exists():
        return (f"{options.out_dir} holds generations of other settings ({'; '.join(changed)}): run with those, "
                "or use a new --out-dir")  # fmt: skip
    return None


def _missing_eval_file(files: list[str]) -> str | None:
    """Why the evaluation files cannot be read (one is missing), if they can't."""
    for f in files:
        if not Path(f).is_file():
            return (f"no evaluation file {f}: write MathVision_mini and Geometry3K test with `scigen-rl eval-sets "
                    f"--out-dir {Path(f).parent}`, or name others with --eval-files")  # fmt: skip
    return None


def job_options(options: EvalOptions) -> EvalOptions:
    """The options the Ray job runs: sharded over Ray tasks, no further submission, and every path
    absolute (a relative one would resolve in the job's temporary copy of the repository, so the
    report would land in a folder deleted with the job). A Hub model name stays a name."""
    model = options.vllm_model
    if model and Path(model).exists():
        model = str(Path(model).resolve())
    return dataclasses.replace(
        options,
        out_dir=str(Path(options.out_dir).resolve()),
        eval_files=[str(Path(f).resolve()) for f in options.eval_files],
        vllm_model=model,
        ray=True,
        ray_address=None,
        dry_run=False,
    )


def _submit(options: EvalOptions) -> int:
    from .ray_jobs import Job, JobError, run_job

    job = Job(
        "python3 -m launch.eval_command",
        env_vars={JOB_OPTIONS_ENV: options_yaml(job_options(options))},
        excludes=["scigen_rl/data/*/seephys_images/"],
        name="eval",
    )
    if options.dry_run:
        print(f"# a Ray job on {options.ray_address}, runtime env {json.dumps(job.runtime_env())}")
        print(job.entrypoint)
        return 0
    try:
        return run_job(str(options.ray_address), job)
    except JobError as e:
        print(f"scigen-rl eval: {e}", file=sys.stderr)
        return BAD_ARGUMENTS


def job_main() -> int:
    """The Ray job's entry point: the options the submitter resolved, from ``$SCIGEN_EVAL_OPTIONS``."""
    text = os.environ.get(JOB_OPTIONS_ENV)
    if not text:
        print(
            f"launch.eval_command: ${JOB_OPTIONS_ENV} is not set (run `scigen-rl eval` instead)",
            file=sys.stderr,
        )
        return BAD_ARGUMENTS
    try:
        options = options_from_yaml(EvalOptions, text, f"${JOB_OPTIONS_ENV}")
    except OptionsError as e:
        print(f"launch.eval_command: {e}", file=sys.stderr)
        return BAD_ARGUMENTS
    return evaluate(options)


COMMAND = Command("eval", EvalOptions, evaluate)

if __name__ == "__main__":
    sys.exit(job_main())
