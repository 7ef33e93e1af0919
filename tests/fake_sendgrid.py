"""A fake SendGrid v3 API on 127.0.0.1, so tests drive the real `sendgrid` client.

It implements POST /v3/mail/send only. Every request is recorded (headers,
parsed JSON body, the status it was given, when it arrived). Answers come from
a script set with `respond(...)`; once the script is used up every request gets
`default` (202 unless changed, e.g. to HANG for a provider that is down).
A script entry is a status (500), a status with headers
((429, {"X-RateLimit-Reset": "..."})) or HANG: hold the request without
answering, so the client's timeout fires. A hung request is let go after
`hang_seconds` or when the server stops, whichever comes first. `delay` makes
every answer take that long, like a provider far away (benchmarks).

It speaks HTTP/1.1 with keep-alive, like SendGrid, and counts the connections
it accepted so a test can see whether the client reuses them.
"""
from __future__ import annotations

import json
import socket
import threading
import time
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
    received_at: float = 0.0  # time.time() when the body was read

    @property
    def notice_id(self) -> str | None:
        return ((self.body or {}).get("custom_args") or {}).get("notice_id")


class _Server(ThreadingHTTPServer):
    # Join handler threads on close, so no request outlives the test that made it.
    daemon_threads = False
    block_on_close = True
    request_queue_size = 128  # a pool of senders connects at once

    def __init__(self, *args, **kwargs):
        self.open_sockets: set[socket.socket] = set()
        self.connections = 0
        self.sockets_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        with self.sockets_lock:
            self.open_sockets.add(request)
            self.connections += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """End idle keep-alive connections, whose handler threads wait for a next request."""
        with self.sockets_lock:
            for sock in list(self.open_sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class FakeSendGrid:
    def __init__(self, hang_seconds: float = 3.0, delay: float = 0.0, port: int = 0):
        self.hang_seconds = hang_seconds
        self.delay = delay
        self.default: int | str = 202
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._script: deque = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = _Server(("127.0.0.1", port), self._handler())
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-sendgrid", daemon=True)

    def start(self) -> FakeSendGrid:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # let go of any hung request at once
        self._server.shutdown()
        self._server.drop_connections()
        self._server.server_close()
        self._thread.join()

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        return self._server.connections

    def respond(self, *replies) -> None:
        """Queue answers for the next requests: 500, (429, {headers}), HANG; then `default` forever."""
        with self._lock:
            self._script.extend(replies)

    def release(self) -> None:
        """Let go of hung requests now, and answer `default` from here on."""
        self._release.set()

    def sent_notice_ids(self) -> list[str]:
        """The notice ids of requests the fake accepted (202), in order, repeats kept."""
        with self._lock:
            return [r.notice_id for r in self.requests if r.status == 202]

    def _next_reply(self) -> tuple[int | str, dict]:
        with self._lock:
            reply = self._script.popleft() if self._script else self.default
        if isinstance(reply, tuple):
            return reply[0], dict(reply[1])
        return reply, {}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as SendGrid does

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                received = time.time()
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                if self.path != SEND_PATH:
                    self._record(raw, body, 404, received)
                    self._answer(404, {}, {"errors": [{"message": "not found"}]})
                    return
                status, headers = fake._next_reply()
                if status == HANG:
                    self._record(raw, body, None, received)
                    # Bounded: never longer than hang_seconds, and released when the server stops.
                    fake._release.wait(fake.hang_seconds)
                    self.close_connection = True
                    return
                with fake._lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    if fake.delay:
                        time.sleep(fake.delay)  # the provider's own latency, not a test waiting
                    self._record(raw, body, status, received)
                    payload = None if status == 202 else {"errors": [{"message": f"fake SendGrid says {status}"}]}
                    self._answer(status, headers, payload)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def _record(self, raw: str, body: dict | None, status: int | None, received: float) -> None:
                with fake._lock:
                    fake.requests.append(Recorded("POST", self.path, dict(self.headers.items()), raw, body, status,
                                                  received))

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


def main() -> None:
    """Run the fake on its own (benchmarks, manual tries): prints its URL, then one line per request."""
    import argparse
    parser = argparse.ArgumentParser(description="A fake SendGrid v3 API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--hang", action="store_true", help="never answer (until --hang-seconds)")
    parser.add_argument("--hang-seconds", type=float, default=3600.0)
    args = parser.parse_args()
    fake = FakeSendGrid(hang_seconds=args.hang_seconds, delay=args.delay, port=args.port)
    if args.hang:
        fake.default = HANG
    fake.start()
    print(fake.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
