"""Reading a W&B run's own record file (``run-<id>.wandb``), online or offline, without the server.

An offline run keeps everything only there: a log of protobuf ``Record`` messages (W&B's own
schema, ``wandb.proto.wandb_internal_pb2``) in LevelDB's log framing — a 7-byte file header
(``:W&B``, magic 0xBEE1, version 0), then 32 KiB blocks of chunks, each with a 7-byte header
(CRC32, length, type: 1 whole, 2 first, 3 middle, 4 last part of a record).
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_FILE_HEADER = struct.Struct("<4sHB")
_CHUNK_HEADER = struct.Struct("<IHB")
_BLOCK = 32768
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


class WandbFileError(ValueError):
    pass


def records(path: str | os.PathLike[str]) -> Iterator[bytes]:
    """The serialized records of a ``.wandb`` file, in order (a torn last record is dropped)."""
    data = Path(path).read_bytes()
    if len(data) < _FILE_HEADER.size:
        raise WandbFileError(f"{path}: too short for a W&B run file")
    ident, magic, version = _FILE_HEADER.unpack_from(data)
    if ident != b":W&B" or magic != 0xBEE1 or version != 0:
        raise WandbFileError(f"{path}: not a W&B run file (header {data[:7]!r})")
    pos, parts = _FILE_HEADER.size, []
    while pos + _CHUNK_HEADER.size <= len(data):
        room = _BLOCK - pos % _BLOCK
        if room < _CHUNK_HEADER.size:  # a block's tail too small for a header is padding
            pos += room
            continue
        checksum, length, kind = _CHUNK_HEADER.unpack_from(data, pos)
        chunk = data[pos + _CHUNK_HEADER.size : pos + _CHUNK_HEADER.size + length]
        if len(chunk) < length or (checksum == 0 and length == 0 and kind == 0):
            return  # the writer was stopped mid-record, or zero padding at the end
        if zlib.crc32(chunk, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF != checksum:
            raise WandbFileError(f"{path}: corrupt record at byte {pos}")
        pos += _CHUNK_HEADER.size + length
        if kind == _FULL:
            yield chunk
        elif kind == _FIRST:
            parts = [chunk]
        elif kind == _MIDDLE:
            parts.append(chunk)
        elif kind == _LAST:
            yield b"".join([*parts, chunk])
            parts = []
        else:
            raise WandbFileError(f"{path}: unknown chunk type {kind} at byte {pos}")


def _items(items: Any) -> dict[str, Any]:
    return {(i.key or "/".join(i.nested_key)): json.loads(i.value_json) for i in items}


def read_run(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``{"id", "name", "project", "group", "tags", "config", "history": [{...}], "summary": {...}}``.

    ``summary`` holds each key's last logged value, updated by explicit summary records.
    """
    from wandb.proto import wandb_internal_pb2

    run: dict[str, Any] = {"config": {}, "history": [], "summary": {}, "tags": []}
    for raw in records(path):
        record = wandb_internal_pb2.Record()  # type: ignore[attr-defined]
        record.ParseFromString(raw)
        kind = record.WhichOneof("record_type")
        if kind == "run":
            r = record.run
            run.update(
                id=r.run_id, name=r.display_name, project=r.project, group=r.run_group, tags=list(r.tags)
            )
            run["config"].update(_items(r.config.update))
        elif kind == "config":
            run["config"].update(_items(record.config.update))
        elif kind == "history":
            row = _items(record.history.item)
            run["history"].append(row)
            run["summary"].update({k: v for k, v in row.items() if not k.startswith("_")})
        elif kind == "summary":
            run["summary"].update(_items(record.summary.update))
    return run


def find_runs(root: str | os.PathLike[str]) -> list[Path]:
    """The ``run-*.wandb`` files of every run under a ``wandb`` folder (or its parent)."""
    root = Path(root)
    return sorted({*root.glob("*run-*/run-*.wandb"), *root.glob("wandb/*run-*/run-*.wandb")})
