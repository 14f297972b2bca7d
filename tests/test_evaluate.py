"""Downstream evaluation on the real MathVision testmini: prompts, AVG@k arithmetic, sharding and
merging (a failed shard re-run loses and doubles nothing), `scigen-rl eval` against a stand-in vision
server (the official scorer beside the judge, a re-run from the cache), the Ray path on a local
cluster, and the vLLM arguments. The official scorer itself: tests/test_official_exact.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from data_builders.eval_sets.mathvision import mathvision_rows
from data_builders.export import write_parquet
from scigen_rl.evaluate.generate import SamplingConfig, VllmEngineConfig, chat_messages, sampling_params
from scigen_rl.evaluate.metrics import avg_at_k, bootstrap_ci, maj_at_k, pass_at_k
from scigen_rl.evaluate.run import EvalConfig, merged_generations, run_eval, shard_paths
from scigen_rl.llm.standin import StandInError, StandInServer

from .conftest import plain


def test_avg_pass_maj_arithmetic() -> None:
    correct = [[True, True, False, False], [False] * 4, [True] * 4]
    assert avg_at_k(correct) == pytest.approx((0.5 + 0 + 1) / 3)
    assert pass_at_k(correct) == pytest.approx(2 / 3)
    answers = [["4", "4", "5", "5"], ["1", "2", "2", None], ["9", "9", "9", "9"]]
    assert maj_at_k(answers, correct) == pytest.approx(2 / 3)  # tie 4/5: the first seen (4) wins


def test_metrics_edges() -> None:
    with pytest.raises(ValueError, match="^no problems to average$"):
        avg_at_k([])
    assert avg_at_k([[True], [True, False, False, False]]) == pytest.approx((1 + 0.25) / 2)  # per problem
    assert pass_at_k([[False, False, True]]) == 1.0 and pass_at_k([[False] * 3, [False]]) == 0.0
    assert maj_at_k([[None, None]], [[False, False]]) == 0.0  # nobody voted
    assert maj_at_k([[None, "5", "4", "4"]], [[False, False, True, True]]) == 1.0  # a vote of 2 beats 1
    assert maj_at_k([["5", "4"]], [[True, False]]) == 1.0 and maj_at_k([["4", "5"]], [[False, True]]) == 0.0
    assert maj_at_k([[None], ["4"]], [[False], [True]]) == 0.5  # a problem nobody answered still counts
    with pytest.raises(ValueError):
        maj_at_k([["4"], ["5"]], [[True]])  # answers and judgments of different problems
    with pytest.raises(ValueError):
        maj_at_k([["4", "5"]], [[False]])


def test_bootstrap_interval_percentiles() -> None:
    """One odd problem among 40: the count of its copies in a resample is about Poisson(1), so the
    interval's ends are known: P(X <= 0) = .37, P(X <= 1) = .74, P(X <= 2) = .92, P(X <= 3) = .98."""
    one_right = [[True]] + [[False]] * 39
    assert bootstrap_ci(one_right, samples=4000, level=0.9) == (0.0, 3 / 40)
    one_wrong = [[False]] + [[True]] * 39
    assert bootstrap_ci(one_wrong, samples=4000, level=0.8) == (38 / 40, 1.0)
    lo, hi = bootstrap_ci([[True], [False]] * 20, samples=2, level=1.0)  # the two resamples' means
    assert lo < hi


def test_bootstrap_interval_properties() -> None:
    half = [[j < i % 5 for j in range(4)] for i in range(40)]  # 0-4 of 4 right: AVG@4 = 1/2
    lo, hi = bootstrap_ci(half, samples=500)
    assert lo < avg_at_k(half) < hi and lo >= 0.0 and hi <= 1.0
    assert bootstrap_ci(half, samples=500) == (lo, hi)  # seeded
    assert bootstrap_ci(half, samples=500, seed=1) != (lo, hi)
    lo50, hi50 = bootstrap_ci(half, samples=500, level=0.5)
    assert lo <= lo50 < hi50 <= hi and (hi50 - lo50) < (hi - lo) / 2
    wide = bootstrap_ci(half[:10], samples=500)
    assert wide[1] - wide[0] > 1.5 * (hi - lo)  # fewer problems, wider interval
    assert bootstrap_ci([[True] * 4] * 10, samples=50) == (1.0, 1.0)
    assert bootstrap_ci([[True, False]] * 10, samples=50) == (0.5, 0.5)  # k samples stay together
    lo1, hi1 = bootstrap_ci(half, samples=1)
    assert lo1 == hi1
    # the interval's ends are order statistics of the resampled means: ends are multiples of 1/(n k)
    assert all(abs(x * 160 - round(x * 160)) < 1e-9 for x in (lo, hi, lo50, hi50))


