"""JSON bodies nested too deeply are refused (400) before anything parses them.

Python's JSON parser recurses: a 1 MB body of `[[[[…` raises RecursionError deep inside the
request (a 500), and a body just under that depth would recurse again in validation, storage and
serialization. The depth is counted over the raw bytes, strings left out, without parsing.
"""
from flask import current_app, request

from app.errors import error_response

NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
BODY_METHODS = {"POST", "PUT", "PATCH"}


def outside_strings(data: bytes) -> bytes:
    """The parts of a JSON text that are not inside a string (linear, no regex backtracking)."""
    # Inside a JSON string every backslash escapes the next character: drop escaped backslashes,
    # then escaped quotes, and every remaining quote opens or closes a string.
    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b"".join(unescaped.split(b'"')[::2])


def json_depth(data: bytes, stop_above: int | None = None) -> int:
    """How deeply arrays and objects nest in a JSON text (0 for a scalar); stops counting past `stop_above`."""
    depth = deepest = 0
    for byte in outside_strings(data).translate(None, NOT_BRACKETS):
        if byte in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


def install_body_guard(app):
    """Answer 400 for an authenticated JSON body nested deeper than MAX_JSON_DEPTH."""

    @app.before_request
    def refuse_deep_json():
        if request.method not in BODY_METHODS or not request.is_json:
            return None
        from app.auth import current_identity, is_public  # app.auth imports the models

        if not is_public() and current_identity() is None:
            return None  # the auth hook answers 401 without reading the body
        limit = current_app.config["MAX_JSON_DEPTH"]
        if json_depth(request.get_data(cache=True), stop_above=limit) > limit:
            return error_response(400, f"Malformed JSON body: nested deeper than {limit} levels")
        return None
