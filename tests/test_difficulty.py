"""`scigen-rl difficulty` against a stand-in policy whose pass rates are known by construction: problem P
is answered right in WITH[P] of k samples that carry the figure and TEXT[P] of k that do not. The stored
pass rates and labels are checked exactly, then a resume (no new call), new thresholds (relabelled, no
call), failed calls (pending, exit 1, only those asked again), the failure share that stops a run, and
the export selecting rows by band and text-solvability. The build's run directory is written by hand."""

from __future__ import annotations

import hashlib
import io
import json
import random
import threading
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageDraw

from data_builders.decontam import DecontamConfig
from data_builders.export import ExportConfig
from data_builders.export_run import export_run
from scigen_rl.cli import main
from scigen_rl.llm.standin import StandInError, StandInServer
from scigen_rl.records import Figure, Problem, write_jsonl

K = 4
GOLD = {"easy": "7", "learn": "12", "hard": "3", "textual": "40", "edge": "5", "latex": "\\frac{1}{2}"}
WITH = {"easy": 4, "learn": 3, "hard": 0, "textual": 2, "edge": 1, "latex": 2}
"""Right answers out of K with the figure."""
TEXT = {"easy": 0, "learn": 1, "hard": 0, "textual": 2, "edge": 0, "latex": 3}
"""Right answers out of K without it."""
EXPECTED = {  # band, text_solvable, image_dependent under the defaults (0.5 text-solvable, 0.25 margin)
    "easy": ("too_easy", False, True),
    "learn": ("learnable", False, True),
    "hard": ("too_hard", False, False),
    "textual": ("learnable", True, False),  # 2 of 4 without the figure: at the threshold
    "edge": ("learnable", False, True),  # 1/4 - 0/4: exactly the margin
    "latex": ("learnable", True, False),  # graded by math-verify: \boxed{0.5} is \frac{1}{2}
}
PADDING = "<think>" + "Let me look at the figure again. " * 600 + "</think>"
"""Every answer starts with ~20,000 characters of reasoning: the judge reads only the tail."""


