"""`scigen-rl build` end to end against the stand-in model server: repair, filters, export, resume."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from PIL import Image

from scigen_rl.llm.standin import StandInServer

from .conftest import plain

GOOD = """PLAN
1. Image content: the objects of the problem.
2. Layout: centred.
3. Labels: the given values.
4. Drawing constraints: no answer.

CODE
```python
import matplotlib.pyplot as plt
import numpy as np
fig, ax = plt.subplots(figsize=(5, 4))
rng = np.random.default_rng({seed})
pts = rng.uniform(0, 4, size=({n}, 2))
ax.fill(pts[:, 0], pts[:, 1], color=plt.cm.tab10({n} % 10), alpha=0.6)
ax.scatter(*rng.uniform(0, 4, size=(2, {n})), s=80)
ax.text(2, -0.4, "4 units {tag}")
ax.set_title("{title}")
ax.axis("off")
plt.savefig("figure.png", bbox_inches="tight")
```
"""
BROKEN = "PLAN\n1. Image content: x\n```python\nimport matplotlib.pyplot as plt\nplt.plot([0, 1]\n```"


def model(body: dict[str, Any]) -> str:
    """A scripted stand-in model: broken first for one problem, leaky for another, fine otherwise."""
    user = body["messages"][1]["content"]
    repairing = "Running your script failed" in body["messages"][-1]["content"]
    key = user.split("\n")[1][:40].replace('"', "'")
    seed = sum(map(ord, key))
    good = GOOD.replace("{seed}", str(seed)).replace("{n}", str(3 + seed % 6))
    if "Milky Way" in user and not repairing:
        return BROKEN
    if "2110-kg space station" in user:
        return good.replace("{title}", "F = 1.76e+04 N").replace("{tag}", key[:10])  # draws the answer
    if "cannot" in user:
        return "I cannot draw this."
    return good.replace("{title}", key).replace("{tag}", key[:10])


def _build(
    server: StandInServer, run_dir: Path, limit: int, data: Path, *extra: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "scigen_rl.cli", "build", "--run-dir", str(run_dir), "--limit", str(limit),
         "--scigenbench-dir", str(data), "--llm.base-url", server.base_url, "--llm.model", "stand-in",
         "--llm.api-key-env", "STANDIN_KEY", "--render.workers", "2", "--concurrency", "4", *extra],
        env=dict(os.environ, STANDIN_KEY="test-key"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _finish(proc: subprocess.Popen[str], timeout: float = 300) -> int:
    """The build's exit status, its output read to the end (a full pipe would stall it) and closed."""
    out, err = proc.communicate(timeout=timeout)
    if proc.returncode:
        print(out, err)
    return proc.returncode


def _rows(run_dir: Path) -> list[dict]:
    return pq.read_table(run_dir / "export" / "train.parquet").to_pylist()


