"""A stand-in for a remote OpenAI-compatible chat server, on 127.0.0.1, for tests and benchmarks.

It checks every request's format strictly (path, auth header, body fields, message and content-part
shapes) and answers 400 with the reason when something is off. The last user text can script its
behaviour: ``fail429:N`` / ``fail500:N`` fail the first N calls with that text, ``hang:S`` and
``sleep:S`` wait S seconds before answering, ``malformed:`` answers 200 with no ``choices``.
Otherwise it answers ``echo: <text>``, or what a ``reply(body)`` callable returns. The first request
of a command (:data:`~scigen_rl.llm.preflight.PROBE_MESSAGES`) is answered ``OK`` and counted in
``probes`` only, so a test's ``reply`` and its counts of requests see the work alone.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .preflight import PROBE_MESSAGES

ROLES = {"system", "user", "assistant"}


def check_request(body: Any) -> str | None:
    """None if the body is a well-formed chat completion request, else why not."""
    if not isinstance(body, dict):
        return "body is not a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model must be a non-empty string"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty list"
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            return f"messages[{i}].role invalid"
        content = m.get("content")
        if isinstance(content, str):
            continue
        if not isinstance(content, list):
            return f"messages[{i}].content must be a string or a list of parts"
        for j, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" and isinstance(part.get("text"), str):
                continue
            if kind == "image_url" and str(part.get("image_url", {}).get("url", "")).startswith(
                "data:image/"
            ):
                continue
            return f"messages[{i}].content[{j}] is not a text or data-URL image part"
    for name in ("temperature", "top_p"):
        if name in body and not isinstance(body[name], (int, float)):
            return f"{name} must be a number"
    if "max_tokens" in body and not isinstance(body["max_tokens"], int):
        return "max_tokens must be an integer"
    return None


def _last_user_text(body: dict[str, Any]) -> str:
    content = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
    if isinstance(content, str):
        return content
    return " ".join(p["text"] for p in content if p.get("type") == "text")


def _completion(body: dict[str, Any], answer: str, n: int) -> dict[str, Any]:
    """A chat completion answering ``body`` with ``answer`` (the ``n``-th call of its text)."""
    text = _last_user_text(body)
    return {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": len(text.split()),
            "completion_tokens": len(answer.split()),
            "total_tokens": len(text.split()) + len(answer.split()),
        },
    }


class StandInError(Exception):
    """Raised by a ``reply`` callable to answer with this HTTP status instead."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class StandInServer:
    def __init__(
        self,
        api_key: str | None = "test-key",
        reply: Any = None,
        delay_s: float = 0.0,
        model_id: str = "stand-in",
        max_concurrent: int | None = None,
    ) -> None:
        self.api_key = api_key
        self.model_id = model_id  # what GET /v1/models lists
        self.reply = reply  # optional callable(body) -> str; a ValueError it raises is answered 400
        self.delay_s = delay_s  # every answer takes at least this long (a model's generation time)
        # Like a serving engine's batch limit: more requests than this wait for a slot.
        self.slots = threading.BoundedSemaphore(max_concurrent) if max_concurrent else None
        self.first_request_at: float | None = None  # time.monotonic() of the first well-formed request
        self.arrivals: list[float] = []
        self.requests: list[dict[str, Any]] = []
        self.calls: Counter[str] = Counter()
        self.probes = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as vLLM and hosted APIs answer
            # Headers and body go out in two writes; with Nagle's algorithm the body would wait for
            # the client's delayed ACK (40 ms) on a kept-alive connection. Real servers set this too.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                if self.path != "/v1/models":
                    return self._send(404, {"error": {"message": f"unknown path {self.path}"}})
                if (
                    server.api_key is not None
                    and self.headers.get("Authorization") != f"Bearer {server.api_key}"
                ):
                    return self._send(401, {"error": {"message": "bad or missing bearer token"}})
                return self._send(
                    200, {"object": "list", "data": [{"id": server.model_id, "object": "model"}]}
                )

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                with server.lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    server.handle(self)
                finally:
                    with server.lock:
                        server.in_flight -= 1

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the stdlib's 5 makes bursts of connections wait a second

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        send = h._send  # type: ignore[attr-defined]
        if h.path != "/v1/chat/completions":
            return send(404, {"error": {"message": f"unknown path {h.path}"}})
        if self.api_key is not None and h.headers.get("Authorization") != f"Bearer {self.api_key}":
            return send(401, {"error": {"message": "bad or missing bearer token"}})
        if h.headers.get("Content-Type", "").split(";")[0] != "application/json":
            return send(400, {"error": {"message": "content type must be application/json"}})
        body = json.loads(h.rfile.read(int(h.headers["Content-Length"])))
        problem = check_request(body)
        if problem:
            return send(400, {"error": {"message": problem}})
        if body["messages"] == PROBE_MESSAGES:
            with self.lock:
                self.probes += 1
            return send(200, _completion(body, "OK", 0))
        text = _last_user_text(body)
        with self.lock:
            if self.first_request_at is None:
                self.first_request_at = time.monotonic()
            self.arrivals.append(time.monotonic())
            self.requests.append(body)
            self.calls[text] += 1
            n = self.calls[text]
        for kind, status in (("fail429:", 429), ("fail500:", 500)):
            if text.startswith(kind) and n <= int(text.split(":")[1].split()[0]):
                return send(status, {"error": {"message": f"scripted {status}"}})
        if text.startswith("malformed:"):
            return send(200, {"id": f"chatcmpl-{n}", "object": "chat.completion"})
        if text.startswith(("hang:", "sleep:")):
            time.sleep(float(text.split(":")[1].split()[0]))
        if self.slots is not None:
            self.slots.acquire()
        try:
            if self.delay_s:
                time.sleep(self.delay_s)
            answer = self.reply(body) if self.reply else f"echo: {text}"
        except StandInError as e:
            return send(e.status, {"error": {"message": str(e)}})
        except ValueError as e:
            return send(400, {"error": {"message": str(e)}})
        finally:
            if self.slots is not None:
                self.slots.release()
        return send(200, _completion(body, answer, n))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
