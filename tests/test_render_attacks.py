"""Hostile scripts aimed at the next script on the same worker, run through the real renderer: each
attack fails or is contained, and a benign script rendered right after it on that worker is
byte-identical to the same script on a clean worker."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator

import pytest

from scigen_rl.render import RenderConfig, Renderer

BENIGN = (
    "import matplotlib.pyplot as plt\nimport numpy as np\n"
    "x = np.linspace(0, 6, 50)\nplt.plot(x, np.sin(x) + np.random.rand(50) * 0.1)\nplt.title('benign')\n"
)
CONFIG = RenderConfig(workers=1, timeout_s=3.0, memory_mb=512, recycle_after=1000)


@pytest.fixture(scope="module")
def clean_png() -> bytes:
    with Renderer(CONFIG) as r:
        result = r.render(BENIGN, "benign.py")
    assert result.ok
    return result.pngs[0]


@pytest.fixture
def worker() -> Iterator[Renderer]:
    with Renderer(CONFIG) as r:
        yield r


def _after(worker: Renderer, clean_png: bytes) -> None:
    for i in range(2):  # the next script, and the one after it, get a clean slate
        result = worker.render(BENIGN, f"benign-{i}.py")
        assert result.ok and result.pngs == [clean_png], result.error


def _script(src: str) -> str:
    return textwrap.dedent(src)


def test_the_folder_around_the_working_directory_cannot_be_changed(
    worker: Renderer, clean_png: bytes
) -> None:
    src = """
        import os
        outcomes = []
        for action in (lambda: os.chmod("..", 0o777), lambda: os.chmod(".", 0o777) or os.chmod("..", 0o777),
                       lambda: open("../planted.py", "w").write("x"), lambda: os.mkdir("../job-999"),
                       lambda: os.rename(".", "../moved")):
            try:
                action()
                outcomes.append("done")
            except OSError as e:
                outcomes.append(type(e).__name__)
        raise SystemExit(repr(outcomes))
    """
    error = worker.render(_script(src), "chmod.py").error or ""
    assert "done" not in error.split("[", 1)[1], error
    _after(worker, clean_png)


def test_files_left_in_the_working_directory_are_gone_for_the_next_script(worker: Renderer) -> None:
    plant = "open('note.txt', 'w').write('from a previous script')\nimport os\nos.makedirs('a/b', exist_ok=True)\n"
    assert worker.render(plant + BENIGN, "plant.py").ok
    look = "import os\nraise SystemExit('seen: ' + repr(sorted(os.listdir('.'))))\n"
    error = worker.render(look, "look.py").error or ""
    assert "seen: []" in error, error


def test_the_files_covering_private_paths_cannot_be_written(worker: Renderer, clean_png: bytes) -> None:
    src = """
        outcomes = []
        for path in ("/etc/shadow", "/root/.bashrc"):
            try:
                with open(path, "w") as f:
                    f.write("planted")
                outcomes.append("written")
            except OSError as e:
                outcomes.append(type(e).__name__)
        raise SystemExit(repr(outcomes))
    """
    error = worker.render(_script(src), "cover.py").error or ""
    assert "written" not in error, error
    peek = "raise SystemExit(repr(open('/etc/shadow').read()))\n"
    assert "planted" not in (worker.render(peek, "peek.py").error or "")
    _after(worker, clean_png)


def test_a_flood_of_small_files_is_a_timeout_and_costs_nothing_to_clean(
    worker: Renderer, clean_png: bytes
) -> None:
    src = """
        import os
        i = 0
        while True:  # past a full disk too: only the deadline stops it
            try:
                with open(f"f{i}", "w") as f:
                    f.write("x")
            except OSError:
                pass
            i += 1
    """
    started = time.monotonic()
    result = worker.render(_script(src), "flood.py")
    assert result.failure == "timeout", result.error
    assert time.monotonic() - started < CONFIG.timeout_s + 3  # nothing walks what it wrote
    _after(worker, clean_png)


def test_a_very_deep_tree_is_cleaned_up(worker: Renderer, clean_png: bytes) -> None:
    src = """
        import os
        for _ in range(5000):
            os.mkdir("d")
            os.chdir("d")
        import matplotlib.pyplot as plt
        plt.plot([0, 1])
    """
    assert worker.render(_script(src), "deep.py").ok
    _after(worker, clean_png)
