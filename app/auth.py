"""API-key authentication: the admin key from settings, or a named key from `flask keys`."""
import hashlib
import hmac

from flask import current_app, g, request

from app.errors import error_response
from app.extensions import db
from app.models import ADMIN_OWNER, ApiKey

# Routes anyone may call: health, docs and the OpenAPI document.
PUBLIC_ENDPOINTS = {"meta.Health", "api-docs.openapi_json", "api-docs.openapi_swagger_ui", "static"}
KEY_PREFIX = "tt_"


def hash_key(key: str) -> str:
    """The stored form of a named key (SHA-256: the keys are 32 random bytes, so no salt is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def presented_key():
    """The key from `X-API-Key` or `Authorization: Bearer …`, or None."""
    key = request.headers.get("X-API-Key")
    if key:
        return key.strip()
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def identify(key: str):
    """(owner, is_admin) for a valid key, or None."""
    admin_key = current_app.config["API_KEY"]
    if admin_key and hmac.compare_digest(key.encode(), admin_key.encode()):
        return ADMIN_OWNER, True
    if not key.startswith(KEY_PREFIX):
        return None
    digest = hash_key(key)
    row = db.session.execute(db.select(ApiKey).where(ApiKey.key_hash == digest)).scalar_one_or_none()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, digest):
        return None
    return row.name, False


def current_identity():
    """(owner, is_admin) of this request's key, or None; looked up once per request.

    The rate limiter calls it before `require_key` runs, to count requests per key.
    """
    if "tifftock_identity" not in g:
        key = presented_key()
        g.tifftock_identity = identify(key) if key else None
    return g.tifftock_identity


def is_public():
    """Whether this request's route needs no key (unknown routes answer 404 without one)."""
    return request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None


def install_auth(app):
    """Require a valid key on every route except the public ones."""

    @app.before_request
    def require_key():
        if is_public():
            return None
        who = current_identity()
        if who is None:
            key = presented_key()
            message = "Missing API key: send X-API-Key or Authorization: Bearer" if not key else "Invalid API key"
            return error_response(401, message, headers={"WWW-Authenticate": 'Bearer realm="tifftock"'})
        g.owner, g.is_admin = who
        return None
