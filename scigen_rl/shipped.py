"""The data sets shipped inside the package, and the one reader every data file goes through.

``scigen_rl/data/`` holds SciGenBench (``scigen.json``, ``seephys.json``, the 330 SeePhys figures;
Apache-2.0) and MathVision testmini (304 problems and their images; MIT), each with its LICENSE and a
SOURCE.md. They are found through :mod:`importlib.resources`, so an editable install, a wheel and a
source checkout all read the same files, and no path outside the installed package is ever assumed.
"""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

SCIGENBENCH = "scigenbench"
MATHVISION = "mathvision"
_EXPECTED = {
    SCIGENBENCH: ("scigen.json", "seephys.json", "seephys_images", "LICENSE", "SOURCE.md"),
    MATHVISION: ("testmini.jsonl", "images", "LICENSE", "SOURCE.md"),
}


class DataFileError(ValueError):
    """A data file is missing or is not what it should be; the message names the file and what was expected."""

    def __init__(self, path: str | Path, expected: str, problem: str) -> None:
        self.path, self.expected, self.problem = str(path), expected, problem
        super().__init__(f"{path}: {problem} (expected {expected})")


SCIGENBENCH_ENV = "SCIGENBENCH_DIR"


def scigenbench_root(given: str | None = None) -> Path:
    """The SciGenBench folder a command reads: the one given, else ``$SCIGENBENCH_DIR``, else the copy
    shipped in the package."""
    chosen = given or os.environ.get(SCIGENBENCH_ENV)
    return Path(chosen) if chosen else shipped_dir(SCIGENBENCH)


def shipped_dir(name: str) -> Path:
    """The folder of a shipped data set (``scigenbench`` or ``mathvision``) inside the installed package.

    >>> (shipped_dir("scigenbench") / "scigen.json").is_file()
    True
    """
    if name not in _EXPECTED:
        raise ValueError(f"no shipped data set {name!r}; shipped: {', '.join(_EXPECTED)}")
    root = Path(str(resources.files("scigen_rl") / "data" / name))
    missing = [f for f in _EXPECTED[name] if not (root / f).exists()]
    if missing:
        raise DataFileError(
            root / missing[0],
            f"the {name} data shipped with scigen-rl ({', '.join(_EXPECTED[name])})",
            "missing from the installed package; reinstall scigen-rl",
        )
    return root


def load_json_file(path: str | Path, expected: str) -> Any:
    """The parsed content of a JSON file, or a :class:`DataFileError` that says which file and what
    it should have held."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, expected, "no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise DataFileError(path, expected, f"not UTF-8 text ({e.reason} at byte {e.start})") from e
    except json.JSONDecodeError as e:
        raise DataFileError(path, expected, f"not valid JSON: {e.msg} at line {e.lineno}") from e


def load_jsonl_file(path: str | Path, expected: str) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file, one per non-empty line; errors name the file and the line."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, expected, "no such file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise DataFileError(path, expected, f"not UTF-8 text ({e.reason} at byte {e.start})") from e
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataFileError(path, expected, f"line {number} is not valid JSON: {e.msg}") from e
        if not isinstance(row, dict):
            raise DataFileError(path, expected, f"line {number} is a {type(row).__name__}, not an object")
        rows.append(row)
    if not rows:
        raise DataFileError(path, expected, "no records in the file")
    return rows


_HUB_NAME = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_FILE_SUFFIXES = {".json", ".jsonl", ".parquet", ".csv", ".arrow"}


def local_or_hub(source: str | Path, expected: str) -> Path | None:
    """An existing local path, or None for a Hugging Face Hub name (``owner/name``); anything else is
    a local path that does not exist, and a :class:`DataFileError` says so instead of a Hub error.

    >>> local_or_hub("MathLLMs/MathVision", "MathVision") is None
    True
    >>> local_or_hub("./no/such/testmini.jsonl", "MathVision")
    Traceback (most recent call last):
    ...
    scigen_rl.shipped.DataFileError: ./no/such/testmini.jsonl: no such file or folder (expected MathVision)
    """
    path = Path(source).expanduser()
    if path.exists():
        return path
    text = str(source)
    if _HUB_NAME.fullmatch(text) and Path(text).suffix.lower() not in _FILE_SUFFIXES:
        return None
    raise DataFileError(text, expected, "no such file or folder")


_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet", ".csv": "csv"}


def _json_lines_problem(path: Path) -> str | None:
    """What is wrong with a local JSON or JSON-lines file of records, in the user's terms (it is
    empty, or the first line that is not a JSON object), or None."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return f"unreadable ({e})"
    if not text.strip():
        return "it is empty: no records"
    if path.suffix.lower() == ".json" and text.lstrip()[:1] in "[{":
        return None  # one JSON document (datasets reads lists and {"data": [...]} too)
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            return f"line {number} is not JSON ({e.msg} at column {e.colno})"
        if not isinstance(record, dict):
            return f"line {number} is a JSON {type(record).__name__}, not an object of fields"
    return None


def open_table(source: str, split: str, expected: str) -> Any:
    """A ``datasets`` table from a local .json/.jsonl/.parquet/.csv file (a folder stands for its
    ``<split>.parquet``) or from a Hub name. A local file that is missing, of another kind or
    unreadable is a :class:`DataFileError` naming it; a Hub failure says what to do offline."""
    import datasets

    local = local_or_hub(source, expected)
    if local is not None:
        path = local / f"{split}.parquet" if local.is_dir() else local
        if not path.is_file():
            raise DataFileError(path, expected, "no such file")
        builder = _BUILDERS.get(path.suffix.lower())
        if builder is None:
            raise DataFileError(path, expected, "neither a .json, .jsonl, .parquet nor .csv file")
        problem = _json_lines_problem(path) if path.suffix.lower() in (".jsonl", ".json") else None
        if problem:  # said in the user's terms, before the library logs a traceback of its own
            raise DataFileError(path, expected, problem)
        try:
            table = datasets.load_dataset(builder, data_files=str(path), split="train")
        except Exception as e:  # noqa: BLE001 - datasets raises many types for an unreadable file
            raise DataFileError(path, expected, f"unreadable ({type(e).__name__}: {str(e)[:200]})") from e
        if len(table) == 0:
            raise DataFileError(path, expected, "it holds no records")
        return table
    try:
        return datasets.load_dataset(source, split=split)
    except Exception as e:  # noqa: BLE001 - hub errors come in many types; say what to do instead
        raise RuntimeError(
            f"could not load {source!r} (split {split!r}) from the Hugging Face Hub: {e}. "
            "Offline, pass a local .json/.jsonl/.parquet path with the same columns."
        ) from e