def _drawing(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (320, 240), "white")
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        x, y = rng.randrange(0, 260), rng.randrange(0, 180)
        w, h = rng.randrange(20, 60), rng.randrange(20, 60)
        if rng.random() < 0.5:
            draw.rectangle((x, y, x + w, y + h), fill="black")
        else:
            draw.ellipse((x, y, x + w, y + h), outline="black", width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def write_build(folder: Path, ids: list[str], rejected: tuple[str, ...] = ()) -> Path:
    """A build's run directory as the build leaves it: problems, figure records, PNGs."""
    (folder / "synthesize" / "png").mkdir(parents=True)
    problems, figures = [], []
    for n, pid in enumerate([*ids, *rejected]):
        problems.append(Problem(id=pid, question=f"Problem {pid}: read the value marked in the figure.",
                                answer=GOLD.get(pid, "1"), source="t", image_type=f"Physics - Type {n % 2}"))  # fmt: skip
        png = _drawing(n + 1)
        path = folder / "synthesize" / "png" / f"{pid}.png"
        path.write_bytes(png)
        figures.append(Figure(pid, "imgcoder:test", "ok", png_path=str(path), png_sha256=hashlib.sha256(png).hexdigest(),
                              extra={"rejected": ["answer_leak"] if pid in rejected else []}))  # fmt: skip
    write_jsonl(folder / "problems.jsonl", problems)
    write_jsonl(folder / "synthesize" / "figures.jsonl", figures)
    return folder


class Policy:
    """The stand-in's ``reply``: right in WITH/TEXT of the samples per problem and arm, counted per call."""

    def __init__(self, failing: set[tuple[str, bool]] | None = None) -> None:
        self.calls: dict[tuple[str, bool], int] = {}
        self.failing = failing or set()
        self.lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> str:
        (message,) = body["messages"]
        parts = message["content"]
        image = any(p["type"] == "image_url" for p in parts)
        (text,) = [p["text"] for p in parts if p["type"] == "text"]
        pid = text.split(":")[0].removeprefix("Problem ")
        if (pid, image) in self.failing:
            raise StandInError(500, "scripted failure")
        with self.lock:
            n = self.calls.get((pid, image), 0)
            self.calls[(pid, image)] = n + 1
        right = n < (WITH if image else TEXT)[pid]
        answer = ("0.5" if pid == "latex" else GOLD[pid]) if right else "999"
        return f"{PADDING} So the answer is \\boxed{{{answer}}}."


def _difficulty(run: Path, server: StandInServer, *extra: str) -> int:
    return main(["difficulty", "--run-dir", str(run), "--policy.base-url", server.base_url,
                 "--policy.model", "stand-in", "--policy.api-key-env", "STANDIN_KEY", "--policy.max-retries", "0",
                 "--k", str(K), "--rule-workers", "1", *extra])  # fmt: skip


def _records(run: Path) -> dict[str, dict[str, Any]]:
    lines = (run / "difficulty" / "records.jsonl").read_text().splitlines()
    return {r["id"]: r for r in map(json.loads, lines)}


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANDIN_KEY", "test-key")


@pytest.fixture
def measured(tmp_path: Path, key: None) -> tuple[Path, StandInServer]:
    run = write_build(tmp_path / "run", list(GOLD), rejected=("leaky",))
    server = StandInServer(reply=Policy())
    assert _difficulty(run, server) == 0
    return run, server


def test_pass_rates_and_labels_are_the_known_ones(measured: tuple[Path, StandInServer]) -> None:
    run, server = measured
    records = _records(run)
    assert list(records) == list(GOLD)  # in problem order; the rejected figure is no row, never asked
    for pid, record in records.items():
        assert record["with_image"]["correct"] == WITH[pid] and record["text_only"]["correct"] == TEXT[pid]
        assert record["with_image"]["pass_rate"] == WITH[pid] / K
        assert record["text_only"]["pass_rate"] == TEXT[pid] / K
        assert sorted(record["with_image"]["verdicts"]) == [0] * (K - WITH[pid]) + [1] * WITH[pid]
        assert (record["band"], record["text_solvable"], record["image_dependent"]) == EXPECTED[pid], pid
        assert record["k"] == K and record["model"] == "stand-in"
    assert set(records["learn"]["with_image"]["answers"]) == {"12", "999"}

    assert len(server.requests) == len(GOLD) * 2 * K
    for body in server.requests:
        assert body["temperature"] == 1.0 and body["max_tokens"] == 8192
        parts = body["messages"][0]["content"]
        assert parts[-1]["type"] == "text" and "<image>" not in parts[-1]["text"]
        assert parts[-1]["text"].endswith("give the final answer in \\boxed{}.")  # the training prompt
        assert len(parts) in (1, 2) and (
            len(parts) == 1 or parts[0]["image_url"]["url"].startswith("data:image/png")
        )
    assert sum(len(b["messages"][0]["content"]) == 2 for b in server.requests) == len(GOLD) * K

    summary = json.loads((run / "difficulty" / "summary.json").read_text())
    assert summary["bands"] == {"too_easy": 1, "learnable": 4, "too_hard": 1}
    assert (summary["measured"], summary["pending"], summary["text_solvable"]) == (6, 0, 2)
    assert summary["text_solvable_share"] == round(2 / 6, 4) and summary["image_dependent"] == 3
    assert summary["by_image_type"]["Physics - Type 0"]["problems"] == 3
    assert summary["mean_pass_rate"]["with_image"] == round(sum(WITH.values()) / K / 6, 4)
    with Image.open(run / "difficulty" / "difficulty.png") as chart:
        assert chart.size[0] > 500


def test_a_rerun_resumes_without_a_call_and_new_thresholds_relabel(
    measured: tuple[Path, StandInServer],
) -> None:
    run, server = measured
    before = _records(run)
    calls = len(server.requests)
    assert _difficulty(run, server) == 0
    assert len(server.requests) == calls and _records(run) == before
    assert _difficulty(run, server, "--text-solvable-threshold", "0.75") == 0
    assert len(server.requests) == calls
    after = _records(run)
    assert not after["textual"]["text_solvable"] and after["textual"]["image_dependent"] is False  # 2/4 - 2/4
    assert after["latex"]["text_solvable"] and after["learn"] == before["learn"]
    # another k would mix two measurements: refused, nothing asked
    assert _difficulty(run, server, "--k", "2") == 2 and len(server.requests) == calls


def test_failed_calls_leave_the_problem_pending_and_only_they_are_asked_again(
    tmp_path: Path, key: None
) -> None:
    run = write_build(tmp_path / "run", list(GOLD))
    failing = StandInServer(reply=Policy(failing={("learn", False)}))
    assert _difficulty(run, failing) == 1
    records = _records(run)
    assert "learn" not in records and len(records) == len(GOLD) - 1
    summary = json.loads((run / "difficulty" / "summary.json").read_text())
    assert summary["pending"] == 1 and summary["model_errors"]
    healthy = StandInServer(reply=Policy())
    assert _difficulty(run, healthy) == 0
    assert len(healthy.requests) == K  # the k text-only samples that failed; the rest from the cache
    record = _records(run)["learn"]
    assert record["with_image"]["correct"] == WITH["learn"]
    assert record["text_only"]["correct"] == TEXT["learn"]


def test_past_the_failure_share_no_new_problem_starts(
    tmp_path: Path, key: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import data_builders.failure_brake as failure_brake

    monkeypatch.setattr(failure_brake, "MIN_ATTEMPTS", 2)
    run = write_build(tmp_path / "run", list(GOLD))
    down = StandInServer(reply=Policy(failing={(p, i) for p in GOLD for i in (True, False)}))
    assert _difficulty(run, down, "--concurrency", "1") == 1
    assert len(down.requests) == 2 * 2 * K  # two problems tried, then no more
    summary = json.loads((run / "difficulty" / "summary.json").read_text())
    assert summary["stopped"] and summary["pending"] == len(GOLD) and summary["measured"] == 0


def _export(run: Path, **settings: Any) -> dict[str, Any]:
    config = ExportConfig(val_fraction=0.0, scaling_fractions=(1.0,), **settings)
    return export_run(run, settings=config, decontam=DecontamConfig(eval_sets=(), progress=False))


def test_the_export_selects_rows_by_band_and_names_every_row_left_out(
    measured: tuple[Path, StandInServer],
) -> None:
    run, _ = measured
    summary = _export(run, difficulty_bands=("learnable",), drop_text_solvable=True)
    rows = pq.read_table(run / "export" / "train.parquet").to_pylist()
    assert [r["extra_info"]["problem_id"] for r in rows] == ["learn", "edge"]
    reasons = {d["id"]: d["reason"] for d in summary["dropped"]}
    assert reasons == {"easy": "difficulty:too_easy", "hard": "difficulty:too_hard", "textual": "text_solvable",
                       "latex": "text_solvable", "leaky": "answer_leak"}  # fmt: skip
    assert "pass rate 0 with the figure" in next(d["detail"] for d in summary["dropped"] if d["id"] == "hard")
    d = summary["difficulty"]
    assert d["exported_by_band"] == {"too_easy": 0, "learnable": 2, "too_hard": 0}
    assert d["left_out"] == {"text_solvable": 2, "difficulty:too_easy": 1, "difficulty:too_hard": 1}
    manifest = json.loads((run / "export" / "manifest.json").read_text())
    assert manifest["image_mode"] == "figure" and manifest["difficulty"]["bands"] == ["learnable"]
    dropped = [json.loads(x) for x in (run / "export" / "dropped.jsonl").read_text().splitlines()]
    assert {x["id"] for x in dropped} == set(reasons)
    assert summary["rendered"] == summary["filtered"] + summary["exported"]

    everything = _export(run)  # no selection: every row, and the mix of bands it holds
    assert everything["exported"] == len(GOLD)
    assert everything["difficulty"]["exported_by_band"] == {"too_easy": 1, "learnable": 4, "too_hard": 1}
    assert everything["difficulty"]["exported_text_solvable"] == 2


def test_rows_without_a_current_record_are_left_out_by_a_selection_and_counted(
    measured: tuple[Path, StandInServer],
) -> None:
    run, _ = measured
    path = run / "difficulty" / "records.jsonl"
    path.write_text(
        "".join(line + "\n" for line in path.read_text().splitlines() if '"id": "hard"' not in line)
    )
    figures = [json.loads(x) for x in (run / "synthesize" / "figures.jsonl").read_text().splitlines()]
    learn = next(f for f in figures if f["problem_id"] == "learn")  # rendered anew since it was measured
    png = _drawing(99)
    Path(learn["png_path"]).write_bytes(png)
    learn["png_sha256"] = hashlib.sha256(png).hexdigest()
    (run / "synthesize" / "figures.jsonl").write_text("".join(json.dumps(f) + "\n" for f in figures))

    summary = _export(run, difficulty_bands=("learnable", "too_hard"))
    dropped = {d["id"]: d for d in summary["dropped"]}
    assert dropped["hard"]["reason"] == dropped["learn"]["reason"] == "difficulty:unmeasured"
    assert (
        "earlier figure" in dropped["learn"]["detail"] and "no difficulty record" in dropped["hard"]["detail"]
    )
    assert summary["difficulty"]["exported_by_band"] == {"too_easy": 0, "learnable": 3, "too_hard": 0}
    unselected = _export(run)
    assert (
        unselected["exported"] == len(GOLD)
        and unselected["difficulty"]["exported_by_band"]["unmeasured"] == 2
    )


def test_selecting_by_band_without_records_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = write_build(tmp_path / "run", ["easy", "learn"])
    assert main(["export", "--run-dir", str(run), "--difficulty-bands", "learnable"]) == 2
    err = capsys.readouterr().err
    assert "difficulty/records.jsonl does not exist" in err and "scigen-rl difficulty --run-dir" in err
    assert not (run / "export").exists()
    with pytest.raises(ValueError, match="--drop-text-solvable selects rows"):
        _export(run, drop_text_solvable=True)
    assert main(["export", "--run-dir", str(run), "--difficulty-bands", "easy"]) == 2  # not a band


def test_a_control_export_goes_to_its_own_folder_and_says_so(measured: tuple[Path, StandInServer]) -> None:
    run, _ = measured
    _export(run)
    figure_rows = (run / "export" / "train.parquet").read_bytes()
    summary = _export(run, image_mode="none", difficulty_bands=("learnable",))
    assert (run / "export" / "train.parquet").read_bytes() == figure_rows  # untouched
    out = run / "export-no-image"
    assert (
        summary["export_dir"] == str(out) and json.loads((out / "summary.json").read_text())["exported"] == 4
    )
    rows = pq.read_table(out / "train.parquet").to_pylist()
    assert all(r["images"] == [] and "<image>" not in r["prompt"][0]["content"] for r in rows)
    assert {r["data_source"] for r in rows} == {"scigen/imgcoder:test/no-image"}
    assert json.loads((out / "manifest.json").read_text())["image_mode"] == "none"
    blank = _export(run, image_mode="blank")
    rows = pq.read_table(run / "export-blank-image" / "train.parquet").to_pylist()
    assert blank["exported"] == len(rows) == len(GOLD)
    with Image.open(io.BytesIO(rows[0]["images"][0]["bytes"])) as image:
        assert image.size == (320, 240) and image.getextrema() == ((255, 255),) * 3


def test_a_limit_measures_the_first_rows_only(tmp_path: Path, key: None) -> None:
    run = write_build(tmp_path / "run", list(GOLD), rejected=("leaky",))
    server = StandInServer(reply=Policy())
    assert _difficulty(run, server, "--limit", "2") == 0
    assert list(_records(run)) == ["easy", "learn"] and len(server.requests) == 2 * 2 * K
    summary = json.loads((run / "difficulty" / "summary.json").read_text())
    assert (summary["problems"], summary["measured"], summary["pending"]) == (2, 2, 0)
