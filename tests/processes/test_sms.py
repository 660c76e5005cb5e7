"""The sms process driven through twilio's own http_client hook: the real request it would send."""
from urllib.parse import urlsplit

import pytest
import requests
from marshmallow import ValidationError

from app.processes import PermanentError, RetryableError
from app.processes.sms import SmsProcess, normalise_phone
from tests.processes.conftest import (
    TWILIO_SID,
    TWILIO_TOKEN,
    FakeTwilioHttp,
    make_config,
    make_context,
    twilio_config,
    twilio_created,
    twilio_error,
)


def send(http, config=None, message="Take the pills", **params):
    process = SmsProcess(config or twilio_config(), http_client=http)
    loaded = process.validate(params)
    return process.remind(message, loaded, make_context())


def test_sends_the_real_messages_request():
    http = FakeTwilioHttp(twilio_created("SM" + "b" * 32))
    detail = send(http, to="(415) 555-2671")
    assert detail == "SM" + "b" * 32
    [request] = http.requests
    assert request["method"] == "POST"
    parts = urlsplit(request["url"])
    assert (parts.scheme, parts.hostname) == ("https", "api.twilio.com")
    assert parts.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert request["data"] == {"To": "+14155552671", "From": "+14155550100", "Body": "Take the pills"}
    assert request["auth"] == (TWILIO_SID, TWILIO_TOKEN)
    assert request["headers"]["User-Agent"].startswith("twilio-python/")
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_from_param_and_messaging_service_sid():
    http = FakeTwilioHttp()
    send(http, to="+442079460958", **{"from": "+1 415 555 0199"})
    assert http.requests[-1]["data"]["From"] == "+14155550199"
    service = "MG" + "c" * 32
    send(http, to="+442079460958", **{"from": service})
    assert http.requests[-1]["data"]["MessagingServiceSid"] == service
    assert "From" not in http.requests[-1]["data"]


def test_settings_default_recipient():
    http = FakeTwilioHttp()
    send(http, config=twilio_config(TWILIO_PHONE_NUMBER_TO="+15551234567"))
    assert http.requests[0]["data"]["To"] == "+15551234567"


@pytest.mark.parametrize(
    "status, code",
    [(429, 20429), (500, 20500), (503, 20503), (400, 21611), (400, 30001), (400, 14107), (502, None), (500, 12345)],
)
def test_retryable_twilio_errors(status, code):
    http = FakeTwilioHttp(twilio_error(status, code, "The 'To' number +14155552671 is busy"))
    with pytest.raises(RetryableError) as caught:
        send(http, to="+14155552671")
    assert "4155552671" not in str(caught.value)


@pytest.mark.parametrize(
    "status, code, words",
    [
        (400, 21211, "invalid To"),
        (400, 21408, "region"),
        (400, 21610, "unsubscribed"),
        (400, 21614, "not a mobile"),
        (401, 20003, "authentication"),
        (404, 20404, "20404"),
        (400, 21617, "too long"),
    ],
)
def test_permanent_twilio_errors(status, code, words):
    http = FakeTwilioHttp(twilio_error(status, code, "The 'To' number +14155552671 is not valid"))
    with pytest.raises(PermanentError, match=words) as caught:
        send(http, to="+14155552671")
    assert "4155552671" not in str(caught.value)


def test_rfc9457_error_shape_is_mapped_too():
    from twilio.http.response import Response

    problem = '{"type": "https://www.twilio.com/docs/errors/20429", "title": "Too Many Requests", "status": 429, "code": 20429}'
    with pytest.raises(RetryableError, match="20429"):
        send(FakeTwilioHttp(Response(429, problem)), to="+14155552671")


@pytest.mark.parametrize("error", [requests.ConnectionError("refused"), requests.Timeout("slow"), ConnectionResetError()])
def test_connection_errors_are_retryable(error):
    with pytest.raises(RetryableError):
        send(FakeTwilioHttp(error), to="+14155552671")


def test_missing_credentials_is_permanent():
    http = FakeTwilioHttp()
    with pytest.raises(PermanentError, match="TWILIO_ACCOUNT_SID"):
        send(http, config=make_config(TWILIO_PHONE_NUMBER_FROM="+14155550100"), to="+14155552671")
    assert http.requests == []


def test_missing_sender_is_permanent():
    with pytest.raises(PermanentError, match="TWILIO_PHONE_NUMBER_FROM"):
        send(FakeTwilioHttp(), config=twilio_config(TWILIO_PHONE_NUMBER_FROM=""), to="+14155552671")


def test_default_transport_is_twilio_pooled_client():
    process = SmsProcess(twilio_config())
    try:
        assert process.http_client.session is not None
    finally:
        process.close()


@pytest.mark.parametrize(
    "raw, region, e164",
    [
        ("+14155552671", "US", "+14155552671"),
        ("+1 (415) 555-2671", "DE", "+14155552671"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("415.555.2671", "us", "+14155552671"),
        ("030 1234567", "DE", "+49301234567"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("07700 900123", "GB", "+447700900123"),
        ("+15551234567", "US", "+15551234567"),  # DESIGN.md's example: possible, if not assigned
    ],
)
def test_phone_normalisation(raw, region, e164):
    assert normalise_phone(raw, region) == e164


@pytest.mark.parametrize("raw", ["12345", "+1 415", "+999 1234567", "call me", "", "+1415555267100000", "1-800-FLOWERS"])
def test_phone_rejections(raw):
    with pytest.raises(ValueError):
        normalise_phone(raw, "US")


def test_validation_normalises_in_default_region_and_rejects_bad_numbers():
    process = SmsProcess(make_config(DEFAULT_REGION="DE"), http_client=FakeTwilioHttp())
    assert process.validate({"to": "030 1234567"})["to"] == "+49301234567"
    assert process.validate({"to": "030 1234567", "from": "TiffTock"})["from"] == "TiffTock"
    for params, field in [({"to": "12"}, "to"), ({}, "to"), ({"to": "+49301234567", "from": "12"}, "from"), ({"to": "+49301234567", "x": 1}, "x")]:
        with pytest.raises(ValidationError) as caught:
            process.validate(params)
        assert field in caught.value.messages

