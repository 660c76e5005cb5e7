"""Trust X-Forwarded-* from a known number of reverse proxies (TRUSTED_PROXIES), and no more."""
from werkzeug.middleware.proxy_fix import ProxyFix


def install_proxy_fix(app):
    """Wrap the WSGI app in ProxyFix when TRUSTED_PROXIES > 0.

    With it, request.remote_addr is the client (so anonymous rate limits are per client,
    not per proxy) and url_for(_external=True) builds https URLs for Location and Link headers.
    Without it, X-Forwarded-* headers are ignored: a client cannot forge its address.
    """
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)
