"""MathVision's official scorer, verdict for verdict (``scigen-rl eval --scorer official-exact``).

MATH-V's ``evaluation/evaluate.py`` (mathllm/MATH-V) cuts an answer out of the response, cleans it
(``find_math_answer``) and compares it with the gold letter and with the gold option's raw text
(``is_equal``): equal as lower-cased text, as tuples of 2-decimal numbers, or as numbers read by
latex2sympy and rounded to 2 decimals (``official_latex``). Its quirks are kept on purpose, since a
reported number must be comparable with the published ones:

* the answer is the last ``\\boxed{...}`` up to the response's last ``}``; without one, what follows
  "the answer is" (or a few other phrases) up to the line's end or the first ". ";
* ``\\text`` is deleted, so ``\\textbf{A}`` becomes ``bfa``: a wrong answer;
* units survive (``12\\text{ cm}`` is ``12{cm}``, no number) except ``units``, ``km`` and ``m^3``;
* ``(a)``-``(e)`` and ``{a}``-``{e}`` become bare letters, so ``(B)`` matches gold B;
* a multiple-choice answer also matches the gold option's text exactly as written (``$\\frac{8}{5}$``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .official_latex import Unreadable, latex_number

_FLAGS = ("the final answer is", "the answer is", "the correct answer is", "the answer should be")


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _after_flags(answer: str) -> str:
    """What follows the answer phrases (each lower-case, then capitalized), up to a line or sentence end."""
    for flag in _FLAGS:
        for phrase in (flag, flag.replace("the", "The")):
            found = phrase in answer
            answer = answer.split(phrase)[-1].strip()
            if found:
                answer = answer.split("\n")[0].split(". ")[0]
    return answer


def _braced_fractions(text: str) -> str:
    """``\\frac12`` as ``\\frac{1}{2}`` (the official scorer does it only when ``sqrt`` is present)."""
    head, *rest = text.split("\\frac")
    out = head
    for part in rest:
        out += "\\frac"
        if part.startswith("{"):
            out += part
        elif len(part) < 2:
            return text
        elif part[1] != "{":
            out += "{" + part[0] + "}{" + part[1] + "}" + part[2:]
        else:
            out += "{" + part[0] + "}" + part[1:]
    return out


def _slash_fraction(text: str) -> str:
    """``3/4`` (two plain integers) as ``\\frac{3}{4}``."""
    parts = text.split("/")
    if len(parts) != 2:
        return text
    try:
        a, b = int(parts[0]), int(parts[1])
    except ValueError:
        return text
    return f"\\frac{{{a}}}{{{b}}}" if text == f"{a}/{b}" else text


def _strip(text: str) -> str:
    """The official ``_strip_string``: the last clean-up of an extracted answer."""
    for old, new in (("\n", ""), ("\\!", ""), ("\\\\", "\\"), ("tfrac", "frac"), ("dfrac", "frac"),
                     ("\\left", ""), ("\\right", ""), ("^{\\circ}", ""), ("^\\circ", ""), ("\\$", ""),
                     ("$", "")):  # fmt: skip
        text = text.replace(old, new)
    text = text.split("\\text{ ")[0].replace("\\%", "")
    text = text.replace(" .", " 0.").replace("{.", "{0.")
    if not text:
        return text
    if text[0] == ".":
        text = "0" + text
    for sep in ("=", "\\approx"):
        if len(text.split(sep)) == 2:
            text = text.split(sep)[-1]
    if "sqrt" in text:
        head, *rest = text.split("\\sqrt")
        text = head + "".join(
            "\\sqrt{" + p[0] + "}" + p[1:] if p and p[0] != "{" else "\\sqrt" + p for p in rest
        )
    text = text.replace(" ", "")
    if "sqrt" in text:
        text = _braced_fractions(text)
    if text == "0.5":
        text = "\\frac{1}{2}"
    return _slash_fraction(text)


def _clean(answer: str) -> str:
    """The official ``find_math_answer``: the boxed content, the part after ``=``, LaTeX stripped."""
    answer = answer.lower().replace("{}", "")
    boxed = re.findall(r"oxed{(.*)}", answer, flags=re.S)
    answer = boxed[-1] if boxed else answer
    close, open_ = answer.find("}"), answer.find("{")
    if close != -1 and (open_ == -1 or close < open_):
        answer = answer.split("}")[0]
    answer = answer.split("=")[-1].split("\\approx")[-1]
    for old, new in ((" ", ""), ("\\,", ""), ("∞", "\\infty"), ("+\\infty", "\\infty"), ("\\\\", "\\"),
                     ("\n", ""), ("\\text", ""), ("\\mbox", ""), ("bmatrix", "pmatrix"), ("\\left", ""),
                     ("\\right", ""), ("^{\\circ}", ""), ("^\\circ", ""), ("{m}^3", ""), ("m^3", ""),
                     ("{units}", ""), ("units", ""), ("{km}", ""), ("km", "")):  # fmt: skip
        answer = answer.replace(old, new)
    return _strip(answer)


def official_answer(response: str) -> str:
    """The answer the official scorer extracts from a response (lower-case, cleaned).

    >>> official_answer("So the area is 12.5."), official_answer("The answer is (C).")
    ('12.5', 'c')
    >>> official_answer("\\\\boxed{\\\\textbf{(B)}}"), official_answer("\\\\boxed{12\\\\text{ cm}}")
    ('bfb', '12{cm}')
    """
    answer = response.strip()
    for letter in "ABCDE":
        if (answer.endswith((f" {letter}.", f" ({letter}).")) or
                answer.startswith((f"{letter}\n", f"({letter})\n", f"({letter}) {letter}\n"))):  # fmt: skip
            answer = letter
    tail = answer.split("is ")[-1].rstrip(".")
    if _is_float(tail):
        answer = tail
    if "oxed{" not in answer:
        answer = _after_flags(answer)
    elif answer.count("oxed{") > 1:
        answer = "\\boxed{" + answer.split("oxed{")[-1]
    answer = _clean(answer)
    for letter in "abcde":
        answer = answer.replace(f"({letter})", letter)
    for letter in "abcde":
        answer = answer.replace(f"{{{letter}}}", letter)
    return answer.rstrip(".").lstrip(":").strip()


def _rounded(text: str) -> int | float:
    return round(latex_number(text), 2)


def _tuple_text(text: str) -> str:
    """``(a,b,...)`` or ``[a,b,...]`` with each element as its 2-decimal number (``(0.5,2)``)."""
    items = text[1:-1].split(",")
    if len(items) < 2 or (text[0], text[-1]) not in (("(", ")"), ("[", "]")):
        return text
    try:
        values = [i if "infty" in i or i in ("a", "-a") else str(_rounded(i)) for i in items]
    except (Unreadable, ValueError):  # ValueError: an integer too long to print
        return text
    return text[0] + ",".join(values) + text[-1]


def answers_equal(gold: str, answer: str) -> bool:
    """The official ``is_equal``: equal text, equal tuples, or equal numbers at 2 decimals.

    >>> answers_equal("\\\\frac{1}{3}", "0.333"), answers_equal("(1,2)", "(1.0,2)"), answers_equal("A", "a")
    (True, True, True)
    >>> answers_equal("(1,2)", "(\\\\frac{2}{2},2)"), answers_equal("12", "12{cm}"), answers_equal("", "")
    (False, False, False)
    """
    gold, answer = gold.lower(), answer.lower()
    if not gold.replace(" ", "") or not answer.replace(" ", ""):
        return False
    if gold.strip() == answer.strip():
        return True
    gold, answer = _tuple_text(gold), _tuple_text(answer)
    if gold == answer:
        return True
    try:
        return _rounded(answer) == _rounded(gold)
    except Unreadable:
        return False


def gold_option(gold: str, options: Sequence[str]) -> str:
    """The text of the gold letter's option ('' for a free-form problem or a gold that is no letter)."""
    index = ord(gold) - ord("A") if len(gold) == 1 else -1
    return str(options[index]) if options and 0 <= index < len(options) else ""


def official_exact_correct(response: str, gold: str, options: Sequence[str] = ()) -> bool:
    """MathVision's official verdict on one response.

    Args:
        response: The model's whole response.
        gold: The gold answer (a letter for a multiple-choice problem).
        options: The option texts in letter order; empty for a free-form problem.

    Returns:
        True when the official scorer counts the response correct.

    >>> official_exact_correct("The answer is B.", "B", ["3", "4"])
    True
    >>> official_exact_correct("\\\\boxed{4}", "B", ["3", "4"]), official_exact_correct("\\\\boxed{12 cm}", "12")
    (True, False)
    """
    answer = official_answer(response)
    return answers_equal(gold, answer) or answers_equal(gold_option(gold, options), answer)
