"""Defences around the whole app: per-key rate limits, redacted logs, proxy headers, JSON depth, documented errors."""
from app.security.bodies import install_body_guard
from app.security.limits import install_limits
from app.security.proxy import install_proxy_fix
from app.security.redaction import install_redaction


def install_security(app):
    """Install the app-wide defences; call before the auth hook, so requests with a bad key count too."""
    from app.extensions import limiter

    install_redaction(app.config["TIFFTOCK"])
    install_proxy_fix(app)
    install_limits(app, limiter)
    install_body_guard(app)


__all__ = ["install_redaction", "install_security"]
