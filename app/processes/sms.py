"""The `sms` process: a text message through Twilio's official library."""
from __future__ import annotations

import logging
import re

import phonenumbers
import requests
from marshmallow import Schema, ValidationError, fields, validate
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from app.processes.base import PermanentError, RemindProcess, RetryableError

# Twilio's own request log names the account and, for some calls, the recipient.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

# Twilio error codes that say "later" (https://www.twilio.com/docs/api/errors): rate limits,
# server trouble, a full sender queue. Any other 4xx answer is permanent (bad number,
# unsubscribed recipient 21610, region not enabled 21408, bad credentials 20003, ...).
RETRYABLE_CODES = {
    14107,  # SMS send rate limit exceeded
    20429,  # too many concurrent requests
    20500,  # internal server error
    20503,  # service unavailable
    21611,  # this From number's queue is full
    30001,  # queue overflow
    30008,  # unknown error
}
# Error codes whose meaning is safe and useful to show (the provider's text may echo numbers).
CODE_TEXT = {
    20003: "authentication failed (check TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN)",
    20429: "rate limited",
    21211: "invalid To number",
    21212: "invalid From number",
    21408: "SMS to this region is not enabled",
    21606: "the From number cannot send SMS",
    21608: "unverified number on a trial account",
    21610: "recipient has unsubscribed (STOP)",
    21612: "To number cannot receive SMS from this sender",
    21614: "To number is not a mobile number",
    21617: "message too long",
}
MIN_DIGITS = 8
_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_PHONE_CHARS = re.compile(r"^[0-9+()./\s-]+$")


def normalise_phone(value: str, region: str) -> str:
    """The E.164 form of `value` (read in `region` without a leading +); ValueError when impossible."""
    if not isinstance(value, str) or not _PHONE_CHARS.match(value) or len(value) > 40:
        raise ValueError("Not a phone number.")
    try:
        number = phonenumbers.parse(value, (region or "US").upper())
    except phonenumbers.NumberParseException:
        raise ValueError("Not a phone number (give it with + and the country code).") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # Valid, or at least possible (the right length for its country) and not short: the
    # metadata lags new ranges, and Twilio answers 21211 (permanent) for a number that does
    # not exist. The length floor stops "12" passing in a country with short numbers.
    if phonenumbers.is_valid_number(number):
        return e164
    if phonenumbers.is_possible_number(number) and len(e164) > MIN_DIGITS:
        return e164
    raise ValueError("Not a valid phone number for its country.")


# `from` is a Python keyword: declare the fields through a dict so the loaded keys are the
# ones the API stores and shows.
SmsParams = Schema.from_dict(
    {
        "to": fields.String(required=True, validate=validate.Length(max=40), metadata={"description": "phone number; without + it is read in DEFAULT_REGION"}),
        "from": fields.String(validate=validate.Length(max=40), metadata={"description": "phone number, alphanumeric sender id or MG… messaging service SID; default TWILIO_PHONE_NUMBER_FROM"}),
    },
    name="SmsParams",
)


class SmsProcess(RemindProcess):
    """Sends an SMS with twilio's Client; `http_client` is the library's transport (a test hook)."""

    name = "sms"
    description = "Send an SMS through Twilio (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN in settings)."
    Params = SmsParams

    def __init__(self, config, http_client=None):
        super().__init__(config)
        # Pooled and shared by every call; any twilio.http.HttpClient may replace it.
        self.http_client = http_client or TwilioHttpClient(timeout=getattr(config, "TWILIO_TIMEOUT", 15) or 15)

    def defaults(self):
        return {"to": self.config.TWILIO_PHONE_NUMBER_TO, "from": self.config.TWILIO_PHONE_NUMBER_FROM}

    def validate(self, params):
        data = super().validate(params)
        region = self.config.DEFAULT_REGION
        errors = {}
        try:
            data["to"] = normalise_phone(data["to"], region)
        except ValueError as exc:
            errors["to"] = [str(exc)]
        sender = data.get("from")
        if sender and not _SENDER_ID.match(sender) and not _SERVICE_SID.match(sender):
            try:
                data["from"] = normalise_phone(sender, region)
            except ValueError as exc:
                errors["from"] = [str(exc)]
        if errors:
            raise ValidationError(errors)
        return data

    def remind(self, message, params, context):
        cfg = self.config
        if not cfg.TWILIO_ACCOUNT_SID or not cfg.TWILIO_AUTH_TOKEN:
            raise PermanentError("sms is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        sender = params.get("from") or cfg.TWILIO_PHONE_NUMBER_FROM
        if not sender:
            raise PermanentError("sms has no sender: set TWILIO_PHONE_NUMBER_FROM or params.from")
        kwargs = {"to": params["to"], "body": message}
        if _SERVICE_SID.match(sender):
            kwargs["messaging_service_sid"] = sender
        else:
            kwargs["from_"] = sender
        client = Client(cfg.TWILIO_ACCOUNT_SID, cfg.TWILIO_AUTH_TOKEN, http_client=self.http_client)
        try:
            sent = client.messages.create(**kwargs)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise classify(exc.status, exc.code) from None
        except requests.Timeout:
            raise RetryableError("Twilio request timed out") from None
        except (requests.ConnectionError, ConnectionError):
            raise RetryableError("connection to Twilio failed") from None
        except (TwilioException, requests.RequestException, ValueError) as exc:
            raise RetryableError(f"Twilio request failed: {type(exc).__name__}") from None
        return sent.sid

    def close(self):
        session = getattr(self.http_client, "session", None)
        if session is not None:
            session.close()


def classify(status, code):
    """RetryableError or PermanentError for a Twilio error answer (HTTP status, Twilio code)."""
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    text = f"Twilio error {code} (HTTP {status})" if code and code != status else f"Twilio HTTP {status}"
    if code in CODE_TEXT:
        text += f": {CODE_TEXT[code]}"
    if code in RETRYABLE_CODES or status in (408, 429) or (isinstance(status, int) and status >= 500):
        return RetryableError(text)
    return PermanentError(text)
