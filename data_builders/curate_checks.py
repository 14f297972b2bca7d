"""Curation's checks by code: the model's JSON is read and validated here, never trusted.

Each reader returns what it accepted and a list of problems, one line each, that a repair turn sends
back to the model and the summary counts by their first words.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import random
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from scigen_rl.records import Quiz
from scigen_rl.taxonomy import IMAGE_TYPES

from .curate_prompts import REASON_CLASSES

LETTERS = ("A", "B", "C", "D")
MAX_TEXT_CHARS = 4000
"""Longest string accepted in any field of a reply."""
MAX_ELEMENTS = 30


class MalformedReply(ValueError):
    """The reply is not the JSON object asked for; the message says why."""


def json_object(reply: str | None) -> dict[str, Any]:
    """The JSON object of a reply: a fenced block, or the text from the first ``{`` to the last ``}``
    (after any ``</think>``).

    >>> json_object('Sure.\\n```json\\n{"a": 1}\\n```')
    {'a': 1}
    >>> json_object("no json")
    Traceback (most recent call last):
    ...
    data_builders.curate_checks.MalformedReply: no JSON object in the reply: 'no json'
    """
    text = (reply or "").rsplit("</think>", 1)[-1]
    fenced = re.findall(r"```(?:json)?\s*(\{.*?\})\s*```", text, re.DOTALL)
    start, end = text.find("{"), text.rfind("}")
    candidate = fenced[-1] if fenced else text[start : end + 1] if 0 <= start < end else None
    if candidate is None:
        raise MalformedReply(f"no JSON object in the reply: {text.strip()[:60]!r}")
    try:
        data = json.loads(candidate)
    except ValueError as e:
        raise MalformedReply(f"the reply's JSON does not parse ({str(e)[:60]})") from None
    if not isinstance(data, dict):
        raise MalformedReply("the reply's JSON is not an object")
    return data


def _text(value: Any) -> str | None:
    return (
        value.strip() if isinstance(value, str) and value.strip() and len(value) <= MAX_TEXT_CHARS else None
    )


def _plain(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def canonical_type(name: Any) -> str | None:
    """The taxonomy's name for ``name`` (case and spacing ignored), or None.

    >>> canonical_type("physics -  circuit"), canonical_type("Physics - Circuits")
    ('Physics - Circuit', None)
    """
    if not isinstance(name, str):
        return None
    wanted = _plain(name)
    return next((t for t in IMAGE_TYPES if _plain(t) == wanted), None)


@dataclass
class Screen:
    """The screen's verdict on one problem."""

    visualizable: bool
    reason_class: str
    reason: str
    image_type: str | None


def read_screen(reply: str | None) -> tuple[Screen | None, list[str]]:
    """The verdict, or None with the problems of the reply."""
    try:
        data = json_object(reply)
    except MalformedReply as e:
        return None, [f"malformed: {e}"]
    problems = []
    visualizable = data.get("visualizable")
    if not isinstance(visualizable, bool):
        problems.append(f"malformed: visualizable must be true or false, got {visualizable!r}"[:160])
    reason_class = data.get("reason_class")
    if reason_class not in REASON_CLASSES:
        problems.append(
            f"malformed: reason_class must be one of {', '.join(REASON_CLASSES)}, got {reason_class!r}"[:200]
        )
    image_type = canonical_type(data.get("image_type"))
    if visualizable is True and image_type is None:
        given = data.get("image_type")
        close = difflib.get_close_matches(str(given), list(IMAGE_TYPES), n=2, cutoff=0.5)
        hint = f" (closest: {', '.join(close)})" if close else ""
        problems.append(f"unknown image type: {str(given)[:80]!r} is not a name of the list{hint}")
    if visualizable is True and reason_class not in (None, "ok") and reason_class in REASON_CLASSES:
        problems.append(f'malformed: a visualizable problem has reason_class "ok", got {reason_class!r}')
    if problems:
        return None, problems
    reason = _text(data.get("reason")) or ""
    return Screen(
        bool(visualizable), str(reason_class), reason[:300], image_type if visualizable else None
    ), []


def evidence_found(snippet: str, question: str) -> bool:
    """Whether the snippet occurs in the problem text verbatim (runs of whitespace count as one space).

    >>> evidence_found("dinner plates  26 cm", "as dinner plates 26 cm in diameter"), evidence_found("26 cm wide", "26 cm in diameter")
    (True, False)
    """
    return " ".join(snippet.split()) in " ".join(question.split())


def _leaks(answer_text: str, stem: str) -> bool:
    """Whether the correct option's text stands in the quiz question (as whole words)."""
    answer = _plain(answer_text).strip(" .")
    if not re.search(r"\w", answer):
        return False
    return re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", _plain(stem)) is not None


@dataclass
class QuizCheck:
    """One quiz of a reply: the quiz when it passed, else why not."""

    quiz: Quiz | None
    problems: list[str] = field(default_factory=list)


