"""The `apprise` process: one reminder to any of Apprise's services (ntfy, Telegram, Slack, ...).

Which URLs: a reminder gives `urls` (a list of Apprise URLs, write-only because they carry
tokens) or `set`, the name of a set in the APPRISE_URLS setting. APPRISE_URLS is either a JSON
object of named sets, `{"family": ["ntfy://...", "tgram://..."], "default": "mailto://..."}`,
or a plain list of URLs separated by spaces or commas, which is the set named `default`.
A reminder that gives neither uses the `default` set when there is one.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import warnings

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.processes import netguard
from app.processes.base import PermanentError, RemindProcess, RetryableError

with warnings.catch_warnings():
    # Apprise's plugin modules import the deprecated `imghdr`; load them all once, here.
    warnings.simplefilter("ignore", DeprecationWarning)
    import apprise
    from apprise.plugins import N_MGR
    from apprise.utils.parse import parse_urls

    N_MGR.load_modules()

# Apprise logs the URLs it parses and calls, and those carry tokens.
logging.getLogger("apprise").setLevel(logging.CRITICAL)

DEFAULT_SET = "default"
MAX_URLS = 20
# Schemes whose host is a real HTTP server: checked by the SSRF guard at send time.
_HTTP_SCHEMES = {"json", "jsons", "xml", "xmls", "form", "forms"}


def parse_sets(setting) -> dict[str, list[str]]:
    """APPRISE_URLS -> {set name: [urls]}; ValueError when it is malformed."""
    if isinstance(setting, dict):
        raw = setting
    elif not setting or not str(setting).strip():
        return {}
    elif str(setting).lstrip().startswith("{"):
        raw = json.loads(setting)
        if not isinstance(raw, dict):
            raise ValueError("APPRISE_URLS must be a JSON object of named sets")
    else:
        raw = {DEFAULT_SET: setting}
    sets = {}
    for name, urls in raw.items():
        if not isinstance(urls, (str, list)):
            raise ValueError("each set in APPRISE_URLS must be a list or a string of URLs")
        sets[str(name)] = parse_urls(urls)
    return sets


class AppriseParams(Schema):
    """Parameters of the apprise process."""

    urls = fields.List(fields.String(validate=validate.Length(max=2048)), validate=validate.Length(min=1, max=MAX_URLS), metadata={"description": "Apprise URLs (write-only: they carry tokens)"})
    set = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "name of a set of URLs in the APPRISE_URLS setting"})
    title = fields.String(load_default="", validate=validate.Length(max=250))

    @validates_schema
    def _one_source(self, data, **_):
        if "urls" in data and "set" in data:
            raise ValidationError("give either urls or set, not both", "set")


class AppriseProcess(RemindProcess):
    """Notifies every URL through the Apprise library; any failed service makes the attempt retry."""

    name = "apprise"
    description = "Notify through Apprise URLs (ntfy, Telegram, Slack, Discord, Pushover, Matrix, ...)."
    Params = AppriseParams
    secret_params = ("urls",)

    def validate(self, params):
        data = super().validate(params)
        try:
            sets = parse_sets(self.config.APPRISE_URLS)
        except ValueError as exc:
            raise ValidationError({"set": [f"The APPRISE_URLS setting is malformed: {exc}"]}) from None
        if "urls" not in data and "set" not in data:
            if DEFAULT_SET not in sets:
                raise ValidationError({"urls": ["Give urls or set (APPRISE_URLS has no default set)."]})
            data["set"] = DEFAULT_SET
        if "set" in data:
            if data["set"] not in sets:
                raise ValidationError({"set": [f"No set named {data['set']!r} in APPRISE_URLS."]})
            return data
        bad = [i for i, url in enumerate(data["urls"]) if not _load(url)]
        if bad:
            raise ValidationError({"urls": {i: ["Apprise cannot use this URL."] for i in bad}})
        for url in data["urls"]:
            try:
                _check_literal(url, self.config.WEBHOOK_BLOCK_PRIVATE)
            except netguard.BlockedAddressError as exc:
                raise ValidationError({"urls": [str(exc)]}) from None
        return data

    def public_params(self, params):
        shown = super().public_params(params)
        if isinstance((params or {}).get("urls"), list):
            # The scheme tells which service without showing the token.
            shown["urls"] = [f"{str(url).partition('://')[0]}://***" for url in params["urls"]]
        return shown

    def remind(self, message, params, context):
        urls = params.get("urls") or self._urls_of(params.get("set") or DEFAULT_SET)
        notifier = apprise.Apprise()
        for url in urls:
            service = _load(url)
            if service is None:
                raise PermanentError(f"an Apprise URL ({_scheme(url)}://) cannot be used")
            self._guard(url, service)
            notifier.add(service)
        result = notifier.notify(body=message, title=params.get("title") or "", timeout=_timeout(self.config))
        total = len(urls)
        if result:
            return f"{total} service{'s' if total != 1 else ''} notified"
        failed = (result.failed_count + result.timeout_count) or total
        # Apprise cannot tell a bad token from an outage: every failure is retryable.
        raise RetryableError(f"apprise: {failed} of {total} services failed")

    def _urls_of(self, name):
        try:
            urls = parse_sets(self.config.APPRISE_URLS).get(name)
        except ValueError as exc:
            raise PermanentError(f"APPRISE_URLS is malformed: {exc}") from None
        if not urls:
            raise PermanentError(f"no Apprise set named {name!r} in APPRISE_URLS")
        return urls

    def _guard(self, url, service):
        try:
            _check_literal(url, self.config.WEBHOOK_BLOCK_PRIVATE)
            if _scheme(url) in _HTTP_SCHEMES and service.host:
                scheme = "https" if _scheme(url).endswith("s") else "http"
                netguard.check_url(f"{scheme}://{_bracket(service.host)}", self.config.WEBHOOK_BLOCK_PRIVATE)
        except netguard.BlockedAddressError as exc:
            raise PermanentError(f"apprise ({_scheme(url)}://) refused: {exc}") from None
        except netguard.HostResolutionError:
            raise RetryableError(f"apprise ({_scheme(url)}://): DNS lookup failed") from None


def _load(url):
    """The Apprise plugin instance for one URL, or None when Apprise cannot parse it."""
    if not isinstance(url, str) or "://" not in url:
        return None
    return apprise.Apprise.instantiate(url)


def _check_literal(url, block_private):
    # Every service: a literal IP host must not be link-local, metadata, ... (no DNS here).
    host = _host_of(url)
    if _scheme(url) in _HTTP_SCHEMES:
        address = netguard.literal_address(host) if host else None
    else:
        # Strict forms only: a Telegram bot id such as 2852039166 is not an integer IPv4 address.
        address = host if _is_ip(host) else None
    if address:
        problem = netguard.address_problem(address, block_private)
        if problem:
            raise netguard.BlockedAddressError(f"host {host!r} is a {problem} address, which is not allowed")


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _host_of(url):
    rest = url.partition("://")[2].split("/", 1)[0].rsplit("@", 1)[-1]
    if rest.startswith("["):
        return rest[1:].split("]", 1)[0]
    return rest.split(":", 1)[0]


def _bracket(host):
    return f"[{host}]" if ":" in host else host


def _scheme(url):
    return str(url).partition("://")[0].lower()[:16]


def _timeout(config):
    return float(getattr(config, "APPRISE_TIMEOUT", 30) or 0)
