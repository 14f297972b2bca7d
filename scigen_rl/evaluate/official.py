"""MathVision's own answer matching, as a second judge comparable with published numbers.

The answer is the last ``\\boxed{}`` (else what follows "the answer is", else the last line). A
multiple-choice answer is right when it names the gold letter **or** the gold option's text; a free
answer is right when it equals the gold one as a number (after LaTeX clean-up, rounded to 2 decimals)
or as normalized text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..answers import last_boxed


def final_answer(response: str) -> str:
    """The response's final answer text (see the module doc).

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


def _normalize(text: str) -> str:
    text = re.sub(r"\\(?:text|mathrm|textbf|mbox)\{([^{}]*)\}", r"\1", text)
    text = text.replace("\\left", "").replace("\\right", "").replace("\\!", "").replace("\\,", "")
    text = re.sub(r"\\d?frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", text)
    text = re.sub(r"\^\{?\\circ\}?|°", "", text)
    return re.sub(r"[\s$]", "", text).strip(".").lower()


def _number(text: str) -> float | None:
    t = _normalize(text).replace(",", "")
    t = re.sub(r"(?<=\d)(cm|mm|m|km|kg|g|s|%|units?)$", "", t)
    frac = re.fullmatch(r"\(?(-?\d+(?:\.\d+)?)\)?/\(?(\d+(?:\.\d+)?)\)?", t)
    if frac:
        return float(frac.group(1)) / float(frac.group(2)) if float(frac.group(2)) else None
    return float(t) if re.fullmatch(r"-?\d+(?:\.\d+)?", t) else None


def official_correct(response: str, gold: str, options: Sequence[str] = ()) -> bool:
    """MathVision's rule: letter or option text for multiple choice, number or text otherwise.

    >>> official_correct("\\\\boxed{B}", "B", ["3", "4", "5"]), official_correct("\\\\boxed{4}", "B", ["3", "4", "5"])
    (True, True)
    >>> official_correct("\\\\boxed{2.499}", "2.5"), official_correct("\\\\boxed{12 cm}", "12")
    (True, True)
    """
    answer = final_answer(response)
    if options:
        letters = [chr(65 + i) for i in range(len(options))]
        letter = re.fullmatch(r"\(?([A-Z])\)?[.:]?", _normalize(answer).upper())
        if letter and letter.group(1) in letters:
            return letter.group(1) == gold.strip().upper()
        if gold.strip().upper() in letters:
            return _normalize(answer) == _normalize(options[letters.index(gold.strip().upper())])
    a, g = _number(answer), _number(gold)
    if a is not None and g is not None:
        return round(a, 2) == round(g, 2)
    return _normalize(answer) == _normalize(gold)
