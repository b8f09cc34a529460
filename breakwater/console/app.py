"""The console as a WSGI application: server-side rendered pages, a little JavaScript, nothing from elsewhere.

Every request is checked before it is routed: the ``Host`` must name this machine (DNS rebinding),
and a ``POST`` must carry the run's CSRF token and come from a console that may write. Values are
escaped by Jinja2's autoescape; errors become pages that say what went wrong, never a trace.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from jinja2 import Environment, PackageLoader, StrictUndefined
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as RouteNotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from breakwater import breaker_record
from breakwater.aws import Target
from breakwater.breaker import MODES as BREAKER_MODES
from breakwater.breaker_record import BreakerState
from breakwater.console.history import Mark, pretty
from breakwater.console.model import (
    ACTIONS,
    EXPRESS,
    OUTCOMES,
    STATUSES,
    BadRequest,
    ConsoleData,
    ConsoleError,
    NotFound,
    check_filters,
    duration_text,
    ms_text,
    time_text,
)
from breakwater.console.picture import timeline
from breakwater.console.provider import API_KEY_POLICY, SETTINGS, ProviderControl, parse_settings
from breakwater.console.security import (
    CSRF_FIELD,
    SECURITY_HEADERS,
    CsrfToken,
    host_is_loopback,
    url_is_loopback,
)
from breakwater.console.states import duration_label
from breakwater.errors import BreakwaterError
from breakwater.local.provider import MODES as PROVIDER_MODES
from breakwater.template import PROJECT_ROOT

_LOG = logging.getLogger(__name__)
REFRESH_MS = 2000  # how often live parts of a page ask for fresh HTML
REFRESH_HEADER = "X-Console-Refresh-Ms"
NOW_HEADER = "X-Console-Now-Ms"
FRAGMENT_PARAMETER = "fragment"
FLASH_PARAMETER = "done"
CONFIRM_FIELD = "confirmed"
_STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
_FLASH_LIMIT = 100
# What each operator button does, in the words its confirmation uses.
ACTION_TEXT = {
    "trip": "force {service} open (FORCED_OPEN): every order is queued, the provider is never called",
    "reset": "close {service} and clear its counts (CLOSED)",
    "disable": "disable {service} (DISABLED): every order calls the provider, nothing is recorded",
    "shadow": "put {service} in SHADOW mode: it decides and records, but calls where it would queue",
    "enforce": "put {service} in ENFORCE mode: it queues where it decides to",
}
assert tuple(ACTION_TEXT) == ACTIONS, "every operator command of the CLI has a button, in its order"


@dataclass(frozen=True)
class Settings:
    """What a console reads and whether it may write."""

    target: Target
    stack_name: str
    provider_url: str | None = None
    allow_writes: bool = False
    label: str | None = None  # how the banner names the endpoint (default: its URL, or AWS)
    local_stack: bool = False  # the in-process embedded stack: local, though it has no endpoint URL

    @property
    def local(self) -> bool:
        """The stack is on this machine (a loopback endpoint, or the embedded stack)."""
        return self.local_stack or url_is_loopback(self.target.endpoint)

    @property
    def writable(self) -> bool:
        """Writes are allowed on the local stack; against AWS only with ``--allow-writes``."""
        return self.local or self.allow_writes


class _Flash:
    """Messages that survive one redirect after a POST, by a short random id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._ids = itertools.count(1)

    def put(self, kind: str, text: str) -> str:
        with self._lock:
            key = f"m{next(self._ids)}"
            self._messages[key] = (kind, text)
            while len(self._messages) > _FLASH_LIMIT:
                self._messages.popitem(last=False)
            return key

    def take(self, key: str | None) -> tuple[str, str] | None:
        if not key:
            return None
        with self._lock:
            return self._messages.pop(key, None)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("breakwater.console", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json"] = pretty
    env.filters["when"] = time_text
    env.filters["ms_when"] = ms_text
    env.globals.update(
        STATUSES=STATUSES,
        EXPRESS=EXPRESS,
        OUTCOMES=OUTCOMES,
        PROVIDER_MODES=PROVIDER_MODES,
        SETTINGS=SETTINGS,
        API_KEY_POLICY=API_KEY_POLICY,
        ACTIONS=ACTION_TEXT,
        CSRF_FIELD=CSRF_FIELD,
        CONFIRM_FIELD=CONFIRM_FIELD,
        # What the page's script needs to know of the server, handed over on <body>.
        SCRIPT_SETTINGS={
            "fragment-parameter": FRAGMENT_PARAMETER,
            "flash-parameter": FLASH_PARAMETER,
            "refresh-header": REFRESH_HEADER,
            "now-header": NOW_HEADER,
        },
        Mark=Mark,
        COOLING=(BreakerState.OPEN.value, BreakerState.HALF_OPEN.value),  # states with an openUntilMs to show
        duration_text=duration_text,
        duration_label=duration_label,
        ELK_SCRIPT=ELK_SCRIPT,
    )
    return env


STATES_CSS = "states.css"
STOP_FIELDS = ("error", "cause")
# The layout library of the graph (npm elkjs, pinned in package-lock.json), served from the project's node_modules.
ELK_SCRIPT = "elk.bundled.js"
ELK_PATH = PROJECT_ROOT / "node_modules" / "elkjs" / "lib" / ELK_SCRIPT
DEFAULT_INPUT = PROJECT_ROOT / "events" / "order.json"


def default_input() -> str:
    """What the input editor starts with: the project's sample order (events/order.json)."""
    try:
        return json.dumps(json.loads(DEFAULT_INPUT.read_text()), indent=2)
    except (OSError, ValueError):
        return "{}"


def execution_path(arn: str) -> str:
    return "/executions/" + quote(arn, safe="")


def _answer_json(text: Any) -> str:
    return pretty(text) if isinstance(text, str) else "-"


def states_css() -> str:
    """Each breaker state's colour as the console's stylesheet writes it (``.breaker-state.half_open``)."""
    return "".join(
        f".breaker-state.{state.lower()} {{ color: {colour}; }}\n" for state, colour in breaker_record.COLOUR.items()
    )


def _now_ms() -> int:
    return int(time.time() * 1000)


class ConsoleApp:
    """The console pages for one stack (WSGI). Mount it anywhere: links follow ``SCRIPT_NAME``."""

    def __init__(self, settings: Settings, token: CsrfToken | None = None, now_ms: Callable[[], int] = _now_ms):
        self.settings = settings
        self.token = token or CsrfToken()
        self.data = ConsoleData(settings.target, settings.stack_name, local_stack=settings.local_stack)
        self.provider = ProviderControl(settings.provider_url) if settings.provider_url else None
        self._now_ms = now_ms
        self._flash = _Flash()
        self._templates = _environment()
        self._static = files("breakwater.console") / "static"
        self._routes = Map(
            [
                Rule("/", endpoint="executions", methods=["GET"]),
                Rule("/executions/<path:arn>", endpoint="execution", methods=["GET"]),
                Rule("/start", endpoint="start_form", methods=["GET"]),
                Rule("/start", endpoint="start", methods=["POST"]),
                Rule("/stop", endpoint="stop", methods=["POST"]),
                Rule("/redrive", endpoint="redrive", methods=["POST"]),
                Rule("/breakers", endpoint="breakers", methods=["GET"]),
                Rule("/breakers/<service>/<action>", endpoint="override", methods=["POST"]),
                Rule("/provider", endpoint="provider", methods=["GET"]),
                Rule("/provider", endpoint="provider_switch", methods=["POST"]),
                Rule("/provider/reset", endpoint="provider_reset", methods=["POST"]),
                Rule("/static/<name>", endpoint="static", methods=["GET"]),
            ],
            strict_slashes=False,
        )

    # -- WSGI ---------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        response = self._respond(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if not host_is_loopback(request.host):
            return Response(
                "403 Forbidden: the console answers only to a loopback Host (127.0.0.1, localhost, [::1]).\n",
                status=403,
                mimetype="text/plain",
            )
        try:
            endpoint, arguments = self._routes.bind_to_environ(request.environ).match()
        except RouteNotFound:
            return self._error(request, 404, "Not found", f"The console has no page {request.path}.")
        except MethodNotAllowed:
            return self._error(request, 405, "Method not allowed", f"{request.method} is not allowed here.")
        except HTTPException as exc:  # a redirect the router asks for
            return exc.get_response(request.environ)  # type: ignore[return-value]
        if request.method == "POST":
            refused = self._refuse_write(request)
            if refused is not None:
                return refused
        return self._dispatch(request, endpoint, arguments)

    def _dispatch(self, request: Request, endpoint: str, arguments: Mapping[str, Any]) -> Response:
        """Run the page; what goes wrong becomes a page that says so."""
        try:
            handler = getattr(self, f"page_{endpoint}")
            result: Response = handler(request, **arguments)
            return result
        except NotFound as exc:
            return self._error(request, 404, "Not found", str(exc))
        except BadRequest as exc:
            return self._error(request, 400, "Bad request", str(exc))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            return self._error(request, 502, "AWS error", f"{error.get('Code')}: {error.get('Message')}")
        except ConsoleError as exc:  # e.g. the provider does not answer
            return self._error(request, 502, "Unavailable", str(exc))
        except (BotoCoreError, BreakwaterError) as exc:
            return self._error(request, 502, "Cannot read the stack", str(exc))
        except Exception:
            _LOG.exception("console page %s failed", request.path)
            return self._error(request, 500, "Internal error", "The console failed; its log has the details.")

    def _refuse_write(self, request: Request) -> Response | None:
        origin = request.headers.get("Origin")
        # Referrer-Policy no-referrer makes a browser send "Origin: null" with the console's own forms;
        # the token decides then.
        if origin and origin != "null" and not host_is_loopback(urlsplit(origin).netloc):
            return self._error(request, 403, "Forbidden", "A state-changing request from another origin.")
        if not self.token.matches(request.form.get(CSRF_FIELD)):
            return self._error(
                request, 403, "Forbidden", "The request has no valid console token (CSRF): reload the page."
            )
        if not self.settings.writable:
            return self._error(
                request, 403, "Read-only", "This console is read-only: start it with --allow-writes to change things."
            )
        return None

    # -- rendering -------------------------------------------------------------------------

    def _render(self, request: Request, template: str, code: int = 200, live: bool = False, **values: Any) -> Response:
        settings = self.settings
        context = {
            "base": request.script_root,
            "page": template,
            "token": self.token.value,
            "where": settings.label or self.data.where,
            "stack": settings.stack_name,
            "local": settings.local,
            "writable": settings.writable,
            "allow_writes": settings.allow_writes,
            "has_provider": self.provider is not None,
            "now_ms": self._now_ms(),
            "refresh_ms": REFRESH_MS,
            "live": live,
            "flash": self._flash.take(request.args.get(FLASH_PARAMETER)),
            **values,
        }
        html = self._templates.get_template(template).render(context)
        response = Response(html, status=code, mimetype="text/html")
        response.headers[NOW_HEADER] = str(context["now_ms"])
        return response

    def _page(self, request: Request, name: str, live: bool = True, **values: Any) -> Response:
        """A page, or with ``?fragment=1`` only its live part (what the page's script asks for)."""
        fragment = request.args.get(FRAGMENT_PARAMETER) == "1"
        response = self._render(request, f"_{name}.html" if fragment else f"{name}.html", live=live, **values)
        response.headers[REFRESH_HEADER] = str(REFRESH_MS if live else 0)
        return response

    def _error(self, request: Request, status: int, title: str, message: str) -> Response:
        return self._render(request, "error.html", code=status, title=title, message=message)

    def _done(self, request: Request, page: str, kind: str, text: str) -> Response:
        key = self._flash.put(kind, text)
        path = page if page.startswith("/") else f"/{page}"
        return redirect(f"{request.script_root}{path}?{FLASH_PARAMETER}={key}", code=303)  # type: ignore[return-value]

    # -- pages -------------------------------------------------------------------------

    def page_executions(self, request: Request) -> Response:
        status = request.args.get("status") or None
        outcome = request.args.get("outcome") or None
        check_filters(status, outcome)  # before anything is read
        machines = [(m, self.data.executions(m, status, outcome)) for m in self.data.state_machines()]
        return self._page(request, "executions", machines=machines, status=status, outcome=outcome)

    def page_execution(self, request: Request, arn: str) -> Response:
        now = dt.datetime.fromtimestamp(self._now_ms() / 1000, tz=dt.UTC)
        view = self.data.execution(arn, now)
        return self._page(request, "execution", live=view.running, view=view, STOP_FIELDS=STOP_FIELDS)

    # -- starting, stopping and redriving executions ------------------------------------------

    def page_start_form(self, request: Request) -> Response:
        machines = self.data.state_machines()
        chosen = request.args.get("machine") or (machines[0].arn if machines else "")
        return self._render(
            request, "start.html", machines=machines, chosen=chosen, name="", input_text=default_input(), problem=None
        )

    def page_start(self, request: Request) -> Response:
        machine, name, text = (request.form.get(k, "") for k in ("machine", "name", "input"))
        if request.form.get(CONFIRM_FIELD) != "yes":
            return self._confirm(
                request,
                "Start an execution?",
                f"start an execution of {machine.rsplit(':', 1)[-1]}" + (f" named {name}" if name else ""),
                "/start",
                {"machine": machine, "name": name, "input": text},
                back="/start",
            )
        try:
            arn, answer = self.data.start(machine, name.strip() or None, text)
        except BadRequest as exc:  # the form again, with what the user typed and what is wrong with it
            machines = self.data.state_machines()
            return self._render(
                request,
                "start.html",
                code=400,
                machines=machines,
                chosen=machine,
                name=name,
                input_text=text,
                problem=str(exc),
            )
        if answer is None:
            return self._done(request, execution_path(arn), "ok", f"started {arn.rsplit(':', 1)[-1]}")
        return self._render(request, "started.html", answer=answer, output=_answer_json(answer.get("output")))

    def page_stop(self, request: Request) -> Response:
        arn, error, cause = (request.form.get(k, "") for k in ("arn", *STOP_FIELDS))
        if request.form.get(CONFIRM_FIELD) != "yes":
            return self._confirm(
                request,
                "Stop this execution?",
                f"stop {arn.rsplit(':', 1)[-1]} now (ABORTED" + (f", error {error}" if error else "") + ")",
                "/stop",
                {"arn": arn, "error": error, "cause": cause},
                back=execution_path(arn),
            )
        self.data.stop(arn, error.strip(), cause.strip())
        return self._done(request, execution_path(arn), "ok", f"stopped {arn.rsplit(':', 1)[-1]}: ABORTED")

    def page_redrive(self, request: Request) -> Response:
        arn = request.form.get("arn", "")
        if request.form.get(CONFIRM_FIELD) != "yes":
            return self._confirm(
                request,
                "Redrive this execution?",
                f"run {arn.rsplit(':', 1)[-1]} again from the state that did not succeed, under the same ARN",
                "/redrive",
                {"arn": arn},
                back=execution_path(arn),
            )
        try:
            self.data.redrive(arn)
        except ClientError as exc:  # ExecutionNotRedrivable and the like: say so on the execution's page
            error = exc.response.get("Error", {})
            return self._done(request, execution_path(arn), "error", f"{error.get('Code')}: {error.get('Message')}")
        return self._done(request, execution_path(arn), "ok", f"redriven {arn.rsplit(':', 1)[-1]}")

    def _confirm(
        self, request: Request, title: str, text: str, path: str, fields: dict[str, str], back: str
    ) -> Response:
        """The page that asks before a change, for a browser without the page's script (its confirm dialog)."""
        return self._render(
            request,
            "confirm.html",
            title=title,
            text=text,
            url=f"{request.script_root}{path}",
            fields=fields,
            back=f"{request.script_root}{back}",
        )

    def page_breakers(self, request: Request) -> Response:
        breakers = self.data.breakers()
        history = self.data.transitions(breakers)
        now = dt.datetime.fromtimestamp(self._now_ms() / 1000, tz=dt.UTC)
        return self._page(
            request,
            "breakers",
            breakers=breakers,
            transitions=history.transitions,
            transitions_problem=history.problem,
            timeline=timeline(history.transitions, now),
        )

    def page_override(self, request: Request, service: str, action: str) -> Response:
        if action not in ACTION_TEXT:
            raise NotFound(f"no breaker action {action!r}: one of {', '.join(ACTION_TEXT)}")
        if request.form.get(CONFIRM_FIELD) != "yes":
            return self._confirm(
                request,
                f"{action.capitalize()} {service}?",
                ACTION_TEXT[action].format(service=service),
                f"/breakers/{quote(service, safe='')}/{action}",
                {},
                back="/breakers",
            )
        try:
            before, after = self.data.act(service, action)
        except ConsoleError:
            raise
        except BreakwaterError as exc:  # changed meanwhile, or no such breaker: say so, as the CLI does
            return self._done(request, "breakers", "error", str(exc))
        if action in BREAKER_MODES:
            return self._done(request, "breakers", "ok", f"{service}: mode {before.mode or 'default'} -> {after.mode}")
        return self._done(request, "breakers", "ok", f"{service}: {before.state} -> {after.state}")

    def _control(self) -> ProviderControl:
        if self.provider is None:
            raise NotFound("This console knows no provider URL (local up passes it; or --provider-url).")
        return self.provider

    def page_provider(self, request: Request) -> Response:
        status = self._control().status() if self.provider is not None else None
        return self._page(request, "provider", status=status)

    def page_provider_switch(self, request: Request) -> Response:
        answer = self._control().configure(parse_settings(dict(request.form)))
        return self._done(request, "provider", "ok", f"provider mode: {answer['settings']['mode']}")

    def page_provider_reset(self, request: Request) -> Response:
        self._control().reset()
        return self._done(request, "provider", "ok", "provider reset: healthy, charges and counters cleared")

    def page_static(self, request: Request, name: str) -> Response:
        if name == ELK_SCRIPT:
            if not ELK_PATH.is_file():
                raise NotFound(f"{ELK_SCRIPT} is not installed (npm ci in the project installs elkjs)")
            response = Response(ELK_PATH.read_bytes(), mimetype=_STATIC_TYPES[".js"])
            response.headers["Cache-Control"] = "max-age=3600"
            return response
        if name == STATES_CSS:
            response = Response(states_css(), mimetype=_STATIC_TYPES[".css"])
            response.headers["Cache-Control"] = "no-cache"
            return response
        suffix = name[name.rfind(".") :] if "." in name else ""
        item = self._static / name
        if suffix not in _STATIC_TYPES or "/" in name or not item.is_file():
            raise NotFound(f"no static file {name}")
        response = Response(item.read_bytes(), mimetype=_STATIC_TYPES[suffix])
        response.headers["Cache-Control"] = "no-cache"
        return response