def test_prompts_place_the_image_and_list_options(shipped_data: Path) -> None:
    rows = mathvision_rows(str(shipped_data / "mathvision"), "testmini")
    row = next(r for r in rows if "\nOptions:\nA. " in r.prompt[0]["content"])
    (message,) = chat_messages(row)
    image, text = message["content"]
    assert image["image_url"]["url"].startswith("data:image/jpeg;base64,") and "<image>" not in text["text"]
    assert "Options:\nA. " in text["text"] and text["text"].endswith("\\boxed{}.")


def test_vllm_engine_and_sampling_arguments() -> None:
    engine = VllmEngineConfig("ckpt/global_step_200", tensor_parallel_size=2, max_model_len=16384)
    assert engine.engine_args() == {"model": "ckpt/global_step_200", "tensor_parallel_size": 2, "max_model_len": 16384,
                                    "gpu_memory_utilization": 0.85, "limit_mm_per_prompt": {"image": 1},
                                    "trust_remote_code": True}  # fmt: skip
    assert [sampling_params(SamplingConfig(), i) for i in range(2)] == [
        {"n": 1, "temperature": 0.6, "top_p": 1.0, "max_tokens": 8192, "seed": s} for s in (0, 1)
    ]


ANSWERS: dict[str, list[str]] = {}


def policy(body: dict[str, Any]) -> str:
    """The stand-in policy model: checks the request (one image, the question text) and answers from
    a table by the request's seed, so samples differ as at temperature 0.6."""
    (message,) = body["messages"]
    kinds = [p["type"] for p in message["content"]]
    if kinds != ["image_url", "text"] or body.get("temperature") != 0.6 or "seed" not in body:
        raise ValueError(f"unexpected request: parts {kinds}, temperature {body.get('temperature')}")
    question = message["content"][1]["text"].split("\n\nReason step by step", 1)[0]
    return ANSWERS[question][body["seed"] % 4]


def _slice(shipped_data: Path, tmp_path: Path, n: int = 6) -> tuple[Path, list[Any]]:
    rows = mathvision_rows(str(shipped_data / "mathvision"), "testmini")[:n]
    ANSWERS.clear()
    for i, r in enumerate(rows):  # problem i gets i % 5 of its 4 samples right (capped at 4)
        gold = r.reward_model["ground_truth"]
        right = min(i % 5, 4)
        ANSWERS[r.extra_info["question"]] = [
            f"So \\boxed{{{gold}}}." if s < right else "So \\boxed{zzz}." for s in range(4)
        ]
    return write_parquet(rows, tmp_path / "mathvision_mini.parquet"), rows


def test_eval_command_end_to_end(shipped_data: Path, tmp_path: Path) -> None:
    parquet, rows = _slice(shipped_data, tmp_path)
    server = StandInServer(api_key=None, reply=policy)
    cmd = [sys.executable, "-m", "scigen_rl.cli", "eval", "--eval-files", str(parquet), "--out-dir", str(tmp_path / "out"),
           "--llm.base-url", server.base_url, "--llm.model", "policy", "--name", "base", "--shards", "2",
           "--wandb-project", "scigen-eval"]  # fmt: skip
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "WANDB_SILENT": "true"}
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        assert done.returncode == 0, done.stderr
        calls = len(server.requests)
        first_report = (tmp_path / "out" / "report.json").read_text()
        again = subprocess.run(cmd[:-2], capture_output=True, text=True, timeout=300)
        assert again.returncode == 0 and len(server.requests) == calls == 4 * len(
            rows
        )  # resumed: no new call
        assert (tmp_path / "out" / "report.json").read_text() == first_report  # every figure the same
    finally:
        server.close()
    result = json.loads(done.stdout.strip().splitlines()[-1])["mathvision_mini"]
    expected = [min(i % 5, 4) / 4 for i in range(len(rows))]
    assert result["problems"] == len(rows) and result["avg@4"] == pytest.approx(
        100 * sum(expected) / len(rows), abs=0.01
    )
    assert result["pass@4"] == pytest.approx(100 * sum(e > 0 for e in expected) / len(rows), abs=0.01)
    assert result["official_avg@4"] == result["avg@4"] and result["judge_agreement"] == 100.0
    assert result["disagreements"] == 0
    assert result["ci95"][0] <= result["avg@4"] <= result["ci95"][1] and "by_subject" in result
    md = (tmp_path / "out" / "report.md").read_text()
    assert (
        "temperature 0.6" in md and "Judge: rules only" in md and "official scorer (--scorer official" in md
    )
    assert f"| 0 of {4 * len(rows)} samples (100.0% agree) |" in md
    table = subprocess.run([sys.executable, "-m", "scigen_rl.cli", "eval", "--compare", str(tmp_path / "out" / "report.json")],
                           capture_output=True, text=True)  # fmt: skip
    assert re.search(r"\| base \| - \| [\d.]+ \| - \|", table.stdout)
    from launch.wandb_files import find_runs, read_run

    (run_file,) = find_runs(tmp_path / "wandb")
    logged = read_run(run_file)
    assert (
        logged["name"] == "eval-base" and logged["summary"]["eval/mathvision_mini/avg@4"] == result["avg@4"]
    )
    assert logged["summary"]["eval/generations/_type"] == "table-file"
    assert logged["summary"]["eval/generations/nrows"] == len(rows)


