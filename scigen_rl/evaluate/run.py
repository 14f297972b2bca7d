"""`scigen-rl eval`: k samples per problem of the evaluation parquets (the recipe's validation sets),
generated shard by shard (Ray tasks, or in this process), judged through the reward path (rule first,
Compass-Verifier second) and scored again by MathVision's official scorer, then reported: AVG@k with a
bootstrap CI, pass@k, maj@k, per MathVision subject and level, the official accuracy and the samples
on which the two disagree."""

from __future__ import annotations

import asyncio
import json
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..answers import final_answer
from ..records import JsonlWriter, Sample, write_atomic
from .generate import SamplingConfig, generate_shard, read_by_sample, rows_as_json
from .metrics import avg_at_k, bootstrap_ci, maj_at_k, pass_at_k
from .official_exact import official_exact_correct

SCORERS: dict[str, Callable[[str, str, Sequence[str]], bool]] = {
    "official": official_exact_correct,
    "official-exact": official_exact_correct,
}
"""The second scorers, by name: both names are MathVision's official scorer, verdict for verdict."""


@dataclass
class EvalConfig:
    out_dir: str
    """Generations (per shard), verdicts, ``report.json`` and ``report.md``; a re-run resumes."""
    eval_files: list[str]
    """Evaluation parquets as ``scigen-rl eval-sets`` writes them."""
    backend: dict[str, Any]
    """``{"kind": "http", **LLMConfig}`` (a served model) or ``{"kind": "vllm", **VllmEngineConfig}``."""
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    reward: dict[str, Any] = field(default_factory=lambda: {"mode": "rule_only"})
    """RewardConfig settings of the judge (``verifier_urls`` for Compass-Verifier)."""
    shards: int = 1
    """Problems split over this many generation tasks (one engine each)."""
    use_ray: bool = False
    """Run the shards as Ray tasks (on the cluster ``ray.init`` finds, or a local one)."""
    gpus_per_shard: float = 0.0
    limit: int | None = None
    name: str = "model"
    """The checkpoint's name in reports and comparison tables."""
    scorer: str = "official"
    """The second scorer reported beside the judge (a name in ``SCORERS``)."""


def load_rows(files: list[str], limit: int | None = None) -> list[Sample]:
    import pyarrow.parquet as pq

    rows: list[Sample] = []
    for f in files:
        table = pq.read_table(f).to_pylist()
        rows += [Sample.from_dict(r) for r in (table[:limit] if limit else table)]
    return rows


def shard_paths(out_dir: Path, shards: int) -> list[Path]:
    return [out_dir / "generations" / f"shard-{i:03d}.jsonl" for i in range(shards)]


def generate(cfg: EvalConfig, rows: list[Sample]) -> list[Path]:
    """Every shard's generations; a shard that failed is simply run again by the next call."""
    out = Path(cfg.out_dir)
    shards = [rows[i :: cfg.shards] for i in range(cfg.shards)]
    paths = shard_paths(out, cfg.shards)
    sampling = asdict(cfg.sampling)
    args = [(rows_as_json(s), cfg.backend, sampling, str(p)) for s, p in zip(shards, paths, strict=True) if s]
    if cfg.use_ray:
        import ray

        if not ray.is_initialized():
            if os.environ.get("RAY_ADDRESS"):  # a running cluster (e.g. inside a Ray job)
                ray.init(address="auto")
            else:
                ray.init(num_cpus=max(2, cfg.shards), include_dashboard=False, log_to_driver=False)
        task = ray.remote(generate_shard).options(num_gpus=cfg.gpus_per_shard, max_retries=0)
        refs = [task.remote(*a) for a in args]
        errors = []
        for ref in refs:
            try:
                ray.get(ref)
            except Exception as e:  # noqa: BLE001 - the other shards' work is kept; re-running finishes
                errors.append(str(e)[:300])
        if errors:
            raise RuntimeError(f"{len(errors)} shard(s) failed (re-run to finish them): {errors[0]}")
    else:
        for a in args:
            generate_shard(*a)
    return paths


def merged_generations(paths: list[Path]) -> dict[tuple[str, int], dict[str, Any]]:
    """All shards' generations by (problem id, sample), each pair once (see ``read_by_sample``)."""
    return read_by_sample(*paths)


async def _judge(
    cfg: EvalConfig, rows: dict[str, Sample], generations: dict[tuple[str, int], dict[str, Any]]
) -> None:
    from reward.config import RewardConfig
    from reward.judge import Item, Judge

    path = Path(cfg.out_dir) / "verdicts.jsonl"
    done = read_by_sample(path)
    judge = Judge(RewardConfig.from_kwargs(cfg.reward))
    with JsonlWriter(path) as writer:

        async def one(key: tuple[str, int], gen: dict[str, Any]) -> None:
            row = rows[key[0]]
            options = row.extra_info.get("options") or []
            item = Item(str(row.extra_info.get("question", "")), row.reward_model["ground_truth"], gen["response"],
                        row.data_source, list(options) or None)  # fmt: skip
            result = await judge.judge(item)
            if result.verdict == "error":
                return  # not recorded: judged again on the next run
            writer.write({"problem_id": key[0], "sample": key[1], "data_source": row.data_source,
                          "verdict": result.verdict, "path": result.path, "correct": result.acc == 1.0,
                          "answer": final_answer(gen["response"])})  # fmt: skip

        await asyncio.gather(*(one(k, g) for k, g in generations.items() if k not in done))
    await judge.close()


