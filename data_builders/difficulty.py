"""How hard each training row is for the policy, and whether it needs its figure.

For every row a build exports, the policy answers the row's prompt ``k`` times with the figure and ``k``
times without it (the same text, no image part), at the temperature of GRPO rollouts; the project's rule
judge grades each answer against the gold one. A problem the policy always solves (``too_easy``) or
never solves (``too_hard``) gives GRPO a group of equal rewards, hence no gradient; the rest are
``learnable``. A problem it solves without the figure (``text_solvable``) teaches no visual reasoning;
one it solves clearly more often with the figure is ``image_dependent``.

Run directory (a build's)::

    RUN/difficulty/records.jsonl   one line per measured problem: pass rates, labels, each sample's verdict
    RUN/difficulty/llm-cache/      every policy answer, by request (and sample number)
    RUN/difficulty/summary.json    counts per band and per image type, text-solvable share
    RUN/difficulty/difficulty.png  pass rate with vs without the figure, per problem; the bands

Each sample is its own request, cached apart (``attempt``): a re-run asks only what is missing, and a
problem with a failed call is not recorded (asked again by the next run).
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scigen_rl.answers import final_answer
from scigen_rl.llm import LLMConfig, image_part, make_client
from scigen_rl.records import Figure, JsonlWriter, Problem, Sample, write_atomic, write_jsonl

from .export import BANDS, make_sample
from .export_run import DIFFICULTY_RECORDS, exportable, read_difficulty
from .failure_brake import FailureBrake, ModelError

ARMS = ("with_image", "text_only")
"""The two ways each problem is asked: the training prompt with its figure, and the same text alone."""
EPSILON = 1e-9
"""Pass rates are fractions of k: a threshold they meet exactly counts as met."""
ANSWER_CHARS = 120
"""How much of each sample's final answer a record keeps (to read, never to grade)."""