def test_ray_shards_a_failed_shard_is_rerun_without_loss_or_doubles(
    shipped_data: Path, tmp_path: Path
) -> None:
    ray = pytest.importorskip("ray")
    parquet, rows = _slice(shipped_data, tmp_path, n=5)
    out = tmp_path / "out"
    server = StandInServer(api_key=None, reply=policy)
    dead = {"kind": "http", "base_url": "http://127.0.0.1:9/v1", "model": "policy", "max_retries": 0}
    live = {**dead, "base_url": server.base_url}
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    try:
        cfg = EvalConfig(str(out), [str(parquet)], backend=dead, shards=2, use_ray=True)
        run_eval(cfg)  # the endpoint is down: nothing recorded, nothing judged
        assert not merged_generations(shard_paths(out, 2))
        # A shard that had written part of its work before being killed, with a torn duplicate line.
        first = rows[0].extra_info["problem_id"]
        shard0 = shard_paths(out, 2)[0]
        line = json.dumps({"problem_id": first, "sample": 0, "data_source": "mathvision_mini",
                           "response": ANSWERS[rows[0].extra_info["question"]][0], "finish_reason": "stop", "usage": {}})  # fmt: skip
        shard0.write_text(line + "\n" + line + "\n" + line[:20])
        result = run_eval(EvalConfig(str(out), [str(parquet)], backend=live, shards=2, use_ray=True))
    finally:
        ray.shutdown()
        server.close()
    merged = merged_generations(shard_paths(out, 2))
    assert sorted(merged) == sorted((r.extra_info["problem_id"], s) for r in rows for s in range(4))
    assert len(server.requests) == 4 * len(rows) - 1  # the sample already written was not asked again
    verdicts = (out / "verdicts.jsonl").read_text().splitlines()
    assert (
        len(verdicts) == len({(json.loads(v)["problem_id"], json.loads(v)["sample"]) for v in verdicts}) == 20
    )
    assert result["benchmarks"]["mathvision_mini"]["problems"] == 5


