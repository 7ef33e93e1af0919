"""Senders: SendGrid through the `sendgrid` library, or a log sender when no key is set.

A sender returns what happened; the dispatcher decides what follows (retry,
fail, dead). Every call to SendGrid has a timeout: the HTTP client underneath
has none by default, and a hung provider must not hang the dispatcher.
"""
from __future__ import annotations

import http.client
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.error import URLError

from python_http_client.exceptions import HTTPError
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


class SendGridSender:
    name = "sendgrid"

    def __init__(self, api_key: str, host: str, sender: str, timeout: float):
        self.client = SendGridAPIClient(api_key=api_key, host=host)
        self.sender = sender
        self.timeout = timeout

    def send(self, email: Email) -> Result:
        mail = Mail(from_email=self.sender, to_emails=email.to, subject=email.subject,
                    plain_text_content=email.text, html_content=email.html)
        # The notice id travels with the message so that events can be matched.
        mail.custom_arg = CustomArg("notice_id", str(email.notice_id))
        try:
            response = self.client.client.mail.send.post(request_body=mail.get(), timeout=self.timeout)
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
