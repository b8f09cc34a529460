"""What keeps the console to its own machine: loopback hosts, a per-run CSRF token, a strict CSP."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from urllib.parse import urlsplit

# Only this origin's own files: no inline script or style, no CDN, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
LISTEN_HOST = "127.0.0.1"
CSRF_FIELD = "csrf"


def _is_loopback_name(name: str) -> bool:
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_is_loopback(host: str | None) -> bool:
    """True for a ``Host`` header naming this machine: 127.0.0.1 (any 127/8), localhost, [::1], with any port.

    Anything else (a DNS name that resolves here, as in DNS rebinding) is refused by the console.
    """
    if not host:
        return False
    name, port = host, ""
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return False
        name, rest = host[1:end], host[end + 1 :]
        if rest and not rest.startswith(":"):
            return False
        port = rest[1:]
        if ":" not in name:  # brackets hold IPv6 literals only
            return False
    elif ":" in host:
        name, _, port = host.rpartition(":")
    if port and not (port.isdigit() and int(port) <= 65535):
        return False
    return _is_loopback_name(name.lower())


def url_is_loopback(url: str | None) -> bool:
    """True when ``url`` points at this machine (the local stack), False for AWS or anything remote."""
    if not url:
        return False
    hostname = urlsplit(url).hostname
    return bool(hostname) and _is_loopback_name(hostname.lower())  # type: ignore[union-attr]


class CsrfToken:
    """One random token per console run; every state-changing request must carry it."""

    def __init__(self, value: str | None = None) -> None:
        self.value = value or secrets.token_urlsafe(32)

    def matches(self, candidate: str | None) -> bool:
        """Constant-time comparison; a missing token never matches."""
        if not candidate:
            return False
        return hmac.compare_digest(candidate.encode(), self.value.encode())
