"""A TCP relay from the Docker bridge's host address to a server on 127.0.0.1.

``sam local`` (1.170) creates every function container on Docker's default bridge network: its
``--docker-network host`` only skips connecting the container to a further network, so a container never shares
the machine's loopback. The local stack and the fake provider listen on 127.0.0.1 only. This relay listens on
the bridge's gateway address (the machine as the containers see it, e.g. 172.17.0.1, not reachable from outside
the machine), on the same port, and copies bytes both ways to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import subprocess
import threading
from types import TracebackType

BUFFER = 65536


def bridge_gateway(docker: str = "docker") -> str:
    """The host's address on Docker's default bridge (its IPAM gateway, else the subnet's first address)."""
    out = subprocess.run(
        [docker, "network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    config = json.loads(out)[0]
    if config.get("Gateway"):
        return str(config["Gateway"])
    return str(next(ipaddress.ip_network(config["Subnet"]).hosts()))


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(BUFFER):
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


class Relay:
    """Relays ``host:port`` to ``127.0.0.1:port`` for each port, until closed."""

    def __init__(self, host: str, ports: list[int]) -> None:
        self.host = host
        self._listeners = [socket.create_server((host, port)) for port in ports]
        self._threads = [threading.Thread(target=self._serve, args=(s,), daemon=True) for s in self._listeners]
        for thread in self._threads:
            thread.start()

    def url(self, port: int) -> str:
        """``http://host:port`` as a container reaches the loopback server on ``port``."""
        return f"http://{self.host}:{port}"

    def _serve(self, listener: socket.socket) -> None:
        port = listener.getsockname()[1]
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()

    def close(self) -> None:
        for listener in self._listeners:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            listener.close()

    def __enter__(self) -> Relay:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
