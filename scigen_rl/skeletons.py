"""Script skeletons for small models: ImgCoder's ``skeleton`` prompt.

A model of a few hundred million parameters cannot plan a figure and write a free-form matplotlib
script (SmolLM2-135M wrote a script for 0 of 8 SciGenBench problems under the plan-and-code prompt),
but it can fill the slots of a script whose shape is fixed: the data points and axis labels of a
chart, the coordinates and connections of a labelled diagram, a title. Each skeleton is a grammar
(Lark syntax, as llguidance reads it and vLLM accepts in ``structured_outputs.grammar``) whose every
sentence is a complete script; decoding under it, the model writes every character of the script,
and chooses everything the grammar leaves open. Nothing is filled in for it, and what it wrote is what
is rendered.

The chart skeleton serves the types whose figure is a plot of values (plots, waveforms, spectra,
thermodynamic cycles, function graphs); every other type gets the diagram skeleton (named points,
the segments between them, a title).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .records import Problem

CHART_TYPES = frozenset(
    {
        "Universal - Plot & Chart",
        "Physics - Waveform",
        "Chemistry - Spectra",
        "Physics - Thermodynamic",
        "Math - Analytic Geometry",
    }
)
"""SciGenBench image types drawn with the chart skeleton."""

MAX_QUESTION_CHARS = 2000
"""A longer question is cut here (the small model's context is short and its attention shorter)."""

SYSTEM_PROMPT = (
    "You write Python matplotlib scripts that draw the figure of a science problem: the values, "
    "objects and labels the problem gives. Never draw the answer or any value the solver must compute."
)

_TEXT = r'/"[A-Za-z0-9 ,.()=+*\/^%:\'-]{1,40}"/'
_NUMBER = r"/-?[0-9]{1,5}(\.[0-9]{1,3})?/"
_HEAD = r'"```python\nimport matplotlib.pyplot as plt\n\n"'
_TAIL = r'"plt.savefig(\"figure.png\")\n```"'


@dataclass(frozen=True)
class Skeleton:
    """One script shape: what the model is told it fills in, and the grammar that holds it to it."""

    name: str
    instruction: str
    grammar: str


def _numbers(n: int) -> str:
    return ' ", " '.join(["num"] * n)


def _chart_grammar(min_points: int = 3, max_points: int = 10) -> str:
    # x and y must be as long as each other: one alternative per length keeps the grammar context-free.
    pairs = "\n    | ".join(
        f'"x = [" {_numbers(n)} "]\\ny = [" {_numbers(n)} "]\\n"' for n in range(min_points, max_points + 1)
    )
    return "\n".join(
        [
            f"start: {_HEAD} data "
            r'"\nfig, ax = plt.subplots(figsize=(6, 4))\nax.plot(x, y, marker=\"o\")\nax.set_xlabel(" text '
            r'")\nax.set_ylabel(" text ")\nax.set_title(" text ")\nax.grid(True)\n" '
            f"{_TAIL}",
            f"data: {pairs}",
            "text: TEXT",
            "num: NUM",
            f"TEXT: {_TEXT}",
            f"NUM: {_NUMBER}",
        ]
    )


def _diagram_grammar(min_points: int = 3, max_points: int = 6) -> str:
    # Point names are A, B, C, ... in order, and a segment may only join points that exist, so every
    # sentence runs; one alternative per number of points keeps that context-free.
    rules, alternatives = [], []
    for n in range(min_points, max_points + 1):
        names = [chr(ord("A") + i) for i in range(n)]
        points = " ".join(f'"    \\"{c}\\": (" num ", " num "),\\n"' for c in names)
        rules.append(f'seg{n}: "(\\"" NAME{n} "\\", \\"" NAME{n} "\\")"')
        rules.append(f"NAME{n}: /[{names[0]}-{names[-1]}]/")
        alternatives.append(f'{points} "}}\\nsegments = [" seg{n} (", " seg{n})~0..7 "]\\n"')
    drawing = (
        r'"\nfig, ax = plt.subplots(figsize=(6, 6))\nfor a, b in segments:\n'
        r"    ax.plot(*zip(points[a], points[b]), color=\"black\")\n"
        r"for name, (px, py) in points.items():\n"
        r"    ax.plot(px, py, \"ko\")\n"
        r"    ax.annotate(name, (px, py), textcoords=\"offset points\", xytext=(6, 6))\n"
        r'ax.set_title(" text ")\nax.set_aspect(\"equal\")\nax.axis(\"off\")\n"'
    )
    return "\n".join(
        [
            f'start: {_HEAD} "points = {{\\n" body {drawing} {_TAIL}',
            "body: " + "\n    | ".join(alternatives),
            *rules,
            "text: TEXT",
            "num: NUM",
            f"TEXT: {_TEXT}",
            f"NUM: {_NUMBER}",
        ]
    )


CHART = Skeleton(
    "chart",
    "Write the script: x and y hold the data points the problem gives (or points of the curve it "
    "describes), then the axis labels with units and a short title.",
    _chart_grammar(),
)
DIAGRAM = Skeleton(
    "diagram",
    "Write the script: the named points of the figure with their coordinates, the segments that join "
    "them, and a short title.",
    _diagram_grammar(),
)
SKELETONS = {s.name: s for s in (CHART, DIAGRAM)}


def skeleton_for(image_type: str | None) -> Skeleton:
    """The skeleton of a SciGenBench image type (the diagram one for an unknown or missing type).

    >>> skeleton_for("Physics - Waveform").name, skeleton_for("Math - Plane Geometric").name
    ('chart', 'diagram')
    """
    return CHART if image_type in CHART_TYPES else DIAGRAM


def skeleton_request(problem: Problem) -> tuple[Skeleton, list[dict[str, Any]], dict[str, Any]]:
    """The skeleton for ``problem``, the chat messages, and the request fields that carry its grammar.

    >>> p = Problem(id="p", question="Plot v = 2t for t = 0..3 s.", answer="6", source="t",
    ...             image_type="Universal - Plot & Chart")
    >>> skeleton, messages, fields = skeleton_request(p)
    >>> skeleton.name, [m["role"] for m in messages], list(fields["structured_outputs"])
    ('chart', ['system', 'user'], ['grammar'])
    >>> "6" in messages[1]["content"].replace("Plot v = 2t for t = 0..3 s.", "")
    False
    """
    skeleton = skeleton_for(problem.image_type)
    question = problem.question.strip()
    if len(question) > MAX_QUESTION_CHARS:
        question = question[:MAX_QUESTION_CHARS] + " ..."
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Problem:\n{question}\n\n{skeleton.instruction}"},
    ]
    return skeleton, messages, {"structured_outputs": {"grammar": skeleton.grammar}}
