"""The fork-server: one single-threaded process that imports its renderer once and forks a child per script.

Started by :class:`scigen_rl.render.pool.Renderer` as ``python -m scigen_rl.render.worker CONFIG SCRATCH
RENDERER_MODULE`` with a scrubbed environment. Its life:

1. import the renderer (:mod:`.renderers`) and prepare it: for matplotlib, the fixed style, the capture
   hooks, a warm-up figure and the common fonts resolved (children inherit all of it);
2. enter new user (unprivileged only), network, mount, PID, IPC and UTS namespaces, then fork once
   more so that the server runs as PID 1 of its PID namespace (when it dies, the kernel kills every
   process left in the namespace);
3. remount every filesystem read-only, mount a fresh ``/proc`` and a size-limited tmpfs scratch area;
4. keep one *spare* child forked ahead of time, already locked down (own session, resource limits,
   no capabilities, seccomp filter, own empty working directory) and with the pages a typical render
   writes already copied, waiting for a script, so that neither the fork nor most copy-on-write
   faults are on the critical path; each request goes to the spare, a new spare is forked while it
   runs, and the server waits for the result with the wall-clock deadline;
5. after each script, kill whatever the script left behind and delete its working directory.

The server never runs untrusted code itself and reads a child's result with a deadline and a size
cap, so no script can crash or hang it.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from . import _linux
from ._wire import FrameError, FrameTooLarge, frame_length, read_frame, write_frame
from .config import RenderConfig
from .outcome import classify
from .renderers import RendererModule, preload

SCRIPT_IDS = (65534, 65534)
"""(uid, gid) scripts run as when the renderer runs as root: nobody/nogroup, the owner of nothing."""
_ACK = b"\x06"  # a child writes it when it has taken its script: a spare that died before never does
_EXIT_GRACE_S = 0.5  # after the child exits, how long its result pipe may stay open (a straggler holds it)


@dataclass
class _Child:
    pid: int
    job_w: int
    res_r: int
    job_dir: str = ""
    """With namespaces: a private tmpfs of the child's own, mounted on this empty folder when it is
    forked (no other process ever sees its content, and it vanishes with the child). Without: a folder
    made when the child takes a script and deleted after."""


class _Server:
    def __init__(
        self,
        cfg: RenderConfig,
        renderer: RendererModule,
        scratch: str,
        req: int,
        rep: int,
        devnull: int,
        isolation: dict[str, Any],
    ) -> None:
        self.cfg = cfg
        self.renderer = renderer
        self.scratch = scratch
        self.req = req
        self.rep = rep
        self.isolation = isolation
        self.counter = 0
        self.spare: _Child | None = None
        self.open_fds: set[int] = {req, rep}
        # Children get /dev/null from here: no device can be opened inside (the mounts are nodev).
        self.devnull = devnull
        self.base_vm_bytes = _virtual_memory_bytes()
        # Each child mounts its own working directory in a mount namespace of its own: clean-up is
        # free (the namespace goes with the child) and the scratch root is read-only to the script.
        self.private_jobs = isolation.get("namespaces") == "on"
        # As root with namespaces, scripts run as nobody: they own no file, so permissions bind them.
        as_nobody = isolation.get("host_root") and not isolation.get("user_namespace")
        self.script_ids = SCRIPT_IDS if self.private_jobs and as_nobody else None
        isolation["script_uid"] = self.script_ids[0] if self.script_ids else os.getuid()
        self.hot_pages: list[tuple[int, int]] = []

    def calibrate(self) -> None:
        """Learn which pages a typical render writes, so every spare can copy them before it is needed."""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                self.renderer.run_script(self.renderer.WARMUP_SCRIPT, "warmup.py", self.cfg)
                write_frame(w, {"runs": _linux.written_page_runs()})
            finally:
                os._exit(0)
        os.close(w)
        try:
            header, _ = read_frame(r, time.monotonic() + 60)
            self.hot_pages = [(int(a), int(b)) for a, b in header["runs"]]
        except (EOFError, TimeoutError, FrameError, OSError):
            self.hot_pages = []  # an optimisation only: without it, children fault pages in one by one
        finally:
            os.close(r)
            os.waitpid(pid, 0)

    # --- children --------------------------------------------------------------------------------
    def fork_child(self) -> _Child:
        job_r, job_w = os.pipe()
        res_r, res_w = os.pipe()
        job_dir = self._new_job_dir() if self.private_jobs else ""
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                os.close(job_w)
                os.close(res_r)
                if job_dir:
                    self._private_job_dir(job_dir)
                self._child_main(job_r, res_w, job_dir)
                code = 0
            finally:
                os._exit(code)
        os.close(job_r)
        os.close(res_w)
        self.open_fds |= {job_w, res_r}
        return _Child(pid, job_w, res_r, job_dir)

    def _private_job_dir(self, job_dir: str) -> None:
        """In a mount namespace of this child's own: a fresh tmpfs on ``job_dir`` (owned by the
        script's uid) and the scratch root read-only, so nothing around the working directory can be
        written, chmod-ed or left for the next script."""
        _linux.unshare(_linux.CLONE_NEWNS)
        flags = _linux.MS_NOSUID | _linux.MS_NODEV
        owner = f",uid={self.script_ids[0]},gid={self.script_ids[1]}" if self.script_ids else ""
        _linux.mount("tmpfs", job_dir, "tmpfs", flags, f"size={self.cfg.scratch_mb}m,mode=0700{owner}")
        _linux.mount(None, self.scratch, None, _linux.MS_REMOUNT | _linux.MS_BIND | _linux.MS_RDONLY | flags)

    def _child_main(self, job_r: int, res_w: int, own_dir: str) -> None:
        # Not dumpable: the script that runs meanwhile (same uid, no capabilities) can then not open
        # this process's pipes or memory through /proc/<pid>/.
        _linux.prctl(_linux.PR_SET_DUMPABLE, 0)
        os.setsid()
        _linux.set_parent_death_signal(signal.SIGKILL)
        _linux.populate_write(self.hot_pages)  # while the previous script still runs
        for fd in self.open_fds:
            os.close(fd)
        for fd in (0, 1, 2):
            os.dup2(self.devnull, fd)
        os.close(self.devnull)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails with EFBIG instead
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        cfg = self.cfg
        for which, limits in cfg.rlimits(self.base_vm_bytes).items():
            resource.setrlimit(which, limits)
        _linux.drop_capabilities(self.script_ids)
        if self.isolation["seccomp"] == "on":
            # A renderer whose language is a separate program (TeX) names the one it may start.
            program = getattr(self.renderer, "exec_program", None)
            _linux.install_seccomp_filter(program() if program is not None else None)
        gc.set_threshold(50_000, 20, 20)  # a short-lived process: collect rarely, it dies soon anyway
        header, _ = read_frame(job_r)  # wait, already locked down, for the script
        os.close(job_r)
        os.write(res_w, _ACK)
        job_dir = own_dir or str(header["dir"])
        os.chdir(job_dir)
        os.environ.update(HOME=job_dir, TMPDIR=job_dir)
        # tempfile chose its folder before the sandbox closed (read-only now): let it choose again.
        tempfile.tempdir = None
        result, pngs = self.renderer.run_script(str(header["code"]), str(header["name"]), cfg)
        write_frame(res_w, result, pngs)

    def _close_child_fds(self, child: _Child) -> None:
        # By the child's own record, not by number: a closed number is soon reused by another pipe.
        for name in ("job_w", "res_r"):
            fd = getattr(child, name)
            if fd >= 0:
                os.close(fd)
                self.open_fds.discard(fd)
                setattr(child, name, -1)

    def _discard(self, child: _Child) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(child.pid, 0)
        self._close_child_fds(child)
        self._remove_job_dir(child.job_dir)

    def _remove_job_dir(self, job_dir: str) -> None:
        """O(1) with private job folders: what the script wrote went with its mount namespace."""
        if not job_dir:
            return
        if self.private_jobs:
            with contextlib.suppress(OSError):
                os.rmdir(job_dir)
        else:
            shutil.rmtree(job_dir, ignore_errors=True)

    def _new_job_dir(self) -> str:
        while True:  # a name nobody made before us (the scratch root is read-only to scripts anyway)
            self.counter += 1
            path = os.path.join(self.scratch, f"job-{self.counter}")
            try:
                os.mkdir(path, 0o700)
                return path
            except FileExistsError:
                continue

    def _take_spare(self, job: bytes) -> _Child:
        """Hand the script to the waiting spare (a new one if the last script killed it)."""
        for _ in range(3):
            child = self.spare or self.fork_child()
            self.spare = None
            try:
                _write_all(child.job_w, job)
                os.close(child.job_w)
                self.open_fds.discard(child.job_w)
                child.job_w = -1
                return child
            except OSError:
                self._discard(child)
        raise RuntimeError("could not start a render child three times in a row")

    # --- one script ------------------------------------------------------------------------------
    def render(self, request: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        from ._wire import encode_frame

        cfg = self.cfg
        for _ in range(3):
            job_dir = "" if self.private_jobs else self._new_job_dir()  # (a private one comes with the child)
            job = encode_frame({"code": request["code"], "name": request["name"], "dir": job_dir})
            child = self._take_spare(job)
            child.job_dir = child.job_dir or job_dir
            started = time.monotonic()
            try:
                if self.spare is None:
                    self.spare = self.fork_child()  # overlaps with the running script
                data, ended, why = self._collect(child, started + cfg.timeout_s)
            except BaseException:
                self._end_job(child)
                raise
            if data[:1] == _ACK:
                data = data[1:]
                break
            # The spare was dead before it took the script (a previous script killed it): retry.
            self._end_job(child)
        seconds = round(time.monotonic() - started, 4)
        try:
            header, pngs = classify(self.cfg, data, ended, why)
        finally:
            # Every path ends here: nothing the script started outlives its job, whatever it sent.
            self._end_job(child)
        header["seconds"] = seconds
        return header, pngs

    def _end_job(self, child: _Child) -> None:
        """Kill the child's process group and every other process but the spare; drop its folder.

        The child itself may still be tearing down its address space (it is reaped by a later
        sweep), which then overlaps with the next script instead of delaying it."""
        self._close_child_fds(child)
        for kill, target in ((os.killpg, child.pid), (os.kill, child.pid)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(target, signal.SIGKILL)
        self._sweep()
        self._remove_job_dir(child.job_dir)
        child.job_dir = ""

    def _collect(self, child: _Child, deadline: float) -> tuple[bytes, tuple[int, Any] | None, str | None]:
        """Read the child's result until it is complete, the child ends, or the deadline passes.

        Returns (bytes read, (wait status, rusage) if the child ended without a complete result, why it
        was stopped: ``deadline``, ``oversize``, ``protocol`` (what it sent cannot be a result) or None).
        """
        cap = self.cfg.max_output_mb << 20
        buf = bytearray()
        pidfd = os.pidfd_open(child.pid)
        eof = exited = False
        why: str | None = None
        try:
            while not (eof and exited):
                try:
                    end = frame_length(buf[1:], cap) if buf[:1] == _ACK else None
                except FrameTooLarge:
                    why = "oversize"  # announced: no need to wait for the bytes
                    break
                except FrameError:
                    why = "protocol"
                    break
                if end is not None and len(buf) >= end + 1:
                    return bytes(buf[: end + 1]), None, None
                left = deadline - time.monotonic()
                if left <= 0:
                    why = "deadline" if not exited else None
                    break
                watch = ([] if eof else [child.res_r]) + ([] if exited else [pidfd])
                ready = select.select(watch, [], [], left)[0]
                if child.res_r in ready:
                    chunk = os.read(child.res_r, 1 << 20)
                    if not chunk:
                        eof = True
                    else:
                        buf += chunk
                        if len(buf) > cap + 1:
                            why = "oversize"
                            break
                if pidfd in ready:
                    exited = True
                    deadline = min(deadline, time.monotonic() + _EXIT_GRACE_S)
        finally:
            os.close(pidfd)
        if why is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
        _, status, rusage = os.wait4(child.pid, 0)
        return bytes(buf), (status, rusage), why

    def _sweep(self) -> None:
        """SIGKILL every process of ours but the spare, so nothing of a script runs on; reap the dead.

        A SIGKILLed process never runs user code again, so there is no need to wait for it to finish
        exiting: it is reaped by a later sweep.
        """
        keep = {self.spare.pid} if self.spare else set()
        killed: set[int] = set()
        for _ in range(1000):  # repeat while stragglers still had time to start new processes
            fresh = [p for p in _descendants(os.getpid()) if p not in keep and p not in killed]
            if not fresh:
                break
            for pid in fresh:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                killed.add(pid)
        self._reap(block=False)

    def _reap(self, block: bool) -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.spare and pid == self.spare.pid:
                self._close_child_fds(self.spare)
                self.spare = None

    # --- the request loop ------------------------------------------------------------------------
    def serve(self) -> None:
        self.calibrate()
        self.spare = self.fork_child()
        write_frame(self.rep, {"op": "ready", "pid": os.getpid(), "isolation": self.isolation})
        while True:
            while not select.select([self.req], [], [], 0.05)[0]:
                self._reap(block=False)  # children killed after their result finish exiting meanwhile
            try:
                request, _ = read_frame(self.req)
            except (EOFError, FrameError):
                break
            op = request.get("op")
            if op == "shutdown":
                break
            if op == "ping":
                write_frame(self.rep, {"op": "pong", "id": request.get("id")})
                continue
            if self.spare is None:
                self.spare = self.fork_child()
            try:
                header, pngs = self.render(request)
            except Exception as e:  # noqa: BLE001 - a bug of ours must not take the server down
                print(f"render server error: {e!r}", file=sys.stderr, flush=True)
                header, pngs = (
                    {"status": "failed", "failure": "killed", "error": f"render server error: {e!r}"},
                    [],
                )
            write_frame(self.rep, dict(header, op="result", id=request.get("id")), pngs)
        if self.spare is not None:
            self._discard(self.spare)
        self._sweep()
        self._reap(block=True)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            out.append(pid)
            todo.append(pid)
    return out


def _virtual_memory_bytes() -> int:
    """This process's address space (VmSize): a script's memory limit is headroom on top of it."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmSize:")) << 10


