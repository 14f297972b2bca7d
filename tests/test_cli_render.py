"""`scigen-rl render` as a user runs it: a real subprocess, real files, JSON lines and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
KEYS = {"script", "status", "failure", "png", "seconds", "warnings", "error"}


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scigen_rl.cli", "render", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_render_writes_pngs_and_one_json_line_per_script(tmp_path: Path) -> None:
    good = tmp_path / "incline.py"
    good.write_text(
        "import matplotlib.pyplot as plt\nplt.plot([0, 4], [0, 3])\nplt.text(2, 1, r'$\\theta = 37^\\circ$')\n"
        "plt.savefig('incline.png', dpi=300)\n"
    )
    second = tmp_path / "two_figures.py"
    second.write_text(
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('a.png')\nplt.figure()\nplt.bar([1], [2])\nplt.show()\n"
    )
    out = tmp_path / "out"
    proc = _run(str(good), str(second), "--out-dir", str(out), "--workers", "1", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [Path(x["script"]).name for x in lines] == ["incline.py", "two_figures.py"]
    for line in lines:
        assert set(line) == KEYS
        assert line["status"] == "ok" and line["failure"] is None and line["error"] is None
        with Image.open(line["png"]) as png:
            assert png.size[0] > 100
    assert lines[0]["png"] == str(out / "incline.png")
    assert (out / "two_figures.figures" / "2.png").is_file()
    assert any("the others in two_figures.figures/" in w for w in lines[1]["warnings"])
    assert not (tmp_path / "incline.png").exists()  # the script's own savefig path is not written


def test_failures_exit_1_and_remove_stale_outputs(tmp_path: Path) -> None:
    script = tmp_path / "plot.py"
    script.write_text("import matplotlib.pyplot as plt\nplt.plot([1, 2])\n")
    out = tmp_path / "out"
    assert _run(str(script), "--out-dir", str(out), "--quiet", cwd=tmp_path).returncode == 0
    assert (out / "plot.png").is_file()
    script.write_text("import time\ntime.sleep(60)\n")
    proc = _run(str(script), "--out-dir", str(out), "--timeout-s", "1", "--quiet", cwd=tmp_path)
    assert proc.returncode == 1
    line = json.loads(proc.stdout)
    assert line["status"] == "failed" and line["failure"] == "timeout" and line["png"] is None
    assert not (out / "plot.png").exists()  # the PNG of an earlier run would contradict this result


def test_summary_table_and_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.py"
    bad.write_bytes("# caf\xe9\n".encode("latin-1"))
    proc = _run(str(bad), "--out-dir", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["error"].startswith("not UTF-8")
    assert "rendered 0/1" in proc.stderr and "syntax" in proc.stderr
    missing = _run(str(tmp_path / "nope.py"), "--out-dir", str(tmp_path / "o"), cwd=tmp_path)
    assert missing.returncode == 2 and "nope.py" in missing.stderr
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        (tmp_path / d / "same.py").write_text("x = 1\n")
    clash = _run(str(tmp_path / "a/same.py"), str(tmp_path / "b/same.py"), "--out-dir", "o", cwd=tmp_path)
    assert clash.returncode == 2 and "same" in clash.stderr


def test_benchmark_reports_its_ratios_on_its_last_line(tmp_path: Path) -> None:
    # relative to where it is started: the cold passes run elsewhere and must still find them
    scripts = [p.relative_to(REPO) for p in sorted((REPO / "benchmarks" / "scripts").glob("*.py"))[:2]]
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "render_throughput.py"),
            *map(str, scripts),
            "--repeat",
            "1",
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert "0 failed; 2 at a time" in proc.stdout
    last = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(last) == {
        "cold_s",
        "cold_n_s",
        "workers",
        "inproc_s",
        "sandbox1_s",
        "sandboxN_s",
        "speedup_vs_cold",
        "speedup_vs_cold_n",
        "ratio_vs_inproc",
    }
    assert last["speedup_vs_cold"] == pytest.approx(last["cold_s"] / last["sandbox1_s"], rel=0.02)
    assert last["speedup_vs_cold_n"] == pytest.approx(last["cold_n_s"] / last["sandboxN_s"], rel=0.02)
    assert last["workers"] == 2
    assert last["ratio_vs_inproc"] == pytest.approx(last["inproc_s"] / last["sandbox1_s"], rel=0.02)
    assert "0 failed" in proc.stdout and "failed;" in proc.stdout


def test_extra_figures_never_land_on_another_scripts_png(tmp_path: Path) -> None:
    two = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.figure()\nplt.bar([1], [2])\n"
    one = "import matplotlib.pyplot as plt\nplt.scatter([1, 2], [3, 1])\n"
    names = {"x.py": two, "x-2.py": one, "x.figures.py": one, "2.py": one}
    for name, code in names.items():
        (tmp_path / name).write_text(code)
    out = tmp_path / "out"
    proc = _run(*names, "--out-dir", str(out), "--workers", "1", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    pngs = {
        Path(line["script"]).name: Path(line["png"]).read_bytes()
        for line in map(json.loads, proc.stdout.splitlines())
    }
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == [
        "2.png", "x-2.png", "x.figures.png", "x.figures/2.png", "x.png",
    ]  # fmt: skip
    assert (
        pngs["x-2.py"] == pngs["x.figures.py"] == pngs["2.py"] != (out / "x.figures" / "2.png").read_bytes()
    )
    # a rerun with one figure drops the stale extra
    (tmp_path / "x.py").write_text(one)
    assert _run("x.py", "--out-dir", str(out), "--quiet", cwd=tmp_path).returncode == 0
    assert not (out / "x.figures").exists() and (out / "x-2.png").is_file()


def test_names_and_texts_that_break_json_lines_are_escaped(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.py")  # not UTF-8: a lone surrogate once decoded
    (tmp_path / name).write_text("raise ValueError('a\u2028b\u0085c')\n")
    proc = subprocess.run(
        [sys.executable, "-m", "scigen_rl.cli", "render", name, "--out-dir", "out", "--quiet"],
        cwd=tmp_path, capture_output=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.split(b"\n")
    assert len(lines) == 2 and lines[1] == b""  # one line, whatever reader splits it
    text = lines[0].decode("utf-8")
    assert len(text.splitlines()) == 1
    line = json.loads(text)
    assert line["script"].endswith("caf\udce9.py") and "a\u2028b\x85c" in line["error"]
