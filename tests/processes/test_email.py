"""The email process against a real SMTP server on loopback (aiosmtpd)."""
from email import message_from_bytes, policy

import pytest
from aiosmtpd.smtp import AuthResult
from marshmallow import ValidationError

from app.processes import PermanentError, RetryableError
from app.processes.email import EmailProcess
from tests.processes.conftest import make_config, make_context

AUTH_WARNING = "ignore:Requiring AUTH while not requiring TLS"


def send(config, message="Take the pills\nwith water", **params):
    process = EmailProcess(config)
    loaded = process.validate(params)
    return process.remind(message, loaded, make_context())


def received(smtp):
    assert smtp.handler.received.wait(30)
    envelope = smtp.handler.envelopes[-1]
    return envelope, message_from_bytes(envelope.original_content, policy=policy.default)


def test_delivers_a_proper_text_message(smtp):
    detail = send(smtp.config(), to=["Ann <ann@example.org>", "bob@example.org"], cc="carol@example.net", subject="Pills ✓")
    envelope, msg = received(smtp)
    assert envelope.mail_from == "tifftock@example.org"
    assert sorted(envelope.rcpt_tos) == ["ann@example.org", "bob@example.org", "carol@example.net"]
    assert msg["From"] == "TiffTock <tifftock@example.org>"
    assert msg["To"] == "Ann <ann@example.org>, bob@example.org"
    assert msg["Cc"] == "carol@example.net"
    assert msg["Subject"] == "Pills ✓"
    assert msg["Date"]
    assert msg["Message-ID"] == detail
    assert detail.startswith("<") and detail.endswith("@example.org>")
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content().replace("\r\n", "\n") == "Take the pills\nwith water\n"


def test_email_to_setting_is_the_default_and_subject_defaults(smtp):
    send(smtp.config(EMAIL_TO="me@example.org, you@example.org"))
    envelope, msg = received(smtp)
    assert sorted(envelope.rcpt_tos) == ["me@example.org", "you@example.org"]
    assert msg["Subject"] == "Reminder"


@pytest.mark.filterwarnings(AUTH_WARNING)
def test_login_when_username_is_set(smtp_factory):
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=True)

    smtp = smtp_factory(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    send(smtp.config(SMTP_USERNAME="tiff", SMTP_PASSWORD="pw"), to="ann@example.org")
    received(smtp)
    assert logins == [(b"tiff", b"pw")]


@pytest.mark.filterwarnings(AUTH_WARNING)
def test_rejected_login_is_permanent(smtp_factory):
    smtp = smtp_factory(authenticator=lambda *args: AuthResult(success=False, handled=False), auth_required=True, auth_require_tls=False)
    with pytest.raises(PermanentError, match="login rejected") as caught:
        send(smtp.config(SMTP_USERNAME="tiff", SMTP_PASSWORD="wrong-password"), to="ann@example.org")
    assert "wrong-password" not in str(caught.value)
    assert smtp.handler.envelopes == []


def test_recipient_refused_is_permanent(smtp):
    smtp.handler.rcpt_reply = "550 5.1.1 <ann@example.org>: no such user"
    with pytest.raises(PermanentError, match="550") as caught:
        send(smtp.config(), to="ann@example.org")
    assert "ann@" not in str(caught.value)


def test_recipient_greylisted_is_retryable(smtp):
    smtp.handler.rcpt_reply = "450 4.7.1 try again later"
    with pytest.raises(RetryableError, match="450"):
        send(smtp.config(), to="ann@example.org")


def test_connection_refused_is_retryable(closed_port):
    config = make_config(SMTP_HOST="127.0.0.1", SMTP_PORT=closed_port, SMTP_SECURITY="none", EMAIL_FROM="t@example.org")
    with pytest.raises(RetryableError, match="SMTP connection"):
        send(config, to="ann@example.org")


def test_starttls_required_but_not_offered_is_permanent(smtp):
    with pytest.raises(PermanentError, match="STARTTLS"):
        send(smtp.config(SMTP_SECURITY="starttls"), to="ann@example.org")
    assert smtp.handler.envelopes == []


def test_not_configured_is_permanent():
    with pytest.raises(PermanentError, match="SMTP_HOST"):
        send(make_config(), to="ann@example.org")


@pytest.mark.parametrize(
    "params, field",
    [
        ({"to": "not-an-address"}, "to"),
        ({"to": "ann@example.org\r\nBcc: x@evil.test"}, "to"),
        ({"to": ["ann@example.org", 5]}, "to"),
        ({"to": []}, "to"),
        ({}, "to"),
        ({"to": [f"u{i}@example.org" for i in range(51)]}, "to"),
        ({"to": "a@example.org", "cc": [f"u{i}@example.org" for i in range(50)]}, "cc"),
        ({"to": "a@example.org", "subject": "two\nlines"}, "subject"),
        ({"to": "a@example.org", "bcc": "b@example.org"}, "bcc"),
    ],
)
def test_invalid_params_are_rejected(params, field):
    with pytest.raises(ValidationError) as caught:
        EmailProcess(make_config()).validate(params)
    assert field in caught.value.messages


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    """A certificate no CA vouches for (made with the openssl command)."""
    import shutil
    import ssl
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("the openssl command is needed to make a test certificate")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=120,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_implicit_tls_verifies_the_certificate(smtp_factory, self_signed):
    smtp = smtp_factory(ssl_context=self_signed)
    with pytest.raises(PermanentError, match="not trusted"):
        send(smtp.config(SMTP_SECURITY="ssl"), to="ann@example.org")
    assert smtp.handler.envelopes == []


def test_starttls_verifies_the_certificate(smtp_factory, self_signed):
    smtp = smtp_factory(tls_context=self_signed)
    with pytest.raises(PermanentError, match="not trusted"):
        send(smtp.config(SMTP_SECURITY="starttls"), to="ann@example.org")
    assert smtp.handler.envelopes == []
