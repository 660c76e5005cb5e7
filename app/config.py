"""Settings: one object that reads the environment (and `.env`) once."""
import os
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent

PLACEHOLDER_KEYS = {"", "changeme", "change-me", "your-api-key", "secret", "apikey", "api_key", "xxx"}
MIN_KEY_LENGTH = 16


def _bool(value, default=False):
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value, default):
    return default if value in (None, "") else int(value)


def _float(value, default):
    return default if value in (None, "") else float(value)


def _list(value):
    return [item.strip() for item in (value or "").split(",") if item.strip()]


class Config:
    """Every setting TiffTock reads; `Config.from_env()` is the only place that reads os.environ."""

    def __init__(self, **overrides):
        env = os.environ
        instance = BASE_DIR / "instance"
        self.DATABASE_URL = env.get("DATABASE_URL") or f"sqlite:///{instance / 'tifftock.db'}"
        self.API_KEY = env.get("API_KEY", "")
        self.HOST = env.get("HOST") or "127.0.0.1"
        self.PORT = _int(env.get("PORT"), 8000)
        self.DEFAULT_TIMEZONE = env.get("DEFAULT_TIMEZONE") or "UTC"
        # Retention in days; 0 keeps forever.
        self.RETENTION_REMINDERS_DAYS = _int(env.get("RETENTION_REMINDERS_DAYS"), 30)
        self.RETENTION_DELIVERIES_DAYS = _int(env.get("RETENTION_DELIVERIES_DAYS"), 90)
        # Scheduler knobs.
        self.MISFIRE_GRACE_SECONDS = _int(env.get("MISFIRE_GRACE_SECONDS"), 3600)
        self.LEASE_SECONDS = _int(env.get("LEASE_SECONDS"), 60)
        self.POLL_SECONDS = _float(env.get("POLL_SECONDS"), 0.5)
        self.WORKERS = _int(env.get("WORKERS"), 32)
        self.CLAIM_BATCH = _int(env.get("CLAIM_BATCH"), 200)
        self.HEARTBEAT_SECONDS = _int(env.get("HEARTBEAT_SECONDS"), 5)
        self.PRUNE_SECONDS = _int(env.get("PRUNE_SECONDS"), 3600)
        self.SHUTDOWN_GRACE_SECONDS = _int(env.get("SHUTDOWN_GRACE_SECONDS"), 10)
        self.DEFAULT_MAX_ATTEMPTS = _int(env.get("DEFAULT_MAX_ATTEMPTS"), 5)
        self.DEFAULT_BACKOFF_SECONDS = _float(env.get("DEFAULT_BACKOFF_SECONDS"), 30)
        self.DEFAULT_MAX_AGE_SECONDS = _int(env.get("DEFAULT_MAX_AGE_SECONDS"), 3600)
        # Limits.
        self.MAX_CONTENT_LENGTH = _int(env.get("MAX_BODY_BYTES"), 1_048_576)
        self.MAX_MESSAGE_LENGTH = _int(env.get("MAX_MESSAGE_LENGTH"), 4000)
        self.MAX_PAGE_SIZE = _int(env.get("MAX_PAGE_SIZE"), 500)
        self.MAX_BATCH = _int(env.get("MAX_BATCH"), 1000)
        # Deepest nesting of arrays/objects in a JSON body (400 beyond).
        self.MAX_JSON_DEPTH = _int(env.get("MAX_JSON_DEPTH"), 32)
        self.MAX_REMINDERS_PER_KEY = _int(env.get("MAX_REMINDERS_PER_KEY"), 100_000)
        self.MIN_INTERVAL_SECONDS = _int(env.get("MIN_INTERVAL_SECONDS"), 60)
        self.RATELIMIT_DEFAULT = env.get("RATELIMIT_DEFAULT", "6000 per minute")
        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI") or "memory://"
        self.RATELIMIT_ENABLED = _bool(env.get("RATELIMIT_ENABLED"), True)
        # How many reverse proxies in front set X-Forwarded-For/-Proto/-Host (0: trust none).
        self.TRUSTED_PROXIES = _int(env.get("TRUSTED_PROXIES"), 0)
        self.WEBHOOK_BLOCK_PRIVATE = _bool(env.get("WEBHOOK_BLOCK_PRIVATE"))
        # Remind processes.
        self.PROCESS_MODULES = _list(env.get("PROCESS_MODULES"))
        self.DEFAULT_METHOD = env.get("DEFAULT_METHOD") or "log"
        self.API_REMIND_URL = env.get("API_REMIND_URL", "")
        self.WEBHOOK_TIMEOUT = _float(env.get("WEBHOOK_TIMEOUT"), 10)
        self.SMTP_HOST = env.get("SMTP_HOST", "")
        self.SMTP_PORT = _int(env.get("SMTP_PORT"), 587)
        self.SMTP_USERNAME = env.get("SMTP_USERNAME", "")
        self.SMTP_PASSWORD = env.get("SMTP_PASSWORD", "")
        self.SMTP_SECURITY = (env.get("SMTP_SECURITY") or "starttls").lower()  # starttls | ssl | none
        self.SMTP_TIMEOUT = _float(env.get("SMTP_TIMEOUT"), 15)
        self.EMAIL_FROM = env.get("EMAIL_FROM", "")
        self.EMAIL_TO = env.get("EMAIL_TO", "")
        self.TWILIO_ACCOUNT_SID = env.get("TWILIO_ACCOUNT_SID", "")
        self.TWILIO_AUTH_TOKEN = env.get("TWILIO_AUTH_TOKEN", "")
        self.TWILIO_PHONE_NUMBER_FROM = env.get("TWILIO_PHONE_NUMBER_FROM", "")
        self.TWILIO_PHONE_NUMBER_TO = env.get("TWILIO_PHONE_NUMBER_TO", "")
        self.DEFAULT_REGION = env.get("DEFAULT_REGION") or "US"
        # Space/comma-separated URLs (the set "default") or a JSON object of named sets.
        self.APPRISE_URLS = env.get("APPRISE_URLS", "")
        self.APPRISE_TIMEOUT = _float(env.get("APPRISE_TIMEOUT"), 30)
        self.TWILIO_TIMEOUT = _float(env.get("TWILIO_TIMEOUT"), 15)
        self.LOG_LEVEL = (env.get("LOG_LEVEL") or "INFO").upper()
        self.TESTING = False
        for name, value in overrides.items():
            setattr(self, name, value)
        self.SQLALCHEMY_DATABASE_URI = self.DATABASE_URL
        self.SQLALCHEMY_ENGINE_OPTIONS = engine_options(self.DATABASE_URL)

    @classmethod
    def from_env(cls, **overrides):
        """Load `.env` (without overriding the real environment), then read the settings."""
        load_dotenv(BASE_DIR / ".env", override=False)
        return cls(**overrides)

    def api_key_problem(self):
        """Why API_KEY is unusable, or None when it is fine."""
        key = self.API_KEY or ""
        if not key:
            return "API_KEY is not set: put one in .env (make run writes one for you)"
        if key.strip().lower() in PLACEHOLDER_KEYS or key.lower().startswith("change"):
            return "API_KEY is a placeholder: set a random value (python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        if len(key) < MIN_KEY_LENGTH:
            return f"API_KEY is too short: use at least {MIN_KEY_LENGTH} characters"
        return None

    def as_flask(self):
        """The settings as a dict for `app.config.from_mapping`."""
        return {name: getattr(self, name) for name in vars(self) if name.isupper()}


def engine_options(url):
    """SQLAlchemy engine options; SQLite gets a busy timeout so API and scheduler share the file."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True}
