"""Configuration: every setting comes from a COENFORCE_ environment variable.

`load_config()` picks the class for COENFORCE_ENV and validates it, so a
missing key or a broken escalation ladder stops the app at start-up with a
clear message instead of failing on the first request.
"""
from __future__ import annotations

import os
import secrets
import base64
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("COENFORCE_INSTANCE_DIR", PROJECT_ROOT / "instance"))


class ConfigError(RuntimeError):
    """A setting is missing or invalid."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int_env(name: str, default: int) -> int:
    value = _env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None


def _instance_secret(filename: str, make) -> str:
    """Read a development secret from instance/, creating it once."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / filename
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _new_encryption_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


# The retaliation response ladder (DESIGN.md, "The escalation engine").
# Each rung: a name, when it falls ("start+4h", "due-8h", "due"), whom it tells,
# an optional condition and, on the last rung only, a repeat interval.
COMPLAINT_RESPONSE_LADDER = [
    {"name": "intake", "at": "start", "to": ["supervisors"]},
    {"name": "unassigned", "at": "start+4h", "to": ["supervisors"], "only_if": "unassigned"},
    {"name": "reminder", "at": "start+24h", "to": ["assignee_or_supervisors"]},
    {"name": "warning", "at": "due-8h", "to": ["assignee", "supervisors"]},
    {"name": "breach", "at": "due",
     "to": ["assignee", "supervisors", "agency_admins", "partner_liaisons", "partnership_contacts"]},
    {"name": "overdue", "at": "due+24h", "to": ["supervisors"], "repeat": "24h"},
]

# Third-party complaints: the agency acknowledges (72 h by default), then decides
# (14 days from receipt by default). The filing partner's points of contact hear
# of a missed target too.
THIRD_PARTY_ACK_LADDER = [
    {"name": "received", "at": "start", "to": ["supervisors"]},
    {"name": "reminder", "at": "due-24h", "to": ["supervisors"]},
    {"name": "breach", "at": "due", "to": ["supervisors", "agency_admins", "partnership_contacts"]},
    {"name": "overdue", "at": "due+24h", "to": ["supervisors"], "repeat": "24h"},
]
THIRD_PARTY_DECISION_LADDER = [
    {"name": "reminder", "at": "due-72h", "to": ["supervisors"]},
    {"name": "breach", "at": "due", "to": ["supervisors", "agency_admins", "partnership_contacts"]},
    {"name": "overdue", "at": "due+168h", "to": ["supervisors", "agency_admins"], "repeat": "168h"},
]

# Detained-worker alerts: everyone who must act is told at once; nobody
# acknowledged in 1 h -> supervisors and partner contacts again; in 4 h -> admins.
DETENTION_ACK_LADDER = [
    {"name": "raised", "at": "start", "to": ["agency_contacts", "partner_contacts", "case_investigator", "supervisors"]},
    {"name": "unacknowledged", "at": "due", "to": ["supervisors", "partner_contacts"]},
    {"name": "escalated", "at": "start+4h", "to": ["agency_admins"]},
]
# Each response task (consulate, family, attorney, intervention) when it slips.
DETENTION_TASK_LADDER = [
    {"name": "missed", "at": "due", "to": ["supervisors", "agency_contacts", "partner_contacts"]},
    {"name": "overdue", "at": "due+12h", "to": ["supervisors", "agency_admins"], "repeat": "12h"},
]

# Immigration protections on a case. T and U visa certification: reminders a
# week and two days before the legal deadline, then at it and daily after.
PROTECTION_CERTIFICATION_LADDER = [
    {"name": "reminder", "at": "due-168h", "to": ["assignee_or_supervisors"]},
    {"name": "warning", "at": "due-48h", "to": ["assignee", "supervisors"]},
    {"name": "breach", "at": "due", "to": ["assignee", "supervisors", "agency_admins"]},
    {"name": "overdue", "at": "due+24h", "to": ["assignee", "supervisors"], "repeat": "24h"},
]
# A Statement of Interest letter to send.
PROTECTION_INTEREST_LETTER_LADDER = [
    {"name": "reminder", "at": "due-48h", "to": ["assignee_or_supervisors"]},
    {"name": "breach", "at": "due", "to": ["assignee", "supervisors"]},
    {"name": "overdue", "at": "due+72h", "to": ["assignee", "supervisors"], "repeat": "72h"},
]
# A deferred action grant: renewal reminder 120 days (2880 h) before it expires, and at expiry.
PROTECTION_DEFERRED_ACTION_LADDER = [
    {"name": "renewal", "at": "due-2880h", "to": ["assignee", "supervisors"]},
    {"name": "expiry", "at": "due", "to": ["assignee", "supervisors"]},
]


