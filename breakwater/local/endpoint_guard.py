"""What keeps other web pages out of ``local up``'s AWS endpoint (DNS rebinding, CORS, cross-site requests).

The AWS CLI, boto3, the SAM CLI, the functions and the interpreter send requests with a ``Host`` naming this
machine and without ``Origin`` or ``Sec-Fetch-*`` headers; a browser adds those to every request a web page
makes. So a request is refused (403, and one line in the log saying why) when

* its ``Host`` does not name this machine (a loopback name, or a host the user allowed with ``--allow-host``):
  a page on ``evil.example`` whose name was rebound to 127.0.0.1 sends ``Host: evil.example:4566``;
* it carries an ``Origin`` other than the endpoint's own (the console's: it is served on the same port), which
  covers CORS preflights and simple cross-origin POSTs alike;
* the browser marks it ``Sec-Fetch-Site: cross-site`` or ``same-site`` (an ``<img>`` or a form another page
  points here sends no ``Origin`` on a GET, but modern browsers send this).

The console's own pages (``/console``) check their ``Origin`` and token themselves, and may be opened from a
link on another site; only the ``Host`` rule applies to them here. No CORS header is ever granted to another
origin: the refused request never reaches moto, whose CORS support would grant any origin everything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from breakwater.loopback import host_is_loopback, split_host

_LOG = logging.getLogger("breakwater.local.endpoint")
WsgiApp = Callable[..., Iterable[bytes]]
_CROSS_SITE = frozenset({"cross-site", "same-site"})


@dataclass
class EndpointGuard:
    """WSGI middleware in front of the local AWS endpoint (and the apps mounted beside it)."""

    app: WsgiApp
    allowed_hosts: frozenset[str] = frozenset()
    """Host names accepted besides the loopback ones (``--allow-host``), lower case."""
    own_paths: Iterable[str] = ()
    """Path prefixes of apps that check ``Origin`` themselves (the console); read at each request."""
    log: Callable[[str], None] = field(default=lambda line: _LOG.warning("AWS endpoint %s", line))

    def refusal(self, environ: dict[str, Any]) -> str | None:
        """Why the request must be refused, or None to let it through."""
        host = environ.get("HTTP_HOST") or ""
        if not host_is_loopback(host, self.allowed_hosts):
            allowed = ", ".join(sorted(self.allowed_hosts)) or "none"
            return (
                f"Host {host!r} does not name this machine (a loopback name, or one given with --allow-host:"
                f" {allowed}); a web page whose DNS name points here (DNS rebinding) sends such a Host"
            )
        path = environ.get("PATH_INFO") or "/"
        if any(path == prefix or path.startswith(prefix + "/") for prefix in self.own_paths):
            return None
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin != self.own_origin(environ):
            return (
                f"Origin {origin!r} is not this endpoint's own ({self.own_origin(environ)}): another web page's"
                f" {'CORS preflight' if environ.get('REQUEST_METHOD') == 'OPTIONS' else 'request'}"
            )
        site = environ.get("HTTP_SEC_FETCH_SITE")
        if site in _CROSS_SITE:
            return f"the browser marks it Sec-Fetch-Site: {site} (a request another web page made)"
        return None

    @staticmethod
    def own_origin(environ: dict[str, Any]) -> str:
        """The origin of pages this endpoint serves itself (the console), for the ``Host`` it was reached at."""
        parts = split_host(environ.get("HTTP_HOST"))
        scheme = environ.get("wsgi.url_scheme", "http")
        if parts is None:
            return f"{scheme}://"
        name, port = parts
        name = f"[{name}]" if ":" in name else name
        default = {"http": "80", "https": "443"}.get(scheme)
        return f"{scheme}://{name}" + (f":{port}" if port and port != default else "")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        reason = self.refusal(environ)
        if reason is None:
            return self.app(environ, start_response)
        method, path = environ.get("REQUEST_METHOD", "?"), environ.get("PATH_INFO", "/")
        self.log(f"refused {method} {path}: {reason}")
        body = f"403 Forbidden: {reason}.\n".encode()
        start_response(
            "403 Forbidden",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), ("Vary", "Origin")],
        )
        return [body]