def _enter_namespaces(cfg: RenderConfig, req: int, rep: int) -> dict[str, Any]:
    """Unshare, then fork: the caller returns only in the child, PID 1 of the new PID namespace."""
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1:
        raise OSError(0, f"namespaces need a single-threaded process, this one has {threads} threads")
    use_userns = cfg.force_user_namespace or os.geteuid() != 0
    uid, gid = os.getuid(), os.getgid()
    flags = (
        _linux.CLONE_NEWNS
        | _linux.CLONE_NEWNET
        | _linux.CLONE_NEWPID
        | _linux.CLONE_NEWIPC
        | _linux.CLONE_NEWUTS
    )
    _linux.unshare(flags | (_linux.CLONE_NEWUSER if use_userns else 0))
    if use_userns:
        _linux.write_id_maps(uid, gid)
    pid = os.fork()
    if pid:
        # The original process only stands in for the server: it relays the server's exit status.
        os.close(req)
        os.close(rep)
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    _linux.set_parent_death_signal(signal.SIGKILL)
    return {"namespaces": "on", "user_namespace": use_userns}


def _keep_paths() -> list[str]:
    """What the interpreter needs to keep importing: its prefixes and every directory on sys.path."""
    paths = {sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix}
    paths |= {p for p in sys.path if p and os.path.isdir(p)}
    paths |= {os.environ.get("MPLCONFIGDIR", "")} - {""}
    ordered = sorted({os.path.realpath(p) for p in paths} - {"/"})
    return [p for i, p in enumerate(ordered) if not any(p.startswith(q + os.sep) for q in ordered[:i])]


