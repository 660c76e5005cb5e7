"""Logs never carry keys, secrets, message bodies, phone numbers or email addresses."""
import logging

import pytest

from app.security.redaction import RedactingFilter, install_redaction, redact
from tests.conftest import ADMIN_KEY

EMAIL = "grandma.smith+pills@example.org"
PHONE = "+15557654321"
MESSAGE = "Take the blue pills, marker 7f3a9c"
WEBHOOK_SECRET = "webhook-shared-secret-91b2"
HEADER_TOKEN = "ha-long-lived-token-5d1e"
WHEN = "2099-01-01T08:00:00Z"


@pytest.fixture(autouse=True)
def live_loggers():
    """Every logger enabled, whatever an earlier test's logging.config call did, so captures see the lines."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    saved = [(logger, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.disabled = False
    yield
    for logger, disabled in saved:
        logger.disabled = disabled


@pytest.mark.parametrize(
    "text, gone",
    [
        ("key tt_" + "a1B2-c3_D4" * 4 + " used", "a1B2-c3_D4"),
        (f"to {EMAIL}", EMAIL),
        (f"to {EMAIL}", "grandma.smith"),
        (f"sms to {PHONE} sent", PHONE),
        ("sms to +49 30 1234567 sent", "1234567"),
        ("sms to +1 (555) 765-4321", "765-4321"),
        ("connect postgresql://tifftock:s3cr3t-pw@db:5432/x", "s3cr3t-pw"),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("X-API-Key: some-key-value", "some-key-value"),
        ("api_key=some-key-value&x=1", "some-key-value"),
        ("{'password': 'pa55word'}", "pa55word"),
    ],
)
def test_redact_removes_sensitive_values(text, gone):
    assert gone not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "reminder due: reminder_id=12345678 occurrence=12345678:2026-12-01T08:00:00Z attempt=3 length=42",
        "next run 2026-03-29T02:30:00+02:00 in Europe/Berlin",
        "claimed 200 reminders in 0.0123 s; lease 60 s",
        "HTTP 503 from https://example.com/hook",
    ],
)
def test_redact_keeps_ordinary_lines(text):
    assert redact(text) == text


def test_configured_secrets_are_redacted_wherever_they_appear(tmp_path):
    from tests.conftest import make_config

    install_redaction(make_config(tmp_path, SMTP_PASSWORD="smtp-pass-7781", TWILIO_AUTH_TOKEN="twilio-token-0042"))
    text = redact(f"login smtp-pass-7781 then twilio-token-0042 then {ADMIN_KEY}")
    assert "smtp-pass-7781" not in text and "twilio-token-0042" not in text and ADMIN_KEY not in text


def test_install_redaction_is_idempotent(tmp_path):
    from tests.conftest import make_config

    install_redaction(make_config(tmp_path))
    factory = logging.getLogRecordFactory()
    install_redaction(make_config(tmp_path))
    assert logging.getLogRecordFactory() is factory


def test_every_logger_is_covered_also_a_library_and_a_child(app, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("tifftock.process.webhook", "some.library", "werkzeug", ""):
        logging.getLogger(name).info("to %s with %s", EMAIL, ADMIN_KEY)
    assert caplog.records
    assert EMAIL not in caplog.text and ADMIN_KEY not in caplog.text


def test_exception_text_and_traceback_are_redacted(app, caplog):
    caplog.set_level(logging.DEBUG)
    try:
        raise ValueError(f"could not reach {EMAIL} at {PHONE}")
    except ValueError:
        logging.getLogger("tifftock.api").exception("failed")
    assert "ValueError" in caplog.text and "[email]" in caplog.text
    assert EMAIL not in caplog.text and PHONE not in caplog.text


def test_the_filter_redacts_on_a_handler_too():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "mail %s", (EMAIL,), None)
    assert RedactingFilter().filter(record) is True
    assert EMAIL not in record.getMessage()


def test_a_full_api_workflow_logs_nothing_sensitive(app, client, runner, admin, caplog, monkeypatch):
    """Keys made and revoked, reminders with recipients, bad keys, bad bodies and a crash: nothing leaks."""
    caplog.set_level(logging.DEBUG)
    named = runner.invoke(args=["keys", "create", "grandma"]).stdout.strip()
    runner.invoke(args=["keys", "list"])
    key = {"X-API-Key": named}
    bodies = [
        {"method": "email", "params": {"to": EMAIL}},
        {"method": "sms", "params": {"to": PHONE}},
        {"method": "webhook", "params": {"url": "https://example.com/hook", "secret": WEBHOOK_SECRET,
                                         "headers": {"Authorization": f"Bearer {HEADER_TOKEN}"}}},
    ]
    made = []
    for extra in bodies:
        response = client.post("/reminders", json={"message": MESSAGE, "when": WHEN, **extra}, headers=key)
        assert response.status_code == 201, response.get_json()
        made.append(response.get_json()["id"])
    for reminder_id in made:
        client.get(f"/reminders/{reminder_id}", headers=key)
        client.patch(f"/reminders/{reminder_id}", json={"message": MESSAGE + " now"}, headers=key)
        client.post(f"/reminders/{reminder_id}/trigger", headers=key)
    client.get("/reminders", headers={"Authorization": f"Bearer {named}"})
    client.get("/deliveries", headers=key)
    client.post("/remind", json={"when": WHEN, "message": MESSAGE, "method": "email", "params": {"to": EMAIL}}, headers=admin)
    # Failing authentication: a wrong named key, the admin key with a typo, no key.
    assert client.get("/reminders", headers={"X-API-Key": named[:-2] + "zz"}).status_code == 401
    assert client.get("/reminders", headers={"Authorization": f"Bearer {ADMIN_KEY}x"}).status_code == 401
    assert client.get("/reminders").status_code == 401
    # Bad requests: malformed JSON and invalid fields that echo the recipients.
    bad = client.post("/reminders", data=f'{{"message": "{MESSAGE}", "to": "{EMAIL}"', headers=key,
                      content_type="application/json")
    assert bad.status_code == 400
    invalid = client.post("/reminders", json={"message": MESSAGE, "when": "soon", "method": "sms",
                                              "params": {"to": PHONE, "bogus": EMAIL}}, headers=key)
    assert invalid.status_code == 422
    # A crash whose exception text carries the recipients and the key.
    import app.reminders.resources as resources

    def explode(_adding):
        raise RuntimeError(f"database said no for {EMAIL} / {PHONE} / {named} / {ADMIN_KEY}")

    monkeypatch.setattr(resources, "check_quota", explode)
    crash = client.post("/reminders", json={"message": MESSAGE, "when": WHEN, "method": "sms", "params": {"to": PHONE}},
                        headers=key)
    assert crash.status_code == 500 and crash.get_json()["error"] == "Internal server error"
    client.delete(f"/reminders/{made[0]}", headers=key)
    runner.invoke(args=["keys", "revoke", "grandma"])

    assert any("unhandled RuntimeError" in record.getMessage() for record in caplog.records), "the crash was logged"
    logged = caplog.text + "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {record.stack_info or ''}" for record in caplog.records
    )
    for sensitive in (named, named[3:], ADMIN_KEY, EMAIL, PHONE, MESSAGE, WEBHOOK_SECRET, HEADER_TOKEN):
        assert sensitive not in logged, sensitive
    # Nor in any response: the secrets are write-only.
    for reminder_id in made[1:]:
        shown = client.get(f"/reminders/{reminder_id}", headers=admin).get_data(as_text=True)
        assert WEBHOOK_SECRET not in shown and HEADER_TOKEN not in shown


def test_redaction_can_be_suspended_for_a_test_that_checks_raw_log_lines(app, caplog):
    from app.security.redaction import suspended

    caplog.set_level(logging.INFO)
    with suspended():
        logging.getLogger("tifftock.process").info("to %s", EMAIL)
    logging.getLogger("tifftock.process").info("to %s", EMAIL)
    assert [record.getMessage() for record in caplog.records] == [f"to {EMAIL}", "to [email]"]
