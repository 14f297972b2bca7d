"""`benchmarks/mutation_report.py` on a real mutmut run over a small project made here: the score
counts killed against survived, a listed equivalent is set aside only while it still writes the line
it was listed for, and the target decides the exit status."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).with_name("mutmut")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not MUTMUT.exists():
        pytest.skip("mutmut is not installed (it comes with the dev extra)")
    root = tmp_path_factory.mktemp("mutated")
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "clip.py").write_text(
        textwrap.dedent(
            '''
            def clip(x: int, hi: int) -> int:
                """x, at most hi."""
                return hi if x > hi else x


            def label(x: int) -> str:
                return "big" if x > 100 else "small"


            def total(xs: list[int]) -> list[int]:
                return sorted(
                    xs,
                    key=None,
                    reverse=False,
                )
            '''
        )
    )
    (root / "tests").mkdir()
    (root / "tests" / "test_clip.py").write_text(
        "from pkg.clip import clip, label, total\n\n\ndef test_clip() -> None:\n"
        "    assert clip(5, 3) == 3 and clip(2, 3) == 2 and clip(3, 3) == 3\n\n\n"
        "def test_label() -> None:\n    assert label(500) == 'big'\n\n\n"
        "def test_total() -> None:\n    assert total([2, 1]) == [1, 2]\n"
    )
    (root / "pyproject.toml").write_text(
        '[tool.mutmut]\nsource_paths = ["pkg"]\npytest_add_cli_args = ["-p", "no:randomly", "-p", "no:cacheprovider"]\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    done = subprocess.run(
        [str(MUTMUT), "run", "--max-children", "1"],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    shutil.copytree(
        ROOT / "benchmarks", root / "benchmarks", ignore=shutil.ignore_patterns("scripts", "*.png")
    )
    return root


def _report(root: Path, equivalents: str, *args: str) -> tuple[int, str, str]:
    (root / "benchmarks" / "mutation_equivalents.yaml").write_text(equivalents)
    done = subprocess.run(
        [sys.executable, "benchmarks/mutation_report.py", "--mutmut", str(MUTMUT), *args],
        cwd=root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    report = (root / "runs" / "mutation" / "report.md").read_text() if (root / "runs").exists() else ""
    return done.returncode, done.stdout + done.stderr, report


def _survivors(root: Path) -> list[str]:
    out = subprocess.run([str(MUTMUT), "results"], cwd=root, capture_output=True, text=True).stdout
    return sorted(
        line.split(":")[0].strip() for line in out.splitlines() if line.strip().endswith(": survived")
    )


def test_score_equivalents_and_target(project: Path) -> None:
    survivors = _survivors(project)
    assert any(".x_label__" in s for s in survivors)  # label's "small" branch is untested
    code, out, report = _report(project, "equivalent: {}\n", "--target", "0.5")
    killed = int(out.split("(")[1].split(" killed")[0])
    assert f"{killed} killed, {len(survivors)} survived, 0 equivalent" in out
    assert f"{killed / (killed + len(survivors)):.1%}" in out
    assert all(f"`{s}`" in report for s in survivors) and "- return" in report

    code, out, _ = _report(project, "equivalent: {}\n", "--target", "1.0")
    assert code == 1 and "Target 100%: not met" in (project / "runs" / "mutation" / "report.md").read_text()

    draft = subprocess.run(
        [sys.executable, "benchmarks/mutation_report.py", "--mutmut", str(MUTMUT), "--draft"],
        cwd=project, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert "removes: key=None," in draft  # a mutant that only deletes a line is matched by that line
    entries = draft.replace("reason: TODO", "reason: the test of this example leaves it alive")
    code, out, report = _report(project, "equivalent:\n" + entries, "--target", "1.0")
    assert code == 0 and f"0 survived, {len(survivors)} equivalent set aside" in out

    # an entry whose line no longer matches what the mutant writes is stale: a survivor again
    first_line = next(line for line in entries.splitlines() if line.strip().startswith("line:"))
    wrong = entries.replace(first_line, "    line: something else entirely", 1)
    code, out, report = _report(project, "equivalent:\n" + wrong, "--target", "1.0")
    assert code == 1 and "1 survived" in out and "match no mutant any more" in report
    wrong = entries.replace("removes: key=None,", "removes: xs,", 1)
    code, out, report = _report(project, "equivalent:\n" + wrong, "--target", "1.0")
    assert code == 1 and "1 survived" in out and "match no mutant any more" in report
