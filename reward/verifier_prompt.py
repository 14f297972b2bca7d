"""What the verifier is shown (question, gold answer, the answer segment) and how its reply is read.

The contract is CompassVerifier's: it answers ``A`` (correct), ``B`` (incorrect) or ``C`` (invalid:
incomplete, repetitive, a refusal). The reply is read strictly: the first token decides, and anything
that is not one of the three is ``None`` (unparsed), never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

VERDICTS = {"A": "correct", "B": "incorrect", "C": "invalid"}

_INSTRUCTIONS = """You check a candidate's final answer to a question against the standard answer.
Reply with one letter and nothing else:
A: CORRECT - the candidate's final answer means the same as the standard answer (equivalent forms, \
rounding to the precision given, and the same option of a multiple-choice question all count).
B: INCORRECT - the candidate gives a final answer, but it differs from the standard answer.
C: INVALID - the response is cut off, repeats itself, refuses, or never states a final answer.
Judge only the final answer against the standard answer. Do not solve the question yourself and do \
not reward a correct method with a wrong result."""


def answer_segment(response: str, tail_chars: int = 1000) -> str:
    """The part of a response the verifier judges: after the last ``</think>``, at most the last
    ``tail_chars`` characters (the final answer is at the end; long reasoning only adds noise).

    >>> answer_segment("<think>try 3, no, 4</think>So x = \\\\boxed{4}.")
    'So x = \\\\boxed{4}.'
    >>> answer_segment("x" * 50 + "END", tail_chars=5)
    'xxEND'
    """
    if "</think>" in response:
        response = response.rsplit("</think>", 1)[1]
    response = response.strip()
    return response[-tail_chars:] if len(response) > tail_chars else response


def format_options(options: Any) -> str:
    """Option lines (``A. text``) from a mapping letter->text or a list in letter order.

    >>> format_options(["3", "4"])
    'A. 3\\nB. 4'
    """
    if isinstance(options, Mapping):
        items = [(str(k), str(v)) for k, v in options.items()]
    elif isinstance(options, Sequence) and not isinstance(options, str):
        items = [(chr(65 + i), str(v)) for i, v in enumerate(options)]
    else:
        return ""
    return "\n".join(f"{k}. {v}" for k, v in items)


def verifier_messages(question: str, gold: str, segment: str, options: Any = None) -> list[dict[str, str]]:
    """The chat request for one judgment (a single user turn: CompassVerifier has no system prompt)."""
    listed = format_options(options)
    question_block = (
        f"{question.strip()}\n{listed}" if listed and listed not in question else question.strip()
    )
    content = (
        f"{_INSTRUCTIONS}\n\n<Question>\n{question_block}\n</Question>\n\n"
        f"<Standard Answer>\n{gold.strip()}\n</Standard Answer>\n\n"
        f"<Candidate Response>\n{segment}\n</Candidate Response>\n\nJudgement:"
    )
    return [{"role": "user", "content": content}]


_BOXED_JUDGMENT = re.compile(r"final\s+judge?ment\s*[:：]?\s*\\boxed\{\s*([ABC])\s*\}", re.IGNORECASE)
_LABEL = re.compile(r"^(?:final\s+)?(?:judge?ment|answer|verdict|grade)\s*[:：]\s*", re.IGNORECASE)
_WORDS = {"correct": "A", "incorrect": "B", "invalid": "C"}


def parse_verdict(text: str | None) -> str | None:
    """``A``, ``B`` or ``C`` from a verifier reply, or None when the reply is none of them.

    The first token decides (after a ``Judgement:`` label and markup such as ``**``, ``(`` or
    ``\\boxed{``); a chain-of-thought reply is read from its ``Final Judgment: \\boxed{X}``.
    ``CORRECT``/``INCORRECT``/``INVALID`` as the first word are read as words, so ``INCORRECT``
    is never taken for ``C``.

    >>> [parse_verdict(t) for t in ["A", " (B).", "**C**", "INCORRECT", "Correct.", "Judgement: B"]]
    ['A', 'B', 'C', 'B', 'A', 'B']
    >>> [parse_verdict(t) for t in ["Analysis: ...", "D", "", None, "Apple", "I think A"]]
    [None, None, None, None, None, None]
    """
    if not text:
        return None
    boxed = _BOXED_JUDGMENT.findall(text)
    if boxed:
        return boxed[-1].upper()
    head = _LABEL.sub("", text.strip())
    head = re.sub(r"^(?:[*_`#>\s(\[{]|\\boxed\{|\\text\{)+", "", head)
    match = re.match(r"([A-Za-z]+)", head)
    if not match:
        return None
    word = match.group(1)
    if word in VERDICTS:  # an upper-case letter standing alone
        return word
    return _WORDS.get(word.lower())
