"""What curation asks the model: screen a problem (can it be drawn, and as which type), then annotate a
kept one (elements, quizzes with evidence, the multimodal question); and the repair turn that sends
back what the code found wrong. Each prompt fixes a JSON reply that :mod:`data_builders.curate_checks`
validates."""

from __future__ import annotations

from typing import Any

from scigen_rl.taxonomy import type_list

REASON_CLASSES = {
    "ok": "the problem can be drawn as one figure that carries its given information",
    "missing_context": "it refers to something not in the text (a figure, table, passage or earlier part)",
    "missing_data": "it lacks values or facts a figure would have to show, so no faithful figure exists",
    "non_visual_task": "it asks for a proof, a derivation, code, a definition or an essay, not a situation",
    "abstract_concept": "it is about an idea with no concrete scene, object, graph or structure to draw",
}
"""Visualizability verdicts: ``ok`` keeps the problem; every other class names why it is dropped."""

SCREEN = """You prepare science problems for a benchmark of scientific figures. For the problem below, \
decide whether ONE figure can be drawn that shows its set-up (the objects, quantities and relations \
the text gives, not the solution), and if so, which type of figure it is.

Verdicts (reason_class):
{reasons}

Figure types (choose exactly one name from this list when the verdict is "ok"):
{types}

Problem:
{question}

Reply with one JSON object and nothing else:
{{"visualizable": true or false, "reason_class": one of {classes}, "reason": "one sentence", \
"image_type": "one name from the list" or null}}"""

ANNOTATE = """You prepare a science problem for a benchmark of scientific figures. Its figure will be \
of type "{image_type}". Write:

1. "elements": the things the figure must show, one short sentence each (objects, their relations, \
every given value as a label), 3 to 12 items, nothing of the solution.
2. "quizzes": {min_quizzes} to {max_quizzes} multiple-choice questions that a reader can answer by \
looking at a correct figure alone, each about something the problem states. Each has exactly four \
options "A" to "D", all different, one correct ("correct_option"), and an "evidence_snippet": a \
passage copied exactly, character for character, from the problem text that proves the answer. The \
question must not contain its answer.
3. "multimodal_question": the problem rewritten for a reader who also sees the figure: the values \
and relations the figure shows are referred to ("in the figure", "as shown") instead of stated, and \
what is asked stays the same, with the same answer.

Problem:
{question}

Answer (for your information; never put it in the figure, the quizzes or the questions):
{answer}

Reply with one JSON object and nothing else:
{{"elements": ["..."], "quizzes": [{{"question": "...", "options": {{"A": "...", "B": "...", \
"C": "...", "D": "..."}}, "correct_option": "A", "evidence_snippet": "..."}}], \
"multimodal_question": "..."}}"""

REPAIR = """Your reply has these problems:
{problems}

Reply again with the complete JSON object (not a patch), fixing every problem. An evidence_snippet \
must be copied exactly from the problem text."""

CHECK_MULTIMODAL = """A science problem was rewritten for a reader who also sees a figure. The figure \
shows these elements:
{elements}

Original problem:
{question}

Its answer: {answer}

Rewritten problem:
{multimodal_question}

Can the rewritten problem be answered from its text together with a figure showing exactly those \
elements, and is its answer the same as the original's? Reply with one JSON object and nothing else:
{{"answerable": true or false, "same_answer": true or false, "reason": "one sentence"}}"""


def screen_messages(question: str) -> list[dict[str, Any]]:
    """The screening request: one user turn."""
    reasons = "\n".join(f'- "{k}": {v}' for k, v in REASON_CLASSES.items())
    classes = ", ".join(f'"{k}"' for k in REASON_CLASSES)
    text = SCREEN.format(reasons=reasons, types=type_list(), question=question.strip(), classes=classes)
    return [{"role": "user", "content": text}]


def annotate_messages(
    question: str, answer: str, image_type: str, min_quizzes: int, max_quizzes: int
) -> list[dict[str, Any]]:
    """The annotation request for a problem the screen kept."""
    text = ANNOTATE.format(image_type=image_type, question=question.strip(), answer=answer.strip(),
                           min_quizzes=min_quizzes, max_quizzes=max_quizzes)  # fmt: skip
    return [{"role": "user", "content": text}]


def repair_messages(messages: list[dict[str, Any]], reply: str, problems: list[str]) -> list[dict[str, Any]]:
    """The conversation again, with the reply and what is wrong with it."""
    listed = "\n".join(f"- {p}" for p in problems)
    return [*messages, {"role": "assistant", "content": reply},
            {"role": "user", "content": REPAIR.format(problems=listed)}]  # fmt: skip


def check_messages(
    question: str, answer: str, elements: list[str], multimodal_question: str
) -> list[dict[str, Any]]:
    """The optional check that the multimodal question keeps its answer."""
    text = CHECK_MULTIMODAL.format(elements="\n".join(f"- {e}" for e in elements), question=question.strip(),
                                   answer=answer.strip(), multimodal_question=multimodal_question.strip())  # fmt: skip
    return [{"role": "user", "content": text}]
