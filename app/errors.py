"""JSON error responses for every failure: validation, HTTP errors and crashes."""
import logging

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("tifftock.api")


class ApiError(Exception):
    """An error with a status, a readable message and optional offending fields."""

    def __init__(self, status, message, fields=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields
        self.headers = headers or {}


class ValidationFailed(ApiError):
    """422: the body is well-formed JSON but its fields are wrong."""

    def __init__(self, fields, message=None):
        super().__init__(422, message or describe_fields(fields), fields)


def describe_fields(fields, prefix=""):
    """A one-line summary like "cron: not a valid crontab; window.start: …"."""
    parts = []
    for name, value in (fields or {}).items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            parts.append(describe_fields(value, f"{path}."))
        else:
            messages = value if isinstance(value, list) else [value]
            parts.append(f"{path}: {' '.join(str(m).rstrip('.') for m in messages)}")
    return "; ".join(part for part in parts if part)


def require_json_body():
    """415 for a body that is not sent as JSON: otherwise it reads as empty and every field seems missing."""
    if request.content_length and not request.is_json:
        raise ApiError(415, "Send the body as JSON with the header Content-Type: application/json")


def error_response(status, message, fields=None, headers=None):
    """The JSON body every error shares: {"error", "code", "fields"?}."""
    body = {"error": message, "code": status}
    if fields:
        body["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def install_error_handlers(app):
    """Register handlers so no route ever answers HTML or a traceback."""

    @app.errorhandler(ApiError)
    def handle_api_error(exc):
        return error_response(exc.status, exc.message, exc.fields, exc.headers)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc):
        fields = None
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        if messages:
            # webargs nests errors by location ({"json": {...}, "query": {...}}); flatten one level.
            fields = {}
            for location_errors in messages.values():
                if isinstance(location_errors, dict):
                    fields.update(location_errors)
                else:
                    fields.setdefault("_schema", []).extend(location_errors)
        message = exc.description if not fields else describe_fields(fields)
        if exc.code == 400 and fields and set(fields) == {"_schema"}:
            # webargs' report of a body that is not JSON at all.
            message, fields = "Malformed JSON body: the request body is not valid JSON", None
        elif exc.code == 404 and not fields:
            message = "Not found: no such route or id (ids are integers)"
        elif exc.code == 413:
            message = f"Request body too large: the limit is {app.config['MAX_CONTENT_LENGTH']} bytes"
        # Keep the exception's own headers (Allow on 405, Retry-After on 429), not its HTML type.
        headers = {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
        if isinstance(data, dict):
            headers.update(data.get("headers") or {})
        return error_response(exc.code or 500, message or exc.name, fields, headers)

    @app.errorhandler(Exception)
    def handle_crash(exc):
        # Log the type and the route only: the exception text may echo request data.
        log.error("unhandled %s", type(exc).__name__, exc_info=app.debug or app.testing)
        return error_response(500, "Internal server error")