def test_build_exports_verl_rows_with_repair_and_filters(tmp_path: Path, shipped_data: Path) -> None:
    server = StandInServer(reply=model)
    try:
        proc = _build(server, tmp_path / "run", 8, shipped_data / "scigenbench")
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        summary = json.loads(out.strip().splitlines()[-1])
        assert summary["attempted"] == 8 and summary["rendered"] == 8
        saved = json.loads((tmp_path / "run" / "summary.json").read_text())
        assert saved["exported"] == summary["exported"] == 8 - summary["filtered"]
        figures = [
            json.loads(line)
            for line in (tmp_path / "run" / "synthesize" / "figures.jsonl").read_text().splitlines()
        ]
        milky = next(f for f in figures if f["problem_id"] == "webinstruct-994992")
        assert milky["status"] == "ok" and milky["repair_rounds"] == 1
        assert "build summary" in err and "Physics - Astronomical" in err
        station = next(f for f in figures if f["problem_id"] == "webinstruct-10985")
        assert station["extra"]["rejected"] == ["answer_leak"] and "1.76e+04" in station["extra"]["leak"]
        assert summary["filtered"] >= 1
        # Every dropped problem is listed with its reason, on the screen and in summary.json.
        dropped = {d["id"]: d for d in saved["dropped"]}
        assert len(dropped) == summary["filtered"] and dropped["webinstruct-10985"]["reason"] == "answer_leak"
        assert "dropped webinstruct-10985: answer_leak" in err and f"exported {summary['exported']}" in err
        listed = [
            json.loads(line)
            for line in (tmp_path / "run" / "export" / "dropped.jsonl").read_text().splitlines()
        ]
        assert listed == saved["dropped"]  # each filtered figure named with its reason in the run's records
        # The contact sheet: one tile per rendered figure, two per row of four.
        sheet = saved["contact_sheet"]
        assert sheet["figures"] == sheet["of"] == 8 and f"contact sheet: {sheet['path']}" in err
        with Image.open(sheet["path"]) as image:
            assert image.size == (4 * 320, 2 * (320 + 44))
        rows = (
            _rows(tmp_path / "run") + pq.read_table(tmp_path / "run" / "export" / "val.parquet").to_pylist()
        )
        assert len(rows) == summary["exported"]
        for row in rows:
            assert (
                row["prompt"][0]["content"].startswith("<image>")
                and row["images"][0]["bytes"][:4] == b"\x89PNG"
            )
            assert (
                row["data_source"] == "scigen/imgcoder:stand-in" and row["reward_model"]["style"] == "model"
            )
        calls = len(server.requests)
        again = _build(server, tmp_path / "run", 8, shipped_data / "scigenbench")
        assert _finish(again) == 0
        assert len(server.requests) == calls  # nothing redone, nothing re-asked

        # The export stage alone, with another split and other scaling fractions: no model call.
        run = tmp_path / "run"
        cmd = [sys.executable, "-m", "scigen_rl.cli", "export", "--run-dir", str(run)]
        done = subprocess.run(
            [*cmd, "--val-fraction", "0", "--scaling-fractions", "0.5", "1"], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.strip().splitlines()[-1]) == summary
        manifest = json.loads((run / "export" / "manifest.json").read_text())
        assert manifest["val"]["rows"] == 0 and manifest["train"]["rows"] == summary["exported"]
        assert [s["fraction"] for s in manifest["scaling_subsets"]] == [0.5, 1.0]
        assert len(pq.read_table(run / "export" / "val.parquet")) == 0
        assert len(server.requests) == calls
        bad = subprocess.run([*cmd, "--scaling-fractions", "0.5", "2"], capture_output=True, text=True)
        assert bad.returncode == 2 and "scaling_fractions: each must lie in (0, 1]" in plain(bad.stderr)
        missing = subprocess.run(
            [sys.executable, "-m", "scigen_rl.cli", "export", "--run-dir", str(tmp_path / "nowhere")],
            capture_output=True,
            text=True,
        )
        assert missing.returncode == 2 and "not a build's run directory" in missing.stderr
    finally:
        server.close()


def test_kill_9_then_resume_gives_the_same_output(tmp_path: Path, shipped_data: Path) -> None:
    slow = StandInServer(reply=lambda body: (time.sleep(0.3), model(body))[1])
    try:
        reference = _build(slow, tmp_path / "clean", 16, shipped_data / "scigenbench")
        assert _finish(reference) == 0
        victim = _build(slow, tmp_path / "killed", 16, shipped_data / "scigenbench")
        figures = tmp_path / "killed" / "synthesize" / "figures.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (
            not figures.exists() or len(figures.read_text().splitlines()) < 5
        ):
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        _finish(victim)
        done_before = len(figures.read_text().splitlines())
        assert 5 <= done_before < 16
        resumed = _build(slow, tmp_path / "killed", 16, shipped_data / "scigenbench")
        assert _finish(resumed) == 0
        ids = [json.loads(line)["problem_id"] for line in figures.read_text().splitlines()]
        assert len(ids) == len(set(ids)) == 16  # no duplicate, nothing lost
        assert _rows(tmp_path / "killed") == _rows(tmp_path / "clean")
    finally:
        slow.close()


def test_a_model_outage_leaves_problems_for_the_next_run(tmp_path: Path, shipped_data: Path) -> None:
    down = {"on": True}
    server = StandInServer(reply=model)
    try:
        # While "down", every request for the Milky Way problem fails with 500, beyond the retries.
        original = server.handle

        def handle(h: Any) -> None:
            body = h.rfile.read(int(h.headers["Content-Length"]))
            if down["on"] and b"Milky Way" in body:
                return h._send(500, {"error": {"message": "server busy"}})
            h.rfile = io.BytesIO(body)  # put the body back for the real handler
            return original(h)

        server.handle = handle  # type: ignore[method-assign]
        first = _build(server, tmp_path / "run", 3, shipped_data / "scigenbench", "--llm.max-retries", "1")
        out, err = first.communicate(timeout=300)
        assert first.returncode == 1 and "could not reach the model" in err
        figures = tmp_path / "run" / "synthesize" / "figures.jsonl"
        assert "webinstruct-994992" not in figures.read_text() and len(figures.read_text().splitlines()) == 2
        down["on"] = False
        second = _build(server, tmp_path / "run", 3, shipped_data / "scigenbench")
        assert _finish(second) == 0
        ids = [json.loads(line)["problem_id"] for line in figures.read_text().splitlines()]
        assert sorted(ids) == sorted(set(ids)) and "webinstruct-994992" in ids and len(ids) == 3
    finally:
        server.close()