class Config:
    ENV_NAME = "development"
    TESTING = False
    SECRET_KEY: str | None = None
    DATABASE_URL = f"sqlite:///{INSTANCE_DIR / 'coenforce.db'}"
    ENCRYPTION_KEYS: list[str] = []

    LANGUAGES = ["en", "es"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "coenforce" / "translations")
    DEFAULT_TIMEZONE = "America/Los_Angeles"

    # Cookies: Secure, HttpOnly and SameSite on every environment.
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "coenforce_session"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Failed sign-ins (password or code) per address; correct ones are not counted,
    # so an office of 50 behind one router can all sign in, a few typos included.
    LOGIN_RATE_LIMIT = "50 per minute; 500 per hour"
    # Per-account throttling: after this many failures in a row the account
    # waits 1 minute, doubling with each further failure up to the maximum.
    LOGIN_LOCK_AFTER = 5
    LOGIN_LOCK_MAX_MINUTES = 15
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    # Reverse proxies in front of the app whose X-Forwarded-For is trusted (0: none).
    TRUSTED_PROXIES = 0
    # None: argon2-cffi's recommended argon2id parameters.
    ARGON2_TIME_COST: int | None = None
    ARGON2_MEMORY_COST: int | None = None

    # The retaliation clock.
    DEFAULT_RESPONSE_TARGET_HOURS = 48
    QUALIFYING_ACTIONS = ["employer_contacted", "anti_retaliation_notice", "site_visit", "tro_sought"]
    ESCALATION_LADDERS = {"complaint_response": COMPLAINT_RESPONSE_LADDER,
                          "third_party_ack": THIRD_PARTY_ACK_LADDER,
                          "third_party_decision": THIRD_PARTY_DECISION_LADDER,
                          "detention_ack": DETENTION_ACK_LADDER,
                          **{f"detention_{task}": DETENTION_TASK_LADDER
                             for task in ("consulate", "family", "attorney", "intervention")},
                          "protection_certification": PROTECTION_CERTIFICATION_LADDER,
                          "protection_interest_letter": PROTECTION_INTEREST_LETTER_LADDER,
                          "protection_deferred_action": PROTECTION_DEFERRED_ACTION_LADDER}
    ESCALATION_BATCH_SIZE = 500
    # PostgreSQL: connections a tick walks a backlog with (more than a batch due, as
    # after an outage); one prepares a batch while the database writes another's.
    ESCALATION_TICK_WORKERS = 2

    # Third-party complaints: targets to acknowledge and to decide, from receipt.
    THIRD_PARTY_ACK_HOURS = 72
    THIRD_PARTY_DECISION_DAYS = 14
    # Public intake: reports and receipt lookups per address (counted under a keyed hash).
    PUBLIC_REPORT_RATE_LIMIT = "5 per hour"
    PUBLIC_RECEIPT_RATE_LIMIT = "20 per hour"

    # Detained-worker alerts: hours from the alert to each response task's target,
    # and days after closing before the sealed fields are purged.
    DETENTION_TASK_HOURS = {"consulate": 4, "family": 24, "attorney": 24, "intervention": 72}
    DETENTION_RETENTION_DAYS = 90

    # Immigration protections: defaults of each agency's targets (California Penal
    # Code 679.10 and 679.11: decide a certification within 90 days of the request,
    # 14 business days when the worker is in removal proceedings); business days
    # to send a Statement of Interest; the local hour of a grant's expiry notices.
    PROTECTION_CERTIFICATION_DAYS = 90
    PROTECTION_REMOVAL_BUSINESS_DAYS = 14
    PROTECTION_LETTER_BUSINESS_DAYS = 10
    PROTECTION_EXPIRY_HOUR = 9

    # Notices and the outbox.
    BASE_URL = "http://127.0.0.1:5000"
    SENDGRID_API_KEY: str | None = None
    SENDGRID_HOST = "https://api.sendgrid.com"
    SENDGRID_TIMEOUT_SECONDS = 10.0
    MAIL_FROM = "noreply@localhost"
    DISPATCH_BATCH_SIZE = 100
    DISPATCH_LEASE_SECONDS = 120
    # Notices on the wire at once. SendGrid's mail send endpoint is not held to the
    # 600 requests/minute of the rest of its API; 16 senders give about 150 notices/s
    # at 100 ms a request, and 429s are honoured through X-RateLimit-Reset.
    DISPATCH_SENDERS = 16
    # SQLite: how often the dispatcher looks for due notices (one indexed read).
    DISPATCH_POLL_SECONDS = 0.25
    # PostgreSQL: NOTIFY wakes the dispatcher; this poll finds retries and expired leases.
    DISPATCH_LISTEN_POLL_SECONDS = 5.0
    # Seconds to wait before each retry; after the last one a notice is dead.
    DISPATCH_RETRY_SCHEDULE = [30, 60, 120, 300, 600, 1800, 3600, 3600, 7200]

    # The interval tick; the scheduler also ticks as soon as it sees a clock due
    # (it looks every DISPATCH_POLL_SECONDS), which fires new clocks' first rungs.
    SCHEDULER_TICK_SECONDS = 30
    SCHEDULER_DISPATCH_SECONDS = 5

    @classmethod
    def from_environment(cls) -> dict:
        """Settings read from the environment over the class defaults."""
        settings = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        settings["DATABASE_URL"] = _env("COENFORCE_DATABASE_URL", cls.DATABASE_URL)
        settings["SECRET_KEY"] = _env("COENFORCE_SECRET_KEY") or cls.default_secret_key()
        settings["AUDIT_KEY"] = _env("COENFORCE_AUDIT_KEY") or cls.default_audit_key()
        keys = _env("COENFORCE_ENCRYPTION_KEYS") or cls.default_encryption_keys()
        settings["ENCRYPTION_KEYS"] = [k.strip() for k in (keys or "").split(",") if k.strip()]
        settings["SENDGRID_API_KEY"] = _env("SENDGRID_API_KEY")
        settings["SENDGRID_HOST"] = _env("COENFORCE_SENDGRID_HOST", cls.SENDGRID_HOST).rstrip("/")
        settings["MAIL_FROM"] = _env("COENFORCE_MAIL_FROM", cls.MAIL_FROM)
        settings["RATELIMIT_STORAGE_URI"] = _env("COENFORCE_RATELIMIT_STORAGE_URL", cls.RATELIMIT_STORAGE_URI)
        settings["BASE_URL"] = _env("COENFORCE_BASE_URL", cls.BASE_URL).rstrip("/")
        settings["DEFAULT_TIMEZONE"] = _env("COENFORCE_DEFAULT_TIMEZONE", cls.DEFAULT_TIMEZONE)
        settings["TRUSTED_PROXIES"] = _int_env("COENFORCE_TRUSTED_PROXIES", cls.TRUSTED_PROXIES)
        settings["DISPATCH_SENDERS"] = _int_env("COENFORCE_DISPATCH_SENDERS", cls.DISPATCH_SENDERS)
        settings["SCHEDULER_TICK_SECONDS"] = _int_env("COENFORCE_SCHEDULER_TICK_SECONDS", cls.SCHEDULER_TICK_SECONDS)
        settings["SESSION_IDLE_MINUTES"] = _int_env("COENFORCE_SESSION_IDLE_MINUTES", cls.SESSION_IDLE_MINUTES)
        settings["SESSION_ABSOLUTE_HOURS"] = _int_env("COENFORCE_SESSION_ABSOLUTE_HOURS", cls.SESSION_ABSOLUTE_HOURS)
        settings["PERMANENT_SESSION_LIFETIME"] = settings["SESSION_ABSOLUTE_HOURS"] * 3600
        settings["THIRD_PARTY_ACK_HOURS"] = _int_env("COENFORCE_THIRD_PARTY_ACK_HOURS", cls.THIRD_PARTY_ACK_HOURS)
        settings["THIRD_PARTY_DECISION_DAYS"] = _int_env("COENFORCE_THIRD_PARTY_DECISION_DAYS",
                                                         cls.THIRD_PARTY_DECISION_DAYS)
        return settings

    @classmethod
    def default_secret_key(cls) -> str | None:
        return _instance_secret("secret_key", lambda: secrets.token_urlsafe(48))

    @classmethod
    def default_encryption_keys(cls) -> str | None:
        return _instance_secret("encryption_keys", _new_encryption_key)

    @classmethod
    def default_audit_key(cls) -> str | None:
        return _instance_secret("audit_key", lambda: secrets.token_urlsafe(48))


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    RATELIMIT_STORAGE_URI = "memory://"
    # Cheap hashes keep the suite fast; production never reads these.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024

    @classmethod
    def default_secret_key(cls) -> str:
        return secrets.token_urlsafe(48)

    @classmethod
    def default_encryption_keys(cls) -> str:
        return _new_encryption_key()

    @classmethod
    def default_audit_key(cls) -> str:
        return secrets.token_urlsafe(48)


