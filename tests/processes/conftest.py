"""Fixtures for the remind-process tests: hermetic settings and real protocol peers on loopback."""
from __future__ import annotations

import json
import socket
import threading
from datetime import datetime, timezone

import pytest
from aiosmtpd.controller import Controller
from twilio.http import HttpClient
from twilio.http.response import Response

from app.config import Config
from app.processes import RemindContext

# Every channel setting blank, so the developer's environment never leaks into a test.
BLANK = {
    "API_REMIND_URL": "",
    "WEBHOOK_TIMEOUT": 10.0,
    "WEBHOOK_BLOCK_PRIVATE": False,
    "SMTP_HOST": "",
    "SMTP_PORT": 25,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_SECURITY": "none",
    "SMTP_TIMEOUT": 30.0,
    "EMAIL_FROM": "",
    "EMAIL_TO": "",
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKEN": "",
    "TWILIO_PHONE_NUMBER_FROM": "",
    "TWILIO_PHONE_NUMBER_TO": "",
    "DEFAULT_REGION": "US",
    "APPRISE_URLS": "",
    "APPRISE_TIMEOUT": 30.0,
    "PROCESS_MODULES": [],
}
SCHEDULED = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
TWILIO_SID = "AC" + "0" * 31 + "1"
TWILIO_TOKEN = "test-auth-token-not-real"


def make_config(**overrides):
    """Config with blank channel settings plus `overrides`."""
    return Config(**{**BLANK, **overrides})


def make_context(attempt=1, reminder_id=7):
    """The context of one occurrence of reminder `reminder_id`."""
    return RemindContext(
        reminder_id=reminder_id,
        scheduled_for=SCHEDULED,
        attempt=attempt,
        delivery_id=100 + attempt,
        occurrence_id=RemindContext.occurrence_key(reminder_id, SCHEDULED),
        reminder={"id": reminder_id, "method": "test", "tags": ["family", "pills"], "timezone": "UTC"},
    )


@pytest.fixture
def closed_port():
    """A loopback port that refuses connections: bound (so nobody else takes it) but not listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


class _PortZeroController(Controller):
    """aiosmtpd's Controller on an ephemeral port: learn the port before the readiness probe."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class CollectingHandler:
    """An aiosmtpd handler that keeps every envelope; `rcpt_reply` refuses recipients."""

    def __init__(self):
        self.envelopes = []
        self.rcpt_reply = None
        self.received = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.received.set()
        return "250 Message accepted"


class SmtpPeer:
    """A running aiosmtpd server on 127.0.0.1."""

    def __init__(self, handler, controller):
        self.handler = handler
        self.controller = controller

    @property
    def port(self):
        return self.controller.port

    def config(self, **overrides):
        settings = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_SECURITY": "none", "EMAIL_FROM": "TiffTock <tifftock@example.org>"}
        return make_config(**{**settings, **overrides})


@pytest.fixture
def smtp_factory():
    """Start aiosmtpd servers with the given SMTP options; all are stopped after the test."""
    started = []

    def start(**smtp_options):
        handler = CollectingHandler()
        controller = _PortZeroController(handler, hostname="127.0.0.1", port=0, ready_timeout=60, **smtp_options)
        controller.start()
        started.append(controller)
        return SmtpPeer(handler, controller)

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def smtp(smtp_factory):
    return smtp_factory()


class FakeTwilioHttp(HttpClient):
    """A twilio HttpClient that records each request and answers from a queue of responses."""

    def __init__(self, *responses):
        super().__init__(logger=None, is_async=False)
        self.requests = []
        self.responses = list(responses)

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
        self.requests.append({"method": method, "url": uri, "data": dict(data or {}), "headers": dict(headers or {}), "auth": auth})
        answer = self.responses.pop(0) if self.responses else twilio_created()
        if isinstance(answer, BaseException):
            raise answer
        return answer


def twilio_created(sid="SM" + "a" * 32):
    """Twilio's 201 answer to a Messages create."""
    body = {"sid": sid, "status": "queued", "account_sid": TWILIO_SID, "num_segments": "1"}
    return Response(201, json.dumps(body), {"Content-Type": "application/json"})


def twilio_error(status, code, message="error"):
    """Twilio's error answer (the legacy JSON shape with a code)."""
    body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}
    return Response(status, json.dumps(body), {"Content-Type": "application/json"})


def twilio_config(**overrides):
    """Settings with test Twilio credentials and a sender."""
    settings = {"TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "TWILIO_PHONE_NUMBER_FROM": "+14155550100"}
    return make_config(**{**settings, **overrides})
