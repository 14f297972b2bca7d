"""Where the TeX engine the TikZ renderer runs is, and whether it can compile TikZ figures here.

Light on purpose: the parent process asks before it starts any worker (and the router before it
routes a type to TikZ), so a missing TeX installation is one clear message, never a failed figure
per problem.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

WORKER_PATH = "/usr/local/bin:/usr/bin:/bin"
"""The PATH render workers get (``pool.worker_environment``): the engine is looked up on it."""
REQUIRED_FILES = ("tikz.sty", "standalone.cls", "pgfplots.sty", "circuitikz.sty")
"""What ImgCoder's TikZ prompt lets a model use: TikZ, the standalone class, pgfplots, circuitikz."""
DEBIAN_PACKAGES = ("texlive-latex-base", "texlive-latex-extra", "texlive-pictures")
"""The Debian packages that hold the engine and every file of :data:`REQUIRED_FILES` (``make setup``
installs them when it runs as root)."""
INSTALL_HINT = (
    f"install a TeX distribution with TikZ (Debian: apt-get install --no-install-recommends "
    f"{' '.join(DEBIAN_PACKAGES)}; `make setup` does it as root)"
)


def engine_path(engine: str) -> tuple[str, str] | None:
    """(the real file of ``engine``, the path it was found at), or None when it is not installed.

    ``engine`` is a name looked up on :data:`WORKER_PATH`, or a path. The real file, not a symlink
    (``pdflatex`` -> ``pdftex``), is what the sandbox allows; the path found is the program's
    ``argv[0]``, from which the engine learns its name (so its format) and its installation."""
    found = engine if os.sep in engine else shutil.which(engine, path=WORKER_PATH)
    if not found or not os.access(found, os.X_OK):
        return None
    return os.path.realpath(found), os.path.abspath(found)


@functools.lru_cache(maxsize=8)
def missing(engine: str = "pdflatex") -> str | None:
    """Why TikZ figures cannot be compiled here (no engine, or files it needs not found), or None."""
    paths = engine_path(engine)
    if paths is None:
        return f"the TeX engine {engine!r} is not installed (looked on {WORKER_PATH}); {INSTALL_HINT}"
    path = paths[0]
    kpsewhich = Path(path).with_name("kpsewhich")
    if not kpsewhich.exists():
        return f"kpsewhich is not beside {path}: not a TeX installation; {INSTALL_HINT}"
    try:
        found = subprocess.run(
            [str(kpsewhich), *REQUIRED_FILES],
            capture_output=True,
            text=True,
            timeout=30,
            env={"PATH": WORKER_PATH, "HOME": "/nonexistent"},
        ).stdout.split()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"kpsewhich failed ({e}); {INSTALL_HINT}"
    names = {Path(f).name for f in found}
    lacking = [f for f in REQUIRED_FILES if f not in names]
    if lacking:
        return f"the TeX installation lacks {', '.join(lacking)}; {INSTALL_HINT}"
    return None


if __name__ == "__main__":  # `python -m scigen_rl.render.tex_tools`: exit 1, saying why, when TikZ cannot run
    import sys

    reason = missing(sys.argv[1] if len(sys.argv) > 1 else "pdflatex")
    if reason:
        print(f"TikZ: {reason}", file=sys.stderr)
    sys.exit(1 if reason else 0)
