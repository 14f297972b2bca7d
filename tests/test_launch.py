"""Launch: managed services (real processes), `train --dry-run` and `sweep --dry-run` against verl's
real config, and the scaling fit read from real offline W&B runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from data_builders.export import export, make_sample
from launch.services import Service, ServiceError, ServiceManager, healthy
from launch.sweep import collect, fit_log, report
from launch.train_config import TrainConfig
from launch.verl_overrides import resolved_config
from scigen_rl.records import Problem, Sample

from .test_reward_server import _free_port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def test_services_start_healthy_and_stop_by_pid(tmp_path: Path) -> None:
    port = _free_port()
    web = Service("web", [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                  f"http://127.0.0.1:{port}/", start_timeout_s=30)  # fmt: skip
    with ServiceManager(tmp_path, grace_s=5) as manager:
        proc = manager.start(web)
        pid_file = tmp_path / "services" / "web.pid"
        assert healthy(web.health_url) and int(pid_file.read_text()) == proc.pid and _alive(proc.pid)
    assert not _alive(proc.pid) and not pid_file.exists() and not healthy(web.health_url)

    crash = Service(
        "crash", [sys.executable, "-c", "print('no GPU here'); raise SystemExit(3)"], "http://127.0.0.1:9/"
    )
    with (
        ServiceManager(tmp_path) as manager,
        pytest.raises(ServiceError, match="(?s)exited with 3.*no GPU here"),
    ):
        manager.start(crash)
    silent = Service(
        "silent",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        "http://127.0.0.1:9/",
        start_timeout_s=1,
    )
    manager = ServiceManager(tmp_path, grace_s=5)
    with pytest.raises(ServiceError, match="not healthy"):
        manager.start(silent)
    pid = manager.running[-1][1].pid
    manager.stop_all()
    assert not _alive(pid)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scigen_rl.cli", *args], capture_output=True, text=True, timeout=120
    )


def _manifest(tmp_path: Path) -> Path:
    import io

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buf, "PNG")
    problems = [
        Problem(id=f"p{i}", question="q", answer="1", source="t", image_type=f"Math - T{i % 2}")
        for i in range(40)
    ]
    export([make_sample(p, buf.getvalue(), "imgcoder:m", i) for i, p in enumerate(problems)], tmp_path / "build" / "export",
           val_fraction=0.0, fractions=(0.25, 0.5, 1.0))  # fmt: skip
    return tmp_path / "build" / "export" / "manifest.json"


def samples(rows: int) -> list[Sample]:
    """``rows`` training rows as the build makes them."""
    import io

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buf, "PNG")
    problems = [
        Problem(id=f"p{i}", question=f"What is {i} + 1?", answer=str(i + 1), source="t") for i in range(rows)
    ]
    return [make_sample(p, buf.getvalue(), "imgcoder:m", i) for i, p in enumerate(problems)]


def _rows_parquet(path: Path, rows: int) -> Path:
    """A training parquet of ``rows`` rows as the build writes them."""
    from data_builders.export import write_parquet

    return write_parquet(samples(rows), path)


def test_train_dry_run_local_and_on_a_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    train = str(_manifest(tmp_path).parent / "train.parquet")
    local = _cli("train", "--dry-run", "--verifier-urls", "http://gpu7:8001/v1", "--train-files", train,
                 "--wandb-group", "g1", "--wandb-tags", "n:40", "trainer.save_freq=50")  # fmt: skip
    assert local.returncode == 0, local.stderr
    out = local.stdout
    assert "serve-reward --host 0.0.0.0 --port 8765" in out and "--verifier-urls http://gpu7:8001/v1" in out
    assert (
        "-m launch.verl_main --config-path=" in out
        and "trainer.experiment_name=qwen3vl8b_grpo-train-n40" in out
    )
    assert (
        "+ray_kwargs.ray_init.runtime_env.env_vars.WANDB_RUN_GROUP=" in out and "trainer.save_freq=50" in out
    )
    assert "server_url: http://127.0.0.1:8765" in out
    assert "WANDB_RUN_GROUP: g1" in out  # verl's resolved runtime env carries the W&B group to its actors
    # 40 rows, fewer than the recipe's 128: the largest batch verl accepts, not zero steps per epoch
    assert "train_batch_size: 40" in out and "ppo_mini_batch_size: 40" in out
    # every path absolute, checkpoints in a folder of their own, kept to two, no silent resume
    ckpt = tmp_path / "runs" / "checkpoints" / "qwen3vl8b_grpo-train-n40"
    assert f"default_local_dir: {ckpt}" in out and "max_actor_ckpt_to_keep: 2" in out
    assert "resume_mode: disable" in out
    assert f"- {tmp_path / 'runs' / 'eval' / 'mathvision_mini.parquet'}" in out
    assert (
        "# pre-flight: these would stop the run:" in out and "mathvision_mini.parquet does not exist" in out
    )

    cluster = _cli("train", "--dry-run", "--serve-verifier", "--verifier-gpus", "7", "--ray-address", "http://head:8265",
                   "--reward-host", "10.0.0.2", "--nnodes", "2", "--train-files", train)  # fmt: skip
    assert cluster.returncode == 0, cluster.stderr
    out = cluster.stdout
    assert (
        "CUDA_VISIBLE_DEVICES=7 vllm serve opencompass/CompassVerifier-7B --port 8001 --max-model-len 16384"
        in out
    )
    assert "# training: a Ray job on http://head:8265" in out
    assert 'python3 -m launch.verl_main --config-path="$PWD/recipes/qwen3vl8b_grpo"' in out
    assert "trainer.nnodes=2" in out and "server_url=http://10.0.0.2:8765" in out
    assert "+ray_kwargs.ray_init.runtime_env" not in out  # the job's runtime env is the only place
    assert "give --shared-dir" in out
    assert "--serve-verifier starts the verifier on this machine, but a Ray job trains on every GPU" in out
    assert _cli("train", "--dry-run").returncode == 2  # no verifier given: a clear error, nothing started


def test_the_served_verifier_never_shares_a_gpu_with_training(monkeypatch: pytest.MonkeyPatch) -> None:
    from launch.placement import job_env, placement_problems, trainer_gpus
    from launch.train import services

    def cfg(**kw: object) -> TrainConfig:
        return TrainConfig(serve_verifier=True, **kw)  # type: ignore[arg-type]

    # GPU 7 for the verifier, 4 to train on: GPUs 0-3; GPU 0 for the verifier: 1-4 (never 7 of 8 for 8).
    assert trainer_gpus(cfg(verifier_gpus="7", gpus_per_node=4)) == [0, 1, 2, 3]
    assert trainer_gpus(cfg(verifier_gpus="0", gpus_per_node=4)) == [1, 2, 3, 4]
    assert trainer_gpus(cfg(verifier_gpus="1,3", gpus_per_node=3)) == [0, 2, 4]
    assert job_env(cfg(verifier_gpus="0", gpus_per_node=4))["CUDA_VISIBLE_DEVICES"] == "1,2,3,4"
    assert services(cfg(verifier_gpus="0", gpus_per_node=4))[0].env == {"CUDA_VISIBLE_DEVICES": "0"}
    assert "CUDA_VISIBLE_DEVICES" not in job_env(TrainConfig(verifier_urls=["http://v/v1"], gpus_per_node=4))
    # On an 8-GPU machine: 1 + 7 fits, 1 + 8 does not; a GPU index past the last does not either.
    assert placement_problems(cfg(verifier_gpus="7", gpus_per_node=7), gpus=8) == []
    assert (
        "lower --gpus-per-node to 7" in placement_problems(cfg(verifier_gpus="7", gpus_per_node=8), gpus=8)[0]
    )
    assert "8 GPU(s)" in placement_problems(cfg(verifier_gpus="8", gpus_per_node=4), gpus=8)[0]
    assert (
        placement_problems(cfg(verifier_gpus="7", gpus_per_node=8), gpus=None) == []
    )  # unknown: not refused
    assert "needs --verifier-gpus" in placement_problems(cfg(gpus_per_node=8), gpus=8)[0]
    assert "expected GPU indices" in placement_problems(cfg(verifier_gpus="seven"), gpus=8)[0]
    assert "distinct" in placement_problems(cfg(verifier_gpus="6,6"), gpus=8)[0]
    assert placement_problems(TrainConfig(verifier_urls=["http://v/v1"]), gpus=0) == []  # nothing served here
    # A hosted verifier's key: passed by name to the reward server, refused when it is not set.
    hosted = TrainConfig(verifier_urls=["https://api.example/v1"], verifier_api_key_env="VERIFIER_KEY")
    argv = services(hosted)[-1].argv
    assert argv[argv.index("--verifier-api-key-env") + 1] == "VERIFIER_KEY"
    monkeypatch.delenv("VERIFIER_KEY", raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert any("VERIFIER_KEY: that variable is not set" in p for p in _preflight(hosted))
    monkeypatch.setenv("VERIFIER_KEY", "k")
    assert not any("VERIFIER_KEY" in p for p in _preflight(hosted))


def test_dry_run_config_passes_verl_validation(tmp_path: Path) -> None:
    from verl.utils.config import validate_config

    train = str(_manifest(tmp_path).parent / "train.parquet")
    config = resolved_config(
        TrainConfig(train_files=[train], verifier_urls=["http://v/v1"], nnodes=2, gpus_per_node=4)
    )
    validate_config(config, use_reference_policy=True, use_critic=False)
    assert list(config.data.train_files) == [train] and config.trainer.n_gpus_per_node == 4


def test_sweep_dry_run_names_groups_and_tags_each_subset(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path)
    out = _cli("sweep", "--dry-run", "--manifest", str(manifest), "--name", "scale-1", "--verifier-urls", "http://v/v1",
               "--cluster-gpus", "16")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "# 3 runs, 2 at a time, W&B group scale-1" in out.stdout
    for rows, fraction in ((10, 0.25), (20, 0.5), (40, 1)):
        assert f"qwen3vl8b_grpo-imgcoder-n{rows}" in out.stdout
        assert f"WANDB_TAGS=source:imgcoder,n:{rows},fraction:{fraction:g}" in out.stdout
        assert f"scale/train_{fraction:g}.parquet" in out.stdout
        # every subset is smaller than the recipe's batch of 128: each run gets a batch that fits it
        assert (
            f"data.train_batch_size={rows} actor_rollout_ref.actor.ppo_mini_batch_size={rows}" in out.stdout
        )


def test_scaling_fit_from_real_offline_wandb_runs(tmp_path: Path) -> None:
    """Three offline W&B runs written here, as verl's tracking writes them; one of another group."""
    script = """
import sys, wandb
n, group, acc_mv, acc_geo = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
run = wandb.init(project="scigen-rl", name=f"qwen3vl8b_grpo-imgcoder-n{n}", group=group,
                 tags=["source:imgcoder", f"n:{n}"], config={"data": {"train_batch_size": 128}})
for step in (0, 10, 20):  # validation every 10 steps; the last one is the run's result
    frac = step / 20
    wandb.log({"val-core/mathvision_mini/acc/mean@4": acc_mv * frac, "val-core/geometry3k/acc/mean@4": acc_geo * frac,
               "critic/score/mean": 0.5}, step=step)
run.finish()
"""
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "WANDB_SILENT": "true"}
    import math

    truth = {"mv": (0.30, 0.02), "geo": (0.55, 0.03)}  # accuracy = a + b ln(n)
    for n, group in ((100, "s1"), (1000, "s1"), (10000, "s1"), (50, "other")):
        mv, geo = (a + b * math.log(n) for a, b in truth.values())
        subprocess.run(
            [sys.executable, "-c", script, str(n), group, str(mv), str(geo)], env=env, check=True, timeout=120
        )

    rows = collect([tmp_path / "wandb"], group="s1")
    assert [r["n"] for r in rows] == [100, 1000, 10000]
    result = report(rows, tmp_path / "sweep")
    for key, bench in (("mv", "mathvision_mini"), ("geo", "geometry3k")):
        assert result["fits"][bench]["a"] == pytest.approx(truth[key][0], abs=1e-9)
        assert result["fits"][bench]["b"] == pytest.approx(truth[key][1], abs=1e-9)
    with Image.open(tmp_path / "sweep" / "scaling.png") as plot:
        assert plot.size[0] > 300
    assert "| 1000 | " in (tmp_path / "sweep" / "scaling.md").read_text()
    assert json.loads((tmp_path / "sweep" / "scaling.json").read_text())["runs"] == rows
    with pytest.raises(ValueError, match="two runs"):
        fit_log([(100, 0.5)])


