"""Real processes for tests: gunicorn serving the app, `flask scheduler`, `flask dispatch`,
`make run`. Each runs in a session of its own so it can be stopped with everything it
started; waiting on them polls for an external event with a deadline, never for time."""
from __future__ import annotations

import base64
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, seconds: float, what: str, interval: float = 0.02):
    """Poll `predicate` until it returns something true, or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(interval)  # waiting on another process, with a deadline


def secrets_env() -> dict[str, str]:
    """Keys shared by the test's own app and the processes it starts."""
    return {"COENFORCE_SECRET_KEY": secrets.token_urlsafe(48),
            "COENFORCE_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "COENFORCE_AUDIT_KEY": secrets.token_urlsafe(48)}


def overrides_from(env: dict[str, str]) -> dict:
    """The same settings for an in-process create_app()."""
    return {"SECRET_KEY": env["COENFORCE_SECRET_KEY"], "ENCRYPTION_KEYS": [env["COENFORCE_ENCRYPTION_KEYS"]],
            "AUDIT_KEY": env["COENFORCE_AUDIT_KEY"]}


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = open(log, "ab")
    try:
        return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
                                stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        handle.close()


def serve(target: str, env: dict[str, str], log: Path, workers: int = 2) -> tuple[subprocess.Popen, int]:
    """gunicorn serving `target` on a free port, once it accepts connections."""
    port = free_port()
    process = start([str(VENV_BIN / "gunicorn"), "-w", str(workers), "-k", "gthread", "--threads", "4",
                     "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5", target], env, log)

    def up():
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False
    wait_for(up, 30, "gunicorn accepting connections")
    return process, port


def flask(*args: str) -> list[str]:
    return [str(VENV_BIN / "flask"), "--app", "wsgi", *args]


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, seconds: float = 20) -> int:
    """Signal the process's whole session and wait for it; kill it if it will not go."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def catches(pid: int, sig: int) -> bool:
    """True once `pid` has installed a handler for `sig` (its SigCgt mask in /proc)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (sig - 1)))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return False


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmd:
            return cmd.read().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


class Browser:
    """A minimal HTTP client for a server on 127.0.0.1: keeps its cookies (ignoring
    the Secure flag, as a browser does for localhost), reads CSRF tokens."""

    _CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 30) -> tuple[int, bytes, float]:
        """(status, body, seconds taken)."""
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        began = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data, time.monotonic() - began

    def json(self, method: str, path: str, token: str, payload: dict | None = None, timeout: float = 30):
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {"Authorization": f"Bearer {token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self.request(method, path, body, headers, timeout)

    def form(self, page: str, action: str, fields: dict) -> int:
        status, html, _ = self.request("GET", page)
        match = self._CSRF.search(html.decode())
        assert match, f"no CSRF token on {page} ({status})"
        from urllib.parse import urlencode
        body = urlencode({**fields, "csrf_token": match.group(1) or match.group(2)}).encode()
        status, _, _ = self.request("POST", action, body, {"Content-Type": "application/x-www-form-urlencoded"})
        return status
