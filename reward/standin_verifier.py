"""A stand-in for a served CompassVerifier, for tests and benchmarks (no verifier model runs here).

Used as the ``reply`` of :class:`scigen_rl.llm.standin.StandInServer`. It refuses (HTTP 400) any
request that is not a verifier request of this project's contract: one user turn holding the
question, the standard answer and the candidate's answer segment (thinking stripped), greedy
decoding, a small ``max_tokens``. It then judges by rule: ``A`` when the candidate's last boxed
answer (or its last line) equals the standard answer past spacing and ``\text{}`` markup, else ``B``.
Markers in the candidate script misbehaviour: ``[invalid]`` -> ``C``, ``[garbage]`` -> prose,
``[word]`` -> ``CORRECT``/``INCORRECT`` spelled out, ``[fail500]`` -> HTTP 500, ``[hang]`` -> no
answer for 60 s.
"""

from __future__ import annotations

import re
import time
from typing import Any

from scigen_rl.llm.standin import StandInError

from .rules import last_boxed

_PROMPT = re.compile(
    r"<Question>\n(?P<question>.*)\n</Question>\n\n<Standard Answer>\n(?P<gold>.*)\n</Standard Answer>\n\n"
    r"<Candidate Response>\n(?P<candidate>.*)\n</Candidate Response>\n\nJudgement:$",
    re.DOTALL,
)


def _plain(answer: str) -> str:
    """``3.5\\,\\text{m/s}`` -> ``3.5m/s``: what a verifier sees past LaTeX spacing and unit markup."""
    answer = re.sub(r"\\(?:text|mathrm|mbox)\{([^{}]*)\}", r"\1", answer)
    return re.sub(r"\\[,;! ]|~|\s+", "", answer).rstrip(".")


def verifier_reply(body: dict[str, Any]) -> str:
    """The verifier's answer to one chat request, after checking its format strictly."""
    messages = body["messages"]
    if len(messages) != 1 or messages[0]["role"] != "user" or not isinstance(messages[0]["content"], str):
        raise ValueError("a verifier request is one user message with text content")
    if body.get("temperature") != 0.0:
        raise ValueError(
            f"a verifier request decodes greedily (temperature 0), got {body.get('temperature')}"
        )
    if not isinstance(body.get("max_tokens"), int) or not 1 <= body["max_tokens"] <= 64:
        raise ValueError(f"a verifier request has a small max_tokens, got {body.get('max_tokens')}")
    match = _PROMPT.search(messages[0]["content"])
    if not match:
        raise ValueError(
            "not a verifier prompt: <Question>, <Standard Answer>, <Candidate Response>, Judgement:"
        )
    gold, candidate = match["gold"], match["candidate"]
    if "</think>" in candidate or "<think>" in candidate:
        raise ValueError("the candidate segment must not hold the thinking")
    if "[fail500]" in candidate:
        raise StandInError(500, "scripted verifier failure")
    if "[hang]" in candidate:
        time.sleep(60)
    if "[invalid]" in candidate:
        return "C"
    if "[garbage]" in candidate:
        return "Let me compare the two answers carefully."
    final = last_boxed(candidate) or candidate.strip().splitlines()[-1]
    same = _plain(final) == _plain(gold)
    if "[word]" in candidate:
        return "CORRECT" if same else "INCORRECT"
    return "A" if same else "B"
