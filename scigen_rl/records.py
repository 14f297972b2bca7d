"""The four records every stage reads and writes: Problem, Figure, Verdict, Sample.

Each record is a dataclass with ``from_dict`` (validating, with errors that name the record id and the
field) and ``to_dict``. :func:`read_jsonl` / :class:`JsonlWriter` store them one per line, appending
and flushing line by line so a killed run keeps everything it wrote.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar

SUBJECTS = ("Math", "Physics", "Chemistry", "Biology", "Universal")
IMAGE_TYPES = (
    "Math - Plane Geometric", "Math - Solid Geometric", "Math - Analytic Geometry", "Math - Set & Probability",
    "Physics - Mechanical", "Physics - Field Diagram", "Physics - Optical Ray", "Physics - Waveform",
    "Physics - Circuit", "Physics - Thermodynamic", "Physics - Astronomical",
    "Chemistry - Molecular Structure", "Chemistry - Electron Config", "Chemistry - Reaction Scheme",
    "Chemistry - Orbital / Quantum", "Chemistry - Crystal Structure", "Chemistry - Spectra",
    "Biology - Genetics", "Biology - Cell Diagram", "Biology - Molecular Process", "Biology - Ecological",
    "Universal - Plot & Chart", "Universal - Table / Grid", "Universal - Graph & Flow", "Universal - Exp. Setup",
)  # fmt: skip
"""The 25 SciGenBench image types, "Subject - Type"."""

FAILURE_CLASSES = ("syntax", "runtime", "timeout", "memory", "no_figure", "blank", "killed", "protocol")
"""Why a script produced no figure: the renderer's half of the Figure record's failure classes.
``protocol``: what came back from the script's process is not a result the capture could have sent
(a malformed or forged frame, a figure that is not a valid PNG within the pixel cap)."""
PIXEL_FAILURES = ("refused", "blocked", "bad_image")
"""A text-to-image API's answers that are no figure: it refused the prompt (moderation), answered
without an image (blocked, filtered), or sent bytes that are not an image within the caps."""
FIGURE_FAILURES = ("no_code", *FAILURE_CLASSES, *PIXEL_FAILURES)
"""``no_code``: the model's answer held no script; then the renderer's classes and the pixel APIs'."""
JUDGE_DIMENSIONS = (
    "correctness_fidelity",
    "layout_precision",
    "readability_occlusion",
    "scientific_plausibility",
    "expressiveness_richness",
)


class RecordError(ValueError):
    """A record failed validation; the message names the record, its id and the field."""

    def __init__(self, record: str, record_id: Any, field_name: str, problem: str) -> None:
        self.record, self.record_id, self.field, self.problem = record, record_id, field_name, problem
        super().__init__(f"{record} {record_id!r}: field '{field_name}': {problem}")


def _type_name(value: Any) -> str:
    return type(value).__name__


