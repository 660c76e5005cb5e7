"""The webhook process against a real HTTP server on loopback (pytest-httpserver)."""
import base64
import hashlib
import hmac
import json
import threading
import time
from email.utils import formatdate

import pytest
from marshmallow import ValidationError
from werkzeug import Response

from app.processes import PermanentError, RetryableError
from app.processes.webhook import WebhookProcess, parse_retry_after
from tests.processes.conftest import make_config, make_context

SECRET_BYTES = b"0123456789abcdef0123456789abcdef"
WHSEC = "whsec_" + base64.b64encode(SECRET_BYTES).decode()


@pytest.fixture
def webhook():
    process = WebhookProcess(make_config())
    yield process
    process.close()


def send(process, url, message="Take the pills", context=None, **params):
    """validate() then remind(), as the API and the scheduler do."""
    loaded = process.validate({"url": url, **params})
    return process.remind(message, loaded, context or make_context())


def verify_standard_webhook(key: bytes, headers, body: bytes):
    """The receiver's check, written from the Standard Webhooks spec (not TiffTock's code)."""
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    versions = dict(part.split(",", 1) for part in headers["webhook-signature"].split(" "))
    return hmac.compare_digest(versions.get("v1", ""), expected)


def test_default_body_and_signature_verify_with_whsec_key(webhook, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok", status=200)
    detail = send(webhook, httpserver.url_for("/hook"), secret=WHSEC)
    assert detail == "HTTP 200"
    request, _response = httpserver.log[0]
    body = request.get_data()
    assert json.loads(body) == {
        "message": "Take the pills",
        "reminder_id": 7,
        "scheduled_for": "2026-12-01T08:00:00.000Z",
        "occurrence_id": make_context().occurrence_id,
        "attempt": 1,
        "tags": ["family", "pills"],
    }
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["webhook-id"] == make_context().occurrence_id
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 600
    assert verify_standard_webhook(SECRET_BYTES, request.headers, body)
    assert not verify_standard_webhook(b"another key", request.headers, body)


def test_raw_secret_signs_with_its_utf8_bytes(webhook, httpserver):
    httpserver.expect_request("/hook").respond_with_data("", status=204)
    assert send(webhook, httpserver.url_for("/hook"), secret="plain sécret") == "HTTP 204"
    request, _ = httpserver.log[0]
    assert verify_standard_webhook("plain sécret".encode(), request.headers, request.get_data())


def test_no_secret_no_signature_header(webhook, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    send(webhook, httpserver.url_for("/hook"))
    request, _ = httpserver.log[0]
    assert "webhook-signature" not in request.headers
    assert request.headers["webhook-id"]


def test_body_template_substitutes_known_placeholders_only(webhook, httpserver):
    httpserver.expect_request("/hook", method="PUT").respond_with_data("ok")
    template = {
        "text": "Reminder: {message} (#{reminder_id}, try {attempt})",
        "attempt": "{attempt}",
        "tags": "{tags}",
        "nested": [{"when": "{scheduled_for}", "id": "{occurrence_id}"}, 5, None, True],
        "untouched": "{message.__class__} {config} {{message}} {0}",
    }
    send(webhook, httpserver.url_for("/hook"), message="Feed {the} cat", method="put", body=template, headers={"Authorization": "Bearer t0k"})
    request, _ = httpserver.log[0]
    assert request.headers["Authorization"] == "Bearer t0k"
    assert json.loads(request.get_data()) == {
        "text": "Reminder: Feed {the} cat (#7, try 1)",
        "attempt": 1,
        "tags": ["family", "pills"],
        "nested": [{"when": "2026-12-01T08:00:00.000Z", "id": make_context().occurrence_id}, 5, None, True],
        "untouched": "{message.__class__} {config} {Feed {the} cat} {0}",
    }


def test_get_sends_no_body(webhook, httpserver):
    httpserver.expect_request("/ping", method="GET").respond_with_data("ok")
    assert send(webhook, httpserver.url_for("/ping"), method="GET", secret="s") == "HTTP 200"
    request, _ = httpserver.log[0]
    assert request.get_data() == b""


def test_same_webhook_id_on_every_retry_of_an_occurrence(webhook, httpserver):
    httpserver.expect_ordered_request("/hook").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok", status=200)
    with pytest.raises(RetryableError):
        send(webhook, httpserver.url_for("/hook"), context=make_context(attempt=1))
    assert send(webhook, httpserver.url_for("/hook"), context=make_context(attempt=2)) == "HTTP 200"
    first, second = (request for request, _ in httpserver.log)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == make_context().occurrence_id
    assert json.loads(second.get_data())["attempt"] == 2


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_server_errors_and_408_are_retryable(webhook, httpserver, status):
    httpserver.expect_request("/hook").respond_with_data("nope", status=status)
    with pytest.raises(RetryableError) as caught:
        send(webhook, httpserver.url_for("/hook"))
    assert str(caught.value) == f"HTTP {status}"
    assert caught.value.retry_after is None


def test_429_honours_retry_after_seconds(webhook, httpserver):
    httpserver.expect_request("/hook").respond_with_data("slow down", status=429, headers={"Retry-After": "120"})
    with pytest.raises(RetryableError) as caught:
        send(webhook, httpserver.url_for("/hook"))
    assert caught.value.retry_after == 120


def test_503_honours_retry_after_http_date(webhook, httpserver):
    later = formatdate(time.time() + 300, usegmt=True)
    httpserver.expect_request("/hook").respond_with_data("", status=503, headers={"Retry-After": later})
    with pytest.raises(RetryableError) as caught:
        send(webhook, httpserver.url_for("/hook"))
    assert 200 < caught.value.retry_after <= 301


def test_parse_retry_after_edge_cases():
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("0") == 0
    assert parse_retry_after(formatdate(1000, usegmt=True), now=2000) == 0
    assert parse_retry_after("99999999") == 86400


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_other_4xx_are_permanent(webhook, httpserver, status):
    httpserver.expect_request("/hook").respond_with_data("no", status=status)
    with pytest.raises(PermanentError, match=f"HTTP {status}"):
        send(webhook, httpserver.url_for("/hook"))


def test_timeout_is_retryable(webhook, httpserver):
    release = threading.Event()

    def slow(_request):
        release.wait(30)  # held until the client has given up
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    try:
        started = time.monotonic()
        with pytest.raises(RetryableError, match="timed out"):
            send(webhook, httpserver.url_for("/slow"), timeout=0.5)
        assert time.monotonic() - started < 20
    finally:
        release.set()


def test_connection_refused_is_retryable(webhook, closed_port):
    with pytest.raises(RetryableError, match="connection"):
        send(webhook, f"http://127.0.0.1:{closed_port}/hook")


def test_error_text_hides_credentials_query_and_secret(webhook, closed_port):
    url = f"http://user:hunter2@127.0.0.1:{closed_port}/hook/path-token?token=abc123"
    with pytest.raises(RetryableError) as caught:
        send(webhook, url, secret="s3cr3t-value", headers={"X-Api-Key": "k-e-y"})
    text = str(caught.value)
    for leak in ("hunter2", "abc123", "path-token", "s3cr3t", "k-e-y", "user"):
        assert leak not in text
    assert f"127.0.0.1:{closed_port}" in text


def test_redirects_are_followed_and_keep_method_on_307(webhook, httpserver):
    httpserver.expect_request("/old", method="POST").respond_with_data("", status=307, headers={"Location": "/new"})
    httpserver.expect_request("/new", method="POST").respond_with_data("ok", status=201)
    assert send(webhook, httpserver.url_for("/old"), secret=WHSEC) == "HTTP 201"
    request, _ = httpserver.log[-1]
    assert json.loads(request.get_data())["message"] == "Take the pills"
    assert verify_standard_webhook(SECRET_BYTES, request.headers, request.get_data())


def test_303_turns_into_a_signed_bodiless_get(webhook, httpserver):
    httpserver.expect_request("/form", method="POST").respond_with_data("", status=303, headers={"Location": "/done"})
    httpserver.expect_request("/done", method="GET").respond_with_data("ok")
    assert send(webhook, httpserver.url_for("/form"), secret=WHSEC) == "HTTP 200"
    request, _ = httpserver.log[-1]
    assert request.get_data() == b""
    assert verify_standard_webhook(SECRET_BYTES, request.headers, b"")


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/x", "http://[::ffff:169.254.169.254]/", "http://0.0.0.0:{port}/again"],
)
def test_redirect_to_a_blocked_address_is_not_followed(webhook, httpserver, target):
    location = target.format(port=httpserver.port)
    httpserver.expect_request("/start").respond_with_data("", status=302, headers={"Location": location})
    httpserver.expect_request("/again").respond_with_data("reached")
    with pytest.raises(PermanentError, match="refused"):
        send(webhook, httpserver.url_for("/start"))
    assert [request.path for request, _ in httpserver.log] == ["/start"]


def test_redirect_loop_stops(webhook, httpserver):
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    with pytest.raises(PermanentError, match="redirects"):
        send(webhook, httpserver.url_for("/loop"))
    assert len(httpserver.log) == 6


def test_cross_origin_redirect_drops_credential_headers(webhook, httpserver):
    other = httpserver.url_for("/landing").replace("localhost", "127.0.0.1")
    httpserver.expect_request("/start").respond_with_data("", status=308, headers={"Location": other})
    httpserver.expect_request("/landing").respond_with_data("ok")
    send(webhook, httpserver.url_for("/start"), headers={"Authorization": "Bearer t", "X-Trace": "1"})
    first, second = (request for request, _ in httpserver.log)
    assert first.headers["Authorization"] == "Bearer t"
    assert "Authorization" not in second.headers
    assert second.headers["X-Trace"] == "1"


def test_block_private_refuses_loopback_at_create_and_at_send(httpserver):
    process = WebhookProcess(make_config(WEBHOOK_BLOCK_PRIVATE=True))
    try:
        with pytest.raises(ValidationError) as caught:
            process.validate({"url": "http://127.0.0.1:8123/api/webhook/x"})
        assert "url" in caught.value.messages
        with pytest.raises(ValidationError):
            process.validate({"url": httpserver.url_for("/hook")})  # "localhost" is loopback by name
        # A reminder stored before WEBHOOK_BLOCK_PRIVATE was switched on is refused at send time.
        permissive = WebhookProcess(make_config())
        loaded = permissive.validate({"url": httpserver.url_for("/hook")})
        permissive.close()
        with pytest.raises(PermanentError, match="loopback"):
            process.remind("hi", loaded, make_context())
        assert len(httpserver.log) == 0
    finally:
        process.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://224.0.0.1/",
        "ftp://example.org/file",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/",
        "http:///no-host",
        "http://2852039166/",  # 169.254.169.254 as one integer
    ],
)
def test_create_refuses_bad_schemes_and_blocked_literals(webhook, url):
    with pytest.raises(ValidationError) as caught:
        webhook.validate({"url": url})
    assert "url" in caught.value.messages