def _hide(paths: list[str], scratch: str) -> list[str]:
    """Cover private files and folders (homes, keys) with empty ones, re-exposing what Python needs."""
    hidden: list[str] = []
    keep = _keep_paths()
    empty_file = os.path.join(scratch, ".empty")
    with open(empty_file, "w"):
        pass
    for n, path in enumerate(os.path.realpath(p) for p in paths if p):
        if not os.path.lexists(path) or any(path == h or path.startswith(h + os.sep) for h in hidden):
            continue
        if not os.path.isdir(path):
            _linux.mount(empty_file, path, None, _linux.MS_BIND)
            hidden.append(path)
            continue
        inside = [k for k in keep if k == path or k.startswith(path + os.sep)]
        if path in inside:
            continue  # the interpreter lives right here: nothing can be hidden
        staged = []
        for i, k in enumerate(inside):
            stage = os.path.join(scratch, f".keep-{n}-{i}")
            os.mkdir(stage)
            _linux.mount(k, stage, None, _linux.MS_BIND | _linux.MS_REC)
            staged.append((stage, k))
        _linux.mount("tmpfs", path, "tmpfs", _linux.MS_NOSUID | _linux.MS_NODEV, "size=1m,mode=0755")
        for stage, k in staged:
            os.makedirs(k, exist_ok=True)
            _linux.mount(stage, k, None, _linux.MS_MOVE)
            os.rmdir(stage)
        hidden.append(path)
    return hidden


