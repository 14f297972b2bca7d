"""Inverse quiz validation (R_inv): what a reader can answer from the figure alone.

Every quiz of the problem is asked of a vision model with the image and the quiz only (no problem
text), options listed; the letter is read by rule. R_inv is the share answered right; ``perfect``
means all of them. A call that fails after its retries is an ``error`` on that quiz: it counts as
wrong in R_inv (never dropped from the denominator, never right) and is counted in ``errors``. A
missing or unreadable image scores 0 on every quiz, with the reason.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from statistics import mean
from typing import Any

from ..llm import CachedChat, image_part
from ..records import Problem, Quiz, QuizAnswer, Verdict
from .letters import extract_letter
from .metrics import Column, FigureInput, FigureMetric

MAX_QUOTED_CHARS = 80
"""How much of a reply without an option letter the quiz answer's error quotes."""

INSTRUCTION = (
    "Look at the figure and answer the multiple-choice question about it. Use only what the figure "
    "shows. Reply with the letter of one option."
)


def quiz_messages(png: bytes, quiz: Quiz) -> list[dict[str, object]]:
    """One user turn: the image, then the question and its options (nothing of the problem text).

    >>> q = Quiz(question="How many resistors?", options={"A": "2", "B": "3"}, correct_option="B")
    >>> quiz_messages(b"png", q)[0]["content"][1]["text"].splitlines()[-3:]
    ['Question: How many resistors?', 'A. 2', 'B. 3']
    """
    options = "\n".join(f"{k}. {v}" for k, v in sorted(quiz.options.items()))
    text = f"{INSTRUCTION}\n\nQuestion: {quiz.question}\n{options}"
    return [{"role": "user", "content": [image_part(png), {"type": "text", "text": text}]}]


def image_problem(png: bytes | None, path: str | None = None) -> str | None:
    """Why the image cannot be judged (missing, empty, not an image), or None."""
    if png is None:
        return f"missing image{': ' + path if path else ''}"
    if not png:
        return "empty image file"
    from PIL import Image

    try:
        with Image.open(io.BytesIO(png)) as img:
            img.verify()
    except Exception as e:  # noqa: BLE001 - any decoder failure means the same thing here
        return f"corrupt image: {type(e).__name__}: {e}"[:200]
    return None


async def validate_figure(
    client: CachedChat, problem: Problem, png: bytes | None, generator: str, image_path: str | None = None
) -> Verdict:
    """The Verdict of one figure (quizzes asked concurrently, within the client's bound)."""
    verdict = Verdict(problem.id, generator)
    await _validate_into(verdict, client, problem, png, image_path)
    return verdict


async def _validate_into(
    verdict: Verdict, client: CachedChat, problem: Problem, png: bytes | None, image_path: str | None
) -> None:
    if not problem.quizzes:
        verdict.extra["reason"] = "no quizzes"
        return
    problem_with_image = image_problem(png, image_path)
    if problem_with_image is not None or png is None:
        verdict.quiz_answers = [
            QuizAnswer(i, None, False, problem_with_image) for i in range(len(problem.quizzes))
        ]
        verdict.r_inv, verdict.perfect = 0.0, False
        verdict.extra["reason"] = problem_with_image
        return
    replies = await asyncio.gather(*(client.chat(quiz_messages(png, q)) for q in problem.quizzes))
    for i, (quiz, reply) in enumerate(zip(problem.quizzes, replies, strict=True)):
        if not reply.ok:
            verdict.quiz_answers.append(QuizAnswer(i, None, False, f"model call failed: {reply.error}"))
            verdict.errors += 1
            continue
        letter = extract_letter(reply.text, quiz.options)
        answer = QuizAnswer(i, letter, letter == quiz.correct_option)
        if letter is None:
            answer.error = (
                f"no option letter in the reply: {str(reply.text)[:MAX_QUOTED_CHARS]!r}"  # ok: a string
            )
        verdict.quiz_answers.append(answer)
    if verdict.errors:
        # A failed call is no answer: the figure stays unscored, and the next run asks again.
        verdict.extra["unscored"] = f"{verdict.errors} of {len(problem.quizzes)} quiz calls failed"
        return
    right = sum(a.correct for a in verdict.quiz_answers)
    verdict.r_inv = right / len(problem.quizzes)
    verdict.perfect = right == len(problem.quizzes)


class InverseQuizzes(FigureMetric):
    """R_inv and ``perfect`` per figure (a figure it cannot judge gets ``extra["reason"]``); in the
    summary their means over the scored figures, the quizzes asked, the failed calls and the missing or
    unreadable figures."""

    name = "rinv"

    async def score(self, figure: FigureInput, verdict: Verdict) -> None:
        await _validate_into(verdict, self.model(figure), figure.problem, figure.png, figure.path)

    def failed_calls(self, verdict: Verdict) -> int:
        return verdict.errors

    def aggregate(self, verdicts: list[Verdict]) -> dict[str, Any]:
        scored = [v for v in verdicts if v.r_inv is not None]
        unjudged = ("missing", "corrupt", "empty")
        return {
            "r_inv": round(mean(v.r_inv for v in scored if v.r_inv is not None), 4) if scored else None,
            "perfect": round(mean(v.perfect for v in scored), 4) if scored else None,
            "quizzes": sum(len(v.quiz_answers) for v in scored),
            "quiz_errors": sum(v.errors for v in verdicts),
            "missing_or_corrupt": sum(
                1 for v in verdicts if str(v.extra.get("reason") or "").startswith(unjudged)
            ),
        }

    def columns(self) -> tuple[Column, ...]:
        return (Column("r_inv", "R_inv %", percent=True), Column("perfect", "perfect %", percent=True))

    def totals(self) -> tuple[Column, ...]:
        return (Column("quiz_errors", "quiz errors"), Column("missing_or_corrupt", "missing"))


METRIC = InverseQuizzes()


def read_image(path: str | Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError:
        return None
