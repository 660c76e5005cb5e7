"""The SSRF guard: which hosts a webhook (or any outgoing request a user configures) may reach.

Always refused: link-local (169.254.0.0/16 with the cloud metadata address, fe80::/10),
unspecified (0.0.0.0, ::), multicast and reserved addresses. Loopback and private LAN
ranges are allowed (a home server calls Home Assistant on the same box) unless
`block_private` is set. Every address a name resolves to must pass, so a DNS answer that
mixes a public and a metadata address is refused.

Known gap, accepted: the check resolves the name and the HTTP client resolves it again when
it connects (time of check vs time of use), so a DNS server that answers differently within
that moment (DNS rebinding) can slip past. Pinning the checked address would close it at the
cost of a custom transport; `remind()` checks again at send time and on every redirect hop.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import unquote, urlsplit

ALLOWED_SCHEMES = ("http", "https")
# Not flagged by the ipaddress properties but never a legitimate webhook target.
_ALWAYS_BLOCKED_NETS = (ipaddress.ip_network("0.0.0.0/8"),)
# Carrier-grade NAT: not `is_private` in the stdlib, yet not public either.
_SHARED_NET = ipaddress.ip_network("100.64.0.0/10")
# NAT64 (RFC 6052): an IPv6-only network reaches IPv4 hosts through these addresses.
_NAT64_NET = ipaddress.ip_network("64:ff9b::/96")


class BlockedAddressError(ValueError):
    """The URL's scheme or one of its host's addresses may not be reached."""


class HostResolutionError(OSError):
    """The host name did not resolve (may be transient: retry)."""


def check_url(url: str, block_private: bool = False) -> None:
    """Refuse `url` unless it is http(s) and every address of its host is allowed; resolves DNS."""
    host, port = split_host(url)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise HostResolutionError(f"host {host!r} does not resolve") from exc
    if not infos:
        raise HostResolutionError(f"host {host!r} does not resolve")
    for info in infos:
        problem = address_problem(info[4][0], block_private)
        if problem:
            raise BlockedAddressError(f"host {host!r} resolves to a {problem} address, which is not allowed")


def check_url_literal(url: str, block_private: bool = False) -> None:
    """The create-time check without DNS: the scheme, and the host when it is a literal IP."""
    host, port = split_host(url)
    if block_private and (host.rstrip(".") == "localhost" or host.rstrip(".").endswith(".localhost")):
        # RFC 6761: these names always mean loopback, so refuse them now rather than at send time.
        raise BlockedAddressError(f"host {host!r} is a loopback address, which is not allowed")
    address = literal_address(host)
    if address is not None:
        problem = address_problem(address, block_private)
        if problem:
            raise BlockedAddressError(f"host {host!r} is a {problem} address, which is not allowed")


def split_host(url: str) -> tuple[str, int]:
    """The (host, port) of an http(s) URL; BlockedAddressError for another scheme or no host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedAddressError("not a valid URL") from exc
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise BlockedAddressError("only http and https URLs are allowed")
    if not parts.hostname:
        raise BlockedAddressError("the URL has no host")
    return parts.hostname, port or (443 if parts.scheme.lower() == "https" else 80)


def literal_address(host: str) -> str | None:
    """The address a numeric host means to the OS (also 2130706433, 0x7f.1), or None for a name."""
    # "169.254.169.254." and "fe80::1%eth0" are the same addresses to the OS.
    host = unquote(host).rstrip(".").split("%", 1)[0]
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return infos[0][4][0] if infos else None


def address_problem(address: str, block_private: bool = False) -> str | None:
    """Why `address` may not be reached ("link-local", "private", ...), or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        # An IPv6 form that carries an IPv4 address is judged by that address.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64_NET:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_problem(str(embedded), block_private)
    if ip.is_loopback:
        # Checked first: ::1 also lies in the reserved ::/8.
        return "loopback" if block_private else None
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified or any(ip in net for net in _ALWAYS_BLOCKED_NETS if net.version == ip.version):
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:
        return "reserved"
    if block_private:
        if ip.is_private or not ip.is_global or (ip.version == 4 and ip in _SHARED_NET):
            return "private"
    return None


def origin(url: str) -> str:
    """scheme://host[:port] of `url`: safe for logs and errors (no credentials, path or query)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")
