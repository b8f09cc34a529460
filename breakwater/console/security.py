"""What keeps the console to its own machine: loopback hosts, a per-run CSRF token, a strict CSP."""

from __future__ import annotations

import hmac
import secrets

from breakwater.loopback import host_is_loopback, url_is_loopback

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
__all__ = ["CSRF_FIELD", "LISTEN_HOST", "SECURITY_HEADERS", "CsrfToken", "host_is_loopback", "url_is_loopback"]


class CsrfToken:
    """One random token per console run; every state-changing request must carry it."""

    def __init__(self, value: str | None = None) -> None:
        self.value = value or secrets.token_urlsafe(32)

    def matches(self, candidate: str | None) -> bool:
        """Constant-time comparison; a missing token never matches."""
        if not candidate:
            return False
        return hmac.compare_digest(candidate.encode(), self.value.encode())
