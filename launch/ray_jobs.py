"""Jobs on a running Ray cluster through Ray's own Python API (``JobSubmissionClient``): no ``ray``
executable on ``PATH`` needed, clear errors for an unreachable or token-protected job server, the job's
log followed, and Ctrl-C stopping the job on the cluster rather than leaving it running there."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
UPLOAD_EXCLUDES = [".git/", ".venv/", "runs/", "checkpoints/", "wandb/", "outputs/", "**/__pycache__/"]
"""Never part of the working directory a job uploads: environments, outputs, caches."""


class JobError(RuntimeError):
    """The job server could not be reached or refused the job; the message says what to do."""


@dataclass
class Job:
    """What to run on the cluster: a shell command line in an uploaded copy of this repository."""

    entrypoint: str
    """A shell command line: the job server runs it with ``sh -c`` in the uploaded working directory."""
    env_vars: dict[str, str] = field(default_factory=dict)
    """The job's environment additions: the only place a job's variables are set."""
    excludes: list[str] = field(default_factory=list)
    """More paths of the repository not to upload."""
    name: str | None = None
    """Submission id prefix shown on the dashboard."""

    def runtime_env(self) -> dict[str, Any]:
        return {
            "working_dir": str(REPO),
            "excludes": UPLOAD_EXCLUDES + self.excludes,
            "env_vars": dict(self.env_vars),
        }


def is_loopback(address: str) -> bool:
    """Whether a dashboard address points at this machine (its files are then the cluster's files).

    >>> is_loopback("http://127.0.0.1:8265"), is_loopback("http://localhost:8265"), is_loopback("http://head:8265")
    (True, True, False)
    """
    host = urlparse(address if "://" in address else f"http://{address}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def connect(address: str) -> Any:
    """A ``JobSubmissionClient`` for the dashboard at ``address``, or a :class:`JobError` naming the fix.

    Ray 2.60 clusters use token authentication by default; a client reads the token only when
    ``RAY_AUTH_MODE=token``. When the server asks for a token and one is at hand (``RAY_AUTH_TOKEN`` or
    ``~/.ray/auth_token``), the mode is switched on for this process and the connection tried again.
    """
    from ray.exceptions import AuthenticationError
    from ray.job_submission import JobSubmissionClient

    try:
        return JobSubmissionClient(address)
    except AuthenticationError as first:
        refusal: AuthenticationError = first
        token_file = Path(os.environ.get("RAY_AUTH_TOKEN_PATH", Path.home() / ".ray" / "auth_token"))
        has_token = bool(os.environ.get("RAY_AUTH_TOKEN")) or token_file.is_file()
        if os.environ.get("RAY_AUTH_MODE") != "token" and has_token:
            os.environ["RAY_AUTH_MODE"] = "token"
            try:
                return JobSubmissionClient(address)
            except AuthenticationError as again:
                refusal = again
        raise JobError(
            f"the Ray job server at {address} refused us ({str(refusal).splitlines()[0]}): it uses token "
            "authentication; put the cluster's token in RAY_AUTH_TOKEN (or in ~/.ray/auth_token) and "
            "set RAY_AUTH_MODE=token"
        ) from refusal
    except (ConnectionError, OSError, RuntimeError, ValueError) as e:
        raise JobError(
            f"cannot reach the Ray job server at {address} ({type(e).__name__}: {str(e).splitlines()[0][:200]}); "
            "start the head with its dashboard (`ray start --head --dashboard-host=0.0.0.0`) and pass "
            "its address, e.g. http://HEAD:8265"
        ) from e


async def _follow(client: Any, job_id: str, out: TextIO) -> None:
    async for lines in client.tail_job_logs(job_id):
        out.write(lines)
        out.flush()


AGENT_WAIT_S = 60.0
"""How long a submission waits for the head's job agent: right after a head starts (or on a loaded
node) the job server answers "No available agent to submit job" until its agent has registered."""


def _submit(client: Any, job: Job, submission_id: str | None) -> str:
    from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_fixed

    def agent_not_ready(error: BaseException) -> bool:
        return "No available agent to submit job" in str(error)

    for attempt in Retrying(retry=retry_if_exception(agent_not_ready), stop=stop_after_delay(AGENT_WAIT_S),
                            wait=wait_fixed(1.0), reraise=True):  # fmt: skip
        with attempt:
            job_id: str = client.submit_job(
                entrypoint=job.entrypoint, runtime_env=job.runtime_env(), submission_id=submission_id
            )
    return job_id


def run_job(
    address: str, job: Job, out: TextIO | None = None, poll_s: float = 1.0, stop_timeout_s: float = 60.0
) -> int:
    """Submit ``job``, stream its log to ``out`` until it ends, and return 0 if it succeeded, else 1.

    Ctrl-C stops the job on the cluster (and says so) and returns 130.
    """
    from ray.job_submission import JobStatus

    out = out or sys.stderr
    client = connect(address)
    submission_id = f"{job.name}-{int(time.time())}" if job.name else None
    try:
        job_id = _submit(client, job, submission_id)
    except Exception as e:  # noqa: BLE001 - the SDK raises RuntimeError/HTTP errors with the server's reason
        raise JobError(f"the Ray job server at {address} refused the job: {str(e)[:500]}") from e
    print(f"submitted Ray job {job_id} to {address}", file=out, flush=True)
    try:
        with contextlib.suppress(Exception):  # a broken log stream must not lose the job's outcome
            asyncio.run(_follow(client, job_id, out))
        status = client.get_job_status(job_id)
        while not status.is_terminal():
            time.sleep(poll_s)
            status = client.get_job_status(job_id)
    except KeyboardInterrupt:
        client.stop_job(job_id)
        deadline = time.monotonic() + stop_timeout_s
        status = client.get_job_status(job_id)
        while not status.is_terminal() and time.monotonic() < deadline:
            time.sleep(poll_s)
            status = client.get_job_status(job_id)
        if status.is_terminal():
            print(f"\nstopped Ray job {job_id} on {address} ({status})", file=out, flush=True)
        else:
            print(f"\nasked Ray job {job_id} on {address} to stop; still {status} after {stop_timeout_s:g} s: "
                  f"check `ray job status {job_id}`", file=out, flush=True)  # fmt: skip
        return 130
    info = client.get_job_info(job_id)
    print(
        f"Ray job {job_id}: {status}" + (f" ({info.message})" if info.message else ""), file=out, flush=True
    )
    return 0 if status == JobStatus.SUCCEEDED else 1