def test_reward_monitor_logs_verdict_rates_to_wandb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real reward server (rule only) judges two batches; the monitor logs each interval's shares
    to an offline W&B run, read back from its own file."""
    import httpx

    from launch.reward_monitor import RewardMonitor, wandb_logger
    from launch.wandb_files import find_runs, read_run

    from .test_reward_server import _start, _stop

    url, proc = _start("--mode", "rule_only")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    try:
        log, finish = wandb_logger("scigen-rl", "exp-reward", "g1", ["n:10"])
        monitor = RewardMonitor(url + "/metrics", log, interval_s=3600)
        items = [
            {"question": "q", "ground_truth": "4", "response": f"\\boxed{{{4 + (i % 4 == 0)}}}"}
            for i in range(8)
        ]
        httpx.post(url + "/score", json={"items": items}, timeout=30)
        first = monitor.poll()
        httpx.post(url + "/score", json={"items": [{**items[1], "response": "\\boxed{4.0}"}] * 2}, timeout=30)
        second = monitor.poll()
        finish()
    finally:
        _stop(proc)
    assert first["reward_server/answers"] == 8 and first["reward_server/verdict/correct"] == 0.75
    assert first["reward_server/verdict/incorrect"] == 0.25 and first["reward_server/rule_share"] == 1.0
    assert (
        second["reward_server/answers"] == 2 and second["reward_server/verdict/correct"] == 1.0
    )  # this interval only
    (path,) = find_runs(tmp_path / "wandb")
    run = read_run(path)
    assert run["group"] == "g1" and run["name"] == "exp-reward"
    assert [row["reward_server/answers"] for row in run["history"]] == [8, 2]


def test_small_train_files_get_the_largest_batch_verl_accepts(tmp_path: Path) -> None:
    from launch.verl_overrides import batch_overrides

    def batch(rows: int, nnodes: int, gpus: int) -> list[str]:
        train = _rows_parquet(tmp_path / f"t{rows}.parquet", rows)
        return batch_overrides(TrainConfig(train_files=[str(train)], verifier_urls=["http://v/v1"],
                                           nnodes=nnodes, gpus_per_node=gpus))  # fmt: skip

    assert batch(50, 1, 8) == ["data.train_batch_size=50", "actor_rollout_ref.actor.ppo_mini_batch_size=50"]
    # 8 rollouts per prompt over 12 GPUs: the batch must make 8 * batch divisible by 12, so 49 -> 48
    assert batch(49, 2, 6) == ["data.train_batch_size=48", "actor_rollout_ref.actor.ppo_mini_batch_size=48"]
    assert batch(128, 1, 8) == [] and batch(300, 1, 8) == []  # enough rows: the recipe's batch stands


def _preflight(cfg: TrainConfig) -> list[str]:
    from launch.train import preflight

    return preflight(cfg, resolved_config(cfg))


def test_preflight_refuses_what_the_cluster_cannot_see(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    shared = tmp_path / "shared"
    inside = _rows_parquet(shared / "train.parquet", 200)
    outside = _rows_parquet(tmp_path / "elsewhere" / "train.parquet", 200)
    val = _rows_parquet(shared / "val.parquet", 10)
    remote = {"verifier_urls": ["http://v/v1"], "ray_address": "http://head:8265", "val_files": [str(val)],
              "reward_host": "10.0.0.2"}  # fmt: skip
    assert any("give --shared-dir" in p for p in _preflight(TrainConfig(train_files=[str(inside)], **remote)))
    ok = TrainConfig(train_files=[str(inside)], shared_dir=str(shared), **remote)
    assert _preflight(ok) == []
    problems = _preflight(TrainConfig(train_files=[str(outside)], shared_dir=str(shared), **remote))
    assert problems == [
        f"{outside} is not under --shared-dir {shared}: the cluster's nodes cannot see it; copy it there"
    ]
    missing = _preflight(
        TrainConfig(train_files=[str(shared / "nope.parquet")], shared_dir=str(shared), **remote)
    )
    assert missing == [f"train file {shared / 'nope.parquet'} does not exist"]
    # This machine's own cluster sees this machine's files: no shared folder needed.
    local = TrainConfig(train_files=[str(outside)], verifier_urls=["http://v/v1"], val_files=[str(val)],
                        ray_address="http://127.0.0.1:8265")  # fmt: skip
    assert _preflight(local) == []


def test_an_experiment_with_checkpoints_needs_resume_and_keeps_its_wandb_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from launch.train_config import checkpoint_dir, wandb_env

    monkeypatch.setenv("WANDB_MODE", "offline")
    train = _rows_parquet(tmp_path / "train.parquet", 200)
    cfg = TrainConfig(train_files=[str(train)], val_files=[str(train)], verifier_urls=["http://v/v1"],
                      shared_dir=str(tmp_path), experiment_name="exp")  # fmt: skip
    assert _preflight(cfg) == [] and "WANDB_RUN_ID" not in wandb_env(cfg)
    ckpt = checkpoint_dir(cfg)
    assert ckpt == tmp_path / "checkpoints" / "exp"
    (ckpt / "global_step_20").mkdir(parents=True)
    (ckpt / "wandb_run_id").write_text("exp-1234abcd\n")
    (problem,) = _preflight(cfg)
    assert "already has checkpoints" in problem and "--resume" in problem
    resumed = TrainConfig(**{**cfg.__dict__, "resume": True})
    assert _preflight(resumed) == []
    config = resolved_config(resumed)
    assert config.trainer.resume_mode == "auto" and config.trainer.default_local_dir == str(ckpt)
    assert (
        wandb_env(resumed)["WANDB_RUN_ID"] == "exp-1234abcd" and wandb_env(resumed)["WANDB_RESUME"] == "allow"
    )
    assert resolved_config(cfg).trainer.resume_mode == "disable"


def test_online_wandb_without_a_key_is_stopped_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train = _rows_parquet(tmp_path / "train.parquet", 200)
    cfg = TrainConfig(train_files=[str(train)], val_files=[str(train)], verifier_urls=["http://v/v1"],
                      shared_dir=str(tmp_path), ray_address="http://head:8265", reward_host="10.0.0.2")  # fmt: skip
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    assert any("WANDB_API_KEY is not set" in p for p in _preflight(cfg))
    monkeypatch.setenv("WANDB_API_KEY", "secret-key-123")
    assert _preflight(cfg) == []
    from launch.train import dry_run
    from launch.verl_overrides import cluster_job

    assert cluster_job(cfg).env_vars["WANDB_API_KEY"] == "secret-key-123"  # forwarded to the job
    assert "secret-key-123" not in dry_run(cfg)  # and never printed
    monkeypatch.delenv("WANDB_API_KEY")
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert _preflight(cfg) == []


def test_a_crashed_reward_server_is_restarted_and_scores_resume(tmp_path: Path) -> None:
    """The reward server under supervision, killed mid-run: answers sent meanwhile are retried until
    the restarted server judges them (not the rule fallback), and the restart is logged."""
    import signal

    from .test_reward_server import score_once

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = Service("reward", [sys.executable, "-m", "scigen_rl.cli", "serve-reward", "--port", str(port),
                                "--mode", "rule_only"], url + "/health", start_timeout_s=60)  # fmt: skip

    with ServiceManager(tmp_path, grace_s=5, supervise_s=0.5) as manager:
        first = manager.start(server)
        assert score_once(url, "\\boxed{13}", "12", retry_s=60)["path"] == "rule"
        os.killpg(first.pid, signal.SIGKILL)
        during = score_once(url, "\\boxed{13}", "12", retry_s=60)  # sent while the server is down
        assert during["path"] == "rule" and during["unscored"] == 0.0 and during["fallback"] == 0.0
        second = manager.running[0][1]
        assert second.pid != first.pid and _alive(second.pid) and manager.restarts == {"reward": 1}
    log = (tmp_path / "services" / "restarts.log").read_text()
    assert "reward exited with -9; restarting it (restart 1)" in log and "reward is healthy again" in log
    assert not _alive(second.pid)


def test_the_reward_url_is_never_loopback_for_a_cluster_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from launch.placement import reward_url, routable_address

    monkeypatch.setenv("WANDB_MODE", "offline")
    here = TrainConfig(verifier_urls=["http://v/v1"], ray_address="http://127.0.0.1:8265", reward_port=9000)
    assert reward_url(here) == "http://127.0.0.1:9000"
    with pytest.raises(ValueError, match="only over loopback"):
        routable_address("127.0.0.1")
    own = socket.gethostbyname(socket.gethostname())
    if not own.startswith("127."):  # this machine's own address routes to itself, not over loopback
        assert routable_address(own) == own
        remote = TrainConfig(
            verifier_urls=["http://v/v1"], ray_address=f"http://{own}:8265", reward_port=9000
        )
        assert reward_url(remote) == f"http://{own}:9000"
    shared = tmp_path / "shared"
    train = _rows_parquet(shared / "train.parquet", 200)
    loopback = TrainConfig(train_files=[str(train)], val_files=[str(train)], verifier_urls=["http://v/v1"],
                           ray_address="http://head:8265", reward_host="127.0.0.1", shared_dir=str(shared))  # fmt: skip
    assert any("loopback" in p for p in _preflight(loopback))
    with pytest.raises(ValueError, match="give --reward-host"):
        reward_url(TrainConfig(verifier_urls=["http://v/v1"], ray_address="http://no-such-host.invalid:8265"))


def test_hydra_keeps_its_record_in_the_run_not_the_working_directory(tmp_path: Path) -> None:
    from launch.train_config import checkpoint_dir, experiment_name
    from launch.verl_overrides import command

    work = tmp_path / "work"
    work.mkdir()
    train = str(_manifest(tmp_path).parent / "train.parquet")
    cfg = TrainConfig(train_files=[train], verifier_urls=["http://v/v1"], run_dir=str(tmp_path / "runs"),
                      checkpoint_dir=str(tmp_path / "checkpoints"))  # not the checkout's runs/: a record per test run  # fmt: skip
    # The v1 trainer switched off: verl_main stops right after Hydra has set its run up.
    done = subprocess.run([*command(cfg), "trainer.use_v1=false"], cwd=work, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode != 0 and "launch.verl_main runs verl's v1 trainer" in done.stderr, done.stderr
    assert list(work.iterdir()) == []  # no outputs/ where the command ran
    (record,) = (checkpoint_dir(cfg) / "hydra").glob("*/.hydra/config.yaml")
    assert f"experiment_name: {experiment_name(cfg)}" in record.read_text()


# Prompt groups planted by acc pattern: every rollout right, every rollout wrong, or mixed verdicts.
PATTERNS = {"right": [1.0, 1.0, 1.0, 1.0], "wrong": [0.0, 0.0, 0.0, 0.0], "mixed": [1.0, 0.0, 0.0, 1.0]}


def test_zero_variance_groups_are_exactly_those_grpo_gives_no_gradient() -> None:
    """Planted groups in both directions (all right, all wrong) and their opposite (mixed verdicts,
    one lone answer, one answer apart): a group counts as zero-variance exactly when verl's own GRPO
    advantage is 0 for every one of its answers."""
    import numpy as np
    import torch
    from verl.trainer.ppo.core_algos import compute_grpo_outcome_advantage

    from launch.prompt_groups import group_metrics

    groups = {
        "right": [1.0] * 8,
        "wrong": [0.0] * 8,
        "half": [0.5] * 8,  # alike, though neither right nor wrong (a format share, say)
        "mixed": [1.0, 0.0] * 4,
        "one-apart": [0.0] * 7 + [1.0],
        "lone": [1.0],  # a single answer: verl uses its score as its advantage
    }
    answers = [(uid, s, s if s in (0.0, 1.0) else None) for uid, scores in groups.items() for s in scores]
    index = np.array([uid for uid, _, _ in answers], dtype=object)
    rewards = torch.zeros(len(answers), 5)
    rewards[:, -1] = torch.tensor([s for _, s, _ in answers])
    advantages, _ = compute_grpo_outcome_advantage(rewards, torch.ones_like(rewards), index)
    no_gradient = {uid for uid in groups if not advantages[index == uid].any()}
    assert no_gradient == {"right", "wrong", "half"}

    m = group_metrics(answers)
    assert m["scigen/zero_variance_groups"] == m["scigen/zero_variance_groups_trained"] == 3 / 6
    assert m["scigen/all_correct_groups"] == 1 / 6 and m["scigen/all_wrong_groups"] == 1 / 6
    assert m["scigen/groups_generated"] == 6
    # Every group alike, or none: 1 and 0.
    assert (
        group_metrics([(u, 1.0, 1.0) for u in "ab" for _ in range(4)])["scigen/zero_variance_groups"] == 1.0
    )
    assert group_metrics([(u, float(i % 2), None) for u in "ab" for i in range(4)]) == {
        "scigen/zero_variance_groups": 0.0, "scigen/zero_variance_groups_trained": 0.0,
        "scigen/all_correct_groups": 0.0, "scigen/all_wrong_groups": 0.0, "scigen/groups_generated": 2.0,
    }  # fmt: skip
    # Dynamic sampling's drops count as generated and alike; their direction only when it filters on acc.
    dropped = group_metrics([(u, float(i % 2), float(i % 2)) for u in "ab" for i in range(4)],
                            dropped=3, dropped_by_value={1.0: 1, 0.0: 2}, surplus=1)  # fmt: skip
    assert (
        dropped["scigen/zero_variance_groups"] == 3 / 6
        and dropped["scigen/zero_variance_groups_trained"] == 0
    )
    assert dropped["scigen/all_correct_groups"] == 1 / 6 and dropped["scigen/all_wrong_groups"] == 2 / 6


class _Prompts:
    """A batch of prompts as verl's trainer hands it to the rollout: its uids and its length."""

    def __init__(self, uids: list[str]) -> None:
        self.uids = uids

    def __len__(self) -> int:
        return len(self.uids)

    def __getitem__(self, key: str) -> list[str]:
        assert key == "uid"
        return self.uids


