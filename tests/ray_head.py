"""A real Ray head with its dashboard (the job server), started for a test and stopped by PID.

Never ``ray stop``: it would kill every Ray process on the machine. The head runs in a session of its
own under a short temporary folder (Unix socket paths are short), with token authentication on and a
token of its own; teardown kills that session and every process still running from the folder.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RayHead:
    address: str
    """The dashboard (job server) address, ``http://127.0.0.1:PORT``."""
    env: dict[str, str]
    """What a client needs in its environment: the token and the auth mode."""
    temp_dir: Path


def _processes_under(folder: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if str(folder).encode() in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


@contextmanager
def ray_head(num_cpus: int = 8, timeout_s: float = 90.0) -> Iterator[RayHead]:
    temp_dir = Path(tempfile.mkdtemp(prefix="rh", dir="/tmp"))
    env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    dashboard = free_port()
    venv_bin = str(Path(sys.executable).parent)
    head_env = {
        **os.environ,
        **env,
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",  # a job's `python3` is this environment's
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    with open(temp_dir / "head.log", "wb") as log:
        proc = subprocess.Popen(
            [os.path.join(venv_bin, "ray"), "start", "--head", "--block", f"--temp-dir={temp_dir}",
             f"--port={free_port()}", f"--dashboard-port={dashboard}", "--dashboard-host=127.0.0.1",
             f"--ray-client-server-port={free_port()}", f"--num-cpus={num_cpus}", "--num-gpus=0",
             "--include-dashboard=true", "--disable-usage-stats"],
            env=head_env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
        )  # fmt: skip
    address = f"http://127.0.0.1:{dashboard}"
    try:
        _wait_for_job_server(address, env, proc, timeout_s, temp_dir)
        yield RayHead(address, env, temp_dir)
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            for pid in _processes_under(temp_dir):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            time.sleep(2 if sig == signal.SIGTERM else 0.5)
        proc.wait(timeout=30)
        shutil.rmtree(temp_dir, ignore_errors=True)


def _wait_for_job_server(
    address: str, env: dict[str, str], proc: subprocess.Popen[bytes], timeout_s: float, temp_dir: Path
) -> None:
    probe = (
        "import sys; from ray.job_submission import JobSubmissionClient; "
        "JobSubmissionClient(sys.argv[1]).list_jobs()"
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"ray start exited with {proc.returncode}: {(temp_dir / 'head.log').read_text()[-2000:]}"
            )
        done = subprocess.run(
            [sys.executable, "-c", probe, address], env={**os.environ, **env}, capture_output=True, timeout=60
        )
        if done.returncode == 0:
            return
        time.sleep(1)
    raise RuntimeError(f"the Ray job server at {address} did not come up in {timeout_s} s")
