"""What became of one script: the result its process sent, or the failure class of how it ended.

The fork-server calls this after each script; it runs in the parent of the script's process and
trusts nothing the script wrote (sizes, types and lengths are all bounded here).
"""

from __future__ import annotations

import os
import signal
from typing import Any

from ._wire import FrameError, parse_frame
from .config import FAILURE_CLASSES, RenderConfig

MAX_ERROR_CHARS = 4000
MAX_WARNINGS, MAX_WARNING_CHARS = 20, 400
MAX_TEXTS, MAX_TEXT_CHARS = 500, 300


def dropped_figures(n: int, limit: int) -> str:
    """The warning for figures a script drew past ``RenderConfig.max_figures``."""
    return f"dropped {n} figure(s) past the limit of {limit}"


def classify(
    cfg: RenderConfig, data: bytes, ended: tuple[int, Any] | None, why: str | None
) -> tuple[dict[str, Any], list[bytes]]:
    """The result header and PNGs of one script.

    Args:
        cfg: the limits the script ran under (named in the error messages).
        data: what the script's process wrote to its result pipe (a frame, or anything at all).
        ended: ``(wait status, rusage)`` when the process ended before its result was read, else None.
        why: ``deadline`` (killed at the wall-clock limit), ``oversize`` (killed for writing too
            much) or None.

    Returns:
        ``({status, failure, error, warnings, texts}, pngs)``; ``pngs`` is empty unless ``ok``.
    """

    def failed(failure: str, error: str) -> tuple[dict[str, Any], list[bytes]]:
        return {"status": "failed", "failure": failure, "error": error, "warnings": [], "texts": []}, []

    if why == "deadline":
        return failed(
            "timeout", f"the script ran past the {cfg.timeout_s:g} s wall-clock limit and was killed"
        )
    if why == "oversize":
        return failed("killed", f"the script's output exceeded {cfg.max_output_mb} MB and it was killed")
    if ended is not None:
        status, rusage = ended
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            cpu = rusage.ru_utime + rusage.ru_stime
            # SIGKILL near the CPU limit is the hard limit (a script that ignored SIGXCPU).
            if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= cfg.cpu_limit_s - 0.5):
                return failed(
                    "timeout", f"the script used its {cfg.cpu_limit_s} s CPU-time limit and was killed"
                )
            return failed("killed", f"the script's process was killed by {signal.Signals(sig).name}")
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
        if not data:
            return failed(
                "killed", f"the process ended (exit status {code}) before its figures were captured"
            )
    try:
        header, pngs = parse_frame(data, cfg.max_output_mb << 20)
        clean: dict[str, Any] = {
            "status": "ok" if header.get("status") == "ok" else "failed",
            "failure": header.get("failure") if header.get("failure") in FAILURE_CLASSES else None,
            "error": None if header.get("error") is None else str(header["error"])[:MAX_ERROR_CHARS],
            "warnings": [str(w)[:MAX_WARNING_CHARS] for w in header.get("warnings", [])][:MAX_WARNINGS],
            "texts": [str(t)[:MAX_TEXT_CHARS] for t in header.get("texts", [])][:MAX_TEXTS],
        }
    except (FrameError, AttributeError, TypeError) as e:
        return failed("killed", f"the script's process sent a malformed result ({e})")
    if clean["status"] == "ok" and not pngs:
        return failed("no_figure", "the script drew no figure")
    if clean["status"] == "failed" and clean["failure"] is None:
        clean["failure"] = "runtime"
    if clean["status"] == "ok" and len(pngs) > cfg.max_figures:  # the script's process is not trusted
        clean["warnings"].append(dropped_figures(len(pngs) - cfg.max_figures, cfg.max_figures))
        pngs = pngs[: cfg.max_figures]
    return clean, (pngs if clean["status"] == "ok" else [])
