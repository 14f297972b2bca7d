"""A stand-in for an OpenAI-compatible Images API on 127.0.0.1, for tests and benchmarks.

It checks each request as the real API would (path, bearer token, JSON content type, the body's
fields and their types) and answers 400 with the reason otherwise. By default it draws a small PNG
that depends on the prompt and returns it as ``b64_json`` (OpenAI's GPT image models) or, with
``as_url``, as a ``url`` it serves for download (gateways). A ``reply(body)`` callable may answer
instead: bytes (the image), a dict (the whole JSON answer) or a :class:`StandInHTTPError`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, ImageDraw

FIELDS = {"model": str, "prompt": str, "n": int, "size": str, "quality": str, "seed": int, "background": str,
          "output_format": str, "moderation": str, "watermark": bool, "prompt_extend": bool}  # fmt: skip
"""The body fields it accepts, with their types (any other field is a 400, as a strict API answers)."""


class StandInHTTPError(Exception):
    """Raised (or returned) by ``reply`` to answer with this status, error object and headers."""

    def __init__(
        self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers or {}


def drawn(prompt: str, size: tuple[int, int] = (96, 64)) -> bytes:
    """A PNG that depends on ``prompt``: what the stand-in draws."""
    seed = hashlib.sha256(prompt.encode()).digest()
    image = Image.new("RGB", size, "white")
    pen = ImageDraw.Draw(image)
    pen.rectangle(
        (seed[0] % 30, seed[1] % 20, 60 + seed[2] % 30, 40 + seed[3] % 20), outline="black", width=3
    )
    pen.line((0, size[1] - 1, size[0] - 1, seed[4] % size[1]), fill=(seed[5], 40, 40), width=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def check_body(body: Any) -> str | None:
    """None if ``body`` is a well-formed image generation request, else why not."""
    if not isinstance(body, dict):
        return "body is not a JSON object"
    for name in ("model", "prompt"):
        if not isinstance(body.get(name), str) or not body[name]:
            return f"{name} must be a non-empty string"
    for name, value in body.items():
        kind = FIELDS.get(name)
        if kind is None:
            return f"unknown parameter {name!r}"
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return f"{name} must be of type {kind.__name__}"
    if body.get("n", 1) != 1:
        return "n must be 1"
    return None


class _JSONServer:
    """A threaded HTTP server on 127.0.0.1 whose handler hands each request to ``get``/``post``."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.downloads = 0
        self.requests: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                server.respond(self, *server.get(self))

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                server.respond(self, *server.post(self))

        class Server(ThreadingHTTPServer):
            request_queue_size = 256

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.root = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @staticmethod
    def respond(h: Any, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data, kind = (
            (payload, "image/png")
            if isinstance(payload, bytes)
            else (json.dumps(payload).encode(), "application/json")
        )
        h.send_response(status)
        h.send_header("Content-Type", kind)
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def body_of(self, h: Any) -> Any:
        body = json.loads(h.rfile.read(int(h.headers.get("Content-Length") or 0)) or b"null")
        with self.lock:
            self.requests.append(body)
            self.headers_seen.append({k.lower(): v for k, v in h.headers.items()})
        return body

    def serve_file(self, image: bytes) -> str:
        name = f"{hashlib.sha256(image).hexdigest()[:16]}.png"
        with self.lock:
            self.files[name] = image
        return f"{self.root}/files/{name}"

    def get(self, h: Any) -> tuple[Any, ...]:
        name = h.path.removeprefix("/files/")
        with self.lock:
            data = self.files.get(name)
            self.downloads += data is not None
        return (200, data) if data is not None else (404, {"error": "not found"})

    def post(self, h: Any) -> tuple[Any, ...]:
        return 404, {"error": "not found"}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class StandInGemini(_JSONServer):
    """``POST /v1beta/models/{model}:generateContent`` with ``x-goog-api-key``; ``reply(body)`` may
    return image bytes, a whole JSON answer (a dict) or a StandInHTTPError."""

    def __init__(
        self, api_key: str = "test-key", reply: Callable[[dict[str, Any]], Any] | None = None
    ) -> None:
        super().__init__()
        self.api_key, self.answer = api_key, reply
        self.base_url = f"{self.root}/v1beta"

    def post(self, h: Any) -> tuple[Any, ...]:
        if not (h.path.startswith("/v1beta/models/") and h.path.endswith(":generateContent")):
            return 404, {"error": {"code": 404, "message": f"unknown path {h.path}"}}
        if h.headers.get("x-goog-api-key") != self.api_key:
            return 403, {"error": {"code": 403, "message": "API key not valid"}}
        body = self.body_of(h)
        parts = (body.get("contents") or [{}])[0].get("parts") if isinstance(body, dict) else None
        modalities = (
            (body.get("generationConfig") or {}).get("responseModalities") if isinstance(body, dict) else None
        )
        if not (
            isinstance(parts, list) and parts and isinstance(parts[0].get("text"), str)
        ) or modalities != ["IMAGE"]:
            return 400, {
                "error": {"code": 400, "message": "contents[0].parts[0].text and responseModalities [IMAGE]"}
            }
        answer = self.answer(body) if self.answer else drawn(parts[0]["text"])
        if isinstance(answer, StandInHTTPError):
            return answer.status, {"error": {"code": answer.status, "message": str(answer)}}, answer.headers
        if isinstance(answer, dict):
            return 200, answer
        image = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(answer).decode()}}
        thought = {"text": "Planning the figure.", "thought": True}
        return 200, {"candidates": [{"content": {"role": "model", "parts": [thought, image]}, "finishReason": "STOP"}],
                     "modelVersion": h.path.split("/")[3].split(":")[0]}  # fmt: skip