def second_verdicts(
    cfg: EvalConfig, rows: list[Sample], generations: dict[tuple[str, int], dict[str, Any]]
) -> dict[tuple[str, int], bool]:
    """The second scorer's verdict on every generated sample: computed from the cached generations
    (no model call), so every re-run gives the same ones."""
    score = SCORERS[cfg.scorer]
    by_id = {r.extra_info["problem_id"]: r for r in rows}
    return {key: score(gen["response"], str(by_id[key[0]].reward_model["ground_truth"]),
                       by_id[key[0]].extra_info.get("options") or [])
            for key, gen in generations.items() if key[0] in by_id}  # fmt: skip


def report(cfg: EvalConfig, rows: list[Sample]) -> dict[str, Any]:
    """Per benchmark: AVG@k (+ bootstrap 95% CI), pass@k, maj@k under the reward judge; the official
    scorer's AVG@k, the samples on which it and the judge disagree (and their agreement, %); MathVision
    by subject and level. ``samples`` counts the samples expected, generated and judged: a failed call
    leaves its sample to the next run."""
    out = Path(cfg.out_dir)
    verdicts = read_by_sample(out / "verdicts.jsonl")
    generations = merged_generations(shard_paths(out, cfg.shards))
    second = second_verdicts(cfg, rows, generations)
    k = cfg.sampling.k
    by_source: dict[str, list[Sample]] = defaultdict(list)
    for r in rows:
        by_source[r.data_source].append(r)
    benchmarks = {}
    for source, members in sorted(by_source.items()):
        keys = {
            r.extra_info["problem_id"]: [(r.extra_info["problem_id"], s) for s in range(k)] for r in members
        }
        complete = [
            r for r in members if all(x in verdicts and x in second for x in keys[r.extra_info["problem_id"]])
        ]
        if not complete:
            continue
        recs = [[verdicts[(r.extra_info["problem_id"], s)] for s in range(k)] for r in complete]
        correct = [[v["correct"] for v in rec] for rec in recs]
        official = [[second[(r.extra_info["problem_id"], s)] for s in range(k)] for r in complete]
        lo, hi = bootstrap_ci(correct)
        flat = [(a, b) for c, o in zip(correct, official, strict=True) for a, b in zip(c, o, strict=True)]
        entry: dict[str, Any] = {
            "problems": len(complete),
            "missing": len(members) - len(complete),
            f"avg@{k}": round(100 * avg_at_k(correct), 2),
            "ci95": [round(100 * lo, 2), round(100 * hi, 2)],
            f"pass@{k}": round(100 * pass_at_k(correct), 2),
            f"maj@{k}": round(100 * maj_at_k([[v["answer"] for v in rec] for rec in recs], correct), 2),
            f"official_avg@{k}": round(100 * avg_at_k(official), 2),
            "disagreements": sum(a != b for a, b in flat),
            "judge_agreement": round(100 * sum(a == b for a, b in flat) / len(flat), 2),
        }
        for group in ("subject", "level"):
            buckets: dict[str, list[list[bool]]] = defaultdict(list)
            for r, c in zip(complete, correct, strict=True):
                if r.extra_info.get(group) not in (None, ""):
                    buckets[str(r.extra_info[group])].append(c)
            if buckets:
                entry[f"by_{group}"] = {g: round(100 * avg_at_k(c), 2) for g, c in sorted(buckets.items())}
        benchmarks[source] = entry
    settings = {"name": cfg.name, "sampling": asdict(cfg.sampling), "judge": cfg.reward, "scorer": cfg.scorer,
                "backend": {k2: v for k2, v in cfg.backend.items() if "key" not in k2}}  # fmt: skip
    wanted = {(r.extra_info["problem_id"], s) for r in rows for s in range(k)}
    generated = wanted & set(generations)
    samples = {"expected": len(wanted), "generated": len(generated), "judged": len(wanted & set(verdicts))}
    result = {"settings": settings, "benchmarks": benchmarks, "samples": samples}
    write_atomic(out / "report.json", json.dumps(result, indent=2))
    write_atomic(out / "report.md", markdown(result))
    return result


