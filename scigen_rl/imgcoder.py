"""ImgCoder: the prompt that makes a model plan a diagram and then write its matplotlib script, and the
parsing of what comes back (plan, code), robust to the ways models format their answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .records import Problem

SYSTEM_PROMPT = """You draw figures for science problems. Given a problem, you first PLAN the figure and then \
write ONE standalone Python script that draws it with matplotlib.

Write the plan under the heading "PLAN" with exactly these four parts:
1. Image content: every entity the figure must show (objects, points, lines, forces, axes, \
components) and how they relate (connected to, perpendicular to, inside, acting on).
2. Layout: the coordinates, sizes and arrangement of every entity, so that nothing overlaps.
3. Labels: every value the problem gives (lengths, angles, masses, charges, names) and the entity \
each label is anchored to.
4. Drawing constraints: the conventions of the subject (arrow directions, units, dashed hidden \
lines, right-angle marks) and what must NOT appear: the final answer, any value the solver has to \
compute, and any solution step.

Then write the script under the heading "CODE" in a single ```python block:
- use only matplotlib, numpy and the Python standard library; read no files and use no network;
- draw exactly one figure, with every label from the plan, readable and not overlapping;
- end with plt.savefig("figure.png", dpi=150, bbox_inches="tight").
"""

REPAIR_PROMPT = """Running your script failed:

{error}

Write the corrected, complete script (not a patch) in a single ```python block. Keep the figure the \
same as planned; change only what is needed to make it run and draw the figure."""

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
_CODE_START = re.compile(r"^(import |from \w[\w.]* import |fig\s*,|fig\s*=|plt\.)", re.M)
_THINK = re.compile(r"^.*?</think>", re.S)


@dataclass
class ParsedResponse:
    """What a model's answer held: the plan (may be None) and the code (None if there was none)."""

    plan: str | None
    code: str | None

    @property
    def has_code(self) -> bool:
        return bool(self.code)


def build_messages(problem: Problem) -> list[dict[str, Any]]:
    """The chat messages that ask for a plan and a script for ``problem``.

    >>> p = Problem(id="p", question="A 2 kg block rests on a 30° incline.", answer="9.8 N", source="t",
    ...             image_type="Physics - Mechanical", elements=["an incline at 30°"])
    >>> msgs = build_messages(p)
    >>> [m["role"] for m in msgs]
    ['system', 'user']
    >>> "9.8 N" in msgs[1]["content"]
    False
    """
    parts = [f"Problem:\n{problem.question.strip()}"]
    if problem.image_type:
        parts.append(f"Figure type: {problem.image_type}")
    if problem.elements:
        parts.append("The figure must show:\n" + "\n".join(f"- {e}" for e in problem.elements))
    parts.append("Do not reveal the answer in the figure.")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n\n".join(parts)}]


def repair_messages(
    messages: list[dict[str, Any]], response: str, error: str, max_error_chars: int = 1500
) -> list[dict[str, Any]]:
    """The conversation that asks the model to fix its script after a failed render."""
    error = error if len(error) <= max_error_chars else "..." + error[-max_error_chars:]
    return [
        *messages,
        {"role": "assistant", "content": response},
        {"role": "user", "content": REPAIR_PROMPT.format(error=error)},
    ]


def _looks_like_code(block: str) -> bool:
    return bool(_CODE_START.search(block)) and ("plt" in block or "matplotlib" in block)


def parse_response(text: str) -> ParsedResponse:
    """Split a model's answer into plan and code.

    Handles fenced blocks (with or without a language tag, several of them, an unclosed last one),
    unfenced code after prose, a ``<think>...</think>`` preamble, and CRLF line ends. When several
    blocks hold code, the last complete script (one with its imports) wins; a block without imports
    that follows one with them is taken as its continuation.

    >>> parse_response("PLAN\\n1. Image content: a box\\nCODE\\n```python\\nimport matplotlib.pyplot as plt\\nplt.plot([1])\\n```").code
    'import matplotlib.pyplot as plt\\nplt.plot([1])'
    """
    text = _THINK.sub("", text.replace("\r\n", "\n")).strip()
    blocks = [(m.start(), m.group(1).lower(), m.group(2).strip("\n")) for m in _FENCE.finditer(text)]
    code_blocks = [
        (start, body)
        for start, lang, body in blocks
        if lang in ("", "python", "py", "python3") and _looks_like_code(body)
    ]
    if code_blocks:
        code = code_blocks[-1][1]
        complete = [(s, b) for s, b in code_blocks if re.search(r"^(import|from) ", b, re.M)]
        if complete and not re.search(r"^(import|from) ", code, re.M):
            # the last block continues the last complete one
            code = "\n".join(b for s, b in code_blocks if s >= complete[-1][0])
        elif complete:
            code = complete[-1][1]
        plan_text = text[: code_blocks[0][0]]  # the plan comes before any code (drafts included)
    else:
        match = _CODE_START.search(text)
        if match is None or not _looks_like_code(text[match.start() :]):
            return ParsedResponse(plan=_clean_plan(text), code=None)
        plan_text, code = text[: match.start()], text[match.start() :]
    return ParsedResponse(plan=_clean_plan(plan_text), code=code.strip() or None)


def _clean_plan(text: str) -> str | None:
    text = re.sub(r"(?im)^\s*#*\s*\**(code|python code|script)\**\s*:?\s*$", "", text)
    text = text.strip().strip("`").strip()
    text = re.sub(r"(?i)^\s*#*\s*\**plan\**\s*:?\s*\n", "", text).strip()
    return text or None