class StandInBFL(_JSONServer):
    """``POST /v1/{model}`` with ``x-key`` answers ``{id, polling_url}``; the polling URL says
    ``Pending`` ``polls`` times, then ``Ready`` with ``result.sample`` (a URL it serves), or what
    ``reply(body)`` returns: image bytes, or a final status string such as ``"Content Moderated"``."""

    def __init__(self, api_key: str = "test-key", reply: Callable[[dict[str, Any]], Any] | None = None,
                 polls: int = 1) -> None:  # fmt: skip
        super().__init__()
        self.api_key, self.answer, self.polls = api_key, reply, polls
        self.base_url = f"{self.root}/v1"
        self.jobs: dict[str, dict[str, Any]] = {}

    def post(self, h: Any) -> tuple[Any, ...]:
        if h.headers.get("x-key") != self.api_key:
            return 403, {"detail": "Not authenticated"}
        body = self.body_of(h)
        if not isinstance(body, dict) or not isinstance(body.get("prompt"), str):
            return 422, {"detail": "prompt is required"}
        job = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12] + str(
            len(self.requests)
        )
        with self.lock:
            self.jobs[job] = {"body": body, "polled": 0}
        return 200, {"id": job, "polling_url": f"{self.root}/v1/get_result?id={job}"}

    def get(self, h: Any) -> tuple[Any, ...]:
        if not h.path.startswith("/v1/get_result?id="):
            return super().get(h)
        if h.headers.get("x-key") != self.api_key:
            return 403, {"detail": "Not authenticated"}
        job = self.jobs.get(h.path.split("=", 1)[1])
        if job is None:
            return 404, {"status": "Task not found"}
        job["polled"] += 1
        if job["polled"] <= self.polls:
            return 200, {"status": "Pending"}
        answer = self.answer(job["body"]) if self.answer else drawn(job["body"]["prompt"])
        if isinstance(answer, str):
            return 200, {"status": answer}
        return 200, {"status": "Ready", "result": {"sample": self.serve_file(answer)}}


class StandInImages(_JSONServer):
    """``POST /v1/images/generations`` with a bearer token (OpenAI and the gateways that copy it)."""

    def __init__(
        self,
        api_key: str | None = "test-key",
        reply: Callable[[dict[str, Any]], Any] | None = None,
        as_url: bool = False,
        delay_s: float = 0.0,
    ) -> None:
        super().__init__()
        self.api_key, self.reply, self.as_url, self.delay_s = api_key, reply, as_url, delay_s
        self.arrivals: list[float] = []
        self.base_url = f"{self.root}/v1"

    def post(self, h: Any) -> tuple[Any, ...]:
        def error(
            status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
        ) -> tuple[Any, ...]:
            return (
                status,
                {"error": {"message": message, "type": "invalid_request_error", "code": code}},
                headers,
            )

        if h.path != "/v1/images/generations":
            return error(404, f"unknown path {h.path}")
        if self.api_key is not None and h.headers.get("Authorization") != f"Bearer {self.api_key}":
            return error(401, "bad or missing bearer token")
        if h.headers.get("Content-Type", "").split(";")[0] != "application/json":
            return error(400, "content type must be application/json")
        body = json.loads(h.rfile.read(int(h.headers["Content-Length"])))
        problem = check_body(body)
        if problem:
            return error(400, problem)
        with self.lock:
            self.requests.append(body)
            self.arrivals.append(time.monotonic())
        if self.delay_s:
            time.sleep(self.delay_s)
        answer = self.reply(body) if self.reply else drawn(body["prompt"])
        if isinstance(answer, StandInHTTPError):
            return error(answer.status, str(answer), answer.code, answer.headers)
        if isinstance(answer, dict):
            return 200, answer
        item = (
            {"url": self.serve_file(answer)}
            if self.as_url
            else {"b64_json": base64.b64encode(answer).decode()}
        )
        return 200, {"created": int(time.time()), "data": [item], "usage": {"total_tokens": 100}}
