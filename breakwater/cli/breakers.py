"""The breaker commands: ``status``, the overrides (``trip``, ``reset``, ``disable``), the modes (``shadow``,
``enforce``) and ``forget``."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from rich.text import Text

from breakwater.aws import find_stack, stack_name_from, stack_service_name
from breakwater.breaker import MODES, OVERRIDES, forget, override, read, read_all, set_mode
from breakwater.cli import render
from breakwater.cli.options import target_from
from breakwater.errors import BreakwaterError
from breakwater.status_view import print_status, styled_state
from breakwater.transition_history import ending_as_recorded, stream_transitions


def cmd_status(args: argparse.Namespace) -> int:
    target = target_from(args)
    stack_name = stack_name_from(args.stack_name)
    resources = find_stack(target, stack_name)
    dynamodb = target.client("dynamodb")
    if args.service:
        breakers = [read(dynamodb, resources.table_name, args.service)]
        default = resources.parameters.get("ServiceName")
        if not breakers[0].exists and args.service != default and not args.json:
            known = ", ".join(b.service for b in read_all(dynamodb, resources.table_name)) or "none"
            raise BreakwaterError(
                f"{args.service} has no breaker record: no order has named this service (records: {known};"
                f" the stack's own ServiceName is {default})"
            )
    else:
        breakers = read_all(dynamodb, resources.table_name)
    if args.json:
        print(json.dumps([b.as_dict() for b in breakers]))
        return 0
    if not breakers:
        render.console.print("no breaker records yet: every service is CLOSED with zero counts")
        return 0
    history = stream_transitions(dynamodb, target.client("dynamodbstreams"), resources.table_name)
    history = ending_as_recorded(history, breakers)
    services = {b.service for b in breakers}
    transitions = [t for t in history.transitions if t.service in services]
    print_status(
        render.console, breakers, transitions, history.problem, int(dt.datetime.now(tz=dt.UTC).timestamp() * 1000)
    )
    return 0


def cmd_override(args: argparse.Namespace) -> int:
    target = target_from(args)
    stack_name = stack_name_from(args.stack_name)
    resources = find_stack(target, stack_name)
    # A breaker with no record yet exists only for the stack's own ServiceName (or on purpose, --create):
    # anything else is most likely a typo, and an override would create a breaker no order uses.
    create = args.create or args.service == stack_service_name(target, stack_name)
    before, after = override(
        target.client("dynamodb"), resources.table_name, args.service, OVERRIDES[args.command], create=create
    )
    render.console.print(
        Text.assemble(f"{args.service}: ", styled_state(before.state), " -> ", styled_state(after.state))
    )
    return 0


def cmd_mode(args: argparse.Namespace) -> int:
    target = target_from(args)
    resources = find_stack(target, stack_name_from(args.stack_name))
    before, after = set_mode(target.client("dynamodb"), resources.table_name, args.service, MODES[args.command])
    render.console.print(
        Text.assemble(
            f"{args.service}: mode {before.mode or 'default'} -> {after.mode} (state ", styled_state(after.state), ")"
        )
    )
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    target = target_from(args)
    resources = find_stack(target, stack_name_from(args.stack_name))
    gone = forget(target.client("dynamodb"), resources.table_name, args.service)
    render.console.print(
        Text.assemble(
            f"{args.service}: record deleted (was ",
            styled_state(gone.state),
            f", version {gone.version}); with no record a breaker is CLOSED with zero counts",
        )
    )
    return 0
