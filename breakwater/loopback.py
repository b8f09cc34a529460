"""What names this machine: loopback hosts (``127.0.0.0/8``, ``localhost`` and ``*.localhost``, ``[::1]``).

The console and the local stack's AWS endpoint answer only requests whose ``Host`` is such a name (or one the
user allowed): a DNS name that merely resolves to 127.0.0.1, as in DNS rebinding, is another site.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback_name(name: str) -> bool:
    """``localhost``, a name under ``.localhost`` (RFC 6761: always loopback), or a loopback IP address."""
    name = name.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def split_host(host: str | None) -> tuple[str, str] | None:
    """``Host`` header -> (name, port text); None when it is malformed (a bad port, unbalanced brackets)."""
    if not host:
        return None
    name, port = host, ""
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return None
        name, rest = host[1:end], host[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:]
        if ":" not in name:  # brackets hold IPv6 literals only
            return None
    elif ":" in host:
        name, _, port = host.rpartition(":")
    if port and not (port.isdigit() and int(port) <= 65535):
        return None
    return name.lower(), port


def host_is_loopback(host: str | None, allowed: frozenset[str] = frozenset()) -> bool:
    """True for a ``Host`` header naming this machine (any port), or whose name is in ``allowed``."""
    parts = split_host(host)
    if parts is None:
        return False
    name = parts[0]
    return is_loopback_name(name) or name in allowed


def url_is_loopback(url: str | None) -> bool:
    """True when ``url`` points at this machine (the local stack), False for AWS or anything remote."""
    if not url:
        return False
    hostname = urlsplit(url).hostname
    return bool(hostname) and is_loopback_name(hostname)  # type: ignore[arg-type]
