"""The option letter a vision model chose, read by rule from its reply (no second model call)."""

from __future__ import annotations

import re

_BOXED = re.compile(r"\\boxed\{\s*(?:\\text\{)?\s*([^{}]*?)\s*\}?\s*\}")
_STATED = re.compile(
    r"(?:final\s+answer|answer|option|choice)\s*(?:is|:|=|would be|should be)?\s*[:\s]*\**\(?([A-Z])\)?(?![A-Za-z])",
    re.IGNORECASE,
)
_LEADING = re.compile(r"^\W*\(?([A-Z])\)?(?:[.):\]]|\s*$|\s+[-–:])")


def _clean(text: str) -> str:
    return re.sub(r"[*_`$]", "", text).strip()


def extract_letter(reply: str | None, options: dict[str, str]) -> str | None:
    """The chosen option's letter, or None when the reply names none of ``options``.

    Tried in order: the last ``\\boxed{}`` (a letter or an option's text), a stated answer
    ("the answer is (B)", "Answer: B"), a reply that starts with a letter ("B", "(B) ...", "B. 3 m/s"),
    and a reply that is exactly one option's text. Thinking before ``</think>`` is ignored.

    >>> opts = {"A": "3 m/s", "B": "4 m/s", "C": "5 m/s"}
    >>> [extract_letter(t, opts) for t in ["B", "(C)", "The answer is (A).", "\\\\boxed{B}", "4 m/s", "C. 5 m/s"]]
    ['B', 'C', 'A', 'B', 'B', 'C']
    >>> [extract_letter(t, opts) for t in ["D", "I cannot tell from the figure.", "", None]]
    [None, None, None, None]
    """
    if not reply:
        return None
    text = reply.rsplit("</think>", 1)[-1].strip()
    by_text = {_clean(v).lower(): k for k, v in options.items() if _clean(v)}

    def named(candidate: str) -> str | None:
        c = _clean(candidate).rstrip(".").strip()
        if c.strip("()") in options and len(c.strip("()")) == 1:
            return c.strip("()")
        return by_text.get(c.lower())

    boxed = _BOXED.findall(text)
    if boxed and (letter := named(boxed[-1])) is not None:
        return letter
    stated = [m for m in _STATED.findall(_clean(text)) if m.upper() in options and m.isupper()]
    if stated:
        return stated[-1]
    leading = _LEADING.match(_clean(text))
    if leading and leading.group(1) in options:
        return leading.group(1)
    return named(text)
