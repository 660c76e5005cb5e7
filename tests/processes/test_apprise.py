"""The apprise process: Apprise's json:// service delivering to a real HTTP server on loopback."""
import json
import logging

import pytest
from marshmallow import ValidationError

from app.processes import PermanentError, RetryableError
from app.processes.apprise_process import AppriseProcess, parse_sets
from tests.processes.conftest import make_config, make_context


def json_url(httpserver, path="/notify"):
    return f"json://127.0.0.1:{httpserver.port}{path}"


def send(config, message="Take the pills", **params):
    process = AppriseProcess(config)
    loaded = process.validate(params)
    return process.remind(message, loaded, make_context())


def test_json_url_delivers_message_and_title(httpserver):
    httpserver.expect_request("/notify", method="POST").respond_with_data("ok")
    detail = send(make_config(), urls=[json_url(httpserver)], title="TiffTock")
    assert detail == "1 service notified"
    request, _ = httpserver.log[0]
    payload = json.loads(request.get_data())
    assert payload["message"] == "Take the pills"
    assert payload["title"] == "TiffTock"


def test_named_set_and_default_set_from_settings(httpserver):
    httpserver.expect_request("/family").respond_with_data("ok")
    httpserver.expect_request("/me").respond_with_data("ok")
    sets = json.dumps({"family": [json_url(httpserver, "/family"), json_url(httpserver, "/me")], "default": json_url(httpserver, "/me")})
    config = make_config(APPRISE_URLS=sets)
    assert send(config, set="family") == "2 services notified"
    assert send(config) == "1 service notified"
    assert sorted(request.path for request, _ in httpserver.log) == ["/family", "/me", "/me"]


def test_plain_list_setting_is_the_default_set(httpserver):
    httpserver.expect_request("/a").respond_with_data("ok")
    httpserver.expect_request("/b").respond_with_data("ok")
    config = make_config(APPRISE_URLS=f"{json_url(httpserver, '/a')}, {json_url(httpserver, '/b')}")
    assert AppriseProcess(config).validate({}) == {"set": "default", "title": ""}
    assert send(config) == "2 services notified"


def test_failing_endpoint_is_retryable(httpserver):
    httpserver.expect_request("/notify").respond_with_data("down", status=500)
    with pytest.raises(RetryableError, match="1 of 1"):
        send(make_config(), urls=[json_url(httpserver)])


def test_one_failure_among_several_is_retryable(httpserver):
    httpserver.expect_request("/ok").respond_with_data("ok")
    httpserver.expect_request("/bad").respond_with_data("no", status=404)
    with pytest.raises(RetryableError, match="of 2"):
        send(make_config(), urls=[json_url(httpserver, "/ok"), json_url(httpserver, "/bad")])


def test_connection_refused_is_retryable(closed_port):
    with pytest.raises(RetryableError):
        send(make_config(), urls=[f"json://127.0.0.1:{closed_port}/x"])


def test_apprise_logs_no_url(httpserver, caplog):
    httpserver.expect_request("/notify").respond_with_data("down", status=500)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RetryableError):
        send(make_config(), urls=[f"json://user:tok3n@127.0.0.1:{httpserver.port}/notify"])
    assert "tok3n" not in caplog.text


@pytest.mark.parametrize(
    "params, field",
    [
        ({"urls": ["not a url"]}, "urls"),
        ({"urls": ["nosuchservice://token"]}, "urls"),
        ({"urls": []}, "urls"),
        ({"urls": ["json://169.254.169.254/latest"]}, "urls"),
        ({"set": "nope"}, "set"),
        ({}, "urls"),
        ({"urls": ["json://localhost/x"], "set": "default"}, "set"),
        ({"urls": ["json://localhost/x"], "priority": 5}, "priority"),
    ],
)
def test_invalid_params_are_rejected(params, field):
    with pytest.raises(ValidationError) as caught:
        AppriseProcess(make_config()).validate(params)
    assert field in caught.value.messages


def test_blocked_host_at_send_time_is_permanent():
    config = make_config(WEBHOOK_BLOCK_PRIVATE=True)
    with pytest.raises(PermanentError, match="loopback"):
        AppriseProcess(config).remind("hi", {"urls": ["json://localhost:9/x"], "title": ""}, make_context())


def test_a_bot_id_that_reads_as_an_integer_address_is_not_blocked():
    process = AppriseProcess(make_config())
    assert process.validate({"urls": ["tgram://2852039166:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/12315544/"]})
    with pytest.raises(ValidationError):
        process.validate({"urls": ["json://2852039166/x"]})


def test_urls_are_secret_and_shown_by_scheme_only():
    process = AppriseProcess(make_config())
    loaded = process.validate({"urls": ["tgram://123456789:abcdefg_hijklmnop/12315544/", "json://localhost/x"]})
    assert process.public_params(loaded)["urls"] == ["tgram://***", "json://***"]
    assert "urls" in process.secret_params


def test_malformed_setting_is_a_validation_error_then_permanent():
    config = make_config(APPRISE_URLS='{"family": 5}')
    with pytest.raises(ValidationError) as caught:
        AppriseProcess(config).validate({"set": "family"})
    assert "set" in caught.value.messages
    with pytest.raises(PermanentError, match="APPRISE_URLS"):
        AppriseProcess(config).remind("hi", {"set": "family", "title": ""}, make_context())


def test_parse_sets_forms():
    assert parse_sets("") == {}
    assert parse_sets("json://a/x json://b/y") == {"default": ["json://a/x", "json://b/y"]}
    assert parse_sets('{"x": "json://a/x, json://b/y"}') == {"x": ["json://a/x", "json://b/y"]}
    with pytest.raises(ValueError):
        parse_sets('{"x": 5}')
