"""R_inv the way the paper's evaluation code computes it (``bench --protocol paper``: metric ``paper_rinv``).

Per figure, each quiz is asked with the image (bounded and JPEG-encoded: ``paper_image``), the question
and its options, at temperature 0; the answer is then **graded by a second, text-only call** that replies
with JSON ``is_correct`` (a reply that is not that JSON grades 0, as in the paper, and is counted as
``ungraded``). A problem with a ``multimodal_question`` (every SeePhys problem: its question) adds a **VQA
item**: the model answers that question from the image at the server's default temperature, and a
Compass-Verifier-style reply grades it (right only for verdict A). The questions are pooled over all
figures (**micro** accuracy); the **perfect** rate is the share of figures with every question right.

Exclusions, each counted: a missing or unreadable image, a problem without questions, and a figure with
a failed quiz call leave the pool; a failed VQA call leaves out the VQA item only. A failed call is also
counted as such, so the run exits 1 and the next run asks again (answered calls come from the cache). An
image that cannot be bounded (a 5000 x 3 strip) scores 0 on its quizzes, as in the paper.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from ..llm import CachedChat, image_part
from ..records import Problem, Quiz, Verdict
from .metrics import Column, FigureInput, FigureMetric
from .paper_image import open_rgb, quiz_jpeg
from .paper_prompts import paper_prompts

KEPT_CHARS = 4000
"""How much of each reply ``items.jsonl`` keeps (the full replies are in the response cache)."""


def quiz_text(quiz: Quiz) -> str:
    """The question with its options as the paper lists them (``A: text`` lines, in the record's order).

    >>> print(quiz_text(Quiz(question="How many?", options={"A": "2", "B": "3"}, correct_option="B")))
    How many?
    Options:
    A: 2
    B: 3
    """
    options = "\n".join(f"{k}: {v}" for k, v in quiz.options.items())
    return f"{quiz.question}\nOptions:\n{options}"


def vqa_question(problem: Problem) -> str | None:
    """The VQA item's question: the ``multimodal_question``, or a SeePhys problem's own question."""
    if problem.multimodal_question and problem.multimodal_question.strip():
        return problem.multimodal_question
    return problem.question if problem.source == "scigenbench/seephys" and problem.question.strip() else None


def read_is_correct(reply: str) -> bool | None:
    """The grade from a reply of JSON ``is_correct`` (code fences removed); None when it is not that JSON.

    >>> read_is_correct('```json\\n{"is_correct": 1, "reasoning": "picks B"}\\n```'), read_is_correct("yes")
    (True, None)
    >>> read_is_correct('{"is_correct": 0}'), read_is_correct('{"reasoning": "no key"}')
    (False, False)
    """
    cleaned = reply.strip().replace("```json", "").replace("```", "").strip()
    try:
        data = json.loads(cleaned)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("is_correct", 0)
    return not isinstance(value, str) and value == 1


def read_verdict(reply: str) -> str:
    """``A``, ``B``, ``C`` or ``""`` from a verifier reply, by the paper's rules in order: the last
    ``boxed{X}``; the whole reply when it is one letter; after the last ``Final Judgment:``, the last
    ``(X``; then the last capital A-C at all.

    >>> read_verdict("... Final Judgment: \\\\boxed{A}"), read_verdict("B"), read_verdict("Final Judgment: (C)")
    ('A', 'B', 'C')
    >>> read_verdict("The answers match. Correct."), read_verdict("no verdict")
    ('C', '')
    """
    boxed = re.findall(r"boxed\{([A-C])\}", reply)
    if boxed:
        return boxed[-1]
    if reply in ("A", "B", "C"):
        return reply
    tail = reply.split("Final Judgment:")[-1]
    found = re.findall(r"\(([A-C])", tail) or re.findall(r"[A-C]", tail)
    return found[-1] if found else ""


async def _ask(client: CachedChat, text: str, jpeg: bytes, temperature: float | None) -> Any:
    # The paper's order: the text first, then the image; and no output limit.
    content = [{"type": "text", "text": text}, image_part(jpeg, "image/jpeg")]
    return await client.chat([{"role": "user", "content": content}], temperature=temperature, max_tokens=None)


async def _grade(client: CachedChat, text: str, temperature: float | None) -> Any:
    return await client.chat([{"role": "user", "content": text}], temperature=temperature, max_tokens=None)


class PaperInverse(FigureMetric):
    """Per figure ``extra.paper_rinv``: each question (kind, reply, grade reply, correct or None when
    left out, why) and the figure's exclusion; in the summary the pooled accuracies and the counts."""

    name = "paper_rinv"

    async def score(self, figure: FigureInput, verdict: Verdict) -> None:
        verdict.extra[self.name] = await self._score(figure)

    async def _score(self, figure: FigureInput) -> dict[str, Any]:
        problem = figure.problem
        image = open_rgb(figure.png) if figure.png else None
        vqa = vqa_question(problem)
        if image is None:
            return {"questions": [], "excluded": "missing image" if not figure.png else "unreadable image"}
        if not problem.quizzes and vqa is None:
            return {"questions": [], "excluded": "no questions"}
        prompts = paper_prompts(figure.paper_repo)
        model, grader = self.model(figure), figure.grader or self.model(figure)
        jpeg = quiz_jpeg(image)

        async def quiz(i: int, q: Quiz) -> dict[str, Any]:
            item: dict[str, Any] = {"kind": "quiz", "index": i, "correct": False}
            if jpeg is None:
                return {**item, "note": "image could not be encoded"}
            text = quiz_text(q)
            answer = await _ask(model, prompts.quiz.format(quiz_content=text), jpeg, 0.0)
            if not answer.ok:
                return {**item, "correct": None, "failed": f"answer call failed: {answer.error}"}
            reply = str(answer.text).strip()
            prompt = prompts.grade.format(question=text, answer=q.correct_option, model_response=reply)
            grade = await _grade(grader, prompt, 0.0)
            if not grade.ok:
                return {**item, "correct": None, "answer": reply[:KEPT_CHARS], "failed": f"grade call failed: {grade.error}"}  # fmt: skip
            graded = read_is_correct(str(grade.text))
            item.update(answer=reply[:KEPT_CHARS], grade=str(grade.text)[:KEPT_CHARS], correct=bool(graded))
            return item if graded is not None else {**item, "note": "grade reply is not is_correct JSON: 0"}

        async def vqa_item(question: str) -> dict[str, Any]:
            item: dict[str, Any] = {"kind": "vqa", "index": 0, "correct": None}
            if jpeg is None:
                return {**item, "excluded": "image could not be encoded"}
            answer = await _ask(model, prompts.vqa.format(quiz_content=question), jpeg, None)
            if not answer.ok:
                return {**item, "failed": f"answer call failed: {answer.error}"}
            reply = str(answer.text).strip()
            prompt = prompts.verify.format(question=question, answer=problem.answer, model_response=reply)
            grade = await _grade(grader, prompt, None)
            if not grade.ok:
                return {**item, "answer": reply[:KEPT_CHARS], "failed": f"grade call failed: {grade.error}"}
            verdict = read_verdict(str(grade.text))
            item.update(answer=reply[:KEPT_CHARS], grade=str(grade.text)[:KEPT_CHARS], verdict=verdict)
            return {**item, "correct": verdict == "A"}

        jobs = [quiz(i, q) for i, q in enumerate(problem.quizzes)] + ([vqa_item(vqa)] if vqa else [])
        questions = list(await asyncio.gather(*jobs))
        failed_quiz = any("failed" in q for q in questions if q["kind"] == "quiz")
        return {"questions": questions, "excluded": "failed quiz call" if failed_quiz else None}

    def failed_calls(self, verdict: Verdict) -> int:
        return sum("failed" in q for q in (verdict.extra.get(self.name) or {}).get("questions", []))

    def aggregate(self, verdicts: list[Verdict]) -> dict[str, Any]:
        records = [v.extra[self.name] for v in verdicts if self.name in v.extra]
        kept = [r for r in records if r["excluded"] is None]
        counted = [[q for q in r["questions"] if q["correct"] is not None] for r in kept]
        counted = [qs for qs in counted if qs]
        pool = [q for qs in counted for q in qs]

        def share(items: list[Any]) -> float | None:
            return round(sum(1 for q in items if q["correct"]) / len(items), 4) if items else None

        return {
            "paper_acc": share(pool),
            "paper_perfect": round(sum(all(q["correct"] for q in qs) for qs in counted) / len(counted), 4)
            if counted
            else None,  # fmt: skip
            "paper_quiz_acc": share([q for q in pool if q["kind"] == "quiz"]),
            "paper_vqa_acc": share([q for q in pool if q["kind"] == "vqa"]),
            "paper_questions": len(pool) if records else None,
            "paper_excluded": sum(1 for r in records if r["excluded"] is not None),
            "paper_ungraded": sum(1 for q in pool if str(q.get("note", "")).startswith("grade reply")),
        }

    def columns(self) -> tuple[Column, ...]:
        return (
            Column("paper_acc", "paper acc %", percent=True),
            Column("paper_perfect", "paper perfect %", percent=True),
            Column("paper_quiz_acc", "paper quiz %", percent=True),
            Column("paper_vqa_acc", "paper VQA %", percent=True),
            Column("paper_questions", "paper questions"),
        )

    def totals(self) -> tuple[Column, ...]:
        return (Column("paper_excluded", "paper excluded"), Column("paper_ungraded", "paper ungraded"))


METRIC = PaperInverse()
