"""Responses on disk, one JSON file per request hash: a re-run makes no call it already made."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..records import write_atomic


def request_key(payload: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of everything that decides the answer (not the API key)."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ResponseCache:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None  # a torn file from a killed run counts as a miss and is rewritten
        return data if isinstance(data, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        write_atomic(self._path(key), json.dumps(value, ensure_ascii=False))