def _lock_filesystem(cfg: RenderConfig, scratch: str, as_nobody: bool) -> dict[str, list[str]]:
    """Private paths hidden, everything read-only and device-free, a fresh /proc, a tmpfs scratch area.

    The scratch root ends read-only to scripts: they can write only inside the directory each is given.
    """
    _linux.mount(None, "/", None, _linux.MS_REC | _linux.MS_PRIVATE)
    _linux.mount("proc", "/proc", "proc", _linux.MS_NOSUID | _linux.MS_NODEV | _linux.MS_NOEXEC)
    tmpfs_flags = _linux.MS_NOSUID | _linux.MS_NODEV
    # 0711: an unprivileged script may pass through to its own working directory, not list the rest.
    _linux.mount("tmpfs", scratch, "tmpfs", tmpfs_flags, f"size={cfg.scratch_mb}m,mode=0711")
    private = [*cfg.hidden_paths, os.environ.get("SCIGEN_HOST_HOME", "")]
    opened = _closed_ancestors(_keep_paths()) if as_nobody else []
    hidden = _hide(private + opened, scratch)
    devices = _stage_devices(scratch)
    skipped = []
    for point, options in _linux.mount_points():
        real = os.path.realpath(point)
        if real == os.path.realpath(scratch) or real.startswith(os.path.realpath(scratch) + os.sep):
            continue
        try:
            _linux.remount_read_only(point, options)
        except OSError:
            if point == "/proc" or point.startswith(("/proc/", "/sys/")):
                skipped.append(point)  # kernel interfaces that refuse it; writes there need privileges
                continue
            raise
    _mount_devices(devices)
    # The server still creates job folders in it (it keeps its capabilities); each child sees it
    # read-only besides (a bind remount in its own mount namespace), so no chmod undoes this.
    os.chmod(scratch, 0o511)
    return {
        "hidden_paths": [
            h for h in hidden if h not in opened or h in {os.path.realpath(p) for p in private if p}
        ],
        "reachable_through": [h for h in hidden if h in opened],
        "unlocked_mounts": skipped,
        "devices": sorted(devices),
    }