def check_quiz(raw: Any, question: str, index: int) -> QuizCheck:
    """A quiz of the reply checked by code: a question, exactly four options A-D, all different, one
    correct, an evidence snippet found verbatim in the problem text, and no answer in its question."""
    where = f"quiz {index + 1}"
    if not isinstance(raw, dict):
        return QuizCheck(None, [f"malformed: {where} is not an object"])
    problems = []
    stem = _text(raw.get("question"))
    if stem is None:
        problems.append(f"malformed: {where} has no question")
    options = raw.get("options")
    if not isinstance(options, dict) or sorted(options) != list(LETTERS):
        keys = sorted(options) if isinstance(options, dict) else type(options).__name__
        problems.append(f"options: {where} must have exactly the options A, B, C, D (got {keys})")
        options = None
    elif any(_text(v) is None for v in options.values()):
        problems.append(f"options: {where} has an empty or non-text option")
        options = None
    elif len({_plain(v) for v in options.values()}) < len(LETTERS):
        problems.append(f"options: {where} has two options with the same text")
    correct = raw.get("correct_option")
    if correct not in LETTERS:
        problems.append(f"correct option: {where} must name one of A, B, C, D (got {str(correct)[:20]!r})")
    snippet = _text(raw.get("evidence_snippet"))
    if snippet is None:
        problems.append(f"evidence: {where} has no evidence_snippet")
    elif not evidence_found(snippet, question):
        problems.append(
            f"evidence: {where}'s evidence_snippet is not in the problem text verbatim: {snippet[:80]!r}"
        )
    if stem and options and correct in LETTERS and _leaks(str(options[correct]), stem):
        problems.append(f"leak: {where}'s question contains its answer {str(options[correct])[:40]!r}")
    if problems or stem is None or options is None or snippet is None:
        return QuizCheck(None, problems)
    quiz = Quiz(question=stem, options={k: str(options[k]).strip() for k in LETTERS},
                correct_option=str(correct), evidence_snippet=snippet)  # fmt: skip
    return QuizCheck(quiz)


def shuffled(quiz: Quiz, problem_id: str, index: int) -> Quiz:
    """The quiz with its options in a fixed random order (seeded by problem and quiz), so that the
    correct letter is spread evenly whatever the model favours; the model's letter is kept in ``extra``.

    >>> q = Quiz(question="q", options={"A": "1", "B": "2", "C": "3", "D": "4"}, correct_option="A")
    >>> s = shuffled(q, "p", 0)
    >>> s.options[s.correct_option], s.extra["model_option"], shuffled(q, "p", 0) == s
    ('1', 'A', True)
    """
    seed = int(hashlib.sha256(f"{problem_id}:{index}".encode()).hexdigest()[:16], 16)
    order = list(LETTERS)
    random.Random(seed).shuffle(order)
    options = {new: quiz.options[old] for new, old in zip(LETTERS, order, strict=True)}
    correct = LETTERS[order.index(quiz.correct_option)]
    return Quiz(question=quiz.question, options=options, correct_option=correct,
                evidence_snippet=quiz.evidence_snippet, extra={**quiz.extra, "model_option": quiz.correct_option})  # fmt: skip


@dataclass
class Annotation:
    """What the code accepted of an annotation reply, and every problem it found."""

    elements: list[str]
    quizzes: list[Quiz]
    multimodal_question: str | None
    problems: list[str]


def read_annotation(reply: str | None, question: str) -> Annotation:
    """The elements, the quizzes that passed :func:`check_quiz` and the multimodal question."""
    try:
        data = json_object(reply)
    except MalformedReply as e:
        return Annotation([], [], None, [f"malformed: {e}"])
    problems: list[str] = []
    raw_elements = data.get("elements")
    elements = [t for t in map(_text, raw_elements) if t] if isinstance(raw_elements, list) else []
    if not elements or len(elements) > MAX_ELEMENTS:
        problems.append(f"elements: give 1 to {MAX_ELEMENTS} non-empty strings")
    raw_quizzes = data.get("quizzes")
    checks = (
        [check_quiz(q, question, i) for i, q in enumerate(raw_quizzes)]
        if isinstance(raw_quizzes, list)
        else []
    )
    if not isinstance(raw_quizzes, list):
        problems.append("malformed: quizzes must be a list")
    for check in checks:
        problems += check.problems
    multimodal = _text(data.get("multimodal_question"))
    if multimodal is None:
        problems.append("multimodal question: missing or empty")
    quizzes = [c.quiz for c in checks if c.quiz is not None]
    return Annotation(elements[:MAX_ELEMENTS], quizzes, multimodal, problems)


def read_check(reply: str | None) -> tuple[bool, bool] | None:
    """(answerable, same answer) from the multimodal check's reply; None when malformed."""
    try:
        data = json_object(reply)
    except MalformedReply:
        return None
    answerable, same = data.get("answerable"), data.get("same_answer")
    return (answerable, same) if isinstance(answerable, bool) and isinstance(same, bool) else None
