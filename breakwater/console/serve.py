"""Serving the console: on the local stack's server (``mount_local``), or on its own (``breakwater console``)."""

from __future__ import annotations

import argparse
import functools
import signal
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from breakwater.arguments import port_number
from breakwater.aws import Target, find_stack, stack_name_from
from breakwater.console.app import ConsoleApp, Settings
from breakwater.console.security import LISTEN_HOST, SECURITY_HEADERS

PREFIX = "/console"
DEFAULT_PORT = 4568


def _root(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Everything outside the console: ``/`` leads to it, the rest is not found."""
    request = Request(environ)
    if request.path == "/":
        response = Response(status=303, headers={"Location": f"{PREFIX}/"})
    else:
        response = Response("404 Not Found: the console is at /console/\n", status=404, mimetype="text/plain")
    response.headers.update(SECURITY_HEADERS)
    return response(environ, start_response)


class ConsoleServer:
    """The console on its own HTTP server on 127.0.0.1 (port 0: any free port), in a thread."""

    def __init__(self, app: ConsoleApp, port: int = DEFAULT_PORT) -> None:
        self.app = app
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The console's address (``http://127.0.0.1:PORT/console``)."""
        if self._server is None:
            raise RuntimeError("the console server is not running")
        return f"http://{LISTEN_HOST}:{self._server.server_port}{PREFIX}"

    def start(self) -> ConsoleServer:
        wsgi = DispatcherMiddleware(_root, {PREFIX: self.app})
        self._server = make_server(LISTEN_HOST, self.port, wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="console", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


def mount_local(server: Any) -> str:
    """Serve the console on ``breakwater local up``'s server at ``/console``; returns its URL.

    ``server`` is a ``breakwater.local.server.LocalServer``: its endpoint, region, stack and fake
    provider are what the console reads and switches.
    """
    settings = Settings(
        target=Target(endpoint_url=server.endpoint, region=server.region),
        stack_name=server.stack_name,
        provider_url=server.provider.url,
    )
    server.mount(PREFIX, ConsoleApp(settings))
    return f"{server.endpoint}{PREFIX}"


def add_parser(commands: Any, aws_parent: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``breakwater console`` to the CLI's subcommands (``aws_parent`` holds the endpoint options)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "console",
        parents=[aws_parent],
        help="the console pages (executions, path, event table, breakers) against any endpoint",
    )
    parser.add_argument(
        "--port",
        type=functools.partial(port_number, lowest=0),
        default=DEFAULT_PORT,
        help="port on 127.0.0.1 (default: %(default)s; 0: any free one)",
    )
    parser.add_argument(
        "--allow-writes",
        action="store_true",
        help="allow the operator buttons against AWS (a local endpoint always allows them)",
    )
    parser.add_argument("--provider-url", help="the fake provider's URL, for its page (local up passes it)")
    parser.set_defaults(handler=cmd_console)
    return parser


def cmd_console(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Serve until Ctrl-C (or ``stop`` is set); a missing stack fails at once with a clear error."""
    target = Target(endpoint_url=args.endpoint_url, region=args.region, profile=args.profile)
    stack_name = stack_name_from(args.stack_name)
    find_stack(target, stack_name)
    settings = Settings(
        target=target, stack_name=stack_name, provider_url=args.provider_url, allow_writes=args.allow_writes
    )
    server = ConsoleServer(ConsoleApp(settings), port=args.port).start()
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    mode = "operator buttons on" if settings.writable else "read-only (--allow-writes turns the operator buttons on)"
    where = settings.target.endpoint or "AWS"
    print(f"Breakwater console on {server.url}/ for stack {stack_name} at {where}", flush=True)
    print(f"  {mode}", flush=True)
    print("Ctrl-C stops it.", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    return 0