def _closed_ancestors(keep: list[str]) -> list[str]:
    """The highest folder above each path the interpreter needs that others may not pass through
    (a checkout in a private 0700 folder): covered like a hidden path, with only what is needed
    mounted back inside, so that a script running as nobody can still import from it."""
    closed = []
    for path in keep:
        parts = path.split(os.sep)
        for i in range(2, len(parts)):
            ancestor = os.sep.join(parts[:i])
            if not os.stat(ancestor).st_mode & 0o001:
                closed.append(ancestor)
                break
    return sorted(set(closed))


SCRIPT_DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom")
"""The only device nodes a script finds under /dev: what plain ``python`` scripts expect to open."""


def _stage_devices(scratch: str) -> dict[str, str]:
    """Bind the host's harmless device nodes to files in the scratch area, before /dev goes read-only
    and device-free with every other mount; ``_mount_devices`` then moves them onto a fresh /dev."""
    staged = {}
    for device in SCRIPT_DEVICES:
        if not os.path.exists(device):
            continue
        stage = os.path.join(scratch, ".dev-" + os.path.basename(device))
        with open(stage, "w"):
            pass
        _linux.mount(device, stage, None, _linux.MS_BIND)
        staged[device] = stage
    return staged


def _mount_devices(staged: dict[str, str]) -> None:
    """A new read-only /dev holding only the staged nodes, each read-only but usable as a device."""
    flags = _linux.MS_NOSUID | _linux.MS_NOEXEC
    _linux.mount("tmpfs", "/dev", "tmpfs", flags | _linux.MS_NODEV, "size=64k,mode=0755")
    for device, stage in staged.items():
        with open(device, "w"):
            pass
        _linux.mount(stage, device, None, _linux.MS_MOVE)
        os.unlink(stage)
    for point, options in _linux.mount_points():
        if point in staged:
            _linux.remount_read_only(point, options | {"nosuid", "noexec"}, nodev=False)
    _linux.mount(None, "/dev", None, _linux.MS_REMOUNT | _linux.MS_RDONLY | _linux.MS_NODEV | flags)


