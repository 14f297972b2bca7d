"""ImgCoder as the paper runs it (``build --prompt paper``): one user message with the question only, a
four-part plan, then one script from a fixed template; the **first** code block is taken, ``plt.show()``
becomes a save at 100 dpi with ``bbox_inches='tight'``, and there is no repair round.

The prompt is the project's own text of that form; ``--paper-repo PATH`` reads the paper's own
(``src/infer/scigen/prompts.py``, ``IMGCODER_PYTHON_PROMPT``) from a checkout instead.
"""

from __future__ import annotations

import re
from typing import Any

from .paper_repo import template
from .records import Problem

PROMPT = """
You illustrate science problems with Python. You get:
- **Original Question** (`{{question}}`): the full text of a problem.

What to do:
1. First **PLAN** the diagram.
2. Then write one standalone, runnable Python script that draws it with Matplotlib.
Goal: the diagram shows the problem's **initial setting**:
   - **Complete**: every object, shape and **given value** of the text (lengths, angles, forces, \
names) is drawn and labelled.
   - **No answer**: nothing of the result, the solution or the steps that lead to it; only what is \
given before solving.
Draw in a clean textbook style.

---

### Output (two sections)

#### Section 1: Plan
A plan in exactly four parts, 1-4 bullet points each:

1. **Image Content**: the elements to draw (objects, shapes, points, lines); every entity of the text.
2. **Layout**: where each element goes: relative positions, estimated coordinates, scale.
3. **Labels**: the labels and annotations; list **every given value** (numbers, variables) of the \
text that must be labelled to show the initial state.
4. **Drawing Considerations**: what must **NOT** be shown (so that the solution does not leak), and \
Matplotlib details (for instance `set_aspect('equal')`, patches).

---

#### Section 2: Python Code
One **complete, runnable script** of this shape:

```python
import matplotlib.pyplot as plt
import matplotlib.patches as patches
import numpy as np

def draw_diagram():
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.set_aspect('equal')  # keeps geometry undistorted
    ax.axis('off')          # no axes unless the figure is a graph

    # coordinates, then shapes and lines, then every label and given value

    plt.tight_layout()
    plt.show()

if __name__ == "__main__":
    draw_diagram()
```

Rules:
* **Initial setting only**: the figure shows what is given, never the solution.
* **Complete**: if the text says "the radius is 5", draw the circle and label its radius "r = 5".
* **Accurate geometry**: use `ax.set_aspect('equal')` for geometric and physical diagrams.
* **Style**: even line widths, clean alignment, readable font sizes.

---

### Input

Original Question:
{question}

---

Now write the two sections, following the format exactly.
"""

SAVE = "plt.savefig('figure.png', dpi=100, bbox_inches='tight')"
"""What ``plt.show()`` becomes, as in the paper's runner (the sandbox captures the saved figure)."""
PRELUDE = "import matplotlib\nimport matplotlib.pyplot as plt\nimport matplotlib.patches as patches\nimport numpy as np\n"
"""The names the paper's runner gives every script before running it (a script that forgets an import
still runs there)."""
_BLOCKS = (r"```python\n(.*?)```", r"```py\n(.*?)```", r"```\n(.*?)```")


def paper_prompt(repo: str | None = None) -> str:
    """The project's template, or the paper's own read from a checkout (``{question}`` its one slot)."""
    if repo is None:
        return PROMPT
    return template(repo, "src/infer/scigen/prompts.py", "IMGCODER_PYTHON_PROMPT", {"question": "Q"})


def paper_messages(problem: Problem, prompt: str = PROMPT) -> list[dict[str, Any]]:
    """One user message, no system prompt: the template filled with the question (nothing else).

    >>> p = Problem(id="p", question="A 2 kg block on a 30° incline.", answer="9.8 N", source="t",
    ...             image_type="Physics - Mechanical", elements=["an incline"])
    >>> (m,) = paper_messages(p)
    >>> m["role"], "A 2 kg block on a 30° incline." in m["content"], "incline" in m["content"].split("Original Question:")[0]
    ('user', True, False)
    """
    return [{"role": "user", "content": prompt.format(question=problem.question)}]


def first_code_block(text: str) -> tuple[str, str | None]:
    """(the text before the code, the code): the first ```python block, else the first ```py block, else
    the first bare ``` block; (text, None) when there is none.

    >>> first_code_block("plan\\n```python\\nA\\n```\\n```python\\nB\\n```")
    ('plan\\n', 'A\\n')
    >>> first_code_block("```\\nbare\\n```\\n```py\\nshort\\n```")[1]
    'short\\n'
    """
    for pattern in _BLOCKS:
        match = re.search(pattern, text, re.DOTALL)
        if match:
            return text[: match.start()], match.group(1)
    return text, None


def paper_script(code: str) -> str:
    """The script as the paper's runner executes it: its usual names imported, ``plt.close()`` made a
    no-op, ``plt.show()`` (or the end, without one) a save at 100 dpi with a tight bounding box.

    >>> print(paper_script("plt.plot([1])\\nplt.show()\\nplt.close()").removeprefix(PRELUDE))
    plt.plot([1])
    plt.savefig('figure.png', dpi=100, bbox_inches='tight')
    pass
    """
    code = re.sub(r"plt\.close\(\)", "pass", code)
    code = code.replace("plt.show()", SAVE) if "plt.show()" in code else f"{code}\n{SAVE}"
    return PRELUDE + code
