"""benchmarks/render_tools.py: one JSON object with each renderer's numbers, and skips never silent."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from .conftest import REPO

SCRIPT = REPO / "benchmarks" / "render_tools.py"


def test_one_renderer_reports_its_numbers_flat_and_nested() -> None:
    pytest.importorskip("pygraphviz", reason="pygraphviz (the Graphviz library, in-process) is not installed")
    done = subprocess.run([sys.executable, str(SCRIPT), "--renderers", "graphviz", "--repeat", "1"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    row = result["renderers"]["graphviz"]
    assert set(row) == {"figures", "cold_s_per_figure", "sandbox_s_per_figure", "speedup_vs_cold", "startup_s",
                        "cold_ok", "sandbox_ok"}  # fmt: skip
    assert row["figures"] == len(list((REPO / "benchmarks" / "graphviz").glob("*.dot")))
    assert row["cold_ok"] == row["sandbox_ok"] == row["figures"]
    assert row["speedup_vs_cold"] == pytest.approx(
        row["cold_s_per_figure"] / row["sandbox_s_per_figure"], rel=0.02
    )
    # benchmarks/median.py takes medians of top-level numbers only: the same numbers, flat.
    assert {f"graphviz_{key}": value for key, value in row.items()}.items() <= result.items()
    assert result["skipped"] == {} and result["repeat"] == 1


def test_a_renderer_that_cannot_run_is_skipped_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("render_tools", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr("scigen_rl.render.renderers.unavailable", lambda name: f"no {name} here")
    monkeypatch.setattr(sys, "argv", ["render_tools.py", "--renderers", "tikz", "rdkit", "--repeat", "1"])
    module.main()
    out, err = capsys.readouterr()
    result = json.loads(out.strip().splitlines()[-1])
    assert result["skipped"] == {"tikz": "no tikz here", "rdkit": "no rdkit here"}
    assert result["renderers"] == {}
    assert "skipping tikz: no tikz here" in err and "skipping rdkit: no rdkit here" in err
