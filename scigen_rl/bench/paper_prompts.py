"""The prompts of ``bench --protocol paper``: the project's own words, or the paper's read from a checkout.

Each prompt has the inputs and the reply format of its counterpart in the paper's evaluation code
(SciGenBench/SciGenBench, ``src/eval``), so its replies are read the same way. With ``--paper-repo PATH``
the templates are read at run time from a checkout of that repository (parsed, never executed):

=========  ==============================  ==========================================
prompt     placeholders                    read from (module-level string constant)
=========  ==============================  ==========================================
quiz       ``{quiz_content}``              src/eval/prompts.py ``VQA_ANSWER_PROMPT``
grade      question, answer, model_resp.   src/eval/prompts.py ``ANSWER_VERIFICATION_PROMPT``
vqa        ``{quiz_content}``              src/eval/ve_infer.py ``VQA_ANSWER_PROMPT``
verify     question, answer, model_resp.   src/eval/prompts.py ``ANSWER_VERIFICATION_COT_PROMPT``
judge      ``{question}``                  src/eval/llm_as_judge.py ``QUESTION_EVAL_PROMPT``
=========  ==============================  ==========================================
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from pathlib import Path

from ..paper_repo import template

QUIZ = """
You are sitting an exam about the scientific figure shown. Study the figure and answer the question \
below. Work only from what the figure shows, and give the letter of the correct option (A, B, C or D).
Question:
{quiz_content}
"""

GRADE = """
You grade a student's answer to a multiple-choice question against the correct option.

Question: {question}
Correct Option: {answer}
Student Response: "{model_response}"

The response is correct when it chooses the correct option, whether as the bare letter ("B") or in a \
sentence ("I pick B"). Choosing another option, several options, or none (for example "I cannot tell") \
is incorrect.

Reply with JSON only, in this form: {{ "is_correct": 1, "reasoning": "one short sentence" }}, with \
is_correct 1 for correct and 0 for incorrect.
"""

VQA = """
You are sitting an exam about the scientific figure shown. Study the figure carefully, reason about it, \
and give your final answer to the question.
Question:
{quiz_content}
"""

VERIFY = """You compare a candidate's final answer with the standard answer of a question.

Rules:
1. Look only at the candidate's final answer, not at the method; do not solve the question again.
2. The answers match when they mean the same: equivalent expressions, the same value in other units or \
notation, rounding to the precision the standard answer shows, the same option of a multiple-choice \
question.
3. A question with several parts matches only when every part matches.
4. A response that is cut off, repeats itself, refuses or never states a final answer is invalid.

Grades:
A: CORRECT - the final answer matches the standard answer.
B: INCORRECT - a final answer is given and it does not match.
C: INVALID - there is no usable final answer (rule 4).

<Original Question Begin>
{question}
<Original Question End>

<Standard Answer Begin>
{answer}
<Standard Answer End>

<Candidate's Answer Begin>
{model_response}
<Candidate's Answer End>

Reason step by step, then end with "Final Judgment: \\boxed{{A}}", "\\boxed{{B}}" or "\\boxed{{C}}".

Analysis and Final Judgment:
"""

JUDGE = """You review a scientific figure drawn for the question below. Score it on five dimensions, \
each 0, 1 or 2.

1. Correctness_Fidelity: are the objects, values and relations the question describes all present \
and right? 2: all present and right, nothing invented; 1: small omissions or slips; 0: key parts \
missing or wrong, or much that does not belong.
2. Layout_Precision: are positions, lengths, angles and alignment accurate and consistent? 2: \
precise; 1: roughly right with small distortions; 0: distorted or misleading.
3. Readability_Occlusion: can every label and mark be read, without things covering each other? 2: \
all clear; 1: a little overlap or crowding; 0: important parts hidden or unreadable.
4. Scientific_Plausibility: does it look right for its field (vectors, bonds, symbols, proportions \
as a specialist would draw them)? 2: fully; 1: minor oddities; 0: clearly wrong for the field.
5. Expressiveness_Richness: does it convey the whole situation so that a reader understands the \
setting? 2: complete and clear; 1: adequate; 0: the setting is hard to grasp.

Question:
{question}

Give short reasoning for each dimension, then the scores as a JSON object in a fenced block:
```json
{{"Correctness_Fidelity": 0, "Layout_Precision": 0, "Readability_Occlusion": 0, \
"Scientific_Plausibility": 0, "Expressiveness_Richness": 0}}
```
"""


@dataclass(frozen=True)
class PaperPrompts:
    """The five templates (``str.format`` with the placeholders of the module table)."""

    quiz: str = QUIZ
    grade: str = GRADE
    vqa: str = VQA
    verify: str = VERIFY
    judge: str = JUDGE
    origin: str = "scigen-rl's own wording"
    """Where the templates come from (recorded in the summary)."""


PLACEHOLDERS = {
    "quiz": {"quiz_content": "Q"},
    "grade": {"question": "Q", "answer": "A", "model_response": "R"},
    "vqa": {"quiz_content": "Q"},
    "verify": {"question": "Q", "answer": "A", "model_response": "R"},
    "judge": {"question": "Q"},
}
SOURCES = {
    "quiz": ("src/eval/prompts.py", "VQA_ANSWER_PROMPT"),
    "grade": ("src/eval/prompts.py", "ANSWER_VERIFICATION_PROMPT"),
    "vqa": ("src/eval/ve_infer.py", "VQA_ANSWER_PROMPT"),
    "verify": ("src/eval/prompts.py", "ANSWER_VERIFICATION_COT_PROMPT"),
    "judge": ("src/eval/llm_as_judge.py", "QUESTION_EVAL_PROMPT"),
}


@functools.lru_cache(maxsize=4)
def paper_prompts(repo: str | None = None) -> PaperPrompts:
    """The project's prompts, or (``repo``: a checkout of SciGenBench/SciGenBench) the paper's own.

    >>> paper_prompts().origin
    "scigen-rl's own wording"
    """
    if repo is None:
        return PaperPrompts()
    roles = [f.name for f in fields(PaperPrompts) if f.name != "origin"]
    found = {role: template(repo, *SOURCES[role], PLACEHOLDERS[role]) for role in roles}
    return PaperPrompts(**found, origin=f"read from {Path(repo).resolve()}")
