"""The `email` process: a text/plain message through SMTP (standard library only)."""
from __future__ import annotations

import functools
import smtplib
import socket
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid

from marshmallow import Schema, ValidationError, fields, validate

from app.processes.base import PermanentError, RemindProcess, RetryableError

MAX_RECIPIENTS = 50
SECURITY_MODES = ("starttls", "ssl", "none")


def parse_addresses(value) -> list[str]:
    """A string ("a@x, B <b@y>") or a list of them -> formatted addresses; ValueError when one is bad."""
    items = [value] if isinstance(value, str) else list(value or [])
    found = []
    for item in items:
        if not isinstance(item, str) or any(c in item for c in "\r\n\0"):
            raise ValueError("not an email address")
        for display_name, addr_spec in getaddresses([item]):
            if not addr_spec and not display_name:
                continue
            local, at, domain = addr_spec.rpartition("@")
            if not at or not local or not domain or " " in addr_spec or domain.startswith(".") or ".." in domain:
                raise ValueError("not an email address")
            try:
                found.append(str(Address(display_name=display_name, addr_spec=addr_spec)))
            except (ValueError, IndexError, TypeError):
                raise ValueError("not an email address") from None
    return found


class AddressList(fields.Field):
    """One address, a comma-separated string of them, or a list; loads as a list of strings."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            addresses = parse_addresses(value)
        except ValueError:
            raise ValidationError("Not a valid email address (or list of them).") from None
        if not addresses and self.required:
            raise ValidationError("Give at least one email address.")
        if len(addresses) > MAX_RECIPIENTS:
            raise ValidationError(f"At most {MAX_RECIPIENTS} recipients.")
        return addresses


# apispec copies `oneOf` from metadata into the JSON schema of an untyped field.
_ADDRESSES = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": MAX_RECIPIENTS}]}


def _one_line(value):
    if any(c in value for c in "\r\n\0"):
        raise ValidationError("Must be a single line.")


class EmailParams(Schema):
    """Parameters of the email process."""

    to = AddressList(required=True, metadata={"description": "one address, a comma-separated list or an array", **_ADDRESSES})
    cc = AddressList(load_default=list, metadata=_ADDRESSES)
    subject = fields.String(load_default="Reminder", validate=[validate.Length(max=250), _one_line])


class EmailProcess(RemindProcess):
    """Sends one email per occurrence; a new SMTP connection each time (no shared state)."""

    name = "email"
    description = "Send an email through the SMTP server in settings (SMTP_HOST, EMAIL_FROM)."
    Params = EmailParams

    def defaults(self):
        return {"to": self.config.EMAIL_TO}

    def validate(self, params):
        data = super().validate(params)
        if len(data["to"]) + len(data["cc"]) > MAX_RECIPIENTS:
            raise ValidationError({"cc": [f"At most {MAX_RECIPIENTS} recipients in to and cc together."]})
        return data

    def remind(self, message, params, context):
        cfg = self.config
        if not cfg.SMTP_HOST or not cfg.EMAIL_FROM:
            raise PermanentError("email is not configured: set SMTP_HOST and EMAIL_FROM")
        security = (cfg.SMTP_SECURITY or "starttls").lower()
        if security not in SECURITY_MODES:
            raise PermanentError("SMTP_SECURITY must be starttls, ssl or none")
        try:
            msg = build_message(cfg.EMAIL_FROM, params, message, context)
        except (ValueError, TypeError, IndexError):
            raise PermanentError("cannot build the email: check EMAIL_FROM") from None
        recipients = list(dict.fromkeys(_bare(a) for a in params["to"] + list(params.get("cc") or [])))
        try:
            refused = self._send(msg, recipients, security)
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentError(f"SMTP login rejected ({exc.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _text in exc.recipients.values()})
            error = RetryableError if all(400 <= c < 500 for c in codes) else PermanentError
            raise error(f"SMTP refused every recipient ({'/'.join(map(str, codes))})") from None
        except smtplib.SMTPSenderRefused as exc:
            raise _by_code(exc.smtp_code, "SMTP refused the sender") from None
        except smtplib.SMTPNotSupportedError:
            raise PermanentError("the SMTP server lacks a needed extension (STARTTLS, AUTH or SMTPUTF8)") from None
        except (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected):
            raise RetryableError(f"SMTP connection to {cfg.SMTP_HOST} failed") from None
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, "SMTP error") from None
        except ssl.SSLCertVerificationError:
            raise PermanentError(f"TLS certificate of {cfg.SMTP_HOST} not trusted") from None
        except (socket.timeout, TimeoutError):
            raise RetryableError(f"SMTP timed out after {cfg.SMTP_TIMEOUT:g}s") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise RetryableError(f"SMTP connection to {cfg.SMTP_HOST} failed: {type(exc).__name__}") from None
        message_id = msg["Message-ID"]
        if refused:
            context.logger.warning("email %s: %d of %d recipients refused", message_id, len(refused), len(recipients))
            return f"{message_id} ({len(refused)} of {len(recipients)} refused)"
        return message_id

    def _send(self, msg, recipients, security):
        cfg = self.config
        tls = ssl.create_default_context()
        if security == "ssl":
            smtp = smtplib.SMTP_SSL(cfg.SMTP_HOST, cfg.SMTP_PORT, timeout=cfg.SMTP_TIMEOUT, context=tls, local_hostname=_helo_name())
        else:
            smtp = smtplib.SMTP(cfg.SMTP_HOST, cfg.SMTP_PORT, timeout=cfg.SMTP_TIMEOUT, local_hostname=_helo_name())
        with smtp:
            if security == "starttls":
                smtp.starttls(context=tls)
            if cfg.SMTP_USERNAME:
                smtp.login(cfg.SMTP_USERNAME, cfg.SMTP_PASSWORD)
            return smtp.send_message(msg, from_addr=_bare(cfg.EMAIL_FROM), to_addrs=recipients)


def build_message(sender, params, message, context):
    """The MIME message: From, To, Cc, Subject, Date, Message-ID and a text/plain body."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(params["to"])
    if params.get("cc"):
        msg["Cc"] = ", ".join(params["cc"])
    msg["Subject"] = params.get("subject") or "Reminder"
    msg["Date"] = formatdate(usegmt=True)
    # A domain from EMAIL_FROM: make_msgid() would otherwise ask DNS for this host's FQDN.
    msg["Message-ID"] = make_msgid(domain=_bare(sender).rpartition("@")[2] or "tifftock.invalid")
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders stay quiet
    if context.occurrence_id:
        msg["X-TiffTock-Occurrence"] = context.occurrence_id
    msg.set_content(message)
    return msg


@functools.lru_cache(maxsize=1)
def _helo_name():
    # smtplib would look the FQDN up (reverse DNS) on every connection; once is enough.
    return socket.getfqdn()


def _bare(address):
    return getaddresses([address])[0][1] or address


def _by_code(code, what):
    if isinstance(code, int) and 400 <= code < 500:
        return RetryableError(f"{what} ({code})")
    return PermanentError(f"{what} ({code})")
