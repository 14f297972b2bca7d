"""`scigen-rl curate`: text problems -> visualizability screen -> image type -> elements, quizzes with
evidence, multimodal question -> decontaminated SciGenBench-style problems, resumable.

Run directory::

    DIR/curate/records.jsonl   one line per finished problem (kept or dropped, why), appended
    DIR/llm-cache/             every model response, by request hash
    DIR/problems.jsonl         the kept problems, in source order: ``build --source DIR/problems.jsonl
                               --mapping curated`` (and bench, export) take them as they take SciGenBench's
    DIR/dropped.jsonl          every problem left out, with its reason
    DIR/decontamination.*      hits against the evaluation sets (left out of problems.jsonl by default)
    DIR/agreement.*            against the source's own annotations, when it has them (SciGenBench)
    DIR/summary.json

A re-run skips the problems already recorded; one whose model call failed is asked again (the answered
calls come from the cache).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scigen_rl.llm import CachedChat, LLMConfig, make_client
from scigen_rl.records import JsonlWriter, Problem, RecordError, latest_by_id, write_atomic, write_jsonl

from .curate_checks import Annotation, read_annotation, read_check, read_screen, shuffled
from .curate_prompts import annotate_messages, check_messages, repair_messages, screen_messages
from .failure_brake import FailureBrake, ModelError


@dataclass
class CurateConfig:
    run_dir: str
    """Where everything of this curation lives; re-running with the same folder resumes."""
    llm: LLMConfig
    """The model that screens and annotates (its cache goes to ``run_dir/llm-cache``)."""
    concurrency: int = 16
    """Problems in flight at once (model calls are bounded by the client as well)."""
    min_quizzes: int = 3
    """Fewest quizzes a kept problem has (after the code's checks and one repair)."""
    max_quizzes: int = 6
    """Most quizzes a kept problem keeps (the first ones that passed)."""
    check_multimodal: bool = False
    """Ask the model whether the multimodal question is answerable with the same answer (one more call)."""
    max_failed_share: float = 0.5
    """Stop starting new problems when more than this share of those tried (at least failure_brake.MIN_ATTEMPTS) ended
    on a failed model call: the endpoint is down or refusing, and every further call would fail too."""

    def __post_init__(self) -> None:
        if not 1 <= self.min_quizzes <= self.max_quizzes:
            raise ValueError(
                f"CurateConfig: need 1 <= min_quizzes <= max_quizzes, got {self.min_quizzes}, {self.max_quizzes}"
            )
        if not 0 < self.max_failed_share <= 1:
            raise ValueError(
                f"CurateConfig.max_failed_share: must lie in (0, 1], got {self.max_failed_share}"
            )


def _dropped(problem: Problem, reason: str, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": problem.id, "status": "dropped", "reason": reason, "detail": (detail or "")[:300], **extra}


def _better(first: Annotation, second: Annotation) -> Annotation:
    def score(a: Annotation) -> tuple[bool, int, int]:
        return bool(a.elements) and a.multimodal_question is not None, len(a.quizzes), -len(a.problems)

    return second if score(second) >= score(first) else first


class Curator:
    """Curates one problem at a time with the model (calls cached; the checks are code)."""

    def __init__(self, client: CachedChat, cfg: CurateConfig) -> None:
        self.client, self.cfg = client, cfg

    async def _ask(self, messages: list[dict[str, Any]], calls: Counter[str]) -> str:
        reply = await self.client.chat(messages)
        calls["calls"] += 1
        if not reply.ok:
            raise ModelError(reply.error or "model call failed")
        return str(reply.text or "")

    async def curate(self, problem: Problem) -> dict[str, Any]:
        """The record of one problem: kept (with the curated Problem) or dropped (with the reason)."""
        calls: Counter[str] = Counter()
        if not problem.question.strip():
            return _dropped(problem, "empty_question", calls=0)
        messages = screen_messages(problem.question)
        reply = await self._ask(messages, calls)
        screen, problems = read_screen(reply)
        first_problems = list(problems)
        if screen is None:
            calls["repairs"] += 1
            screen, problems = read_screen(await self._ask(repair_messages(messages, reply, problems), calls))
        if screen is None:
            reason = (
                "unknown_image_type" if problems[0].startswith("unknown image type") else "malformed_screen"
            )
            return _dropped(problem, reason, problems[0], **calls, first_reply_problems=first_problems)
        if not screen.visualizable:
            return _dropped(problem, f"not_visualizable:{screen.reason_class}", screen.reason, **calls,
                            first_reply_problems=first_problems)  # fmt: skip
        assert screen.image_type is not None
        cfg = self.cfg
        messages = annotate_messages(
            problem.question, problem.answer, screen.image_type, cfg.min_quizzes, cfg.max_quizzes
        )
        reply = await self._ask(messages, calls)
        annotation = read_annotation(reply, problem.question)
        if annotation.problems or len(annotation.quizzes) < cfg.min_quizzes:
            wrong = annotation.problems + (
                [f"too few quizzes: {len(annotation.quizzes)} passed the checks, at least {cfg.min_quizzes} needed"]
                if len(annotation.quizzes) < cfg.min_quizzes else []
            )  # fmt: skip
            first_problems += wrong
            calls["repairs"] += 1
            again = read_annotation(
                await self._ask(repair_messages(messages, reply, wrong), calls), problem.question
            )
            annotation = _better(annotation, again)
        found = {"first_reply_problems": first_problems, "left_problems": annotation.problems}
        if not annotation.elements:
            return _dropped(problem, "no_elements", "; ".join(annotation.problems[:3]), **calls, **found)
        if annotation.multimodal_question is None:
            return _dropped(problem, "no_multimodal_question", None, **calls, **found)
        if len(annotation.quizzes) < cfg.min_quizzes:
            return _dropped(problem, "too_few_quizzes", "; ".join(annotation.problems[:3]), **calls, **found)
        quizzes = [shuffled(q, problem.id, i) for i, q in enumerate(annotation.quizzes[: cfg.max_quizzes])]
        if cfg.check_multimodal:
            verdict = read_check(await self._ask(
                check_messages(problem.question, problem.answer, annotation.elements, annotation.multimodal_question),
                calls))  # fmt: skip
            if verdict is None:
                return _dropped(problem, "multimodal_check_malformed", None, **calls, **found)
            if not verdict[0]:
                return _dropped(problem, "multimodal_unanswerable", None, **calls, **found)
            if not verdict[1]:
                return _dropped(problem, "multimodal_answer_changed", None, **calls, **found)
        curated = {
            "id": problem.id, "question": problem.question, "answer": problem.answer, "source": problem.source,
            "image_type": screen.image_type, "elements": annotation.elements,
            "quizzes": [q.to_dict() for q in quizzes], "multimodal_question": annotation.multimodal_question,
            "extra": {"curation": {"model": self.client.config.model, "reason": screen.reason, **calls}},
        }  # fmt: skip
        try:
            Problem.from_dict(json.loads(json.dumps(curated)))  # the record a later stage will read
        except RecordError as e:
            return _dropped(problem, "schema", str(e), **calls, **found)
        return {"id": problem.id, "status": "kept", "reason": None, "problem": curated, **calls, **found}


async def curate_all(
    problems: list[Problem], cfg: CurateConfig, done: set[str], records: Path
) -> dict[str, Any]:
    """Curate every problem not in ``done``, appending each record; returns the model errors and whether
    the failure share stopped the run."""
    from tqdm import tqdm

    todo = [p for p in problems if p.id not in done]
    errors: Counter[str] = Counter()
    outcome: dict[str, Any] = {"model_errors": errors, "stopped": None}
    if not todo:
        return outcome
    client = make_client(cfg.llm)
    curator = Curator(client, cfg)
    gate = asyncio.Semaphore(cfg.concurrency)
    brake = FailureBrake(cfg.max_failed_share)
    bar = tqdm(total=len(problems), initial=len(problems) - len(todo), desc="curate", unit="problem")
    with JsonlWriter(records) as writer:

        async def one(problem: Problem) -> None:
            async with gate:
                if brake.stopped:
                    return
                try:
                    record = await curator.curate(problem)
                except ModelError as e:
                    errors[str(e)[:120]] += 1
                    record = None
                brake.record(record is None)
                outcome["stopped"] = brake.stopped
            if record is not None:
                await asyncio.to_thread(writer.write, record)
            bar.update(1)

        await asyncio.gather(*(one(p) for p in todo))
    bar.close()
    await client.close()
    return outcome


def summarize(
    problems: list[Problem],
    records: dict[str, dict[str, Any]],
    outcome: dict[str, Any],
    invalid: list[dict[str, Any]],
) -> dict[str, Any]:
    """Kept, dropped by reason (source rows that are no valid problem included), kept per type, what the
    checks found, repairs and model errors."""
    mine = [records[p.id] for p in problems if p.id in records] + invalid
    kept = [r for r in mine if r["status"] == "kept"]
    found = Counter(p.split(":", 1)[0] for r in mine for p in r.get("first_reply_problems", []))
    return {
        "problems": len(problems) + len(invalid),
        "curated": len(mine),
        "kept": len(kept),
        "dropped": dict(Counter(r["reason"] for r in mine if r["status"] == "dropped").most_common()),
        "kept_by_type": dict(Counter(r["problem"]["image_type"] for r in kept).most_common()),
        "checks_found": dict(found.most_common()),
        "repairs": sum(r.get("repairs", 0) for r in mine),
        "calls": sum(r.get("calls", 0) for r in mine),
        "pending": len(problems) + len(invalid) - len(mine),
        "model_errors": dict(outcome["model_errors"]),
        "stopped": outcome["stopped"],
    }


def write_outputs(
    run: Path,
    problems: list[Problem],
    records: dict[str, dict[str, Any]],
    excluded: dict[str, dict[str, Any]],
    invalid: list[dict[str, Any]],
) -> list[Problem]:
    """``problems.jsonl`` (kept and not ``excluded``) and ``dropped.jsonl`` (every other recorded one,
    the excluded with their reason, and the source rows that are no valid problem)."""
    kept, dropped = [], [{k: d[k] for k in ("id", "reason", "detail")} for d in invalid]
    for p in problems:
        record = records.get(p.id)
        if record is None:
            continue
        if record["status"] == "kept" and p.id not in excluded:
            kept.append(Problem.from_dict(record["problem"]))
        else:
            dropped.append(excluded.get(p.id) or {k: record.get(k) for k in ("id", "reason", "detail")})
    write_jsonl(run / "problems.jsonl", kept)
    write_atomic(run / "dropped.jsonl", "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in dropped))
    return kept


def run_curate(problems: list[Problem], cfg: CurateConfig) -> dict[str, Any]:
    """Curate, then write the outputs and ``summary.json`` (decontamination and agreement: the command)."""
    run = Path(cfg.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    if cfg.llm.cache_dir is None:
        cfg.llm.cache_dir = str(run / "llm-cache")
    path = run / "curate" / "records.jsonl"
    outcome = asyncio.run(curate_all(problems, cfg, set(latest_by_id(path)), path))
    if outcome["stopped"]:
        print(f"curate: stopped: {outcome['stopped']}", file=sys.stderr)
    return {"records": latest_by_id(path), "outcome": outcome}