class _PlantedRollout:
    """Stands in for verl's agent loop: each prompt's rollouts go into the TransferQueue the way its
    AgentLoopWorkerTQ stores them (``<uid>_<session>_0``, ``rm_scores`` with the score on the last
    token, the reward's extra info), with verdicts planted by a pattern per prompt, then the prompt is
    marked finished."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = iter(patterns)
        self.sent: list[tuple[str, str]] = []

    def generate_sequences(self, batch: _Prompts) -> None:
        import torch
        import transfer_queue as tq
        from verl.utils.tensordict_utils import list_of_dict_to_tensordict

        for uid in batch["uid"]:
            pattern = next(self.patterns)
            self.sent.append((uid, pattern))
            fields, keys = [], []
            for session, acc in enumerate(PATTERNS[pattern]):
                scores = torch.zeros(3 + session)  # responses of different lengths, as rollouts are
                scores[-1] = acc
                fields.append(
                    {"rm_scores": scores, "extra_fields": {"reward_extra_info": {"acc": acc, "score": acc}}}
                )
                keys.append(f"{uid}_{session}_0")
            tags = [
                {"status": "success", "global_steps": 1, "min_global_steps": 1, "max_global_steps": 1}
            ] * len(keys)
            tq.kv_batch_put(
                keys=keys, partition_id="train", fields=list_of_dict_to_tensordict(fields), tags=tags
            )
            tq.kv_put(key=uid, partition_id="train", tag={"status": "finished"})


def test_dynamic_sampling_through_verls_replay_buffer_and_the_step_metrics(tmp_path: Path) -> None:
    """The recipe's trainer with dynamic sampling on, in verl's real TransferQueue on a local Ray: its
    first batch and every refill go through the trainer, verl's sync replay buffer drops the groups
    whose rollouts all have the same `acc` and refills twice their number, and the batch it gives back
    holds only groups with mixed verdicts. The step's metrics read from the TransferQueue count what
    was generated and dropped; a step that would pass max_num_gen_batches stops the run."""
    import ray
    import transfer_queue as tq
    from verl.trainer.ppo.v1.replay_buffer import DAPO_FILTERED_REWARD_COUNTS_KEY
    from verl.trainer.ppo.v1.utils import MetricsAggregator

    from launch.guarded_trainer import GenerationLimitReached, GuardedSyncTrainer
    from launch.prompt_groups import DAPO_COUNTS, step_group_metrics

    from .test_recipe import compose

    assert DAPO_COUNTS == DAPO_FILTERED_REWARD_COUNTS_KEY
    config = compose(["data.train_batch_size=4", "actor_rollout_ref.actor.ppo_mini_batch_size=4",
                      "actor_rollout_ref.rollout.n=4", "algorithm.filter_groups.enable=true",
                      "algorithm.filter_groups.max_num_gen_batches=3"])  # fmt: skip
    trainer = GuardedSyncTrainer(config)
    counter = iter(range(1000))
    trainer._next_train_batch = lambda num_prompts=4: _Prompts(
        [f"p{next(counter):03d}" for _ in range(num_prompts)]
    )  # type: ignore[method-assign]
    trainer.replay_buffer.poll_interval = 0.05
    trainer.global_steps = 1  # set by verl when it loads (or has no) checkpoint

    ray.init(num_cpus=8, include_dashboard=False, log_to_driver=False)
    tq.init()
    try:
        # 4 prompts, 2 alike -> 4 more; 3 alike -> 4 more (slots for 4 in flight); 6 with mixed
        # verdicts now: 4 trained, 2 discarded. 12 generated, 6 dropped (3 right, 3 wrong): 3 batches.
        trainer.agent_loop_manager = rollout = _PlantedRollout(
            ["right", "mixed", "wrong", "mixed", "wrong", "right", "mixed", "wrong", "mixed", "mixed", "right", "mixed"]
        )  # fmt: skip
        trainer.prepare_step()
        batch, sampled = trainer.replay_buffer.sample(global_steps=1, partition_id="train", batch_size=4)
        aggregator = MetricsAggregator()
        aggregator.add_step_metrics(sampled, sample_count=len(batch.keys))
        metrics = aggregator.get_aggregated_metrics()  # as verl's step() hands them to _compute_metrics
        mixed = {uid for uid, pattern in rollout.sent if pattern == "mixed"}
        trained = {key.split("_")[0] for key in batch.keys}
        assert len(trained) == 4 and trained <= mixed and len(batch.keys) == 16
        assert metrics["training/filter_groups/evicted_samples"] == 6
        assert metrics["training/filter_groups/discarded_surplus_samples"] == 2
        assert metrics[DAPO_COUNTS] == {1.0: 3, 0.0: 3}

        groups = step_group_metrics(batch.keys, batch.partition_id, [False] * 16, metrics, "acc")
        assert groups == {"scigen/zero_variance_groups": 6 / 12, "scigen/zero_variance_groups_trained": 0.0,
                          "scigen/all_correct_groups": 3 / 12, "scigen/all_wrong_groups": 3 / 12,
                          "scigen/groups_generated": 12.0}  # fmt: skip
        assert trainer._prompts_this_step == 12  # scigen/gen_batches = 3
        # Without dynamic sampling's drops, what the batch holds is what is counted; a padding row never.
        first = [k for k in batch.keys if k.startswith(batch.keys[0].split("_")[0])]
        padded = step_group_metrics(
            [*first, batch.keys[-1]], batch.partition_id, [False] * 4 + [True], {}, None
        )
        assert padded == {"scigen/zero_variance_groups": 0.0, "scigen/zero_variance_groups_trained": 0.0,
                          "scigen/all_correct_groups": 0.0, "scigen/all_wrong_groups": 0.0,
                          "scigen/groups_generated": 1.0}  # fmt: skip
        tq.kv_clear(keys=batch.keys, partition_id="train")

        # Data the policy always gets wrong: the step stops once 3 batches are spent.
        trainer.agent_loop_manager = _PlantedRollout(["wrong"] * 100)
        trainer.global_steps = 2
        trainer.prepare_step()
        with pytest.raises(GenerationLimitReached, match=r"sent 12 prompts .*max_num_gen_batches=3"):
            trainer.replay_buffer.sample(global_steps=2, partition_id="train", batch_size=4)
    finally:
        tq.close()
        ray.shutdown()


def _arm_parquets(tmp_path: Path) -> dict[str, Path]:
    """Five training files of one build's problems as the export writes each arm's: all figures,
    the verified ones, a best-of-N build's, a difficulty band's, and the text-only control (no image)."""
    from data_builders.export import write_parquet

    rows = samples(40)
    text_only = []
    for s in rows[:40]:
        prompt = [{**m, "content": m["content"].replace("<image>", "")} for m in s.prompt]
        text_only.append(replace(s, prompt=prompt, images=[]))
    files = {
        "baseline": rows,
        "filt": rows[:24],
        "bestofn": rows,
        "difficulty": rows[8:30],
        "textonly": text_only,
    }
    return {arm: write_parquet(data, tmp_path / arm / "train.parquet") for arm, data in files.items()}


def test_the_levers_arms_compose_and_pass_verl_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The levers recipe's five arms: `run_levers.sh --dry-run` names, groups and tags one run per arm;
    each arm's config (dynamic sampling off and on) passes verl's validate_config, and every arm,
    the text-only one included, passes the pre-flight checks."""
    from verl.utils.config import validate_config

    from launch.sweep import SweepConfig, arm_configs

    monkeypatch.setenv("WANDB_MODE", "offline")
    arms = _arm_parquets(tmp_path)
    val = _rows_parquet(tmp_path / "val.parquet", 10)
    script = Path(__file__).resolve().parents[1] / "recipes" / "qwen3vl8b_levers" / "run_levers.sh"
    out = subprocess.run(["bash", str(script), *(str(p) for p in arms.values()), "--dry-run", "--name", "levers-t",
                          "--verifier-urls", "http://v/v1", "--cluster-gpus", "16"],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "# 5 runs, 2 at a time, W&B group levers-t" in out.stdout
    for arm, rows in (("baseline", 40), ("filt", 24), ("bestofn", 40), ("difficulty", 22), ("textonly", 40)):
        assert f"# arm {arm}: {arms[arm]} ({rows} rows)" in out.stdout
        assert f"trainer.experiment_name=qwen3vl8b_grpo-{arm}-n{rows} " in out.stdout
        assert f"WANDB_TAGS=arm:{arm},rows:{rows}" in out.stdout

    for dynamic in (False, True):
        specs = [f"{arm}:{path}" for arm, path in arms.items()]
        train = TrainConfig(verifier_urls=["http://v/v1"], val_files=[str(val)], dynamic_sampling=dynamic)
        runs = arm_configs(SweepConfig(arms=specs, name="levers-t", train=train))
        assert [r.experiment_name for r in runs][-1] == "qwen3vl8b_grpo-textonly-n40" + (
            "-ds" if dynamic else ""
        )
        for run in runs:
            config = resolved_config(run)
            validate_config(config, use_reference_policy=True, use_critic=False)
            assert config.algorithm.filter_groups.enable is dynamic
            assert _preflight(run) == [], run.experiment_name
    with pytest.raises(ValueError, match="NAME:PARQUET"):
        SweepConfig(arms=["baseline=runs/b/export/train.parquet"])
    with pytest.raises(ValueError, match="not both"):
        SweepConfig(manifest="m.json", arms=[f"baseline:{arms['baseline']}"])


_ARM_RUNS = """
import sys, wandb
def log(run, arm, gain, steps):
    for step in steps:
        row = {"critic/score/mean": 0.3 + gain + step / 100, "scigen/zero_variance_groups": 0.6 - step / 100}
        if step % 10 == 0:  # validation every 10 steps, as the recipe's
            row["val-core/mathvision_mini/acc/mean@4"] = 0.40 + gain * step / 20
            row["val-core/geometry3k/acc/mean@4"] = 0.60 + gain * step / 20
        run.log(row, step=step)
    run.finish()
def start(arm, group, rows, **kw):
    return wandb.init(project="scigen-rl", name=f"qwen3vl8b_grpo-{arm}-n{rows}", group=group,
                      tags=[f"arm:{arm}", f"rows:{rows}"], reinit="create_new", **kw)
for arm, rows, gain in [("baseline", 40, 0.0), ("filt", 24, 0.02), ("bestofn", 40, 0.03), ("textonly", 40, -0.05)]:
    log(start(arm, "lev", rows), arm, gain, range(21))
log(start("filt", "lev", 24), "filt", 0.5, range(6))  # the arm started again and stopped early
log(start("baseline", "other", 40), "baseline", 0.9, range(21))  # another sweep's
# A run stopped after step 10 and resumed: the same W&B run id, a second run file.
log(start("difficulty", "lev", 22, id="diff-1"), "difficulty", 0.04, range(11))
log(start("difficulty", "lev", 22, id="diff-1", resume="allow"), "difficulty", 0.04, range(11, 21))
run = wandb.init(project="scigen-rl", name="scale-n100", group="lev", tags=["n:100"], reinit="create_new")
run.log({"critic/score/mean": 0.1}, step=0)
run.finish()
"""


def test_the_arms_plot_from_real_offline_wandb_runs(tmp_path: Path) -> None:
    """Five arms' offline W&B runs as verl's tracking writes them (a resumed one in two run files, one
    arm started twice, a run of another group, a scaling run): one figure with a line per arm in each
    panel, the table and the curves; `sweep --collect-only` (the levers recipe's plot script) draws
    the same."""
    from launch.sweep_arms import collect_curves, figure, report_arms

    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "WANDB_SILENT": "true"}
    subprocess.run([sys.executable, "-c", _ARM_RUNS], env=env, check=True, timeout=300)

    runs = collect_curves([tmp_path / "wandb"], group="lev")
    arms = ["baseline", "filt", "bestofn", "difficulty", "textonly"]
    assert [r["arm"] for r in runs] == arms
    difficulty = runs[3]
    assert [s for s, _ in difficulty["curves"]["critic/score/mean"]] == list(range(21))  # both files, one run
    assert difficulty["rows"] == 22 and difficulty["curves"]["val-core/geometry3k/acc/mean@4"][-1] == [
        20,
        0.64,
    ]
    assert (
        runs[1]["superseded"][0].startswith("qwen3vl8b_grpo-filt-n24 (")
        and runs[1]["curves"]["critic/score/mean"][-1][0] == 20
    )

    fig = figure(runs)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["training reward (critic/score/mean)", "prompt groups with zero reward variance",
                      "geometry3k AVG@4 (val-core)", "mathvision_mini AVG@4 (val-core)"]  # fmt: skip
    for ax in fig.axes:
        assert [line.get_label() for line in ax.get_lines()] == arms, ax.get_title()
    val = next(ax for ax in fig.axes if ax.get_title().startswith("mathvision_mini"))
    assert list(val.get_lines()[0].get_xdata()) == [0, 10, 20]  # validation points only

    result = report_arms(runs, tmp_path / "levers")
    with Image.open(tmp_path / "levers" / "arms.png") as plot:
        assert plot.size[0] > 600
    table = (tmp_path / "levers" / "arms.md").read_text()
    assert "| filt | 24 | 20 | 0.475 | 50.0 | 62.0 | 62.0 | 42.0 | 42.0 |" in table, table
    assert "| textonly | 40 | 20 | 0.405 | 50.0 | 55.0 | 60.0 | 35.0 | 40.0 |" in table
    assert (
        f"- filt: {runs[1]['superseded'][0]} superseded by qwen3vl8b_grpo-filt-n24 ({runs[1]['id']})" in table
    )
    assert json.loads((tmp_path / "levers" / "arms.json").read_text())["arms"] == result["arms"]

    plot_script = Path(__file__).resolve().parents[1] / "recipes" / "qwen3vl8b_levers" / "plot_levers.sh"
    done = subprocess.run(["bash", str(plot_script), "lev", str(tmp_path / "wandb"), str(tmp_path / "cli")],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [r["arm"] for r in json.loads(done.stdout)] == arms
    assert (tmp_path / "cli" / "arms.png").is_file()
    # The scaling fit still reads only the scaling runs of the group.
    assert [r["n"] for r in collect([tmp_path / "wandb"], group="lev")] == [100]