@pytest.mark.parametrize(
    "params, field",
    [
        ({"method": "TRACE"}, "method"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": 3600}, "timeout"),
        ({"headers": {"webhook-id": "x"}}, "headers"),
        ({"headers": {"X-A": "a\r\nInjected: 1"}}, "headers"),
        ({"headers": {"bad name": "a"}}, "headers"),
        ({"headers": {"X-A": 1}}, "headers"),
        ({"secret": "whsec_not base64!"}, "secret"),
        ({"body": float("nan")}, "body"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_params_are_rejected(webhook, params, field):
    with pytest.raises(ValidationError) as caught:
        webhook.validate({"url": "http://localhost:8123/hook", **params})
    assert field in caught.value.messages


def test_url_defaults_to_api_remind_url_and_api_alias():
    from app.processes import ProcessRegistry

    registry = ProcessRegistry(make_config(API_REMIND_URL="http://localhost:9/remind"), use_entry_points=False)
    try:
        process = registry.get("api")
        assert process.name == "webhook"
        assert process.validate({})["url"] == "http://localhost:9/remind"
        assert process.validate(None)["method"] == "POST"
    finally:
        registry.close()


def test_public_params_hide_secret_password_query_values_and_auth_headers(webhook):
    loaded = webhook.validate({"url": "https://me:pw@example.org/h?x=1", "secret": "s", "headers": {"Authorization": "Bearer t", "X-Trace": "1"}})
    shown = webhook.public_params(loaded)
    assert shown["secret"] == "***"
    assert shown["url"] == "https://me:***@example.org/h?x=***"
    assert shown["headers"] == {"Authorization": "***", "X-Trace": "1"}


@pytest.mark.parametrize("status, body", [(200, b""), (204, b""), (200, b'{"ok": true}')])
def test_webhooks_reuse_one_pooled_connection(webhook, status, body):
    """A busy scheduler must not open a TCP connection per delivery."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    peers = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            peers.append(self.client_address)
            self.send_response(status)
            if status != 204:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for _ in range(4):
            send(webhook, f"http://127.0.0.1:{server.server_port}/hook")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    assert len(peers) == 4
    assert len(set(peers)) == 1, "each delivery opened a new connection"
