"""Jobs on a real Ray job server (a head with its dashboard, started here): the uploaded repository and
the job's environment, Ctrl-C stopping the job, clear errors, and `scigen-rl train --ray-address`
running verl's own entry point until the first step that needs a GPU."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO
from .ray_head import RayHead, free_port, ray_head


@pytest.fixture(scope="module")
def head() -> Iterator[RayHead]:
    # 16 logical CPUs: verl's TransferQueue alone places 8 storage actors of one CPU each, and a head
    # with fewer waits for them forever.
    with ray_head(num_cpus=16) as h:
        yield h


_RUN_JOB = """
import json, sys
from launch.ray_jobs import Job, JobError, run_job
spec = json.loads(sys.argv[2])
try:
    sys.exit(run_job(sys.argv[1], Job(**spec), poll_s=0.2))
except JobError as e:
    print(f"JobError: {e}", file=sys.stderr)
    sys.exit(2)
"""


def _run_job(address: str, env: dict[str, str], **spec: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _RUN_JOB, address, json.dumps(spec)],
        cwd=REPO, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_a_job_runs_in_the_uploaded_repository_with_its_environment(head: RayHead) -> None:
    entry = ('echo "cwd=$PWD"; test -f launch/ray_jobs.py && echo repository-uploaded; '
             "test -d scigen_rl/data || echo data-left-out; "
             "python3 -c \"import os; print('var=' + os.environ['SCIGEN_TEST_VAR'])\"; exit 3")  # fmt: skip
    proc = _run_job(head.address, head.env, entrypoint=entry, env_vars={"SCIGEN_TEST_VAR": "hello"},
                    excludes=["scigen_rl/data/"], name="upload")  # fmt: skip
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, err  # the entry point exited 3: the job FAILED, and we say so
    assert "repository-uploaded" in err and "data-left-out" in err and "var=hello" in err
    assert "cwd=" in err and str(REPO) not in err.split("cwd=")[1].split("\n")[0]  # a copy, not this folder
    assert "FAILED" in err and "submitted Ray job upload-" in err


def test_ctrl_c_stops_the_job_on_the_cluster(head: RayHead) -> None:
    proc = _run_job(head.address, head.env, entrypoint="echo started; sleep 300", name="sleeper")
    assert proc.stderr is not None
    deadline = time.monotonic() + 120
    line = ""
    while "started" not in line and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if line.startswith("submitted Ray job "):
            job_id = line.split()[3]
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and f"stopped Ray job {job_id}" in err
    status = subprocess.run(
        [sys.executable, "-c", "import sys; from ray.job_submission import JobSubmissionClient as C; "
         "print(C(sys.argv[1]).get_job_status(sys.argv[2]))", head.address, job_id],
        env={**os.environ, **head.env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert status.stdout.strip() in ("STOPPED", "JobStatus.STOPPED"), status.stderr


def test_an_unreachable_or_refusing_job_server_is_one_clear_error(head: RayHead) -> None:
    nowhere = _run_job(f"http://127.0.0.1:{free_port()}", head.env, entrypoint="true")
    _, err = nowhere.communicate(timeout=120)
    assert nowhere.returncode == 2 and "JobError: cannot reach the Ray job server" in err
    assert "Traceback" not in err
    wrong = _run_job(head.address, {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "0" * 32}, entrypoint="true")
    _, err = wrong.communicate(timeout=120)
    assert wrong.returncode == 2 and "token authentication" in err and "RAY_AUTH_TOKEN" in err


def _on_cluster(head: RayHead, tmp_path: Path, command: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``scigen-rl <command> --ray-address`` with a stand-in verifier, the shipped small model as the
    policy, the reward server on this machine and one GPU asked for per node."""
    from reward.standin_verifier import verifier_reply
    from scigen_rl.llm.embedded import model_dir
    from scigen_rl.llm.standin import StandInServer

    verifier = StandInServer(api_key=None, reply=verifier_reply)
    env = {**os.environ, **head.env, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1",
           "VERL_LOGGING_LEVEL": "INFO"}  # fmt: skip
    try:
        return subprocess.run(
            [sys.executable, "-m", "scigen_rl.cli", command, "--ray-address", head.address,
             "--verifier-urls", verifier.base_url, "--model", str(model_dir()), "--reward-host", "127.0.0.1",
             "--run-dir", str(tmp_path / "services"), "--gpus-per-node", "1", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=540,
        )  # fmt: skip
    finally:
        verifier.close()


def test_train_on_the_cluster_runs_verl_until_it_needs_a_gpu(head: RayHead, tmp_path: Path) -> None:
    """`scigen-rl train --ray-address`: services up, pre-flight (a job in which every node scores through
    the reward server with the run's token), the job composes verl's config from the
    uploaded recipe, loads the 50-row train file (batch fitted to it) and the val set, and stops at
    verl's GPU check (`create_resource_pool`), the first step that needs a GPU."""
    from data_builders.eval_sets.mathvision import mathvision_rows
    from data_builders.export import write_parquet

    from .test_launch import _rows_parquet

    shared = tmp_path / "shared"
    train = _rows_parquet(shared / "train.parquet", 50)
    val = write_parquet(mathvision_rows()[:6], shared / "val.parquet")
    reward_port = free_port()
    proc = _on_cluster(head, tmp_path, "train", "--train-files", str(train), "--val-files", str(val),
                       "--shared-dir", str(shared), "--reward-port", str(reward_port), "--experiment-name", "e1")  # fmt: skip
    err = proc.stderr
    assert proc.returncode == 1, err[-3000:]
    assert "e1: 50 training rows, fewer than the recipe's batch: data.train_batch_size=50" in err
    assert (
        f"reward pre-flight: all 1 node(s) scored through http://127.0.0.1:{reward_port} and see the run's files"
        in err
    )
    assert "submitted Ray job e1-preflight-" in err and "submitted Ray job e1-1" in err
    assert "train and validate dataloader initialized, train dataset size: 50, val dataset size: 6" in err
    # the recipe's trainer, on the worker, with verl's sync replay buffer and no dynamic sampling
    assert "scigen-rl: trainer scigen_sync (verl's sync): reward/unscored_frac" in err
    assert "scigen/zero_variance_groups logged each step\n" in err
    assert "Total available GPUs 0 is less than total desired GPUs 1" in err
    assert f"default_local_dir': '{shared / 'checkpoints' / 'e1'}'" in err  # verl's printed config
    assert (shared / "checkpoints" / "e1" / "wandb_run_id").is_file()
    assert not (tmp_path / "outputs").exists()


def test_a_sweep_with_a_50_row_subset_runs_on_the_cluster(head: RayHead, tmp_path: Path) -> None:
    """`scigen-rl sweep --ray-address`: a build's 50-row scaling subset becomes a Ray job whose batch is
    fitted to it (verl would divide by zero steps per epoch with 128) and which loads all 50 rows."""
    from data_builders.export import export

    from .test_launch import _rows_parquet, samples

    shared = tmp_path / "shared"
    export(samples(50), shared / "build" / "export", val_fraction=0.0, fractions=(1.0,))
    val = _rows_parquet(shared / "val.parquet", 4)
    proc = _on_cluster(head, tmp_path, "sweep", "--manifest", str(shared / "build" / "export" / "manifest.json"),
                       "--val-files", str(val), "--shared-dir", str(shared), "--reward-port", str(free_port()),
                       "--name", "s1")  # fmt: skip
    err = proc.stderr
    assert proc.returncode != 0, err[-3000:]  # the run stops at verl's GPU check, and the sweep says so
    assert (
        "qwen3vl8b_grpo-imgcoder-n50: 50 training rows, fewer than the recipe's batch: data.train_batch_size=50"
        in err
    )
    assert "submitted Ray job qwen3vl8b_grpo-imgcoder-n50-1" in err
    assert "train and validate dataloader initialized, train dataset size: 50, val dataset size: 4" in err
    assert "Total available GPUs 0 is less than total desired GPUs 1" in err
    assert (shared / "checkpoints" / "qwen3vl8b_grpo-imgcoder-n50" / "wandb_run_id").is_file()
