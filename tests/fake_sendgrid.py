"""A fake SendGrid v3 API on 127.0.0.1, so tests drive the real `sendgrid` client.

It implements POST /v3/mail/send only. Every request is recorded (headers,
parsed JSON body, the status it was given). Answers come from a script set
with `respond(...)`; once the script is used up every request gets 202.
A script entry is a status (500), a status with headers
((429, {"X-RateLimit-Reset": "..."})) or HANG: hold the request without
answering, so the client's timeout fires. A hung request is let go after
`hang_seconds` or when the server stops, whichever comes first.
"""
from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG = "hang"
SEND_PATH = "/v3/mail/send"


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it, and what it answered (None: it hung)."""

    method: str
    path: str
    headers: dict[str, str]
    raw: str
    body: dict | None
    status: int | None

    @property
    def notice_id(self) -> str | None:
        return ((self.body or {}).get("custom_args") or {}).get("notice_id")


class _Server(ThreadingHTTPServer):
    # Join handler threads on close, so no request outlives the test that made it.
    daemon_threads = False
    block_on_close = True


class FakeSendGrid:
    def __init__(self, hang_seconds: float = 3.0):
        self.hang_seconds = hang_seconds
        self.requests: list[Recorded] = []
        self._script: deque = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-sendgrid", daemon=True)

    def start(self) -> FakeSendGrid:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # let go of any hung request at once
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def respond(self, *replies) -> None:
        """Queue answers for the next requests: 500, (429, {headers}), HANG; then 202 forever."""
        with self._lock:
            self._script.extend(replies)

    def sent_notice_ids(self) -> list[str]:
        """The notice ids of requests the fake accepted (202), in order, repeats kept."""
        return [r.notice_id for r in self.requests if r.status == 202]

    def _next_reply(self) -> tuple[int | str, dict]:
        with self._lock:
            reply = self._script.popleft() if self._script else 202
        if isinstance(reply, tuple):
            return reply[0], dict(reply[1])
        return reply, {}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                if self.path != SEND_PATH:
                    self._record(raw, body, 404)
                    self._answer(404, {}, {"errors": [{"message": "not found"}]})
                    return
                status, headers = fake._next_reply()
                if status == HANG:
                    self._record(raw, body, None)
                    # Bounded: never longer than hang_seconds, and released when the server stops.
                    fake._release.wait(fake.hang_seconds)
                    self.close_connection = True
                    return
                self._record(raw, body, status)
                payload = None if status == 202 else {"errors": [{"message": f"fake SendGrid says {status}"}]}
                self._answer(status, headers, payload)

            def _record(self, raw: str, body: dict | None, status: int | None) -> None:
                with fake._lock:
                    fake.requests.append(Recorded("POST", self.path, dict(self.headers.items()), raw, body, status))

            def _answer(self, status: int, headers: dict, payload: dict | None) -> None:
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, str(value))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
                pass  # keep the test output clean

        return Handler