def markdown(result: dict[str, Any]) -> str:
    s = result["settings"]
    k = s["sampling"]["k"]
    judge = "Compass-Verifier (rule first)" if s["judge"].get("mode") != "rule_only" else "rules only"
    lines = [f"# {s['name']}", "",
             f"Decoding: {k} samples, temperature {s['sampling']['temperature']}, top-p {s['sampling']['top_p']}, "
             f"max {s['sampling']['max_tokens']} tokens. Judge: {judge}. Beside it: MathVision's official scorer "
             f"(--scorer {s.get('scorer', 'official')}, verdict for verdict).", "",
             f"| benchmark | problems | AVG@{k} | 95% CI | pass@{k} | maj@{k} | official AVG@{k} | disagreements |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    samples = result.get("samples") or {}
    if samples.get("judged", 0) < samples.get("expected", 0):
        lines[4:4] = [f"**Incomplete**: {samples['judged']} of {samples['expected']} samples judged "
                      f"({samples['generated']} generated); run the same command again to finish.", ""]  # fmt: skip
    for name, b in result["benchmarks"].items():
        lines.append(f"| {name} | {b['problems']} | {b[f'avg@{k}']} | {b['ci95'][0]}-{b['ci95'][1]} | {b[f'pass@{k}']} | "
                     f"{b[f'maj@{k}']} | {b[f'official_avg@{k}']} | {b['disagreements']} of {b['problems'] * k} samples "
                     f"({b['judge_agreement']}% agree) |")  # fmt: skip
    for name, b in result["benchmarks"].items():
        for group in ("subject", "level"):
            if f"by_{group}" in b:
                lines += ["", f"## {name} by {group} (AVG@{k})", "", "| | AVG |", "|---|---|"]
                lines += [f"| {g} | {v} |" for g, v in b[f"by_{group}"].items()]
    return "\n".join(lines) + "\n"


def compare(reports: list[dict[str, Any]]) -> str:
    """The paper's table layout (GEO3K, MV, average) over several eval reports."""
    lines = ["| model | GEO3K | MathVision_mini | avg |", "|---|---|---|---|"]
    for r in reports:
        k = r["settings"]["sampling"]["k"]
        geo = r["benchmarks"].get("geometry3k", {}).get(f"avg@{k}")
        mv = r["benchmarks"].get("mathvision_mini", {}).get(f"avg@{k}")
        avg = round((geo + mv) / 2, 2) if geo is not None and mv is not None else None
        lines.append(f"| {r['settings']['name']} | {geo if geo is not None else '-'} | "
                     f"{mv if mv is not None else '-'} | {avg if avg is not None else '-'} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def run_eval(cfg: EvalConfig) -> dict[str, Any]:
    """Generate, judge and report; ``result["samples"]`` counts the samples expected, generated and
    judged (a failed call leaves its sample to the next run, never a wrong answer)."""
    rows = load_rows(cfg.eval_files, cfg.limit)
    Path(cfg.out_dir).mkdir(parents=True, exist_ok=True)
    paths = generate(cfg, rows)
    generations = merged_generations(paths)
    asyncio.run(_judge(cfg, {r.extra_info["problem_id"]: r for r in rows}, generations))
    return report(cfg, rows)


__all__ = ["EvalConfig", "compare", "run_eval"]


def log_to_wandb(
    cfg: EvalConfig, result: dict[str, Any], rows: list[Sample], project: str, samples: int = 32
) -> None:
    """The report's numbers as the run's summary, and a table of sampled generations with their images."""
    import io

    import wandb
    from PIL import Image

    out = Path(cfg.out_dir)
    generations = merged_generations(shard_paths(out, cfg.shards))
    verdicts = read_by_sample(out / "verdicts.jsonl")
    second = second_verdicts(cfg, rows, generations)
    run = wandb.init(
        project=project,
        name=f"eval-{cfg.name}",
        job_type="eval",
        config=result["settings"],
        reinit="create_new",
    )
    k = cfg.sampling.k
    for source, b in result["benchmarks"].items():
        run.summary.update({f"eval/{source}/avg@{k}": b[f"avg@{k}"], f"eval/{source}/pass@{k}": b[f"pass@{k}"],
                            f"eval/{source}/maj@{k}": b[f"maj@{k}"], f"eval/{source}/official_avg@{k}": b[f"official_avg@{k}"]})  # fmt: skip
    table = wandb.Table(
        columns=[
            "benchmark",
            "problem",
            "image",
            "question",
            "gold",
            "sample",
            "response",
            "verdict",
            "official",
        ]
    )
    for row in rows[:samples]:
        pid = row.extra_info["problem_id"]
        gen, verdict = generations.get((pid, 0)), verdicts.get((pid, 0))
        if gen is None or verdict is None:
            continue
        image = wandb.Image(Image.open(io.BytesIO(row.images[0]["bytes"])))
        table.add_data(row.data_source, pid, image, row.extra_info.get("question", ""), row.reward_model["ground_truth"],
                       0, gen["response"][-2000:], verdict["verdict"], second[(pid, 0)])  # fmt: skip
    run.log({"eval/generations": table})
    run.finish()
