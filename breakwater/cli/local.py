"""The local commands: ``local up`` (serve the local stack until Ctrl-C, with the console) and ``invoke`` (one
function's handler, as ``sam local invoke`` runs it)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

from rich.text import Text

from breakwater.aws import stack_name_from
from breakwater.cli import render
from breakwater.cli.options import key_values, load_json_argument
from breakwater.cli.render import print_activity
from breakwater.errors import EXIT_INTERRUPTED, BreakwaterError


def cmd_local_up(args: argparse.Namespace) -> int:
    from breakwater.console import mount_local
    from breakwater.local.server import LocalServer

    server = LocalServer(
        port=args.port,
        provider_port=args.provider_port,
        stack_name=stack_name_from(args.stack_name),
        parameters=key_values(args.parameter_overrides, "--parameter-overrides"),
        replay=not args.no_replay,
        lambda_endpoint=args.lambda_endpoint,
        on_activity=None if args.quiet else print_activity,
        aws_limits=aws_limits_of(args),
        allowed_hosts=frozenset(host.lower() for host in args.allow_host or ()),
    )
    stop, ready = threading.Event(), threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():  # a second Ctrl-C while stopping: leave now
            sys.stdout.flush()
            os._exit(EXIT_INTERRUPTED)
        stop.set()
        if not ready.is_set():  # still starting: abandon the start-up where it is
            raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    render.console.print(f"Starting the local stack on {server.endpoint}: deploying template.yaml (Ctrl-C stops it)")
    if server.aws_limits is not None:
        limits = server.aws_limits.limits
        raised = "".join(f", {key}={value:g}" for key, value in limits.overrides.items())
        render.console.print(f"AWS limits on (docs/SCALING.md): scale {limits.scale:g}{raised}")
    try:
        stack = server.start()
        ready.set()
        serve_until(stop, server, stack, mount_local(server))
    finally:
        started = ready.is_set()
        ready.set()  # from here a signal only asks to stop (a second one leaves at once)
        server.stop()
        if started:
            render.console.print("stopped")
    return 0


def aws_limits_of(args: argparse.Namespace) -> Any:
    """The limits ``--aws-limits``, ``--scale`` and ``--quota`` ask for (None: off); one clear error if they are bad."""
    from breakwater.local.aws_limits import AwsLimits, Limits, UnknownQuota, parse_overrides

    if not args.aws_limits:
        if args.scale is not None or args.quota:
            raise BreakwaterError("--scale and --quota need --aws-limits")
        return None
    try:
        scale = 1.0 if args.scale is None else args.scale
        return AwsLimits(Limits(scale=scale, overrides=parse_overrides(args.quota or [])))
    except (UnknownQuota, ValueError) as exc:
        raise BreakwaterError(str(exc)) from None


def serve_until(stop: threading.Event, server: Any, stack: Any, console_url: str | None) -> None:
    """Print the banner (outputs, exports, links, the console's address), then serve until ``stop`` is set."""
    render.console.print(
        Text.assemble("Breakwater local stack on ", (server.endpoint, "bold"), f" (stack {stack.name})")
    )
    for key, value in stack.outputs.items():
        render.console.print(f"  {key:<28} {value}")
    render.console.print(f"  {'FakeProviderUrl':<28} {server.provider.url}")
    render.console.print(f"  {'PaymentApiKeySecretArn':<28} {stack.parameters.get('PaymentApiKeySecretArn', '')}")
    render.console.print(f"  replay of queued orders: {'on (every second)' if server.replay else 'off'}")
    if stack.outputs.get("CheckoutApiId"):
        from breakwater.local.http_api import local_url

        url = local_url(stack.outputs["CheckoutApiId"], server.port)
        render.console.print(
            f"  checkout API: {url}/orders (SigV4: curl --aws-sigv4 aws:amz:{server.region}:execute-api"
            " --user testing:testing); its AWS host too where --allow-host names it"
        )
    render.console.print(f'  switch faults: curl -X POST {server.provider.url}/_control -d \'{{"mode": "down"}}\'')
    if server.lambda_endpoint:
        render.console.print(f"  Lambda invokes go to {server.lambda_endpoint}")
    if console_url:
        render.console.print(f"  console: {console_url}")
    render.console.print("\nPoint the AWS CLI, boto3 and breakwater at it:")
    exports = " ".join(f"{k}={v}" for k, v in server.environment().items())
    print(f"export {exports}", flush=True)
    render.console.print(
        "(aws sqs: add --endpoint-url $AWS_ENDPOINT_URL; AWS CLI v1 sends SQS in us-east-1 to AWS itself)"
    )
    quiet = "" if server.on_activity else " (--quiet: executions are not listed)"
    render.console.print(f"\nReady. Ctrl-C stops it.{quiet}")
    stop.wait()


def cmd_invoke(args: argparse.Namespace) -> int:
    from breakwater.local.invoke import function_spec, run
    from breakwater.local.provider import FakeProvider
    from breakwater.template import check_overrides, load_template

    event = load_json_argument(args.event, "--event") if args.event else {}
    env_vars = load_json_argument(args.env_vars, "--env-vars") if args.env_vars else None
    overrides = check_overrides(key_values(args.parameter_overrides, "--parameter-overrides"), load_template())
    provider = None
    if args.function == "PaymentFunction" and "PaymentApiUrl" not in overrides:
        # PaymentApiUrl has no default: without one, the documented command charges the fake provider.
        provider = FakeProvider()
        overrides["PaymentApiUrl"] = provider.start()
        render.err_console.print(f"PaymentApiUrl not given: charging the fake provider at {provider.url}", style="dim")
    try:
        spec, warnings = function_spec(args.function, overrides=overrides, env_vars=env_vars)
        for warning in warnings:
            render.err_console.print(f"warning: {warning}")
        result = run(spec, event)
    finally:
        if provider is not None:
            provider.stop()
    if result.logs:
        sys.stderr.write(result.logs if result.logs.endswith("\n") else result.logs + "\n")
    render.err_console.print(
        f"{spec.name}: {result.duration_ms:.0f} ms (timeout {spec.timeout_seconds:g} s)", style="dim"
    )
    print(json.dumps(result.payload))
    return 1 if result.failed else 0
