"""The `webhook` process (alias `api`): an HTTP request per occurrence, Standard Webhooks signed."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.cookiejar
import json
import re
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import requests
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates, validates_schema
from requests.adapters import HTTPAdapter

from app.processes import netguard
from app.processes.base import PermanentError, RemindProcess, RetryableError
from app.timeutil import iso

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_TIMEOUT = 60.0
MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 86400.0
REDIRECT_CODES = (301, 302, 303, 307, 308)
# Responses are not used beyond their status; only a short sized body is read (keep-alive).
MAX_DRAIN = 8192
# Set by TiffTock itself (or by requests from the body): a user header may not override them.
RESERVED_HEADERS = {"webhook-id", "webhook-timestamp", "webhook-signature", "host", "content-length", "transfer-encoding"}
# Header names whose values are shown as *** by the API and dropped on a cross-origin redirect.
_SENSITIVE_HEADER = re.compile(r"auth|cookie|token|secret|key|password|signature", re.IGNORECASE)
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
PLACEHOLDERS = ("message", "reminder_id", "scheduled_for", "occurrence_id", "attempt", "tags")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


class WebhookParams(Schema):
    """Parameters of the webhook process."""

    url = fields.String(required=True, validate=validate.Length(max=2048))
    method = fields.String(load_default="POST", validate=validate.OneOf(METHODS))
    headers = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.Length(max=4096)), load_default=dict)
    body = fields.Raw(allow_none=True, metadata={"description": "JSON template; strings may contain {message}, {reminder_id}, {scheduled_for}, {occurrence_id}, {attempt}, {tags}"})
    timeout = fields.Float(validate=validate.Range(min=0.1, max=MAX_TIMEOUT))
    secret = fields.String(load_only=True, validate=validate.Length(min=1, max=512), metadata={"description": "Standard Webhooks key: whsec_<base64> or raw text; write-only"})

    @pre_load
    def _upper_method(self, data, **_):
        if isinstance(data, dict) and isinstance(data.get("method"), str):
            data = {**data, "method": data["method"].upper()}
        return data

    @validates("headers")
    def _headers(self, headers, **_):
        if len(headers) > 50:
            raise ValidationError("at most 50 headers")
        for name, value in headers.items():
            if not _HEADER_NAME.match(name):
                raise ValidationError(f"invalid header name {name[:40]!r}")
            if name.lower() in RESERVED_HEADERS:
                raise ValidationError(f"header {name!r} is set by TiffTock")
            if "\r" in value or "\n" in value or "\0" in value:
                raise ValidationError(f"header {name!r} has a line break in its value")

    @validates("secret")
    def _secret(self, secret, **_):
        signing_key(secret)

    @validates_schema
    def _body_is_json(self, data, **_):
        if "body" in data:
            try:
                json.dumps(data["body"], allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise ValidationError("must be a JSON value", "body") from exc


class WebhookProcess(RemindProcess):
    """Sends an HTTP request through a pooled session; 2xx succeeds, 5xx/408/429/timeouts retry."""

    name = "webhook"
    description = "Call a URL (Standard Webhooks headers, HMAC-SHA256 signature when a secret is set)."
    Params = WebhookParams
    secret_params = ("secret",)

    def __init__(self, config):
        super().__init__(config)
        self.session = requests.Session()
        # No .netrc credentials, no proxy from the environment: the guard must see the real peer.
        self.session.trust_env = False
        # One session serves every reminder (and every API key): never carry cookies across.
        self.session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        adapter = HTTPAdapter(pool_connections=16, pool_maxsize=64, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def defaults(self):
        return {"url": self.config.API_REMIND_URL}

    def validate(self, params):
        data = super().validate(params)
        try:
            # Scheme and literal IPs now; names are resolved and checked at every send.
            netguard.check_url_literal(data["url"], self.config.WEBHOOK_BLOCK_PRIVATE)
        except netguard.BlockedAddressError as exc:
            raise ValidationError({"url": [str(exc)]}) from None
        return data

    def public_params(self, params):
        shown = super().public_params(params)
        if isinstance(shown.get("headers"), dict):
            shown["headers"] = {k: ("***" if _SENSITIVE_HEADER.search(k) else v) for k, v in shown["headers"].items()}
        if isinstance(shown.get("url"), str):
            shown["url"] = _hide_password(shown["url"])
        return shown

    def remind(self, message, params, context):
        method = params.get("method", "POST").upper()
        url = params["url"]
        timeout = min(float(params.get("timeout") or self.config.WEBHOOK_TIMEOUT), MAX_TIMEOUT)
        payload = b"" if method == "GET" else render_body(params.get("body"), message, context).encode()
        headers = {"User-Agent": "TiffTock", "Content-Type": "application/json"} if payload else {"User-Agent": "TiffTock"}
        headers.update(params.get("headers") or {})
        for _hop in range(MAX_REDIRECTS + 1):
            self._guard(url)
            # Signed per hop: a redirect may turn the request into a bodiless GET.
            signed = {**headers, **signature_headers(context.occurrence_id, payload, params.get("secret"))}
            response = self._send(method, url, signed, payload, timeout)
            with response:
                status = response.status_code
                location = response.headers.get("Location")
                _drain(response)
                if status not in REDIRECT_CODES or not location:
                    return classify(status, response.headers.get("Retry-After"))
            next_url = urljoin(url, location)
            if netguard.origin(next_url) != netguard.origin(url):
                # The user's headers (tokens) were meant for the first host only.
                headers = {k: v for k, v in headers.items() if not _SENSITIVE_HEADER.search(k)}
            if status in (302, 303) or (status == 301 and method == "POST"):
                # What browsers and requests do: the redirected request becomes a bodiless GET.
                method, payload = "GET", b""
                headers.pop("Content-Type", None)
            url = next_url
        raise PermanentError(f"more than {MAX_REDIRECTS} redirects")

    def _guard(self, url):
        try:
            netguard.check_url(url, self.config.WEBHOOK_BLOCK_PRIVATE)
        except netguard.BlockedAddressError as exc:
            raise PermanentError(f"refused {netguard.origin(url)}: {exc}") from None
        except netguard.HostResolutionError:
            raise RetryableError(f"DNS lookup failed for {netguard.origin(url)}") from None

    def _send(self, method, url, headers, payload, timeout):
        where = netguard.origin(url)
        try:
            return self.session.request(
                method, url, data=payload or None, headers=headers, timeout=(timeout, timeout),
                allow_redirects=False, stream=True,
            )
        except requests.Timeout:
            raise RetryableError(f"timed out after {timeout:g}s calling {where}") from None
        except requests.exceptions.SSLError:
            # Often a certificate that is being renewed: worth another try within max_age.
            raise RetryableError(f"TLS handshake with {where} failed") from None
        except requests.ConnectionError:
            raise RetryableError(f"connection to {where} failed") from None
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader, requests.exceptions.MissingSchema):
            raise PermanentError(f"invalid request to {where}") from None
        except requests.RequestException as exc:
            raise RetryableError(f"request to {where} failed: {type(exc).__name__}") from None

    def close(self):
        self.session.close()


def _drain(response, limit=MAX_DRAIN):
    """Read a short body so the connection goes back to the pool; a long or unsized one is dropped."""
    try:
        size = int(response.headers.get("Content-Length", ""))
    except ValueError:
        # No length: only a reply that cannot have a body (204, 304) is known to be short.
        size = 0 if response.status_code in (204, 304) else -1
    # An empty body must be read too, or requests closes the pooled connection.
    if 0 <= size <= limit:
        try:
            response.content  # noqa: B018 - reading is the point
        except requests.RequestException:
            pass


def classify(status, retry_after_header=None):
    """The detail for a 2xx, or the RetryableError / PermanentError for any other status."""
    if 200 <= status < 300:
        return f"HTTP {status}"
    if status >= 500 or status in (408, 429):
        raise RetryableError(f"HTTP {status}", retry_after=parse_retry_after(retry_after_header))
    raise PermanentError(f"HTTP {status}")


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


def render_body(template, message, context):
    """The JSON body: the default document, or the template with known placeholders filled in."""
    values = {
        "message": message,
        "reminder_id": context.reminder_id,
        "scheduled_for": iso(context.scheduled_for),  # as the API shows instants
        "occurrence_id": context.occurrence_id,
        "attempt": context.attempt,
        "tags": list(context.reminder.get("tags") or []),
    }
    if template is None:
        return json.dumps(values)
    return json.dumps(fill(template, values))


def fill(node, values):
    """Substitute placeholders in every string of a JSON value (plain replacement, no format())."""
    if isinstance(node, dict):
        return {key: fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [fill(item, values) for item in node]
    if isinstance(node, str):
        whole = _PLACEHOLDER.fullmatch(node)
        if whole:  # "{attempt}" alone keeps its JSON type (number, list)
            return values[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: _as_text(values[m.group(1)]), node)
    return node


def _as_text(value):
    return ",".join(value) if isinstance(value, list) else str(value)


def signing_key(secret):
    """The HMAC key: base64 after a `whsec_` prefix (Standard Webhooks), else the UTF-8 bytes."""
    if secret.startswith("whsec_"):
        try:
            key = base64.b64decode(secret[len("whsec_"):], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("a whsec_ secret must be base64 after the prefix") from None
        if not key:
            raise ValidationError("a whsec_ secret must not be empty")
        return key
    return secret.encode("utf-8")


def signature_headers(webhook_id, payload: bytes, secret=None, timestamp=None):
    """Standard Webhooks headers; `webhook-signature` only when a secret is set."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {"webhook-id": webhook_id, "webhook-timestamp": timestamp}
    if secret:
        signed = webhook_id.encode() + b"." + timestamp.encode() + b"." + payload
        digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
        headers["webhook-signature"] = "v1," + base64.b64encode(digest).decode()
    return headers


def _hide_password(url):
    """The URL with its password and query values masked: tokens often ride in either."""
    parts = urlsplit(url)
    if parts.query:
        masked = "&".join(f"{pair.partition('=')[0]}=***" if "=" in pair else pair for pair in parts.query.split("&"))
        parts = parts._replace(query=masked)
    if parts.password is not None:
        netloc = parts.netloc.rsplit("@", 1)[1]
        parts = parts._replace(netloc=f"{parts.username}:***@{netloc}")
    return parts.geturl()
