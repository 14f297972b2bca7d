"""Length-prefixed frames over pipes: a JSON header and binary blobs (the PNGs).

Every read has a deadline and a size cap, because one side of two of these pipes is a process that
runs untrusted code and may write garbage, write forever, or stop half-way.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import Any

_MAGIC = b"SGR1"
_PREFIX = struct.Struct(">4sI")


class FrameError(Exception):
    """The peer sent something that is not a well-formed frame."""


def encode_frame(header: dict[str, Any], blobs: list[bytes] = ()) -> bytes:  # type: ignore[assignment]
    head = dict(header, blobs=[len(b) for b in blobs])
    data = json.dumps(head, ensure_ascii=False).encode()
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


def read_frame(fd: int, deadline: float | None = None, max_bytes: int = 1 << 30) -> tuple[dict, list[bytes]]:
    magic, size = _PREFIX.unpack(_read_exact(fd, _PREFIX.size, deadline))
    if magic != _MAGIC or size > max_bytes:
        raise FrameError("bad frame prefix")
    try:
        header = json.loads(_read_exact(fd, size, deadline))
        sizes = [int(s) for s in header.pop("blobs")]
    except (ValueError, KeyError, TypeError) as e:
        raise FrameError(f"bad frame header: {e}") from e
    if any(s < 0 for s in sizes) or sum(sizes) + size > max_bytes:
        raise FrameError("frame larger than allowed")
    return header, [_read_exact(fd, s, deadline) for s in sizes]


def frame_length(data: bytes | bytearray) -> int | None:
    """Total length of the frame starting ``data`` once its header has arrived; None before that.

    A prefix that is not a frame reports an impossible length, so the reader keeps reading to the end
    and the parse fails there with the reason.
    """
    if len(data) < _PREFIX.size:
        return None
    magic, size = _PREFIX.unpack_from(data)
    if magic != _MAGIC:
        return 1 << 62
    end = _PREFIX.size + size
    if len(data) < end:
        return None
    try:
        sizes = json.loads(bytes(data[_PREFIX.size : end]))["blobs"]
        return end + sum(int(s) for s in sizes)
    except (ValueError, KeyError, TypeError):
        return 1 << 62


def parse_frame(data: bytes, max_bytes: int) -> tuple[dict, list[bytes]]:
    """Parse one complete frame already read into memory (the child's result)."""
    if len(data) < _PREFIX.size:
        raise FrameError("truncated frame")
    magic, size = _PREFIX.unpack_from(data)
    if magic != _MAGIC or size > max_bytes:
        raise FrameError("bad frame prefix")
    end = _PREFIX.size + size
    try:
        header = json.loads(data[_PREFIX.size : end])
        sizes = [int(s) for s in header.pop("blobs")]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise FrameError(f"bad frame header: {e}") from e
    blobs = []
    for s in sizes:
        if s < 0 or end + s > len(data):
            raise FrameError("truncated frame")
        blobs.append(data[end : end + s])
        end += s
    return header, blobs
