"""ImgCoder: the prompt that makes a model plan a diagram and then write its script (matplotlib, or the
language of the renderer the image type is routed to: RDKit, schemdraw, a Graphviz DOT graph, a TikZ
LaTeX document), and the
parsing of what comes back (plan, code), robust to the ways models format their answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .records import Problem

_INTRO = """You draw figures for science problems. Given a problem, you first PLAN the figure and then \
{write}.

Write the plan under the heading "PLAN" with exactly these four parts:
1. Image content: every entity the figure must show (objects, points, lines, forces, axes, \
components) and how they relate (connected to, perpendicular to, inside, acting on).
2. Layout: the coordinates, sizes and arrangement of every entity, so that nothing overlaps.
3. Labels: every value the problem gives (lengths, angles, masses, charges, names) and the entity \
each label is anchored to.
4. Drawing constraints: the conventions of the subject (arrow directions, units, dashed hidden \
lines, right-angle marks) and what must NOT appear: the final answer, any value the solver has to \
compute, and any solution step.

"""

_CODE = {
    "matplotlib": (
        "write ONE standalone Python script that draws it with matplotlib",
        """Then write the script under the heading "CODE" in a single ```python block:
- use only matplotlib, numpy and the Python standard library; read no files and use no network;
- draw exactly one figure, with every label from the plan, readable and not overlapping;
- end with plt.savefig("figure.png", dpi=150, bbox_inches="tight").
""",
    ),
    "rdkit": (
        "write ONE standalone Python script that draws it with RDKit",
        """Then write the script under the heading "CODE" in a single ```python block:
- use RDKit (rdkit.Chem, rdkit.Chem.Draw, rdkit.Chem.AllChem) and the Python standard library; read no \
files and use no network;
- make every molecule from a SMILES string (Chem.MolFromSmiles) and a reaction from reaction SMILES \
with ">>" (AllChem.ReactionFromSmarts(..., useSmiles=True));
- draw exactly one picture: one molecule (Draw.MolToImage), several side by side with the plan's \
names as legends (Draw.MolsToGridImage), or a reaction (Draw.ReactionToImage); label nothing the \
plan leaves out;
- end with show(picture): show is given to the script and takes that picture (a PIL image, a \
molecule, a reaction or PNG bytes).
""",
    ),
    "schemdraw": (
        "write ONE standalone Python script that draws it with schemdraw",
        """Then write the script under the heading "CODE" in a single ```python block:
- use schemdraw (import schemdraw; import schemdraw.elements as elm) and the Python standard library; \
read no files and use no network;
- build the whole circuit inside one `with schemdraw.Drawing() as d:` block, adding each component \
with `d += elm.Resistor().right().label("4 Ω")` and the like (elm.SourceV, elm.Capacitor, \
elm.Inductor, elm.Switch, elm.Ammeter, elm.Line, elm.Dot), so that every loop closes;
- label every component with the name or value the plan gives; the drawing is captured when the \
block ends: save nothing and draw no other figure.
""",
    ),
    "graphviz": (
        "write ONE graph in the DOT language of Graphviz that draws it",
        """Then write the graph under the heading "CODE" in a single ```dot block:
