"""The parent side of the renderer: a pool of fork-server workers, restarted and recycled as needed."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._wire import FrameError, read_frame, write_frame
from .config import FAILURE_CLASSES, RenderConfig
from .outcome import MAX_ERROR_CHARS, MAX_TEXTS, MAX_WARNINGS, png_problem
from .renderers import RendererUnavailable, import_root, renderer_module, unavailable

_STARTUP_TIMEOUT_S = 120.0
_REPLY_GRACE_S = 15.0  # beyond the script's own timeout, before the worker itself is presumed hung
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|COOKIE|SESSION)", re.I)
_PASSED_ENV = ("LANG", "LC_ALL", "TZ")


class SandboxUnavailable(RuntimeError):
    """The machine cannot give scripts the isolation the configuration demands."""


@dataclass
class RenderResult:
    """The outcome of rendering one script."""

    name: str
    status: str
    """``ok`` or ``failed``."""
    failure: str | None = None
    """syntax, runtime, timeout, memory, no_figure, blank or killed (None when ok)."""
    error: str | None = None
    """Truncated traceback or the reason the process was stopped."""
    warnings: list[str] = field(default_factory=list)
    """Missing glyphs (``missing_glyph: ...``), downscaling, dropped blank figures, matplotlib warnings."""
    seconds: float = 0.0
    """Wall-clock time from handing the script to a child to having its figures."""
    pngs: list[bytes] = field(default_factory=list)
    """One PNG per figure the script drew, in the order it emitted them."""
    texts: list[str] = field(default_factory=list)
    """The labels drawn (titles, axis labels, annotations, legends, tables; not tick numbers)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def worker_environment(scratch: str, renderer_root: str | None = None) -> dict[str, str]:
    """The whole environment a worker (and so every script) sees: no inherited secrets. The package
    is importable, and ``renderer_root`` (a renderer module's own folder) too when given."""
    env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
    package_root = str(Path(__file__).resolve().parents[2])
    env.update(
        PATH="/usr/local/bin:/usr/bin:/bin",
        HOME=scratch,
        TMPDIR=scratch,
        LANG=env.get("LANG", "C.UTF-8"),
        MPLBACKEND="Agg",
        MPLCONFIGDIR=str(
            Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "scigen-rl" / "matplotlib"
        ),
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONPATH=os.pathsep.join(dict.fromkeys(p for p in (package_root, renderer_root) if p)),
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        SCIGEN_HOST_HOME=str(Path.home()),  # to be hidden from scripts
    )
    return {k: v for k, v in env.items() if not _SECRET_NAME.search(k)}


class _Worker:
    def __init__(self, config: RenderConfig) -> None:
        self.config = config
        self.jobs = 0
        self.scratch = tempfile.mkdtemp(prefix="scigen-render-")
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker
        module = renderer_module(config.renderer)
        env = worker_environment(self.scratch, import_root(module))
        Path(env["MPLCONFIGDIR"]).mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scigen_rl.render.worker",
                json.dumps(config.to_dict()),
                self.scratch,
                module,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.w = self.proc.stdin.fileno()
        self.r = self.proc.stdout.fileno()
        try:
            header, _ = read_frame(self.r, time.monotonic() + _STARTUP_TIMEOUT_S)
        except (EOFError, TimeoutError, FrameError) as e:
            tail = self.log_tail()
            self.kill()
            raise RuntimeError(f"render worker failed to start ({e}): {tail}") from e
        if header.get("op") == "error":
            self.kill()
            raise SandboxUnavailable(
                f"{header.get('error')}. The renderer needs Linux namespaces (root, or unprivileged user "
                "namespaces); set isolation='relaxed' to run with seccomp and resource limits only."
            )
        self.isolation: dict[str, Any] = header.get("isolation", {})

    def log_tail(self) -> str:
        try:
            self.log.seek(0)
            return self.log.read()[-1500:].decode(errors="replace").strip()
        except ValueError:  # already closed
            return ""

    def render(self, job_id: int, name: str, code: str) -> RenderResult:
        write_frame(self.w, {"op": "render", "id": job_id, "name": name, "code": code})
        deadline = time.monotonic() + self.config.timeout_s + _REPLY_GRACE_S
        header, pngs = read_frame(self.r, deadline, (self.config.max_output_mb + 1) << 20, strict=True)
        if header.get("id") != job_id:
            raise FrameError(f"reply for job {header.get('id')} while waiting for {job_id}")
        self.jobs += 1
        return _checked_result(name, header, pngs, self.config)

    def close(self) -> None:
        try:
            write_frame(self.w, {"op": "shutdown"})
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self.log.close()
        with contextlib.suppress(OSError):
            os.rmdir(self.scratch)


