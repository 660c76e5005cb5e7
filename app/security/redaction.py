"""Log redaction: API keys, configured secrets, emails and phone numbers never reach a log line.

Defence in depth: TiffTock's own log calls carry ids and lengths, not message text or
recipients. This catches what slips through anyway (an exception text that echoes a request,
a library's debug line). It runs from the log record factory rather than as a filter on some
loggers, because a logger's filters do not see records of its child loggers
("tifftock.process.webhook") nor of libraries; the factory sees every record of the process.
`RedactingFilter` is the same rewrite as a filter, for a handler in a logging config.
"""
import logging
import re
import threading
import traceback
from contextlib import contextmanager

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 6
# Settings whose values are secrets wherever they appear.
SECRET_SETTINGS = ("API_KEY", "SMTP_PASSWORD", "TWILIO_AUTH_TOKEN")

PATTERNS = (
    # Credentials in a URL: scheme://user:password@host (DATABASE_URL, Apprise URLs, webhook URLs).
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/@:]*:[^\s/@]*@"), r"\1[redacted]@"),
    # A header or field carrying a key: "X-API-Key: …", "Authorization: Bearer …", "api_key=…".
    (
        re.compile(r"(?i)\b(x-api-key|authorization|api[_-]?key|token|secret|password)(['\"]?\s*[:=]\s*['\"]?)(bearer\s+)?[^\s'\",;&]+"),
        r"\1\2\3[redacted]",
    ),
    # Named keys from `flask keys create`.
    (re.compile(r"\btt_[A-Za-z0-9_\-]{8,}"), "tt_[redacted]"),
    (re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)+"), "[email]"),
    # E.164-looking phone numbers, with or without separators: +15551234567, +49 30 1234567, +1 (555) 765-4321.
    (re.compile(r"(?<![\w+])\+[1-9](?:[ .\-()]{0,2}\d){6,14}(?!\d)"), "[phone]"),
)

_lock = threading.Lock()
_secrets: set[str] = set()
_installed = False
_suspended = 0


def redact(text: str) -> str:
    """`text` with every known secret, key, email address and phone number replaced."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Rewrite a record in place: its message, its exception text and its stack text."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it for logging to report
        return record
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None:
        # Formatters print exc_text when it is set; drop the exception so none formats it raw.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """A logging filter that redacts records (never drops one)."""

    def filter(self, record):
        redact_record(record)
        return True


def install_redaction(config) -> None:
    """Redact every log record of this process from now on; learns `config`'s secrets.

    Safe to call more than once (the API app factory and scheduler.py both call it):
    the record factory is installed once, and each call adds its config's secrets.
    """
    global _installed
    with _lock:
        for name in SECRET_SETTINGS:
            value = getattr(config, name, "") or ""
            if len(value) >= MIN_SECRET_LENGTH:
                _secrets.add(value)
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def redacting_factory(*args, **kwargs):
            record = previous(*args, **kwargs)
            return record if _suspended else redact_record(record)

        logging.setLogRecordFactory(redacting_factory)
        _installed = True


@contextmanager
def suspended():
    """No redaction inside the block: for a test that must see what the code itself logs.

    With redaction on, a test asserting "the email process never logs the recipient" would pass
    even if it did; inside `suspended()` it sees the raw lines.
    """
    global _suspended
    with _lock:
        _suspended += 1
    try:
        yield
    finally:
        with _lock:
            _suspended -= 1
