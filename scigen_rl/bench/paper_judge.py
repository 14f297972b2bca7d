"""The LMM judge the way the paper's evaluation code runs it (``bench --protocol paper``: ``paper_judge``).

The judge sees the figure (RGB, as PNG at its own size) after the prompt and the **question only** (no
elements checklist), at temperature 0.1, with no output limit. It reasons per dimension, then writes
the scores in a fenced ``json`` block; a key it leaves out scores 0. A reply without a parseable block is
asked again (as a new sample: ``attempt``) up to :data:`ATTEMPTS` times, the paper asking until one parses;
a figure still without one is counted as ``paper_judge_unparsed`` and left out of the means, which are
over the judged figures.
"""

from __future__ import annotations

import json
import re
from statistics import mean
from typing import Any

from ..llm import image_part
from ..records import Verdict
from .metrics import Column, FigureInput, FigureMetric
from .paper_image import judge_png, open_rgb
from .paper_prompts import paper_prompts

DIMENSIONS = ("Correctness_Fidelity", "Layout_Precision", "Readability_Occlusion", "Scientific_Plausibility",
              "Expressiveness_Richness")  # fmt: skip
"""The reply's keys, in the leaderboard's order."""
HEADERS = ("paper C&F", "paper L&P", "paper R&O", "paper SP", "paper E&R")
ATTEMPTS = 3
"""Samples asked for one figure before its reply is counted as unparsed."""
TEMPERATURE = 0.1
KEPT_CHARS = 4000


def read_scores(reply: str) -> dict[str, float] | None:
    """The five scores from the first fenced ``json`` block (a missing key is 0), or None when there is
    no such block, it is not JSON, or it is an empty object.

    >>> read_scores('C&F fine.\\n```json\\n{"Correctness_Fidelity": 2, "Layout_Precision": 1}\\n```')
    {'Correctness_Fidelity': 2, 'Layout_Precision': 1, 'Readability_Occlusion': 0, 'Scientific_Plausibility': 0, 'Expressiveness_Richness': 0}
    >>> read_scores('{"Correctness_Fidelity": 2}') is None
    True
    """
    match = re.search(r"```json\s*(.*?)```", reply, re.DOTALL | re.IGNORECASE)
    if not match:
        return None
    try:
        data = json.loads(match.group(1).strip())
    except ValueError:
        return None
    if not isinstance(data, dict) or not data:
        return None
    scores = {}
    for key in DIMENSIONS:
        value = data.get(key, 0)
        # A value that is not a number cannot enter a mean: it scores 0 like a missing key.
        scores[key] = value if isinstance(value, int | float) and not isinstance(value, bool) else 0
    return scores


class PaperJudge(FigureMetric):
    """Per figure ``extra.paper_judge``: the scores, the reply and how many samples it took (or the
    error); in the summary each dimension's mean over the judged figures and the unparsed count."""

    name = "paper_judge"

    async def score(self, figure: FigureInput, verdict: Verdict) -> None:
        image = open_rgb(figure.png) if figure.png else None
        if image is None:
            verdict.extra[self.name] = {"excluded": "missing image" if not figure.png else "unreadable image"}
            return
        text = paper_prompts(figure.paper_repo).judge.format(question=figure.problem.question)
        content = [{"type": "text", "text": text}, image_part(judge_png(image))]
        reply_text = ""
        for attempt in range(ATTEMPTS):
            reply = await self.model(figure).chat(
                [{"role": "user", "content": content}],
                attempt=attempt,
                temperature=TEMPERATURE,
                max_tokens=None,
            )
            if not reply.ok:
                verdict.extra[self.name] = {"failed": f"judge call failed: {reply.error}"}
                return
            reply_text = str(reply.text)
            scores = read_scores(reply_text)
            if scores is not None:
                verdict.extra[self.name] = {
                    "scores": scores,
                    "reply": reply_text[:KEPT_CHARS],
                    "samples": attempt + 1,
                }
                return
        verdict.extra[self.name] = {"unparsed": f"no ```json block of scores in {ATTEMPTS} replies",
                                    "reply": reply_text[:KEPT_CHARS]}  # fmt: skip

    def failed_calls(self, verdict: Verdict) -> int:
        return int("failed" in (verdict.extra.get(self.name) or {}))

    def aggregate(self, verdicts: list[Verdict]) -> dict[str, Any]:
        records = [v.extra[self.name] for v in verdicts if self.name in v.extra]
        judged = [r["scores"] for r in records if "scores" in r]
        row: dict[str, Any] = {f"paper_{k.lower()}": round(mean(s[k] for s in judged), 3) if judged else None
                               for k in DIMENSIONS}  # fmt: skip
        row["paper_judged"] = len(judged) if records else None
        row["paper_judge_unparsed"] = sum(1 for r in records if "unparsed" in r)
        return row

    def columns(self) -> tuple[Column, ...]:
        return tuple(Column(f"paper_{k.lower()}", h) for k, h in zip(DIMENSIONS, HEADERS, strict=True))

    def totals(self) -> tuple[Column, ...]:
        return (Column("paper_judge_unparsed", "paper unparsed"),)


METRIC = PaperJudge()