def _checked_result(name: str, header: dict[str, Any], pngs: list[bytes], cfg: RenderConfig) -> RenderResult:
    """The result as this process re-derives it: an ``ok`` needs 1 to ``max_figures`` figures, each a
    PNG that decodes within the pixel cap; anything else that claims success is a ``protocol`` failure."""
    status, failure = header.get("status"), header.get("failure")
    if status == "ok":
        if not 0 < len(pngs) <= cfg.max_figures:
            problem: str | None = f"{len(pngs)} figures with an ok status"
        else:
            reasons = ((i, png_problem(png, cfg.max_pixels)) for i, png in enumerate(pngs, start=1))
            problem = next((f"figure {i}: {reason}" for i, reason in reasons if reason is not None), None)
        if problem is not None:
            return RenderResult(name, "failed", "protocol", f"the script's result was refused: {problem}")
    elif status != "failed" or failure not in FAILURE_CLASSES:
        return RenderResult(
            name,
            "failed",
            "protocol",
            f"a reply with status {str(status)[:20]!r}, failure {str(failure)[:20]!r}",
        )
    return RenderResult(
        name=name,
        status=status,
        failure=None if status == "ok" else failure,
        error=str(header.get("error"))[:MAX_ERROR_CHARS] if header.get("error") is not None else None,
        warnings=[str(w) for w in header.get("warnings", [])][:MAX_WARNINGS],
        seconds=float(header.get("seconds", 0.0)),
        pngs=pngs if status == "ok" else [],
        texts=[str(t) for t in header.get("texts", [])][:MAX_TEXTS] if status == "ok" else [],
    )


class Renderer:
    """Render untrusted matplotlib scripts in sandboxed, forked children.

    Use as a context manager::

        with Renderer(RenderConfig(workers=2)) as r:
            result = r.render("import matplotlib.pyplot as plt\\nplt.plot([1, 2])", name="line")
            result.pngs[0]  # PNG bytes
    """

    def __init__(self, config: RenderConfig | None = None) -> None:
        self.config = config or RenderConfig()
        renderer_module(self.config.renderer)  # an unknown renderer is refused before any worker starts
        problem = unavailable(self.config.renderer, self.config.tex_engine)
        if problem is not None:  # and so is one this machine cannot run, with what to install
            raise RendererUnavailable(problem)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._ids = iter(range(1, 1 << 62))
        self.isolation: dict[str, Any] = {}
        self.restarts = 0
        self._missing = 0  # workers that died and could not be replaced yet
        self._closed = False

    def __enter__(self) -> Renderer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        with ThreadPoolExecutor(self.config.n_workers) as ex:
            futures = [ex.submit(_Worker, self.config) for _ in range(self.config.n_workers)]
            errors = []
            for f in futures:
                try:
                    self._adopt(f.result())
                except Exception as e:  # noqa: BLE001 - reported together below
                    errors.append(e)
        if errors:
            self.close()
            raise errors[0]
        self.isolation = self._all[0].isolation

    def _adopt(self, worker: _Worker) -> None:
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _retire(self, worker: _Worker, hard: bool) -> None:
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        worker.kill() if hard else worker.close()

    def _replace(self) -> str | None:
        """Start a worker for one that is gone; on failure remember the gap and say why."""
        try:
            self._adopt(_Worker(self.config))
            return None
        except Exception as e:  # noqa: BLE001 - reported on the result, retried on the next script
            with self._lock:
                self._missing += 1
            return str(e)

    def _fill_gaps(self) -> str | None:
        with self._lock:
            missing, self._missing = self._missing, 0
        errors = [e for e in (self._replace() for _ in range(missing)) if e]
        with self._lock:
            empty = not self._all
        return errors[0] if errors and empty else None

    def render(self, code: str, name: str = "script.py") -> RenderResult:
        """Render one script; never raises for anything the script does, nor when a worker dies."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the renderer is closed")
            job_id = next(self._ids)
        for attempt in range(2):
            problem = self._fill_gaps()
            if problem is not None:
                return RenderResult(name, "failed", "killed", f"no render worker could be started: {problem}")
            worker = self._idle.get()
            try:
                result = worker.render(job_id, name, code)
            except (OSError, EOFError, TimeoutError, FrameError, ValueError) as e:
                tail = worker.log_tail()
                self._retire(worker, hard=True)
                with self._lock:
                    self.restarts += 1
                    closed = self._closed
                if closed:
                    return RenderResult(name, "failed", "killed", "the renderer was closed during the script")
                self._replace()
                if attempt == 1:
                    return RenderResult(
                        name, "failed", "killed", f"the render worker died twice ({e}); {tail}"
                    )
                continue
            if worker.jobs >= self.config.recycle_after:
                self._retire(worker, hard=False)
                self._replace()
            else:
                self._idle.put(worker)
            return result
        raise AssertionError("unreachable")

    def map(
        self,
        items: Iterable[tuple[str, str]],
        on_done: Callable[[RenderResult], None] | None = None,
    ) -> Iterator[RenderResult]:
        """Render ``(name, code)`` pairs on all workers; yield results in input order."""

        def one(item: tuple[str, str]) -> RenderResult:
            result = self.render(item[1], item[0])
            if on_done is not None:
                on_done(result)
            return result

        with ThreadPoolExecutor(self.config.n_workers) as ex:
            yield from ex.map(one, items)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._all = self._all, []
        for w in workers:
            w.close()