def test_build_verify_exports_the_filtered_set(tmp_path: Path, shipped_data: Path) -> None:
    """--verify: every rendered figure's quizzes go to a (stand-in) vision model; figures with every
    quiz right also go to export/filtered, and every row carries its R_inv."""
    from scigen_rl.loaders import load_scigenbench

    problems = load_scigenbench(shipped_data / "scigenbench")[:6]
    wrong = {problems[1].quizzes[0].question} if problems[1].quizzes else set()
    answers = {q.question: q.correct_option for p in problems for q in p.quizzes}

    def both(body: dict[str, Any]) -> str:
        content = body["messages"][-1]["content"]
        if isinstance(content, list):  # a verification request: image + quiz
            question = content[1]["text"].split("Question: ", 1)[1].splitlines()[0]
            right = answers[question]
            return f"The answer is {'A' if right != 'A' else 'B'}." if question in wrong else right
        return model(body)

    server = StandInServer(reply=both)
    try:
        proc = _build(server, tmp_path / "run", 6, shipped_data / "scigenbench", "--verify", "--verifier.base-url",
                      server.base_url, "--verifier.model", "vl", "--verifier.api-key-env", "STANDIN_KEY")  # fmt: skip
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        # The same build's figures on the benchmark: the same R_inv as the build's own verification.
        bench = subprocess.run(
            [sys.executable, "-m", "scigen_rl.cli", "bench", "--run-dir", str(tmp_path / "run"), "--metrics", "rinv",
             "--out-dir", str(tmp_path / "bench"), "--judge.base-url", server.base_url, "--judge.model", "vl",
             "--judge.api-key-env", "STANDIN_KEY"],
            capture_output=True, text=True, timeout=300, env=dict(os.environ, STANDIN_KEY="test-key"),
        )  # fmt: skip
        assert bench.returncode == 0, bench.stderr
    finally:
        server.close()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    v = summary["verification"]
    benched = json.loads((tmp_path / "bench" / "summary.json").read_text())
    assert benched["generator"] == "imgcoder:stand-in" and benched["overall"]["figures"] == 6
    verdicts = [
        json.loads(line) for line in (tmp_path / "run" / "verify" / "verdicts.jsonl").read_text().splitlines()
    ]
    assert round(benched["overall"]["perfect"] * 6) == sum(
        x["perfect"] for x in verdicts
    )  # shares are rounded
    rows = _rows(tmp_path / "run") + pq.read_table(tmp_path / "run" / "export" / "val.parquet").to_pylist()
    verified = [r for r in rows if r["extra_info"]["r_inv"] is not None]
    assert v["verified"] == len(verified) > 0 and v["unverifiable"] == len(rows) - len(verified)
    filtered = pq.read_table(tmp_path / "run" / "export" / "filtered" / "train.parquet").to_pylist()
    filtered += pq.read_table(tmp_path / "run" / "export" / "filtered" / "val.parquet").to_pylist()
    assert {r["extra_info"]["problem_id"] for r in filtered} == {
        r["extra_info"]["problem_id"] for r in verified if r["extra_info"]["perfect"]
    }
    assert v["filtered_exported"] == len(filtered) and all(r["extra_info"]["r_inv"] == 1.0 for r in filtered)
    assert 0 < len(filtered) < len(verified)  # the one wrong quiz keeps its figure out
    assert "filtered set (R_inv >= 1)" in err


