"""Senders: SendGrid through the `sendgrid` library, or a log sender when no key is set.

A sender returns what happened; the dispatcher decides what follows (retry,
fail, dead). Every call to SendGrid has a timeout: the HTTP client underneath
has none by default, and a hung provider must not hang the dispatcher.

A sender is shared by the dispatcher's pool of threads: `send` is thread-safe,
and each thread keeps its own HTTP connection to SendGrid alive between
notices (the `sendgrid` client would open a new one, with a new TLS handshake,
for every message).
"""
from __future__ import annotations

import http.client
import io
import logging
import threading
import time
import urllib.error
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.error import URLError
from urllib.parse import urlsplit

from python_http_client.exceptions import HTTPError, handle_error
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import CustomArg, Mail

from coenforce.notify.render import Email

log = logging.getLogger("coenforce.notify")


@dataclass(frozen=True)
class Result:
    outcome: str                 # "sent", "retry" or "fail"
    status: int | None = None    # the provider's HTTP status, if any
    error: str | None = None
    # When the provider said to try again (a 429's reset): a time, not a wait, so the
    # dispatcher measures it from its own `now`, which may not be the clock's.
    retry_at: datetime | None = None
    config_fault: bool = False   # 401/403: the API key is wrong, say so loudly


class LogSender:
    """The embedded default: the notice is logged (without its content) and counts as sent."""

    name = "log"

    def send(self, email: Email) -> Result:
        log.info("notice %s stored and logged (no SENDGRID_API_KEY set)", email.notice_id)
        return Result("sent")

    def close_dead_threads(self) -> None:
        pass

    def close(self) -> None:
        pass


class _Response:
    """What python_http_client's Response reads from urllib's answer."""

    def __init__(self, status: int, body: bytes, headers):
        self.status, self.body, self.headers = status, body, headers

    def getcode(self) -> int:
        return self.status

    def read(self) -> bytes:
        return self.body

    def info(self):
        return self.headers


class KeepAliveTransport:
    """Stands in for python_http_client's one-connection-per-request urllib call
    (its `_make_request`, the hook the library leaves for this): one persistent
    HTTP/1.1 connection per thread, closed after any error or a long idle spell
    (a server may have closed it meanwhile, and a POST is never resent blindly)."""

    MAX_IDLE_SECONDS = 5.0

    def __init__(self, host: str):
        parts = urlsplit(host)
        self._https = parts.scheme == "https"
        self._netloc = parts.netloc
        self._lock = threading.Lock()
        # thread -> [connection, last used]: only that thread uses it.
        self._conns: dict[threading.Thread, list] = {}
        self.opened = 0  # connections opened, for tests and benchmarks

    def _connection(self, timeout: float | None) -> http.client.HTTPConnection:
        ident = threading.current_thread()
        with self._lock:
            entry = self._conns.get(ident)
        if entry is not None and time.monotonic() - entry[1] > self.MAX_IDLE_SECONDS:
            self._drop(ident)
            entry = None
        if entry is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            entry = [cls(self._netloc, timeout=timeout), time.monotonic()]
            with self._lock:
                self._conns[ident] = entry
                self.opened += 1
        conn = entry[0]
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def _drop(self, ident: threading.Thread) -> None:
        with self._lock:
            entry = self._conns.pop(ident, None)
        if entry is not None:
            entry[0].close()

    def close_dead_threads(self) -> None:
        """Close the connections of threads that have ended (a finished pool)."""
        with self._lock:
            dead = [thread for thread in self._conns if not thread.is_alive()]
        for ident in dead:
            self._drop(ident)

    def close(self) -> None:
        with self._lock:
            idents = list(self._conns)
        for ident in idents:
            self._drop(ident)

    def make_request(self, _opener, request, timeout=None):
        conn = self._connection(timeout)
        ident = threading.current_thread()
        try:
            conn.request(request.get_method(), request.selector, body=request.data,
                         headers=dict(request.header_items()))
            response = conn.getresponse()
            body = response.read()
        except BaseException:
            self._drop(ident)  # a timed-out or broken connection is never reused
            raise
        if response.will_close:
            self._drop(ident)
        else:
            self._conns[ident][1] = time.monotonic()
        if response.status >= 400:  # as urllib raises it, so the library's own errors follow
            raise handle_error(urllib.error.HTTPError(request.full_url, response.status, response.reason,
                                                      response.headers, io.BytesIO(body)))
        return _Response(response.status, body, response.headers)


class SendGridSender:
    name = "sendgrid"

    def __init__(self, api_key: str, host: str, sender: str, timeout: float):
        self.client = SendGridAPIClient(api_key=api_key, host=host)
        self.sender = sender
        self.timeout = timeout
        self.transport = KeepAliveTransport(host)
        # The /v3/mail/send endpoint, built once and shared by the pool's threads.
        self._endpoint = self.client.client.mail.send
        self._endpoint._make_request = self.transport.make_request

    def close_dead_threads(self) -> None:
        self.transport.close_dead_threads()

    def close(self) -> None:
        self.transport.close()

    def send(self, email: Email) -> Result:
        mail = Mail(from_email=self.sender, to_emails=email.to, subject=email.subject,
                    plain_text_content=email.text, html_content=email.html)
        # The notice id travels with the message so that events can be matched.
        mail.custom_arg = CustomArg("notice_id", str(email.notice_id))
        try:
            response = self._endpoint.post(request_body=mail.get(), timeout=self.timeout)
        except HTTPError as exc:
            return self._http_error(exc)
        except (TimeoutError, URLError, http.client.HTTPException, OSError) as exc:
            return Result("retry", error=f"network: {type(exc).__name__}")
        return Result("sent", status=response.status_code)

    @staticmethod
    def _http_error(exc: HTTPError) -> Result:
        status = int(exc.status_code)
        reason = f"HTTP {status} {exc.reason or ''}".strip()
        if status == 429:
            return Result("retry", status, reason, _rate_limit_reset(exc.headers))
        if status >= 500:
            return Result("retry", status, reason)
        if status in (401, 403):
            log.critical("SendGrid refused the API key (HTTP %s): check SENDGRID_API_KEY", status)
            return Result("fail", status, reason + " (SendGrid refused the API key)", config_fault=True)
        return Result("fail", status, reason)


def _rate_limit_reset(headers) -> datetime | None:
    """SendGrid's X-RateLimit-Reset is the Unix time when the limit resets."""
    try:
        return datetime.fromtimestamp(float(headers.get("X-RateLimit-Reset")), timezone.utc)
    except (TypeError, ValueError, AttributeError, OverflowError, OSError):
        return None


def sender_for(config: dict):
    if config.get("SENDGRID_API_KEY"):
        return SendGridSender(config["SENDGRID_API_KEY"], config["SENDGRID_HOST"], config["MAIL_FROM"],
                              config["SENDGRID_TIMEOUT_SECONDS"])
    return LogSender()