def main(argv: list[str]) -> int:
    # `python -m` puts the working directory first on sys.path; scripts must not import from there.
    sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd())]
    cfg = RenderConfig(**json.loads(argv[1]))
    scratch = argv[2]
    os.nice(cfg.nice)  # before seccomp, which denies setpriority to scripts
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pool handles Ctrl-C and shuts us down
    req, rep = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)  # stray prints can never corrupt the protocol

    renderer: RendererModule = importlib.import_module(argv[3])
    renderer.prepare(cfg)
    gc.collect()
    gc.freeze()  # the collector then leaves inherited objects alone: fewer copy-on-write faults

    host_root = os.geteuid() == 0
    isolation: dict[str, Any] = {
        "namespaces": "off",
        "seccomp": "on" if cfg.seccomp else "off",
        "host_root": host_root,
    }
    if cfg.seccomp and not _linux.seccomp_supported():
        isolation["seccomp"] = "unsupported"
    entered = False
    try:
        if not cfg.namespaces:
            raise OSError(0, "disabled by configuration")
        isolation.update(_enter_namespaces(cfg, req, rep))
        entered = True
        isolation.update(
            _lock_filesystem(cfg, scratch, as_nobody=host_root and not isolation["user_namespace"])
        )
    except OSError as e:
        reason = e.strerror or str(e)
        if entered or cfg.isolation == "strict":
            isolation["namespaces"] = f"failed: {reason}"
            write_frame(
                rep, {"op": "error", "error": f"sandbox set-up failed: {reason}", "isolation": isolation}
            )
            return 3
        isolation["namespaces"] = f"unavailable: {reason}"
    if isolation["namespaces"] != "on":
        _linux.prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: orphans of a script come back to us to be killed
        os.makedirs(scratch, exist_ok=True)
    # Once in the namespaces: an import that starts a thread can no longer stop us unsharing.
    # Python modules help only renderers whose scripts are Python (not DOT or LaTeX).
    isolation["preloaded"] = preload(cfg.preload if getattr(renderer, "PYTHON_SCRIPTS", True) else [])
    gc.collect()
    gc.freeze()
    _Server(cfg, renderer, scratch, req, rep, devnull, isolation).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
