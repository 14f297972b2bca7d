"""The rule path: decide an answer without a model when that is safe.

``correct`` when math-verify proves the boxed answer equal to the gold one, or the boxed option letter
(or option text) is the gold option; ``incorrect`` only for a multiple-choice answer that names
another option; otherwise undecided (None), and the verifier judges. A wrong-looking free-form answer
is never failed by rule: units, rounding and wording defeat rules, and that is the verifier's job.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from scigen_rl.answers import last_boxed

RULE_TIMEOUT_S = 10.0
"""How long :func:`decide_by_rule` waits for the LaTeX parser before leaving the answer undecided."""
_LETTER = re.compile(r"^\(?([A-H])\)?[.:]?$")
# math-verify warns on every call made without its timer, which we do on purpose off the main thread.
logging.getLogger("math_verify").setLevel(logging.ERROR)

__all__ = ["NEEDS_PARSER", "has_boxed", "last_boxed", "rule_verdict"]


def _option_letter(text: str, options: Any) -> str | None:
    """The option a short answer names: ``B``, ``(B)``, ``\\text{B}``, or an option's exact text."""
    plain = re.sub(r"\\text(?:bf)?\{([^{}]*)\}", r"\1", text).strip().rstrip(".")
    match = _LETTER.match(plain)
    if match:
        return match.group(1)
    if isinstance(options, dict):
        items = [(str(k), str(v)) for k, v in options.items()]
    elif isinstance(options, list | tuple):
        items = [(chr(65 + i), str(v)) for i, v in enumerate(options)]
    else:
        items = []
    for letter, option_text in items:
        if plain.lower() == option_text.strip().lower():
            return letter
    return None


_PLAIN_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$")


def _plain_numbers_equal(gold: str, answer: str) -> bool | None:
    """For two plain decimals (most answers), math-verify's verdict without its LaTeX parser; None
    when either is not a plain decimal, or when they differ only past the 6th decimal (math-verify's
    own rounding then decides)."""
    if not (_PLAIN_NUMBER.match(gold) and _PLAIN_NUMBER.match(answer)):
        return None
    x, y = float(gold), float(answer)
    if x == y:
        return True
    return None if round(x, 6) == round(y, 6) else False


def _math_equal(gold: str, answer: str, timeouts: bool) -> bool:
    from math_verify import parse, verify

    seconds = 5 if timeouts else None
    gold_parsed = parse(f"${gold}$", parsing_timeout=seconds)
    answer_parsed = parse(f"\\boxed{{{answer}}}", parsing_timeout=seconds)
    if not gold_parsed or not answer_parsed:
        return False
    return bool(verify(gold_parsed, answer_parsed, timeout_seconds=seconds))


NEEDS_PARSER = "needs_parser"
"""What ``rule_verdict(..., parser=False)`` returns when only math-verify can decide."""


def rule_verdict(
    response: str, gold: str, options: Any = None, timeouts: bool = False, parser: bool = True
) -> str | None:
    """``correct``, ``incorrect`` or None (undecided) for a response's last boxed answer.

    ``timeouts``: let math-verify time itself out, which only works on a process's main thread
    (a rule-check process); in a thread it must be False. ``parser=False``: decide only what needs
    no LaTeX parser (option letters, plain decimals: microseconds, fine on an event loop) and
    return :data:`NEEDS_PARSER` for the rest (a millisecond or more each, and unbounded on odd input).

    >>> rule_verdict("so \\\\boxed{0.5}", "\\\\frac{1}{2}")
    'correct'
    >>> rule_verdict("\\\\boxed{(C)}", "B", options=["1", "2", "3"])
    'incorrect'
    >>> rule_verdict("\\\\boxed{13}", "12") is None  # wrong-looking, but the verifier decides
    True
    """
    answer = last_boxed(response.rsplit("</think>", 1)[-1])
    if answer is None or not answer:
        return None
    gold = gold.strip()
    gold_letter = _option_letter(gold, options)
    if gold_letter is not None and (options or _LETTER.match(gold)):
        named = _option_letter(answer, options)
        if named is None:
            return None
        return "correct" if named == gold_letter else "incorrect"
    plain = _plain_numbers_equal(gold, answer)
    if plain is not None:
        return "correct" if plain else None
    if not parser:
        return NEEDS_PARSER
    try:
        return "correct" if _math_equal(gold, answer, timeouts) else None
    except Exception:  # noqa: BLE001 - a parser failure only means the rule cannot decide
        return None


class RuleUnavailable(RuntimeError):
    """The rule's worker processes cannot run (they died, or never started): no answer was judged, so
    this is an error to count, never an undecided answer (which rule-only mode would score wrong)."""


async def decide_by_rule(
    response: str, gold: str, options: Any = None, timeout_s: float = RULE_TIMEOUT_S, executor: Any = None
) -> str | None:
    """:func:`rule_verdict` from an event loop: option letters and decimals on the loop, anything that
    needs the LaTeX parser in ``executor`` (a process pool lets math-verify time itself out; None is
    the loop's threads) within ``timeout_s``; a time-out or a parser failure is undecided (None)."""
    quick = rule_verdict(response, gold, options, parser=False)
    if quick != NEEDS_PARSER:
        return quick
    from concurrent.futures import BrokenExecutor

    loop = asyncio.get_running_loop()
    try:
        future = loop.run_in_executor(executor, rule_verdict, response, gold, options, executor is not None)
        return await asyncio.wait_for(future, timeout=timeout_s)
    except BrokenExecutor as e:
        raise RuleUnavailable(f"the rule's worker processes are gone: {type(e).__name__}: {e}"[:300]) from e
    except Exception:  # noqa: BLE001 - a time-out or a parser failure: the rule cannot decide
        return None


def has_boxed(response: str) -> bool:
    """Whether the final answer is in ``\\boxed{}`` (the format reward).

    >>> has_boxed("<think>\\\\boxed{1}?</think> It is 2."), has_boxed("It is \\\\boxed{2}.")
    (False, True)
    """
    return last_boxed(response.rsplit("</think>", 1)[-1]) is not None
