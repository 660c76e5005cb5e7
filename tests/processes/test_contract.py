"""One contract, checked for every built-in remind process against its real peer on loopback."""
import json
import logging
from dataclasses import dataclass, field
from typing import Callable

import pytest
import requests
from marshmallow import Schema, ValidationError

from app.processes import PermanentError, ProcessRegistry, RemindError, RemindProcess
from app.security.redaction import suspended
from tests.processes.conftest import FakeTwilioHttp, make_config, make_context, twilio_config

MESSAGE = "Contract check: take the pills"


@dataclass
class Peer:
    """Settings and params that deliver; `prepare` wires the transport, `break_it` -> failing params."""

    config: object
    params: dict
    break_it: Callable | None = None
    prepare: Callable = field(default=lambda process: None)


def _log_peer(request):
    return Peer(make_config(), {"level": "info"})


def _webhook_peer(request):
    httpserver = request.getfixturevalue("httpserver")
    httpserver.expect_request("/contract").respond_with_data("ok")
    port = request.getfixturevalue("closed_port")
    return Peer(make_config(), {"url": httpserver.url_for("/contract"), "secret": "contract-secret"}, lambda p: {"url": f"http://127.0.0.1:{port}/x"})


def _email_peer(request):
    smtp = request.getfixturevalue("smtp")
    port = request.getfixturevalue("closed_port")

    def break_it(process):
        process.config = smtp.config(SMTP_PORT=port)
        return {"to": "ann@example.org"}

    return Peer(smtp.config(), {"to": "ann@example.org"}, break_it)


def _sms_peer(request):
    def prepare(process):
        process.http_client = FakeTwilioHttp()

    def break_it(process):
        process.http_client = FakeTwilioHttp(requests.ConnectionError("refused"))
        return {"to": "+14155552671"}

    return Peer(twilio_config(), {"to": "+14155552671"}, break_it, prepare)


def _apprise_peer(request):
    httpserver = request.getfixturevalue("httpserver")
    httpserver.expect_request("/contract").respond_with_data("ok")
    port = request.getfixturevalue("closed_port")
    good = f"json://127.0.0.1:{httpserver.port}/contract"
    return Peer(make_config(), {"urls": [good], "title": "t"}, lambda p: {"urls": [f"json://127.0.0.1:{port}/x"]})


PEERS = {"log": _log_peer, "webhook": _webhook_peer, "email": _email_peer, "sms": _sms_peer, "apprise": _apprise_peer}


def _builtin_names():
    registry = ProcessRegistry(make_config(), use_entry_points=False)
    try:
        return registry.names()
    finally:
        registry.close()


BUILTIN_NAMES = _builtin_names()


def test_every_builtin_has_a_contract_peer():
    assert sorted(PEERS) == BUILTIN_NAMES


@pytest.fixture(params=BUILTIN_NAMES)
def case(request):
    peer = PEERS[request.param](request)
    registry = ProcessRegistry(peer.config, use_entry_points=False)
    process = registry.get(request.param)
    peer.prepare(process)
    yield process, peer
    registry.close()


def test_name_schema_and_description(case):
    process, _peer = case
    assert isinstance(process, RemindProcess)
    assert process.name.isidentifier()
    assert process.description
    assert issubclass(process.Params, Schema)
    assert set(process.secret_params) <= set(process.Params().fields)


def test_describe_gives_a_json_schema(case):
    process, _peer = case
    registry = ProcessRegistry(make_config(), use_entry_points=False)
    try:
        entry = {item["name"]: item for item in registry.describe()}[process.name]
    finally:
        registry.close()
    schema = entry["params_schema"]
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(process.Params().fields)
    json.dumps(entry)  # serialisable as the API answers it


def test_validate_rejects_unknown_params(case):
    process, peer = case
    with pytest.raises(ValidationError) as caught:
        process.validate({**peer.params, "no_such_param": 1})
    assert "no_such_param" in caught.value.messages
    with pytest.raises(ValidationError):
        process.validate(["not", "an", "object"])


def test_secret_params_are_masked(case):
    process, peer = case
    loaded = process.validate(peer.params)
    shown = json.dumps(process.public_params(loaded))
    for name in process.secret_params:
        if name in loaded:
            for secret in loaded[name] if isinstance(loaded[name], list) else [loaded[name]]:
                assert secret not in shown
    # Validated params survive a JSON round trip (they are stored in a JSON column).
    assert process.validate(json.loads(json.dumps(loaded))) == loaded


# Loggers of the loopback peers (the test's servers), not of TiffTock or its client libraries.
PEER_LOGGERS = ("mail.log", "werkzeug", "pytest_httpserver")


def sensitive_values(peer):
    """The message and every param string long enough to be a recipient, token or URL."""
    values = [MESSAGE]
    for value in peer.params.values():
        values.extend(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str) and len(v) >= 6)
    return values


def assert_nothing_sensitive_logged(caplog, peer):
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(PEER_LOGGERS))
    for value in sensitive_values(peer):
        assert value not in logged


def test_successful_peer_gives_a_short_detail(case, caplog):
    process, peer = case
    caplog.set_level(logging.INFO)
    with suspended():  # see the raw lines: the app's redaction must not make this test pass
        detail = process.remind(MESSAGE, process.validate(peer.params), make_context())
    assert detail is None or (isinstance(detail, str) and 0 < len(detail) <= 200)
    assert MESSAGE not in (detail or "")
    assert_nothing_sensitive_logged(caplog, peer)


def test_failures_are_retryable_or_permanent_only(case, caplog):
    process, peer = case
    caplog.set_level(logging.INFO)
    if peer.break_it is None:
        assert process.name == "log"  # writing a log line has no failure to provoke
        return
    failing = peer.break_it(process)
    with pytest.raises(RemindError) as caught, suspended():
        process.remind(MESSAGE, process.validate(failing), make_context())
    error = caught.value
    assert type(error).__name__ in ("RetryableError", "PermanentError")
    assert len(str(error)) <= 300
    for value in sensitive_values(peer) + sensitive_values(Peer(peer.config, failing)):
        assert value not in str(error)
    assert_nothing_sensitive_logged(caplog, peer)


def test_unconfigured_channels_fail_permanently_with_a_clear_message():
    registry = ProcessRegistry(make_config(), use_entry_points=False)
    try:
        for name, params in {"email": {"to": "a@example.org"}, "sms": {"to": "+14155552671"}}.items():
            process = registry.get(name)
            with pytest.raises(PermanentError, match="not configured"):
                process.remind(MESSAGE, process.validate(params), make_context())
    finally:
        registry.close()