- one `digraph` (arrows) or `graph` (plain lines) holding every node and edge of the plan; quote \
names with spaces and give each node the label the plan lists (label="...");
- set the arrangement with graph attributes (rankdir=TB or LR), node shapes (box, ellipse, circle, \
diamond for a decision) and edge labels; no image, shapefile, imagepath or fontpath attributes and \
no HTML images;
- nothing but the graph in the block: no Python, no prose.
""",
    ),
    "tikz": (
        "write ONE standalone LaTeX document that draws it with TikZ",
        r"""Then write the document under the heading "CODE" in a single ```latex block:
- start with \documentclass[tikz,border=4pt]{standalone} and hold exactly one tikzpicture (a circuitikz environment for a circuit) between \begin{document} and \end{document};
- use only TikZ and its libraries (calc, arrows.meta, angles, quotes, positioning, patterns, decorations.pathreplacing, decorations.markings), pgfplots (\pgfplotsset{compat=1.18}) for plotted functions and data, circuitikz for circuit elements, amsmath and amssymb; no other package, no \input or \include, no image files;
- put every label from the plan at the coordinate of its entity; write numbers and symbols in math mode, and wrap any option value that holds a comma in braces (l={$R = 4\,\Omega$}).
""",
    ),
}
"""Renderer -> what the model writes (the end of the first sentence) and the CODE part of its prompt."""

LANGUAGES = tuple(_CODE)
"""The renderers ImgCoder has a prompt for."""


def system_prompt(renderer: str = "matplotlib") -> str:
    """ImgCoder's instructions for a figure drawn by ``renderer`` (a name of :data:`LANGUAGES`): the
    same four-part plan, then code in that renderer's language."""
    if renderer not in _CODE:
        raise ValueError(f"ImgCoder has no prompt for renderer {renderer!r} (known: {', '.join(LANGUAGES)})")
    write, code = _CODE[renderer]
    return _INTRO.format(write=write) + code


SYSTEM_PROMPT = system_prompt()
"""The matplotlib prompt."""

REPAIR_PROMPT = """Running your script failed:

{error}

Write the corrected, complete script (not a patch) in a single ```python block. Keep the figure the \
same as planned; change only what is needed to make it run and draw the figure."""

DOT_REPAIR_PROMPT = """Drawing your graph failed:

{error}