class _Checker:
    """Reads fields out of a dict for one record, raising RecordError on the first bad one."""

    def __init__(
        self, record: str, data: Any, id_field: str = "", record_id: Any = None, prefix: str = ""
    ) -> None:
        self.record = record
        self.prefix = prefix
        self.id = record_id
        if not isinstance(data, dict):
            raise RecordError(
                record,
                record_id,
                prefix.rstrip(".") or "<record>",
                f"expected a JSON object, got {_type_name(data)}",
            )
        self.data = data
        if id_field:
            self.id = data.get(id_field)

    def fail(self, name: str, problem: str) -> RecordError:
        return RecordError(self.record, self.id, self.prefix + name, problem)

    def text(
        self, name: str, *, required: bool = True, empty_ok: bool = False, default: str | None = None
    ) -> Any:
        if name not in self.data or self.data[name] is None:
            if required:
                raise self.fail(name, "is missing")
            return default
        value = self.data[name]
        if not isinstance(value, str):
            raise self.fail(name, f"expected a string, got {_type_name(value)} {value!r:.60}")
        if not empty_ok and required and not value.strip():
            raise self.fail(name, "is empty")
        return value

    def text_list(self, name: str) -> list[str]:
        value = self.data.get(name) or []
        if not isinstance(value, list):
            raise self.fail(name, f"expected a list of strings, got {_type_name(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(f"{name}[{i}]", f"expected a string, got {_type_name(item)}")
        return list(value)

    def number(
        self, name: str, *, required: bool = True, lo: float | None = None, hi: float | None = None
    ) -> Any:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(name, f"expected a number, got {_type_name(value)} {value!r:.60}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.fail(name, f"{value} is outside [{lo}, {hi}]")
        return value

    def flag(self, name: str, *, required: bool = True) -> Any:
        value = self.data.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, bool):
            raise self.fail(name, f"expected true or false, got {value!r:.60}")
        return value

    def mapping(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        value = {} if value is None else value  # absent is empty; an empty list is still the wrong kind
        if not isinstance(value, dict):
            raise self.fail(name, f"expected an object, got {_type_name(value)}")
        return dict(value)

    def choice(self, name: str, options: tuple[str, ...], *, required: bool = True) -> Any:
        value = self.text(name, required=required)
        if value is not None and value not in options:
            raise self.fail(name, f"{value!r} is not one of {', '.join(options)}")
        return value


R = TypeVar("R", bound="_Record")


class _Record:
    KIND: ClassVar[str]

    @classmethod
    def from_dict(cls: type[R], data: Any) -> R:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass
class Quiz(_Record):
    """A multiple-choice question answerable from a correct figure alone (inverse validation)."""

    KIND = "Quiz"
    question: str
    options: dict[str, str]
    correct_option: str
    evidence_snippet: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, problem_id: Any = None, index: int = 0) -> Quiz:
        c = _Checker("Problem", data, record_id=problem_id, prefix=f"quizzes[{index}].")
        fail = c.fail
        options = c.mapping("options")
        if len(options) < 2:
            raise fail("options", f"needs at least two options, got {len(options)}")
        for key, text in options.items():
            if not (isinstance(key, str) and len(key) == 1 and key.isupper()):
                raise fail("options", f"option key {key!r} is not a capital letter")
            if not isinstance(text, str):
                raise fail(f"options.{key}", f"expected a string, got {_type_name(text)}")
        correct = c.text("correct_option")
        if correct not in options:
            raise fail(
                "correct_option", f"{correct!r} is not one of the options {', '.join(sorted(options))}"
            )
        known = {"question", "options", "correct_option", "evidence_snippet", "extra"}
        extra = dict(data.get("extra") or {}, **{k: v for k, v in data.items() if k not in known})
        return cls(
            question=c.text("question"),
            options=dict(sorted(options.items())),
            correct_option=correct,
            evidence_snippet=c.text("evidence_snippet", required=False),
            extra=extra,
        )


@dataclass
class Problem(_Record):
    """A text science problem, with what its figure must show and quizzes to check the figure."""

    KIND = "Problem"
    id: str
    question: str
    answer: str
    source: str
    image_type: str | None = None
    elements: list[str] = field(default_factory=list)
    quizzes: list[Quiz] = field(default_factory=list)
    multimodal_question: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> str | None:
        return self.image_type.split(" - ", 1)[0] if self.image_type else None

    @classmethod
    def from_dict(cls, data: Any) -> Problem:
        c = _Checker("Problem", data, "id")
        pid = c.text("id")
        answer = data.get("answer")
        if isinstance(answer, (int, float)) and not isinstance(answer, bool):
            answer = str(answer)
            data = dict(data, answer=answer)
            c.data = data
        image_type = c.text("image_type", required=False) or None
        if image_type is not None:
            subject = image_type.split(" - ", 1)[0]
            if " - " not in image_type or subject not in SUBJECTS:
                raise c.fail(
                    "image_type",
                    f"{image_type!r} is not 'Subject - Type' with a subject in {', '.join(SUBJECTS)}",
                )
        quizzes = data.get("quizzes") or []
        if not isinstance(quizzes, list):
            raise c.fail("quizzes", f"expected a list, got {_type_name(quizzes)}")
        known = {f.name for f in fields(cls)}
        extra = dict(data.get("extra") or {}, **{k: v for k, v in data.items() if k not in known})
        return cls(
            id=pid,
            question=c.text("question"),
            answer=c.text("answer", empty_ok=True),
            source=c.text("source"),
            image_type=image_type,
            elements=c.text_list("elements"),
            quizzes=[Quiz.from_dict(q, pid, i) for i, q in enumerate(quizzes)],
            multimodal_question=c.text("multimodal_question", required=False) or None,
            extra=extra,
        )


@dataclass
class Figure(_Record):
    """One generated image for a problem: how it was made and whether it rendered."""

    KIND = "Figure"
    problem_id: str
    generator: str
    """e.g. ``imgcoder:qwen3-vl-235b`` or ``t2i:qwen-image``."""
    status: str
    """``ok`` or ``failed``."""
    failure: str | None = None
    """One of FIGURE_FAILURES when failed."""
    plan: str | None = None
    code: str | None = None
    prompt: str | None = None
    raw_response: str | None = None
    png_path: str | None = None
    png_sha256: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    repair_rounds: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> Figure:
        c = _Checker("Figure", data, "problem_id")
        status = c.choice("status", ("ok", "failed"))
        failure = c.choice("failure", FIGURE_FAILURES, required=False)
        if status == "failed" and failure is None:
            raise c.fail("failure", "a failed figure needs a failure class")
        if status == "ok":
            if failure is not None:
                raise c.fail("failure", "an ok figure has no failure class")
            c.text("png_path")
            sha = c.text("png_sha256")
            if len(sha) != 64:
                raise c.fail("png_sha256", "expected 64 hex digits")
        rounds = c.number("repair_rounds", required=False, lo=0)
        timings = c.mapping("timings")
        for k, v in timings.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise c.fail(f"timings.{k}", f"expected seconds, got {v!r:.40}")
        return cls(
            problem_id=c.text("problem_id"),
            generator=c.text("generator"),
            status=status,
            failure=failure,
            plan=c.text("plan", required=False),
            code=c.text("code", required=False),
            prompt=c.text("prompt", required=False),
            raw_response=c.text("raw_response", required=False),
            png_path=c.text("png_path", required=False),
            png_sha256=c.text("png_sha256", required=False),
            error=c.text("error", required=False),
            warnings=c.text_list("warnings"),
            repair_rounds=int(rounds or 0),
            timings={k: float(v) for k, v in timings.items()},
            usage=c.mapping("usage"),
            extra=c.mapping("extra"),
        )


@dataclass
class QuizAnswer(_Record):
    """How the vision model answered one quiz about a figure."""

    KIND = "QuizAnswer"
    index: int
    answer: str | None
    correct: bool
    error: str | None = None


@dataclass
class Verdict(_Record):
    """Verification of one figure: inverse-quiz answers, R_inv, the judge's scores, leakage."""

    KIND = "Verdict"
    problem_id: str
    generator: str
    quiz_answers: list[QuizAnswer] = field(default_factory=list)
    r_inv: float | None = None
    perfect: bool = False
    judge_scores: dict[str, int] = field(default_factory=dict)
    leakage: bool | None = None
    errors: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> Verdict:
        c = _Checker("Verdict", data, "problem_id")
        answers = []
        for i, a in enumerate(data.get("quiz_answers") or []):
            ac = _Checker("Verdict", a, record_id=c.id, prefix=f"quiz_answers[{i}].")
            idx = ac.number("index", lo=0)
            correct = ac.flag("correct")
            answers.append(
                QuizAnswer(
                    int(idx), ac.text("answer", required=False), correct, ac.text("error", required=False)
                )
            )
        scores = c.mapping("judge_scores")
        for k, v in scores.items():
            if k not in JUDGE_DIMENSIONS:
                raise c.fail(
                    f"judge_scores.{k}", f"unknown dimension; expected one of {', '.join(JUDGE_DIMENSIONS)}"
                )
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 2:
                raise c.fail(f"judge_scores.{k}", f"expected an integer 0-2, got {v!r}")
        perfect = c.flag("perfect")
        r_inv = c.number("r_inv", required=False, lo=0.0, hi=1.0)
        if perfect and r_inv is not None and r_inv < 1.0:
            raise c.fail("perfect", f"true but r_inv is {r_inv}")
        return cls(
            problem_id=c.text("problem_id"),
            generator=c.text("generator"),
            quiz_answers=answers,
            r_inv=r_inv,
            perfect=perfect,
            judge_scores=scores,
            leakage=c.flag("leakage", required=False),
            errors=int(c.number("errors", required=False, lo=0) or 0),
            extra=c.mapping("extra"),
        )


@dataclass
class Sample(_Record):
    """One verl training/evaluation row (``RLHFDataset`` layout)."""

    KIND = "Sample"
    data_source: str
    prompt: list[dict[str, str]]
    images: list[dict[str, Any]]
    """``{"bytes": PNG bytes, "path": str | None}`` per ``<image>`` in the prompt."""
    ability: str
    reward_model: dict[str, str]
    """``{"style": "rule" | "model", "ground_truth": str}``."""
    extra_info: dict[str, Any] = field(default_factory=dict)

    IMAGE_TOKEN: ClassVar[str] = "<image>"

    @classmethod
    def from_dict(cls, data: Any) -> Sample:
        c = _Checker("Sample", data)
        extra_info = c.mapping("extra_info")
        c.id = extra_info.get("problem_id", c.data.get("data_source"))
        prompt = data.get("prompt")
        if not isinstance(prompt, list) or not prompt:
            raise c.fail("prompt", "expected a non-empty list of chat messages")
        tokens = 0
        for i, m in enumerate(prompt):
            if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
                raise c.fail(f"prompt[{i}]", "expected {'role': system|user|assistant, 'content': str}")
            if not isinstance(m.get("content"), str):
                raise c.fail(f"prompt[{i}].content", f"expected a string, got {_type_name(m.get('content'))}")
            tokens += m["content"].count(cls.IMAGE_TOKEN)
        images = data.get("images") or []
        if not isinstance(images, list):
            raise c.fail("images", f"expected a list, got {_type_name(images)}")
        decoded = []
        for i, img in enumerate(images):
            if not isinstance(img, dict) or not isinstance(img.get("bytes"), (bytes, str)):
                raise c.fail(f"images[{i}]", "expected {'bytes': PNG bytes, 'path': ...}")
            raw = img["bytes"]
            decoded.append(
                {"bytes": base64.b64decode(raw) if isinstance(raw, str) else raw, "path": img.get("path")}
            )
        if tokens != len(images):
            raise c.fail(
                "prompt",
                f"has {tokens} {cls.IMAGE_TOKEN} placeholder(s) but the row has {len(images)} image(s)",
            )
        rm = c.mapping("reward_model")
        if rm.get("style") not in ("rule", "model"):
            raise c.fail("reward_model.style", f"expected 'rule' or 'model', got {rm.get('style')!r}")
        if not isinstance(rm.get("ground_truth"), str):
            raise c.fail("reward_model.ground_truth", "expected a string")
        return cls(
            data_source=c.text("data_source"),
            prompt=[{"role": m["role"], "content": m["content"]} for m in prompt],
            images=decoded,
            ability=c.text("ability"),
            reward_model={"style": rm["style"], "ground_truth": rm["ground_truth"]},
            extra_info=extra_info,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: image bytes as base64 (``from_dict`` accepts both)."""
        row = self.to_row()
        row["images"] = [
            {"bytes": base64.b64encode(i["bytes"]).decode(), "path": i.get("path")} for i in self.images
        ]
        return row

    def to_row(self) -> dict[str, Any]:
        """The parquet row verl reads (image bytes kept as bytes)."""
        return {
            "data_source": self.data_source,
            "prompt": [dict(m) for m in self.prompt],
            "images": [{"bytes": i["bytes"], "path": i.get("path")} for i in self.images],
            "ability": self.ability,
            "reward_model": dict(self.reward_model),
            "extra_info": dict(self.extra_info),
        }


RECORD_TYPES: dict[str, type[_Record]] = {c.KIND: c for c in (Problem, Figure, Verdict, Sample)}


def latest_by_id(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Each ``id``'s last JSON object in a JSONL file of plain records (a stage's own log, appended as
    work finishes); none when the file is absent. A line that is no JSON object with a string ``id`` (a
    torn last line from a killed run) is skipped: its work is redone."""
    found: dict[str, dict[str, Any]] = {}
    if not Path(path).is_file():
        return found
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            found[record["id"]] = record
    return found


def read_jsonl(path: str | os.PathLike[str], record: type[R]) -> Iterator[R]:
    """Yield records from a JSONL file; errors name the file and line as well as the record and field.

    A last line without its newline is the trace of a killed writer and is skipped.
    """
    path = Path(path)
    with path.open("rb") as f:
        lines = f.read().split(b"\n")
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        if number == len(lines):  # no newline after it: an interrupted append
            return
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{number}: not valid JSON ({e.msg} at column {e.colno})") from e
        try:
            yield record.from_dict(data)
        except RecordError as e:
            raise RecordError(e.record, e.record_id, e.field, f"{e.problem} ({path}:{number})") from e


_LINE_BREAKING = re.compile("[\u0085\u2028\u2029\ud800-\udfff]")


def json_line(data: Any) -> str:
    r"""One JSON document on one line, readable as UTF-8 by any JSON-lines reader.

    Non-ASCII text stays as it is, except the characters some readers split lines on (U+0085,
    U+2028, U+2029) and lone surrogates (a file name decoded with ``surrogateescape``), which are
    written as escapes: the line still decodes to the same strings.

    >>> json_line({"t": "a\u2028b", "f": "x\udc80.py", "é": 1})
    '{"t": "a\\u2028b", "f": "x\\udc80.py", "é": 1}'
    """
    return _LINE_BREAKING.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(data, ensure_ascii=False))


class JsonlWriter:
    """Append records to a JSONL file, one flushed (and fsynced) line each, safe to kill at any moment."""

    def __init__(self, path: str | os.PathLike[str], fsync: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self._repair_tail()
        self._f = self.path.open("ab")
        self._lock = threading.Lock()

    def _repair_tail(self) -> None:
        """Cut an unfinished last line left by a killed writer, so appends start on a fresh line."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with self.path.open("rb+") as f:
            data = f.read()
            if data.endswith(b"\n"):
                return
            f.truncate(data.rfind(b"\n") + 1)

    def write(self, record: _Record | dict[str, Any]) -> None:
        data = record if isinstance(record, dict) else record.to_dict()
        line = json_line(data).encode() + b"\n"
        with self._lock:  # one whole line at a time, whichever thread writes
            self._f.write(line)
            self._f.flush()
            if self.fsync:
                os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Replace a file's content whole (temp file + rename): a reader or a killed run never sees half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with tmp.open("wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def write_jsonl(path: str | os.PathLike[str], records: list[Any]) -> None:
    """Write a whole file of records atomically."""
    lines = (json_line(r if isinstance(r, dict) else r.to_dict()) + "\n" for r in records)
    write_atomic(path, "".join(lines))
