"""Length-prefixed frames over pipes: a JSON header and binary blobs (the PNGs).

Every read has a deadline and a size cap, because one side of two of these pipes is a process that
runs untrusted code and may write garbage, write forever, or stop half-way.
"""

from __future__ import annotations

import json
import math
import os
import re
import select
import struct
import time
from typing import Any

_MAGIC = b"SGR1"
_PREFIX = struct.Struct(">4sI")
_SURROGATE = re.compile("[\ud800-\udfff]")


class FrameError(Exception):
    """The peer sent something that is not a well-formed frame."""


class FrameTooLarge(FrameError):
    """A well-formed frame whose header announces more bytes than the reader accepts."""


MAX_DEPTH = 8
"""Nesting a frame's header may have: every header either side sends is a flat record of lists."""


def encode_frame(header: dict[str, Any], blobs: list[bytes] = ()) -> bytes:  # type: ignore[assignment]
    head = dict(header, blobs=[len(b) for b in blobs])
    # ASCII: a lone surrogate (a file name decoded with surrogateescape) travels as an escape
    # instead of failing to encode; non-finite numbers are never ours to send.
    data = json.dumps(head, ensure_ascii=True, allow_nan=False).encode()
    return b"".join([_PREFIX.pack(_MAGIC, len(data)), data, *blobs])


def write_frame(fd: int, header: dict[str, Any], blobs: list[bytes] = ()) -> None:  # type: ignore[assignment]
    view = memoryview(encode_frame(header, blobs))
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks = []
    while n > 0:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no complete frame before the deadline")
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("pipe closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses to inf
        raise ValueError(f"non-finite number {text[:20]}")
    return value


def _check_values(header: Any, strict: bool) -> None:
    """Depth within MAX_DEPTH and, when ``strict``, no lone surrogate in any string (walked without
    recursion: the header came from the peer)."""
    todo = [(header, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH}")
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            todo.extend((v, depth + 1) for v in items)
        elif strict and isinstance(value, str) and _SURROGATE.search(value):
            raise ValueError("a string holds a lone surrogate")


def decode_header(raw: bytes, strict: bool = True) -> tuple[dict[str, Any], list[int]]:
    """The header of a frame and its blob sizes, or FrameError for anything malformed.

    ``strict`` (what a sandboxed child sends) also refuses lone surrogates; either way, NaN,
    infinities, nesting past :data:`MAX_DEPTH` and blob sizes that are not non-negative integers
    are refused, and no error other than FrameError escapes (not RecursionError, not OverflowError).
    """
    try:
        header = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
        if not isinstance(header, dict):
            raise TypeError(f"the header is a {type(header).__name__}, not an object")
        _check_values(header, strict)
        sizes = header.pop("blobs")
        if not isinstance(sizes, list) or not all(type(s) is int and s >= 0 for s in sizes):
            raise TypeError("blob sizes must be a list of non-negative integers")
    except (ValueError, KeyError, TypeError, RecursionError, OverflowError, UnicodeError, MemoryError) as e:
        raise FrameError(f"bad frame header: {e}") from None
    return header, sizes


def read_frame(
    fd: int, deadline: float | None = None, max_bytes: int = 1 << 30, strict: bool = False
) -> tuple[dict, list[bytes]]:
    magic, size = _PREFIX.unpack(_read_exact(fd, _PREFIX.size, deadline))
    if magic != _MAGIC or size > max_bytes:
        raise FrameError("bad frame prefix")
    header, sizes = decode_header(_read_exact(fd, size, deadline), strict)
    if sum(sizes) + size > max_bytes:
        raise FrameError("frame larger than allowed")
    return header, [_read_exact(fd, s, deadline) for s in sizes]


def frame_length(data: bytes | bytearray, max_bytes: int) -> int | None:
    """Total length of the frame starting ``data`` once its header has arrived; None before that.

    Raises FrameError as soon as the prefix or the complete header shows that no well-formed frame
    of at most ``max_bytes`` can follow, so the reader stops there instead of waiting for more.
    """
    if len(data) < _PREFIX.size:
        return None
    magic, size = _PREFIX.unpack_from(data)
    if magic != _MAGIC or size > max_bytes:
        raise FrameError("bad frame prefix")
    end = _PREFIX.size + size
    if len(data) < end:
        return None
    _, sizes = decode_header(bytes(data[_PREFIX.size : end]), strict=True)
    if size + sum(sizes) > max_bytes:
        raise FrameTooLarge("frame larger than allowed")
    return end + sum(sizes)


def parse_frame(data: bytes, max_bytes: int) -> tuple[dict, list[bytes]]:
    """Parse one complete frame already read into memory (a sandboxed child's result: strict)."""
    if len(data) < _PREFIX.size:
        raise FrameError("truncated frame")
    magic, size = _PREFIX.unpack_from(data)
    if magic != _MAGIC or size > max_bytes:
        raise FrameError("bad frame prefix")
    end = _PREFIX.size + size
    header, sizes = decode_header(data[_PREFIX.size : end], strict=True)
    blobs = []
    for s in sizes:
        if end + s > len(data):
            raise FrameError("truncated frame")
        blobs.append(data[end : end + s])
        end += s
    if end != len(data):
        raise FrameError("bytes after the frame")
    return header, blobs