def test_the_ray_job_submission(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job carries the resolved options (every path absolute: a relative one would resolve in the
    job's temporary copy of the repository) and its entry point runs exactly them."""
    from launch.eval_command import JOB_OPTIONS_ENV, EvalOptions, job_main
    from scigen_rl.cli import main as cli
    from scigen_rl.command_line import options_from_yaml

    monkeypatch.chdir(tmp_path)
    (tmp_path / "ckpt" / "step200").mkdir(parents=True)  # a local checkpoint: sent as an absolute path
    assert cli(["eval", "--ray-address", "http://head:8265", "--vllm-model", "ckpt/step200", "--tensor-parallel-size", "2",
                "--shards", "4", "--name", "s200", "--out-dir", "res", "--dry-run"]) == 0  # fmt: skip
    head, entrypoint = capsys.readouterr().out.strip().splitlines()
    assert head.startswith('# a Ray job on http://head:8265, runtime env {"working_dir": ')
    assert entrypoint == "python3 -m launch.eval_command"
    sent = options_from_yaml(
        EvalOptions, json.loads(head.split("runtime env ", 1)[1])["env_vars"][JOB_OPTIONS_ENV], "job"
    )
    assert (sent.out_dir, sent.vllm_model, sent.ray, sent.ray_address, sent.dry_run) == (
        str(tmp_path / "res"), str(tmp_path / "ckpt" / "step200"), True, None, False)  # fmt: skip
    assert sent.eval_files == [str(tmp_path / "runs" / "eval" / "mathvision_mini.parquet"),
                               str(tmp_path / "runs" / "eval" / "geometry3k_test.parquet")]  # fmt: skip
    assert (sent.tensor_parallel_size, sent.shards, sent.name) == (2, 4, "s200")
    # A Hub name stays a name.
    assert (
        cli(
            [
                "eval",
                "--ray-address",
                "http://head:8265",
                "--vllm-model",
                "Qwen/Qwen3-VL-8B-Instruct",
                "--dry-run",
            ]
        )
        == 0
    )
    head = capsys.readouterr().out.strip().splitlines()[0]
    sent = options_from_yaml(
        EvalOptions, json.loads(head.split("runtime env ", 1)[1])["env_vars"][JOB_OPTIONS_ENV], "job"
    )
    assert sent.vllm_model == "Qwen/Qwen3-VL-8B-Instruct"
    # On the cluster: the entry point runs those options (here as a dry run), and refuses to run without them.
    monkeypatch.setenv(JOB_OPTIONS_ENV, "vllm_model: m\ndry_run: true\nshards: 3\n")
    assert job_main() == 0 and json.loads(capsys.readouterr().out)["shards"] == 3
    monkeypatch.setenv(JOB_OPTIONS_ENV, "shards: three\n")
    assert job_main() == 2 and "shards" in capsys.readouterr().err
    monkeypatch.delenv(JOB_OPTIONS_ENV)
    assert job_main() == 2


def test_eval_refuses_to_start_on_a_dead_server_or_a_missing_eval_file(
    shipped_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scigen_rl.cli import main

    parquet, _ = _slice(shipped_data, tmp_path, n=1)
    out = tmp_path / "out"
    dead = "http://127.0.0.1:9/v1"
    args = [
        "eval",
        "--out-dir",
        str(out),
        "--llm.base-url",
        dead,
        "--llm.model",
        "policy",
        "--llm.max-retries",
        "0",
    ]
    assert main([*args, "--eval-files", str(parquet)]) == 2
    assert capsys.readouterr().err.startswith(
        f"scigen-rl eval: the model server at {dead} (model policy) did not answer a first request: connection"
    )
    absent = tmp_path / "eval" / "geometry3k_test.parquet"
    assert main([*args, "--eval-files", str(parquet), str(absent)]) == 2
    assert plain(capsys.readouterr().err) == (
        f"scigen-rl eval: no evaluation file {absent}: write MathVision_mini and Geometry3K test with "
        f"`scigen-rl eval-sets --out-dir {absent.parent}`, or name others with --eval-files"
    )
    assert not out.exists()


def test_failed_generations_exit_1_and_the_next_run_finishes_them(
    shipped_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scigen_rl.cli import main

    parquet, rows = _slice(shipped_data, tmp_path, n=3)
    down = {"on": True}

    def flaky(body: dict[str, Any]) -> str:
        if down["on"] and body["seed"] % 4 == 3:  # the fourth sample of every problem fails
            raise StandInError(503, "overloaded")
        return policy(body)

    server = StandInServer(api_key=None, reply=flaky)
    args = ["eval", "--eval-files", str(parquet), "--out-dir", str(tmp_path / "out"), "--llm.base-url",
            server.base_url, "--llm.model", "policy", "--llm.max-retries", "0"]  # fmt: skip
    try:
        assert main(args) == 1
        err = plain(capsys.readouterr().err)
        assert (f"scigen-rl eval: {len(rows)} of {4 * len(rows)} samples have no verdict yet ({len(rows)} not "
                "generated, 0 not judged: failed model calls); run the same command again") in err  # fmt: skip
        first = json.loads((tmp_path / "out" / "report.json").read_text())
        assert first["benchmarks"] == {} and first["samples"]["generated"] == 3 * len(rows)
        down["on"] = False
        asked = len(server.requests)
        assert main(args) == 0
        assert len(server.requests) - asked == len(rows)  # only the failed samples asked again
    finally:
        server.close()
    result = json.loads((tmp_path / "out" / "report.json").read_text())
    assert result["samples"] == {
        "expected": 4 * len(rows),
        "generated": 4 * len(rows),
        "judged": 4 * len(rows),
    }
    assert result["benchmarks"]["mathvision_mini"]["problems"] == len(rows)


def test_eval_with_wandb_but_no_credentials_stops_before_any_work(
    shipped_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scigen_rl.cli import main

    for name in ("WANDB_API_KEY", "WANDB_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    parquet, _ = _slice(shipped_data, tmp_path, n=1)
    out = tmp_path / "out"
    args = ["eval", "--eval-files", str(parquet), "--out-dir", str(out), "--llm.base-url", "http://127.0.0.1:9/v1",
            "--llm.model", "policy", "--llm.max-retries", "0", "--wandb-project", "p"]  # fmt: skip
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == (
        "scigen-rl eval: --wandb-project: W&B logs online but WANDB_API_KEY is not set: export it, or "
        "WANDB_MODE=offline"
    )
    assert not out.exists()
    monkeypatch.setenv("WANDB_MODE", "offline")  # offline needs no key: on to the next check
    assert main(args) == 2 and "did not answer a first request" in capsys.readouterr().err


def test_a_rerun_with_another_model_or_sampling_on_the_same_out_dir_stops(
    shipped_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scigen_rl.cli import main

    parquet, _ = _slice(shipped_data, tmp_path, n=1)
    server = StandInServer(api_key=None, reply=policy)
    out = tmp_path / "out"
    args = ["eval", "--eval-files", str(parquet), "--out-dir", str(out), "--llm.base-url", server.base_url,
            "--llm.model", "policy"]  # fmt: skip
    try:
        assert main(args) == 0
        capsys.readouterr()
        for extra, said in ((["--llm.model", "policy-2"], "llm.model: 'policy' -> 'policy-2'"),
                            (["--k", "8"], "sampling: ")):  # fmt: skip
            assert main([*args, *extra]) == 2
            err = plain(capsys.readouterr().err)
            assert err.startswith(f"scigen-rl eval: {out} holds generations of other settings ({said}") and (
                err.endswith("run with those, or use a new --out-dir")
            ), err
        assert main(args) == 0
    finally:
        server.close()


def test_the_official_scorer_beside_the_judge_counts_their_disagreements(
    shipped_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A multiple-choice answer boxed as \\textbf{B}: the judge's rule reads B, the official scorer
    reads "bfb" (wrong). The report gives both accuracies and the samples they disagree on; a re-run
    from the cached generations, with either name of the scorer, gives the same figures, no call."""
    from scigen_rl.cli import main

    parquet, rows = _slice(shipped_data, tmp_path, n=6)
    bold = 0
    for i, r in enumerate(rows):
        gold, answers = r.reward_model["ground_truth"], ANSWERS[r.extra_info["question"]]
        if r.extra_info["options"] and gold in "ABCDE":
            answers[:] = [a.replace(f"{{{gold}}}", f"{{\\textbf{{{gold}}}}}") for a in answers]
            bold += min(i % 5, 4)
    assert bold > 0
    server = StandInServer(api_key=None, reply=policy)
    out = tmp_path / "out"
    args = ["eval", "--eval-files", str(parquet), "--out-dir", str(out), "--llm.base-url", server.base_url,
            "--llm.model", "policy"]  # fmt: skip
    try:
        assert main(args) == 0
        calls = len(server.requests)
        first = json.loads((out / "report.json").read_text())
        assert main([*args, "--scorer", "official-exact"]) == 0
        assert len(server.requests) == calls  # nothing generated or judged again
    finally:
        server.close()
    again = json.loads((out / "report.json").read_text())
    result = first["benchmarks"]["mathvision_mini"]
    assert again["benchmarks"] == first["benchmarks"] and again["settings"]["scorer"] == "official-exact"
    assert result["disagreements"] == bold
    right = sum(min(i % 5, 4) for i in range(len(rows)))
    assert result["avg@4"] == pytest.approx(100 * right / (4 * len(rows)), abs=0.01)
    assert result["official_avg@4"] == pytest.approx(100 * (right - bold) / (4 * len(rows)), abs=0.01)
    assert result["judge_agreement"] == pytest.approx(100 * (1 - bold / (4 * len(rows))), abs=0.01)
    md = (out / "report.md").read_text()
    assert f"| {result['official_avg@4']} | {bold} of {4 * len(rows)} samples (" in md
