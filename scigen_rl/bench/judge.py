"""The LMM judge: five dimensions scored 0-2, answered as strict JSON and validated."""

from __future__ import annotations

import json
import re
from statistics import mean
from typing import Any

from ..llm import image_part
from ..records import JUDGE_DIMENSIONS, Problem, Verdict
from .metrics import Column, FigureInput, FigureMetric

RUBRIC = {
    "correctness_fidelity": "Does the figure show every required element listed below, with the given values "
    "and relations right? 2: all present and right; 1: minor omissions or small errors; 0: key elements missing "
    "or wrong.",
    "layout_precision": "Are positions, proportions, angles and alignments precise and consistent with the "
    "problem? 2: precise; 1: roughly right; 0: distorted or misleading.",
    "readability_occlusion": "Can every label, symbol and value be read without overlap or clutter? 2: all "
    "readable; 1: some overlap or small text; 0: key content hidden or unreadable.",
    "scientific_plausibility": "Does the figure obey the domain's conventions and laws (units, directions, "
    "symbols, physical sense)? 2: fully; 1: minor slips; 0: violations.",
    "expressiveness_richness": "Does it convey the situation clearly and completely, with useful annotation "
    "and no irrelevant decoration? 2: clear and complete; 1: adequate; 0: poor.",
}
assert tuple(RUBRIC) == JUDGE_DIMENSIONS
SHORT = {"correctness_fidelity": "fidelity", "layout_precision": "layout", "readability_occlusion": "readability",
         "scientific_plausibility": "plausibility", "expressiveness_richness": "expressiveness"}  # fmt: skip
"""Each dimension's leaderboard header."""
CALL_FAILED = "model call failed"
"""How a judge error that is no verdict (the call itself failed: asked again next run) begins."""


class JudgeParseError(ValueError):
    """The judge's reply is not the JSON asked for; the message says what is wrong."""


def judge_messages(problem: Problem, png: bytes) -> list[dict[str, object]]:
    """The rubric, the problem and its required elements, and the figure, in one user turn."""
    elements = "\n".join(f"- {e}" for e in problem.elements) or "- (none listed)"
    rubric = "\n".join(f'- "{k}": {v}' for k, v in RUBRIC.items())
    text = (
        "You grade a scientific figure drawn for the problem below. Score each dimension 0, 1 or 2.\n"
        f"{rubric}\n\nProblem:\n{problem.question}\n\nRequired elements:\n{elements}\n\n"
        "Reply with a JSON object only, exactly these five keys with integer values 0-2, e.g. "
        + json.dumps({k: 2 for k in JUDGE_DIMENSIONS})
    )
    return [{"role": "user", "content": [image_part(png), {"type": "text", "text": text}]}]


def parse_judge(reply: str | None) -> dict[str, int]:
    """The five scores from the judge's reply; JudgeParseError for anything else (never zeros).

    A JSON object in a ``json`` code fence or surrounded by prose is accepted; missing or extra keys,
    non-integers and values outside 0-2 are errors.

    >>> parse_judge('```json\\n{"correctness_fidelity": 2, "layout_precision": 1, "readability_occlusion": 2, '
    ...             '"scientific_plausibility": 2, "expressiveness_richness": 0}\\n```')["layout_precision"]
    1
    >>> parse_judge('{"correctness_fidelity": 3}')
    Traceback (most recent call last):
    ...
    scigen_rl.bench.judge.JudgeParseError: missing keys: expressiveness_richness, layout_precision, readability_occlusion, scientific_plausibility
    """
    if not reply:
        raise JudgeParseError("empty reply")
    text = reply.rsplit("</think>", 1)[-1]
    fenced = re.findall(r"```(?:json)?\s*(\{.*?\})\s*```", text, re.DOTALL)
    candidates = fenced or re.findall(r"\{[^{}]*\}", text, re.DOTALL)
    if not candidates:
        raise JudgeParseError(f"no JSON object in the reply: {text[:80]!r}")
    try:  # both patterns take text from "{" to "}": it parses to an object or not at all
        data = json.loads(candidates[-1])
    except json.JSONDecodeError as e:
        raise JudgeParseError(f"invalid JSON ({e.msg}): {candidates[-1][:80]!r}") from None
    missing = sorted(set(JUDGE_DIMENSIONS) - set(data))
    if missing:
        raise JudgeParseError(f"missing keys: {', '.join(missing)}")
    extra = sorted(set(data) - set(JUDGE_DIMENSIONS))
    if extra:
        raise JudgeParseError(f"unknown keys: {', '.join(extra)}")
    scores = {}
    for key in JUDGE_DIMENSIONS:
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise JudgeParseError(f"{key}: {value!r} is not an integer")
        if not 0 <= value <= 2:
            raise JudgeParseError(f"{key}: {value} is outside 0-2")
        scores[key] = int(value)
    return scores


class Judge(FigureMetric):
    """The five scores per figure (``judge_scores``; a failed call or a reply that does not parse is
    ``extra["judge_error"]``); in the summary the failures and each dimension's mean. A figure that
    another metric found unreadable (``extra["reason"]``) is not judged."""

    name = "judge"

    async def score(self, figure: FigureInput, verdict: Verdict) -> None:
        if not figure.png or "reason" in verdict.extra:
            return
        reply = await self.model(figure).chat(judge_messages(figure.problem, figure.png))
        if not reply.ok:
            verdict.extra["judge_error"] = f"{CALL_FAILED}: {reply.error}"
            return
        try:
            verdict.judge_scores = parse_judge(reply.text)
        except JudgeParseError as e:
            verdict.extra["judge_error"] = str(e)

    def failed_calls(self, verdict: Verdict) -> int:
        return int(str(verdict.extra.get("judge_error") or "").startswith(CALL_FAILED))

    def aggregate(self, verdicts: list[Verdict]) -> dict[str, Any]:
        judged = [v for v in verdicts if v.judge_scores]
        row: dict[str, Any] = {"judge_errors": sum(1 for v in verdicts if v.extra.get("judge_error"))}
        for key in JUDGE_DIMENSIONS:
            row[key] = round(mean(v.judge_scores[key] for v in judged), 3) if judged else None
        return row

    def columns(self) -> tuple[Column, ...]:
        return tuple(Column(key, SHORT[key]) for key in JUDGE_DIMENSIONS)


METRIC = Judge()
