"""Managed services of a training run (the vLLM verifier, the reward server): started as their own
process groups, ready only once their health URL answers, stopped by PID (never ``ray stop``, which
would kill every Ray process on the machine)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType


@dataclass
class Service:
    name: str
    """Also the stem of its log and PID files."""
    argv: list[str]
    """The command line."""
    health_url: str
    """Ready when a GET answers 200."""
    env: dict[str, str] = field(default_factory=dict)
    """Added to the environment (e.g. ``CUDA_VISIBLE_DEVICES`` for the verifier)."""
    start_timeout_s: float = 900.0
    """How long it may take to become healthy (a vLLM start loads weights: minutes)."""


class ServiceError(RuntimeError):
    pass


class ServiceManager:
    """Starts services in order, each healthy before the next; stops them in reverse order on exit.

    With ``supervise_s`` set, a watcher checks every that many seconds that each service is still
    running and restarts one that exited (a crashed reward server, a verifier killed by the OOM
    killer), logging each restart to stderr and to ``services/restarts.log``; a service restarted
    more than ``max_restarts`` times is left down, said loudly, and :attr:`failed` names it.
    """

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        grace_s: float = 20.0,
        supervise_s: float | None = None,
        max_restarts: int = 5,
    ) -> None:
        self.dir = Path(run_dir) / "services"
        self.grace_s = grace_s
        self.running: list[tuple[Service, subprocess.Popen[bytes]]] = []
        self.restarts: dict[str, int] = {}
        self.failed: list[str] = []
        self.max_restarts = max_restarts
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        if supervise_s:
            self._watcher = threading.Thread(target=self._watch, args=(supervise_s,), daemon=True)
            self._watcher.start()

    def start(self, service: Service) -> subprocess.Popen[bytes]:
        proc = self._spawn(service)
        with self._lock:
            self.running.append((service, proc))
        self._wait_healthy(service, proc)
        return proc

    def _spawn(self, service: Service) -> subprocess.Popen[bytes]:
        self.dir.mkdir(parents=True, exist_ok=True)
        log = (self.dir / f"{service.name}.log").open("ab")
        proc = subprocess.Popen(
            service.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **service.env},
            start_new_session=True,  # its own process group: stopping it stops its children too
        )
        log.close()
        (self.dir / f"{service.name}.pid").write_text(str(proc.pid))
        return proc

    def _watch(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.check()

    def check(self) -> None:
        """One supervision pass: restart each service that exited, waiting until it is healthy again."""
        with self._lock:
            dead = [(i, s, p) for i, (s, p) in enumerate(self.running) if p.poll() is not None]
        for index, service, proc in dead:
            if self._stop.is_set() or service.name in self.failed:
                continue
            count = self.restarts.get(service.name, 0) + 1
            if count > self.max_restarts:
                self.failed.append(service.name)
                self._note(f"{service.name} exited with {proc.returncode} and has been restarted "
                           f"{self.max_restarts} times already: left down")  # fmt: skip
                continue
            self.restarts[service.name] = count
            self._note(f"{service.name} exited with {proc.returncode}; restarting it (restart {count}); "
                       f"last lines of its log:\n{self.log_tail(service.name, 5)}")  # fmt: skip
            fresh = self._spawn(service)
            with self._lock:
                self.running[index] = (service, fresh)
            try:
                self._wait_healthy(service, fresh)
                self._note(f"{service.name} is healthy again (pid {fresh.pid})")
            except ServiceError as e:
                self._note(str(e))

    def _note(self, message: str) -> None:
        line = f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {message}"
        print(f"scigen-rl services: {line}", file=sys.stderr, flush=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        with (self.dir / "restarts.log").open("a") as log:
            log.write(line + "\n")

    def _wait_healthy(self, service: Service, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + service.start_timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServiceError(
                    f"{service.name} exited with {proc.returncode} before it was healthy; "
                    f"last lines of {self.dir / (service.name + '.log')}:\n{self.log_tail(service.name)}"
                )
            if healthy(service.health_url):
                return
            time.sleep(0.5)
        raise ServiceError(
            f"{service.name} not healthy at {service.health_url} after {service.start_timeout_s:g} s"
        )

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop_all(self) -> None:
        self._stop.set()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(timeout=self.grace_s + 30)
        while self.running:
            with self._lock:
                service, proc = self.running.pop()
            stop_process_group(proc, self.grace_s)
            (self.dir / f"{service.name}.pid").unlink(missing_ok=True)

    def __enter__(self) -> ServiceManager:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()


def healthy(url: str, timeout_s: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - our own URLs
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def stop_process_group(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM to the service's process group, SIGKILL after ``grace_s``."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass
