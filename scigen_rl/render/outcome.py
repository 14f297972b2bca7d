"""What became of one script: the result its process sent, or the failure class of how it ended.

The fork-server calls this after each script; it runs in the parent of the script's process and
trusts nothing the script wrote (sizes, types and lengths are all bounded here).
"""

from __future__ import annotations

import io
import os
import signal
import struct
import warnings
from typing import Any

from PIL import Image

from ._wire import FrameError, parse_frame
from .config import FAILURE_CLASSES, RenderConfig

MAX_ERROR_CHARS = 4000
MAX_WARNINGS, MAX_WARNING_CHARS = 20, 400
MAX_TEXTS, MAX_TEXT_CHARS = 500, 300
MAX_ECHO_CHARS = 20  # of a forged field quoted in the error
MEMORY_EXIT_STATUS = 86
"""The exit status a renderer's process ends with when a C library ended it itself, which Graphviz
does when an allocation fails: reported as ``memory`` instead of ``killed``."""


def classify(
    cfg: RenderConfig, data: bytes, ended: tuple[int, Any] | None, why: str | None
) -> tuple[dict[str, Any], list[bytes]]:
    """The result header and PNGs of one script.

    Args:
        cfg: the limits the script ran under (named in the error messages).
        data: what the script's process wrote to its result pipe (a frame, or anything at all).
        ended: ``(wait status, rusage)`` when the process ended before its result was read, else None.
        why: ``deadline`` (killed at the wall-clock limit), ``oversize`` (killed for writing too
            much), ``protocol`` (killed for sending what cannot be a result) or None.

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
    if why == "protocol":
        return failed("protocol", "the script's process sent something that is not a result; it was killed")
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
        if not data and code == MEMORY_EXIT_STATUS:
            return failed(
                "memory",
                f"a library ended the script's process (Graphviz does when an allocation fails at the {cfg.memory_mb} MB limit)",
            )
        if not data:
            return failed(
                "killed", f"the process ended (exit status {code}) before its figures were captured"
            )
    try:
        header, pngs = parse_frame(data, cfg.max_output_mb << 20)
        clean = _checked_header(header)
    except (FrameError, TypeError) as e:
        return failed("protocol", f"the script's process sent a malformed result ({e})")
    if clean["status"] == "failed":
        clean["failure"] = clean["failure"] or "runtime"
        clean["texts"] = []
        return clean, []
    if not pngs:
        return failed("no_figure", "the script drew no figure")
    if len(pngs) > cfg.max_figures:  # the capture never sends more: a forged result
        return failed(
            "protocol",
            f"the script's process sent {len(pngs)} figures, more than the {cfg.max_figures} allowed",
        )
    clean["failure"] = clean["error"] = None
    return clean, pngs


def _checked_header(header: dict[str, Any]) -> dict[str, Any]:
    """The fields a result may have, of the types they must have, cut to their bounds (TypeError if not)."""
    status, failure, error = header.get("status"), header.get("failure"), header.get("error")
    warnings, texts = header.get("warnings", []), header.get("texts", [])
    if status not in ("ok", "failed"):
        raise TypeError(f"status {str(status)[:MAX_ECHO_CHARS]!r}")
    if failure is not None and failure not in FAILURE_CLASSES:
        raise TypeError(f"failure class {str(failure)[:MAX_ECHO_CHARS]!r}")
    if error is not None and not isinstance(error, str):
        raise TypeError("error is not a string")
    for name, values in (("warnings", warnings), ("texts", texts)):
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise TypeError(f"{name} is not a list of strings")
    return {
        "status": status,
        "failure": failure,
        "error": None if error is None else error[:MAX_ERROR_CHARS],
        "warnings": [w[:MAX_WARNING_CHARS] for w in warnings][:MAX_WARNINGS],
        "texts": [t[:MAX_TEXT_CHARS] for t in texts][:MAX_TEXTS],
    }


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) as the IHDR chunk states them: bytes 16-24 of every PNG (not checked here)."""
    width, height = struct.unpack_from(">II", png, 16)
    return width, height


def png_problem(png: bytes, max_pixels: int) -> str | None:
    """Why ``png`` is not a figure the capture could have made, or None when it is one.

    The checks run in the process that keeps the result, on bytes a sandboxed process sent: the PNG
    signature, the decoded size against ``max_pixels`` *before* any pixel is decoded, and a full
    decode (a truncated or corrupt stream fails here, not in a later stage).

    Args:
        png: the bytes of one figure.
        max_pixels: the most pixels a captured figure may have (``RenderConfig.max_pixels``).

    Returns:
        None for a valid PNG within the cap, else a short reason.

    >>> png_problem(b"#!/bin/sh", 100)
    'not a PNG (no PNG signature)'
    """
    if not png.startswith(_PNG_SIGNATURE):
        return "not a PNG (no PNG signature)"
    if png[12:16] != b"IHDR" or len(png) < 24:
        return "not a PNG (no IHDR chunk first)"
    width, height = png_size(png)
    if width * height > max_pixels:  # before Pillow reads anything more
        return f"{width}x{height} pixels, over the cap of {max_pixels}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(png), formats=["PNG"]) as image:
                image.verify()  # every chunk's checksum, up to the end chunk
            with Image.open(io.BytesIO(png), formats=["PNG"]) as image:
                image.load()  # every pixel
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError, Warning) as e:
        return f"not a decodable PNG ({type(e).__name__})"
    return None
