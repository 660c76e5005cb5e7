"""The OpenAPI document's error responses: the JSON error body TiffTock really sends, on every route.

flask-smorest documents its own error shape ({code, status, message, errors}); TiffTock answers
{error, code, fields?} (app.errors). `DocumentedApi` documents that shape, and
`ErrorResponsesPlugin` adds to each operation the errors it can answer: 401 without a key,
404 for an unknown id, 400/413/415 for a body that is malformed, too large or not JSON,
429 over the rate limit.
"""
from apispec import BasePlugin
from flask_smorest import Api
from marshmallow import Schema, fields


class ErrorSchema(Schema):
    """Every error TiffTock answers."""

    error = fields.String(required=True, metadata={"description": "what went wrong, for a person to read"})
    code = fields.Integer(required=True, metadata={"description": "the HTTP status"})
    fields = fields.Dict(
        metadata={"description": "validation failures: offending field names (nested for nested fields) and messages"}
    )


class ErrorResponsesPlugin(BasePlugin):
    """apispec plugin: document the errors every operation shares, and the routes that need no key."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        # Imported here: app.auth needs the models, which need app.extensions, which builds the Api.
        from app.auth import PUBLIC_ENDPOINTS
        from app.security.limits import EXEMPT_ENDPOINTS

        rule = kwargs.get("rule")
        endpoint = getattr(rule, "endpoint", None)
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            if endpoint in PUBLIC_ENDPOINTS:
                operation["security"] = []
            else:
                responses.setdefault("401", "UNAUTHORIZED")
            if endpoint not in EXEMPT_ENDPOINTS:
                responses.setdefault("429", "TOO_MANY_REQUESTS")
            if "{" in (path or ""):
                responses.setdefault("404", "NOT_FOUND")
            if "requestBody" in operation:
                responses.setdefault("400", "BAD_REQUEST")
                responses.setdefault("413", "REQUEST_ENTITY_TOO_LARGE")
                responses.setdefault("415", "UNSUPPORTED_MEDIA_TYPE")
                responses.setdefault("422", "UNPROCESSABLE_ENTITY")
            # Status codes in order, "default" last, as a reader expects them.
            operation["responses"] = dict(sorted(responses.items(), key=lambda item: (str(item[0]) == "default", str(item[0]))))


class DocumentedApi(Api):
    """flask-smorest's Api with TiffTock's error body and shared error responses."""

    ERROR_SCHEMA = ErrorSchema

    def __init__(self, *args, spec_kwargs=None, **kwargs):
        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()), ErrorResponsesPlugin()]
        super().__init__(*args, spec_kwargs=spec_kwargs, **kwargs)
