"""Reading the paper's prompts from a user's checkout of its repository (SciGenBench/SciGenBench).

The templates are the authors' text: the project does not ship them, it reads them at run time from a
checkout the user points at (``--paper-repo PATH``). The Python files are parsed, never executed.
"""

from __future__ import annotations

import ast
from pathlib import Path


def string_constant(path: Path, name: str) -> str:
    """The value of the module-level ``name = "..."`` in a Python file, read without running it (the
    first assignment: what a module that imports it sees before anything rebinds it)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError) as e:
        raise ValueError(f"--paper-repo: cannot read {path}: {e}") from None
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value
            raise ValueError(f"--paper-repo: {path}: {name} is not a plain string")
    raise ValueError(f"--paper-repo: {path} defines no {name}")


def template(repo: str, file: str, name: str, placeholders: dict[str, str]) -> str:
    """The template ``name`` of ``file`` in the checkout ``repo``, checked to take exactly ``placeholders``
    (each present; ``str.format`` with them succeeds)."""
    root = Path(repo)
    if not (root / "src").is_dir():
        raise ValueError(f"--paper-repo {repo}: not a checkout of SciGenBench/SciGenBench (no src/)")
    text = string_constant(root / file, name)
    wanted = ", ".join("{" + k + "}" for k in placeholders)
    try:
        text.format(**placeholders)
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(
            f"--paper-repo: {file} {name} is not a template of {wanted}: {type(e).__name__}: {e}"
        ) from None
    missing = [k for k in placeholders if "{" + k + "}" not in text]
    if missing:
        raise ValueError(f"--paper-repo: {file} {name} lacks {', '.join('{' + k + '}' for k in missing)}")
    return text