def test_a_recorded_figure_whose_png_broke_is_rendered_again(tmp_path: Path, shipped_data: Path) -> None:
    server = StandInServer(reply=model)
    run = tmp_path / "run"
    try:
        assert _finish(_build(server, run, 3, shipped_data / "scigenbench")) == 0
        before = _rows(run)
        figures = [
            json.loads(line) for line in (run / "synthesize" / "figures.jsonl").read_text().splitlines()
        ]
        ok = [f for f in figures if f["status"] == "ok"]
        assert len(ok) >= 2
        truncated, removed = Path(ok[0]["png_path"]), Path(ok[1]["png_path"])
        truncated.write_bytes(truncated.read_bytes()[:-30])
        removed.unlink()
        # export alone cannot render: it drops both, says why, and does not crash
        export = subprocess.run(
            [sys.executable, "-m", "scigen_rl.cli", "export", "--run-dir", str(run)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        summary = json.loads((run / "summary.json").read_text())
        invalid = {d["id"] for d in summary["dropped"] if d["reason"] == "png_invalid"}
        assert invalid == {ok[0]["problem_id"], ok[1]["problem_id"]}, export.stderr
        assert "run the build again" in export.stderr
        # the build renders both again (the model's answers come from its cache) and exports as before
        rebuilt = _build(server, run, 3, shipped_data / "scigenbench")
        out, err = rebuilt.communicate(timeout=300)
        assert rebuilt.returncode == 0, err
        assert "re-rendered 2 whose PNG was gone or broken" in err
        assert json.loads((run / "summary.json").read_text())["rerendered"] == 2
        assert _rows(run) == before
        lines = (run / "synthesize" / "figures.jsonl").read_text().splitlines()
        assert len(lines) == len(figures) + 2  # appended: the newest record of a problem wins
    finally:
        server.close()


def test_a_rerun_with_another_selection_extends_the_run_or_stops(tmp_path: Path, shipped_data: Path) -> None:
    server = StandInServer(reply=model)
    run = tmp_path / "run"
    data = shipped_data / "scigenbench"
    try:
        assert _finish(_build(server, run, 2, data)) == 0
        first = (run / "problems.jsonl").read_text().splitlines()
        larger = _build(server, run, 3, data)
        out, err = larger.communicate(timeout=300)
        assert larger.returncode == 0 and f"build: extending {run} by 1 problem(s) this selection adds" in err
        problems = (run / "problems.jsonl").read_text().splitlines()
        assert problems[:2] == first and len(problems) == 3
        assert len((run / "synthesize" / "figures.jsonl").read_text().splitlines()) == 3
        asked = len(server.requests)
        for extra, said in (
            (["--llm.max-tokens", "4096"], None),  # the same selection: resumed, nothing asked
            (
                ["--limit", "1"],
                f"{run} holds a build of another selection: 2 of its 3 problems are not in this one",
            ),
            (["--image-types", "Physics - Circuit"], "problems are not in this one"),
        ):
            again = _build(server, run, 3, data, *extra)
            out, err = again.communicate(timeout=300)
            assert again.returncode == (0 if said is None else 2), err
            assert said is None or said in plain(err), err
        assert len(server.requests) == asked and (run / "problems.jsonl").read_text().splitlines() == problems
        other = subprocess.run(
            [sys.executable, "-m", "scigen_rl.cli", "build", "--run-dir", str(run), "--limit", "3",
             "--scigenbench-dir", str(data), "--llm.base-url", server.base_url, "--llm.model", "other-model"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert other.returncode == 2 and (
            f"{run} holds figures made by imgcoder:stand-in; this build would make them with imgcoder:other-model"
            in plain(other.stderr)
        )
    finally:
        server.close()


def test_build_refuses_to_start_when_its_model_or_verifier_does_not_answer(
    tmp_path: Path, shipped_data: Path
) -> None:
    server = StandInServer(reply=model)
    dead = "http://127.0.0.1:9/v1"
    try:
        for extra, said in (
            (["--llm.base-url", dead], f"the model server at {dead} (model stand-in) did not answer a first request"),
            (["--verify", "--verifier.base-url", dead, "--verifier.max-retries", "0"],
             f"the verifier (--verifier.*) at {dead} (model Qwen/Qwen3-VL-235B-A22B-Instruct) did not answer"),
        ):  # fmt: skip
            refused = _build(server, tmp_path / "run", 1, shipped_data / "scigenbench", *extra)
            out, err = refused.communicate(timeout=120)
            assert refused.returncode == 2 and said in plain(err), err
            assert not (tmp_path / "run").exists()
    finally:
        server.close()


def test_figures_left_unverified_by_failed_calls_exit_1_and_are_verified_next_run(
    tmp_path: Path, shipped_data: Path
) -> None:
    from scigen_rl.llm.standin import StandInError
    from scigen_rl.loaders import load_scigenbench

    problems = load_scigenbench(shipped_data / "scigenbench")[:3]
    answers = {q.question: q.correct_option for p in problems for q in p.quizzes}
    down = {"on": True}

    def both(body: dict[str, Any]) -> str:
        content = body["messages"][-1]["content"]
        if isinstance(content, list):  # a verification request: image + quiz
            if down["on"]:
                raise StandInError(503, "overloaded")
            return answers[content[1]["text"].split("Question: ", 1)[1].splitlines()[0]]
        return model(body)

    server = StandInServer(reply=both)
    verify = ["--verify", "--verifier.base-url", server.base_url, "--verifier.model", "vl",
              "--verifier.api-key-env", "STANDIN_KEY", "--verifier.max-retries", "0"]  # fmt: skip
    try:
        first = _build(server, tmp_path / "run", 3, shipped_data / "scigenbench", *verify)
        out, err = first.communicate(timeout=300)
        assert first.returncode == 1, err
        summary = json.loads((tmp_path / "run" / "summary.json").read_text())
        assert summary["unverified"] == 3 and summary["pending"] == 0
        assert "3 figures left unverified by failed model calls" in plain(err)
        down["on"] = False
        assert _finish(_build(server, tmp_path / "run", 3, shipped_data / "scigenbench", *verify)) == 0
    finally:
        server.close()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["unverified"] == 0 and summary["verification"]["verified"] == 3