class ProductionConfig(Config):
    ENV_NAME = "production"

    @classmethod
    def default_secret_key(cls) -> None:
        return None  # production must set COENFORCE_SECRET_KEY

    @classmethod
    def default_encryption_keys(cls) -> None:
        return None  # production must set COENFORCE_ENCRYPTION_KEYS

    @classmethod
    def default_audit_key(cls) -> None:
        return None  # production must set COENFORCE_AUDIT_KEY


CONFIGS = {"development": DevelopmentConfig, "testing": TestingConfig, "production": ProductionConfig}


def load_config(overrides: dict | None = None) -> dict:
    """The validated settings for COENFORCE_ENV, with `overrides` applied last."""
    env = _env("COENFORCE_ENV", "development")
    if env not in CONFIGS:
        raise ConfigError(f"COENFORCE_ENV must be one of {', '.join(CONFIGS)}, not {env!r}")
    settings = CONFIGS[env].from_environment()
    settings.update(overrides or {})
    validate(settings)
    return settings


def validate(settings: dict) -> None:
    """Fail at start-up with a message that names the setting at fault."""
    if not settings.get("SECRET_KEY"):
        raise ConfigError("COENFORCE_SECRET_KEY is required in production")
    keys = settings.get("ENCRYPTION_KEYS") or []
    if not keys:
        raise ConfigError("COENFORCE_ENCRYPTION_KEYS is required in production")
    for key in keys:
        try:
            raw = base64.urlsafe_b64decode(key.encode())
        except (ValueError, TypeError):
            raw = b""
        if len(raw) != 32:
            raise ConfigError("each key in COENFORCE_ENCRYPTION_KEYS must be 32 bytes in URL-safe base64")
    if not isinstance(settings.get("DISPATCH_SENDERS"), int) or not 1 <= settings["DISPATCH_SENDERS"] <= 256:
        raise ConfigError("COENFORCE_DISPATCH_SENDERS must be a whole number from 1 to 256")
    if not isinstance(settings.get("SCHEDULER_TICK_SECONDS"), int) or not 1 <= settings["SCHEDULER_TICK_SECONDS"] <= 3600:
        raise ConfigError("COENFORCE_SCHEDULER_TICK_SECONDS must be a whole number from 1 to 3600")
    audit_key = settings.get("AUDIT_KEY")
    if not audit_key:
        raise ConfigError("COENFORCE_AUDIT_KEY is required in production")
    if len(audit_key) < 32:
        raise ConfigError("COENFORCE_AUDIT_KEY must be at least 32 characters")
    translations = Path(settings["BABEL_TRANSLATION_DIRECTORIES"])
    for language in settings["LANGUAGES"]:
        if language != "en" and not (translations / language / "LC_MESSAGES" / "messages.po").exists():
            raise ConfigError(f"LANGUAGES names {language!r} but no catalog exists for it")
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        ZoneInfo(settings["DEFAULT_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {settings['DEFAULT_TIMEZONE']!r}") from None