@dataclass
class DifficultyConfig:
    run_dir: str
    """A build's run directory: its exported rows are measured; the results go to RUN/difficulty/."""
    policy: LLMConfig = field(
        default_factory=lambda: LLMConfig(
            base_url="", model="", temperature=1.0, max_tokens=8192, concurrency=64, timeout_s=600.0
        )
    )
    """The policy to measure (an OpenAI-compatible endpoint, e.g. vLLM serving Qwen3-VL-8B-Instruct);
    temperature 1.0 and 8,192 tokens as the GRPO recipe's rollouts."""
    k: int = 8
    """Samples per problem with the figure, and as many without (the recipe's 8 rollouts per prompt)."""
    easy_threshold: float = 1.0
    """too_easy: pass rate with the figure at or above this (1.0: all k right, a group GRPO learns nothing from)."""
    hard_threshold: float = 0.0
    """too_hard: pass rate with the figure at or below this (0.0: all k wrong, no gradient either)."""
    text_solvable_threshold: float = 0.5
    """text_solvable: pass rate without the figure at or above this (the text alone gives the answer)."""
    image_margin: float = 0.25
    """image_dependent: pass rate with the figure minus without it at least this (2 of 8 samples), and
    not text_solvable."""
    seed: int | None = None
    """Send sample i with seed SEED + i (servers that honour a seed then repeat their answers); None
    sends no seed."""
    limit: int | None = None
    """Measure the first N exported rows only (a pilot); the others stay unmeasured."""
    concurrency: int = 8
    """Problems in flight at once (each asks 2k requests; --policy.concurrency bounds the requests)."""
    answer_tail_chars: int = 4000
    """Characters at the end of a response the judge reads (responses are untrusted: the final answer
    is at the end, and math-verify is not given unbounded text)."""
    rule_workers: int = 2
    """Processes for the rule judge's LaTeX parser (it can then time itself out); 0: threads, no time-out."""
    max_failed_share: float = 0.5
    """Stop when more than this share of the problems tried (at least 20) ended on a failed model call."""

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"DifficultyConfig.k: must be >= 1, got {self.k}")
        if not 0.0 <= self.hard_threshold < self.easy_threshold <= 1.0:
            raise ValueError(
                "DifficultyConfig: need 0 <= hard_threshold < easy_threshold <= 1, got "
                f"{self.hard_threshold}, {self.easy_threshold}"
            )
        for name in ("text_solvable_threshold", "image_margin", "max_failed_share"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"DifficultyConfig.{name}: must lie in (0, 1], got {getattr(self, name)}")
        for name in ("concurrency", "answer_tail_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"DifficultyConfig.{name}: must be >= 1, got {getattr(self, name)}")
        if self.rule_workers < 0:
            raise ValueError(f"DifficultyConfig.rule_workers: must be >= 0, got {self.rule_workers}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"DifficultyConfig.limit: must be >= 1, got {self.limit}")


def labels(with_image: float, text_only: float, cfg: DifficultyConfig) -> dict[str, Any]:
    """The band (by the pass rate with the figure) and whether the text alone solves the problem or the
    figure makes the difference; text_solvable wins over image_dependent.

    >>> cfg = DifficultyConfig(run_dir="r")
    >>> labels(0.75, 0.125, cfg)
    {'band': 'learnable', 'text_solvable': False, 'image_dependent': True}
    >>> labels(1.0, 0.5, cfg)
    {'band': 'too_easy', 'text_solvable': True, 'image_dependent': False}
    """
    if with_image >= cfg.easy_threshold - EPSILON:
        band = "too_easy"
    elif with_image <= cfg.hard_threshold + EPSILON:
        band = "too_hard"
    else:
        band = "learnable"
    text_solvable = text_only >= cfg.text_solvable_threshold - EPSILON
    image_dependent = not text_solvable and with_image - text_only >= cfg.image_margin - EPSILON
    return {"band": band, "text_solvable": text_solvable, "image_dependent": image_dependent}


def request_messages(sample: Sample, with_image: bool) -> list[dict[str, Any]]:
    """The row's prompt as the policy sees it in training: the figure as a data-URL image part, then
    the text; without the figure, the same text alone."""
    text = sample.prompt[0]["content"].replace(Sample.IMAGE_TOKEN, "").strip()
    parts: list[dict[str, Any]] = [image_part(sample.images[0]["bytes"])] if with_image else []
    parts.append({"type": "text", "text": text})
    return [{"role": "user", "content": parts}]


class Measurer:
    """Samples and grades one problem at a time (calls cached per sample; the judge is the rule's)."""

    def __init__(self, cfg: DifficultyConfig) -> None:
        from reward.config import RewardConfig
        from reward.judge import Judge

        self.cfg = cfg
        self.client = make_client(cfg.policy)
        self.judge = Judge(RewardConfig(mode="rule_only", rule_workers=cfg.rule_workers))

    async def _sample(self, messages: list[dict[str, Any]], gold: str, i: int) -> tuple[bool, bool, str]:
        """(correct, cut off at max_tokens, final answer) of sample ``i``."""
        from reward.judge import UNJUDGED, Item

        seed = {"seed": self.cfg.seed + i} if self.cfg.seed is not None else {}
        reply = await self.client.chat(messages, attempt=i, **seed)
        if not reply.ok:
            raise ModelError(reply.error or "model call failed")
        response = str(reply.text or "")[-self.cfg.answer_tail_chars :]
        judgment = await self.judge.judge(Item(question="", ground_truth=gold, response=response))
        if judgment.verdict in UNJUDGED:  # no verdict is no pass rate: pending and counted, never a 0
            raise ModelError(f"the answer could not be judged: {judgment.error}")
        return judgment.acc == 1.0, reply.finish_reason == "length", final_answer(response)[:ANSWER_CHARS]

    async def measure(self, problem: Problem, figure: Figure) -> dict[str, Any]:
        """The record of one problem: each arm's verdicts and pass rate, and the labels."""
        cfg, gold = self.cfg, problem.answer
        # The row as the export writes it (its PNG read now, not held for the whole run).
        png = await asyncio.to_thread(Path(figure.png_path or "").read_bytes)
        sample = make_sample(problem, png, figure.generator, 0)
        asks = [
            self._sample(request_messages(sample, arm == "with_image"), gold, i)
            for arm in ARMS
            for i in range(cfg.k)
        ]
        # Every sample runs to its end (and into the cache) even when another fails: the next run
        # asks only the failed ones again.
        results = await asyncio.gather(*asks, return_exceptions=True)
        answered: list[tuple[bool, bool, str]] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            answered.append(result)
        arms: dict[str, Any] = {}
        for n, arm in enumerate(ARMS):
            mine = answered[n * cfg.k : (n + 1) * cfg.k]
            correct = sum(ok for ok, _, _ in mine)
            arms[arm] = {"correct": correct, "samples": cfg.k, "pass_rate": round(correct / cfg.k, 6),
                         "truncated": sum(cut for _, cut, _ in mine), "verdicts": [int(ok) for ok, _, _ in mine],
                         "answers": [a for _, _, a in mine]}  # fmt: skip
        with_image, text_only = arms["with_image"]["pass_rate"], arms["text_only"]["pass_rate"]
        return {
            "id": problem.id,
            "image_type": problem.image_type or "",
            "generator": figure.generator,
            "png_sha256": figure.png_sha256,
            "model": cfg.policy.model,
            "k": cfg.k,
            **arms,
            "gap": round(with_image - text_only, 6),
            **labels(with_image, text_only, cfg),
        }

    async def close(self) -> None:
        await self.client.close()
        await self.judge.close()


async def measure_all(
    rows: list[tuple[Problem, Figure]], cfg: DifficultyConfig, done: set[str], path: Path
) -> dict[str, Any]:
    """Measure every row not in ``done``, appending each record; returns the model errors, whether the
    failure share stopped the run, and the calls made."""
    from tqdm import tqdm

    todo = [r for r in rows if r[0].id not in done]
    errors: Counter[str] = Counter()
    outcome: dict[str, Any] = {"model_errors": errors, "stopped": None, "requests": 0, "cache_hits": 0}
    if not todo:
        return outcome
    measurer = Measurer(cfg)
    gate = asyncio.Semaphore(cfg.concurrency)
    brake = FailureBrake(cfg.max_failed_share)
    bar = tqdm(total=len(rows), initial=len(rows) - len(todo), desc="difficulty", unit="problem")
    try:
        with JsonlWriter(path) as writer:

            async def one(problem: Problem, figure: Figure) -> None:
                async with gate:
                    if brake.stopped:
                        return
                    try:
                        record: dict[str, Any] | None = await measurer.measure(problem, figure)
                    except ModelError as e:
                        errors[str(e)[:120]] += 1
                        record = None
                    brake.record(record is None)
                    outcome["stopped"] = brake.stopped
                if record is not None:
                    await asyncio.to_thread(writer.write, record)
                bar.update(1)

            await asyncio.gather(*(one(*r) for r in todo))
    finally:
        bar.close()
        outcome["requests"] = measurer.client.stats.requests
        outcome["cache_hits"] = measurer.client.stats.cache_hits
        await measurer.close()
    return outcome


def relabelled(record: dict[str, Any], cfg: DifficultyConfig) -> dict[str, Any]:
    """The record with its labels under ``cfg``'s thresholds (the pass rates stay as measured)."""
    return {**record, **labels(record["with_image"]["pass_rate"], record["text_only"]["pass_rate"], cfg)}


def summarize(
    rows: list[tuple[Problem, Figure]], records: dict[str, dict[str, Any]], outcome: dict[str, Any],
    cfg: DifficultyConfig,
) -> dict[str, Any]:  # fmt: skip
    """Counts per band and per image type, the text-solvable and image-dependent shares, mean pass rates."""
    mine = [records[p.id] for p, _ in rows if p.id in records]
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    rates: dict[str, dict[str, list[float]]] = defaultdict(lambda: {arm: [] for arm in ARMS})
    for r in mine:
        for key in ("", r["image_type"] or "(none)"):
            counts = by_type[key]
            counts["problems"] += 1
            counts[r["band"]] += 1
            counts["text_solvable"] += r["text_solvable"]
            counts["image_dependent"] += r["image_dependent"]
            for arm in ARMS:
                rates[key][arm].append(r[arm]["pass_rate"])

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    def row(key: str) -> dict[str, Any]:
        c = by_type[key]
        return {"problems": c["problems"], **{b: c[b] for b in BANDS},
                "text_solvable": c["text_solvable"], "image_dependent": c["image_dependent"],
                "mean_pass_rate": {arm: mean(rates[key][arm]) for arm in ARMS}}  # fmt: skip

    overall = row("")
    n = len(mine)
    return {
        "problems": len(rows),
        "measured": n,
        "pending": len(rows) - n,
        "model": cfg.policy.model,
        "k": cfg.k,
        "temperature": cfg.policy.temperature,
        "thresholds": {
            "easy": cfg.easy_threshold,
            "hard": cfg.hard_threshold,
            "text_solvable": cfg.text_solvable_threshold,
            "image_margin": cfg.image_margin,
        },
        "bands": {b: overall[b] for b in BANDS},
        "text_solvable": overall["text_solvable"],
        "text_solvable_share": round(overall["text_solvable"] / n, 4) if n else None,
        "image_dependent": overall["image_dependent"],
        "image_dependent_share": round(overall["image_dependent"] / n, 4) if n else None,
        "mean_pass_rate": overall["mean_pass_rate"],
        "truncated_samples": {arm: sum(r[arm].get("truncated", 0) for r in mine) for arm in ARMS},
        "by_image_type": {t: row(t) for t in sorted(by_type) if t},
        "requests": outcome["requests"],
        "cache_hits": outcome["cache_hits"],
        "model_errors": dict(outcome["model_errors"]),
        "stopped": outcome["stopped"],
    }


def plot(records: list[dict[str, Any]], path: Path, cfg: DifficultyConfig) -> Path | None:
    """Each problem's pass rate with the figure against without it (points, jittered apart), the
    thresholds as lines; beside it the problems per band, text-solvable ones shaded."""
    if not records:
        path.unlink(missing_ok=True)
        return None
    import random

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    jitter = random.Random(0)
    fig, (scatter, bars) = plt.subplots(1, 2, figsize=(10, 4.4), gridspec_kw={"width_ratios": [1.2, 1]})
    colours = {"too_easy": "tab:blue", "learnable": "tab:green", "too_hard": "tab:red"}
    spread = 0.3 / cfg.k
    for band in BANDS:
        mine = [r for r in records if r["band"] == band]
        if not mine:
            continue
        xs = [r["text_only"]["pass_rate"] + jitter.uniform(-spread, spread) for r in mine]
        ys = [r["with_image"]["pass_rate"] + jitter.uniform(-spread, spread) for r in mine]
        scatter.scatter(xs, ys, s=14, alpha=0.6, color=colours[band], label=f"{band} ({len(mine)})")
    scatter.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle=":")
    scatter.axvline(cfg.text_solvable_threshold, color="black", linewidth=0.8, linestyle="--")
    scatter.set_xlim(-0.05, 1.05)
    scatter.set_ylim(-0.05, 1.05)
    scatter.set_xlabel("pass rate without the figure")
    scatter.set_ylabel("pass rate with the figure")
    scatter.set_title(f"{len(records)} problems, k = {cfg.k} ({cfg.policy.model})", fontsize=9)
    scatter.legend(fontsize=8, loc="lower right")
    solvable = [sum(r["band"] == b and r["text_solvable"] for r in records) for b in BANDS]
    others = [sum(r["band"] == b and not r["text_solvable"] for r in records) for b in BANDS]
    bars.bar(BANDS, others, color=[colours[b] for b in BANDS], label="needs the figure or unsolved")
    bars.bar(BANDS, solvable, bottom=others, color="lightgrey", hatch="//", label="text-solvable")
    bars.set_ylabel("problems")
    bars.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def rows_to_measure(cfg: DifficultyConfig) -> list[tuple[Problem, Figure]]:
    """The rows the build exports (each problem with its figure), in problem order, the first
    ``cfg.limit`` of them when given."""
    kept = exportable(cfg.run_dir)
    return kept if cfg.limit is None else kept[: cfg.limit]


def run_difficulty(cfg: DifficultyConfig, rows: list[tuple[Problem, Figure]]) -> dict[str, Any]:
    """Measure what is not measured yet, relabel every record with ``cfg``'s thresholds, and write the
    records (rewritten whole, in row order), ``summary.json`` and the plot."""
    import json

    run = Path(cfg.run_dir)
    folder = run / DIFFICULTY_RECORDS.parent
    path = run / DIFFICULTY_RECORDS
    if cfg.policy.cache_dir is None:
        cfg.policy.cache_dir = str(folder / "llm-cache")
    shas = {p.id: f.png_sha256 for p, f in rows}
    done = {i for i, r in read_difficulty(path).items() if i in shas and r.get("png_sha256") == shas[i]}
    outcome = asyncio.run(measure_all(rows, cfg, done, path))
    if outcome["stopped"]:
        print(f"difficulty: stopped: {outcome['stopped']}", file=sys.stderr)
    records = {i: relabelled(r, cfg) for i, r in read_difficulty(path).items()}
    fresh = {i: r for i, r in records.items() if i in shas and r.get("png_sha256") == shas[i]}
    order = [p.id for p, _ in rows if p.id in fresh] + [i for i in records if i not in fresh]
    write_jsonl(path, [records[i] for i in order])  # a killed rewrite leaves the old file whole
    summary = summarize(rows, fresh, outcome, cfg)
    chart = plot([fresh[p.id] for p, _ in rows if p.id in fresh], folder / "difficulty.png", cfg)
    summary["files"] = {"records": str(path), "summary": str(folder / "summary.json"),
                        "plot": str(chart) if chart else None}  # fmt: skip
    write_atomic(folder / "summary.json", json.dumps(summary, indent=2))
    return summary
