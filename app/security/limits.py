"""Per-key request rate limits (Flask-Limiter): 429 JSON with Retry-After, /healthz exempt.

The Limiter object lives in app.extensions like the other extensions; what it counts and how
much it allows are read from the running app per request, so each app keeps its own settings.
"""
from flask import current_app, request
from flask_limiter import Limit, Limiter
from limits import parse_many
from limits.errors import ConfigurationError

from app.security.redaction import redact

# Routes never rate limited: a monitor polling health must not be locked out by a busy key.
EXEMPT_ENDPOINTS = {"meta.Health"}


def rate_limit_key():
    """The bucket a request counts against: its key's owner, or its address when it has no valid key.

    Keying bad or missing keys by address means guessing keys is rate limited too,
    and nobody gets a fresh bucket by inventing keys.
    """
    # Imported here: app.auth needs the models, which need app.extensions, which builds the limiter.
    from app.auth import current_identity, is_public

    who = None if is_public() else current_identity()
    if who is not None:
        return f"key:{who[0]}"
    return f"addr:{request.remote_addr or 'unknown'}"


def configured_limit():
    """RATELIMIT_DEFAULT of the running app, e.g. "6000 per minute" (several: "10/second;6000/minute")."""
    return current_app.config["RATELIMIT_DEFAULT"]


def is_exempt():
    """Whether this request skips the limits."""
    return request.endpoint in EXEMPT_ENDPOINTS


def breach_message():
    """The `error` of a 429."""
    return f"Rate limit exceeded ({configured_limit()}): retry after the seconds in Retry-After"


def make_limiter():
    """The unbound limiter; `init_app` picks RATELIMIT_STORAGE_URI and RATELIMIT_ENABLED from app.config."""
    default = Limit(
        limit_provider=configured_limit, key_function=rate_limit_key, exempt_when=is_exempt, error_message=breach_message
    )
    return Limiter(
        key_func=rate_limit_key,
        default_limits=[default],
        # X-RateLimit-* on every response, Retry-After on a 429.
        headers_enabled=True,
        key_prefix="tifftock",
    )


def install_limits(app, limiter):
    """Bind `limiter` to the app; a bad RATELIMIT_DEFAULT or RATELIMIT_STORAGE_URI stops the start with a reason."""
    value = app.config["RATELIMIT_DEFAULT"]
    try:
        if value:
            parse_many(value)
    except ValueError:
        raise RuntimeError(
            f"TiffTock will not start: RATELIMIT_DEFAULT {value!r} is not a rate limit (e.g. '6000 per minute')"
        ) from None
    try:
        limiter.init_app(app)
    except ConfigurationError as exc:
        # The message may quote the URI: keep a password in it out of the output.
        raise RuntimeError(f"TiffTock will not start: RATELIMIT_STORAGE_URI: {redact(str(exc))}") from None