Write the corrected, complete graph in a single ```dot block. Keep the figure the same as planned; \
change only what is needed to make it lay out and draw."""

TEX_REPAIR_PROMPT = """Compiling your LaTeX document failed:

{error}

Write the corrected, complete document in a single ```latex block. Keep the figure the same as \
planned; change only what is needed to make it compile and draw."""

_REPAIR_PROMPTS = {"graphviz": DOT_REPAIR_PROMPT, "tikz": TEX_REPAIR_PROMPT}

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


def build_messages(problem: Problem, renderer: str = "matplotlib") -> list[dict[str, Any]]:
    """The chat messages that ask for a plan and a script (in ``renderer``'s language) for ``problem``.

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
    return [
        {"role": "system", "content": system_prompt(renderer)},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def repair_messages(
    messages: list[dict[str, Any]],
    response: str,
    error: str,
    max_error_chars: int = 1500,
    renderer: str = "matplotlib",
) -> list[dict[str, Any]]:
    """The conversation that asks the model to fix its script (its graph, for graphviz; its document,
    for tikz) after a failed render."""
    error = error if len(error) <= max_error_chars else "..." + error[-max_error_chars:]
    prompt = _REPAIR_PROMPTS.get(renderer, REPAIR_PROMPT)
    return [
        *messages,
        {"role": "assistant", "content": response},
        {"role": "user", "content": prompt.format(error=error)},
    ]


_MARKERS = {
    "matplotlib": ("plt", "matplotlib"),
    "rdkit": ("rdkit", "Chem", "plt", "matplotlib"),
    "schemdraw": ("schemdraw", "plt", "matplotlib"),
}
"""What a Python script for each renderer names somewhere (matplotlib draws under the other two as well)."""


def _looks_like_code(block: str, renderer: str = "matplotlib") -> bool:
    return bool(_CODE_START.search(block)) and any(m in block for m in _MARKERS[renderer])


def parse_for(text: str, renderer: str = "matplotlib") -> ParsedResponse:
    """The plan and code of an answer written for ``renderer``: a DOT graph for graphviz
    (:func:`parse_dot`), a LaTeX document for tikz (:func:`parse_latex`), a Python script otherwise
    (:func:`parse_response`)."""
    if renderer == "graphviz":
        return parse_dot(text)
    if renderer == "tikz":
        return parse_latex(text)
    return parse_response(text, renderer)


_TEX_DOCUMENT = re.compile(r"\\documentclass\b.*?(?:\\end\{document\}|\Z)", re.S)
_TEX_PICTURE = re.compile(r"\\begin\{(tikzpicture|circuitikz)\}.*?(?:\\end\{\1\}|\Z)", re.S)


def _tex_code(text: str) -> str | None:
    """The first LaTeX document in ``text`` (from ``\\documentclass`` to ``\\end{document}``), else the
    first bare picture (``tikzpicture`` or ``circuitikz`` environment); an unclosed one to the end."""
    for pattern in (_TEX_DOCUMENT, _TEX_PICTURE):
        match = pattern.search(text)
        if match:
            return match.group(0).strip()
    return None


def parse_latex(text: str) -> ParsedResponse:
    r"""Split an answer written for TikZ into plan and LaTeX document.

    A fenced block tagged ``latex``, ``tex`` or ``tikz`` (or untagged) that holds a document or a
    picture wins, the last one when there are several; else a document written without a fence.

    >>> doc = "\\documentclass{standalone}\n\\begin{document}x\\end{document}"
    >>> parse_latex("PLAN\n1. a box\nCODE\n```latex\n" + doc + "\n```").code == doc
    True
    >>> parse_latex("PLAN\n1. a box\nHere: " + doc + " Done.").code == doc
    True
    """
    text = _THINK.sub("", text.replace("\r\n", "\n")).strip()
    blocks = [
        (m.start(), code)
        for m in _FENCE.finditer(text)
        if m.group(1).lower() in ("", "latex", "tex", "tikz") and (code := _tex_code(m.group(2)))
    ]
    if blocks:
        return ParsedResponse(plan=_clean_plan(text[: blocks[0][0]]), code=blocks[-1][1])
    code = _tex_code(text)
    if code is None:
        return ParsedResponse(plan=_clean_plan(text), code=None)
    return ParsedResponse(plan=_clean_plan(text[: text.index(code)]), code=code)


_DOT_START = re.compile(r"^[ \t]*(?:strict\s+)?(?:di)?graph\b[^{\n]*\{", re.M | re.I)


def _dot_graph(text: str) -> str | None:
    """The first whole DOT graph in ``text`` (from ``digraph``/``graph`` to its closing brace, strings
    and comments skipped when counting braces); an unclosed one is taken to the end."""
    match = _DOT_START.search(text)
    if match is None:
        return None
    depth, i, n = 0, match.start(), len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif text.startswith("//", i) or (c == "#" and (i == 0 or text[i - 1] == "\n")):
            i = text.find("\n", i)
            i = n if i < 0 else i
            continue
        elif text.startswith("/*", i):
            i = text.find("*/", i + 2)
            i = n if i < 0 else i + 2
            continue
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[match.start() : i + 1]
        i += 1
    return text[match.start() :].rstrip()


def parse_dot(text: str) -> ParsedResponse:
    """Split an answer written for Graphviz into plan and DOT graph.

    A fenced block tagged ``dot``, ``graphviz`` or ``gv`` (or untagged) that holds a graph wins, the
    last one when there are several; else a graph written without a fence after the plan.

    >>> parse_dot("PLAN\\n1. Image content: A to B\\nCODE\\n```dot\\ndigraph G { A -> B; }\\n```").code
    'digraph G { A -> B; }'
    >>> parse_dot("PLAN\\n1. nodes\\n\\ndigraph { a -> b [label=\\"}\\"]; }\\nThat is all.").code
    'digraph { a -> b [label="}"]; }'
    """
    text = _THINK.sub("", text.replace("\r\n", "\n")).strip()
    blocks = [
        (m.start(), graph)
        for m in _FENCE.finditer(text)
        if m.group(1).lower() in ("", "dot", "graphviz", "gv") and (graph := _dot_graph(m.group(2)))
    ]
    if blocks:
        return ParsedResponse(plan=_clean_plan(text[: blocks[0][0]]), code=blocks[-1][1].strip())
    match = _DOT_START.search(text)
    if match is None:
        return ParsedResponse(plan=_clean_plan(text), code=None)
    return ParsedResponse(plan=_clean_plan(text[: match.start()]), code=_dot_graph(text))


def parse_response(text: str, renderer: str = "matplotlib") -> ParsedResponse:
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
        if lang in ("", "python", "py", "python3") and _looks_like_code(body, renderer)
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
        if match is None or not _looks_like_code(text[match.start() :], renderer):
            return ParsedResponse(plan=_clean_plan(text), code=None)
        plan_text, code = text[: match.start()], text[match.start() :]
    return ParsedResponse(plan=_clean_plan(plan_text), code=code.strip() or None)


def _clean_plan(text: str) -> str | None:
    text = re.sub(r"(?im)^\s*#*\s*\**(code|python code|script)\**\s*:?\s*$", "", text)
    text = text.strip().strip("`").strip()
    text = re.sub(r"(?i)^\s*#*\s*\**plan\**\s*:?\s*\n", "", text).strip()
    return text or None
