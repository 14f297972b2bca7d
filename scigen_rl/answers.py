"""Reading the final answer out of a model's response."""

from __future__ import annotations

import re


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}`` (or ``\\fbox{...}``), braces balanced; None if absent.

    >>> last_boxed("first \\\\boxed{1}, then \\\\boxed{\\\\frac{1}{2}}.")
    '\\\\frac{1}{2}'
    >>> last_boxed("no box") is None
    True
    """
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start) + 1
    depth, begin = 1, i
    while i < len(text):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[begin:i].strip()
        i += 1
    return None  # unclosed: cut off mid-answer


def final_answer(response: str) -> str:
    """The response's final answer text: the last ``\\boxed{}`` after any ``</think>``, else what
    follows "the answer is", else the last line (the answer a sample votes for in maj@k).

    >>> final_answer("<think>..</think> so the answer is \\\\boxed{\\\\frac{1}{2}}.")
    '\\\\frac{1}{2}'
    >>> final_answer("The answer is (C).")
    '(C)'
    """
    text = response.rsplit("</think>", 1)[-1]
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed
    stated = re.findall(r"answer is[:\s]*(.+?)(?:\.\s*$|\.\s|$)", text, re.IGNORECASE | re.MULTILINE)
    if stated:
        return stated[-1].strip()
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
