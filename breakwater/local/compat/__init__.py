"""The compatibility layer: what moto 5.2.5 lacks to run Breakwater faithfully.

One module per patch, each declaring its :class:`~breakwater.local.compat.base.Patch` as ``PATCH``
beside the code it installs; this package collects them in ``MODULES`` order.

Each patch is a named, reversible :class:`Patch`; :func:`apply` installs them
all and :func:`disabled` removes one for the length of a ``with`` block, which
is how the tests show that every patch is needed. Nothing here fakes the
project's own behaviour: the workflow, the handlers and the table are the real
ones; these patches only fill gaps in the emulator.

==========================  ===================================================
patch                       what it fixes
==========================  ===================================================
``jsonata_evaluator``       moto parses JSONata but ships no evaluator, and it
                            writes every variable into the expression text
                            (strings unescaped; parsed again for every
                            evaluation). Evaluate with ``local.jsonata``
                            (2.0.6 answers, Step Functions' functions, ``$parse``
                            as JSON parsing), variables as bindings, each
                            expression parsed once; errors and undefined
                            results carry AWS's name
                            ``States.QueryEvaluationError`` (moto would say
                            ``States.Runtime``). See docs/local-jsonata.md.
``timestamps``              ``Timestamp*`` Choice rules accept only
                            ``...:SSZ``; AWS accepts RFC 3339 with fractions and
                            offsets (``$$.State.EnteredTime`` has both).
``start_time``              ``$$.Execution.StartTime`` is a Python datetime; as
                            on AWS it must be an ISO-8601 string.
``lambda_environments``     Lambda needs Docker; run the deployed package (the
                            ``sam build`` artifact) in execution environments
                            of its own (``local.runtime``): the function's
                            Handler, Environment and Timeout, errors named as
                            Lambda names them, ``Sandbox.Timedout`` past it.
``dynamodb_atomic_writes``  moto checks a ConditionExpression and then writes
                            without a lock: two threads can both pass
                            ``probesInFlight < :max``. DynamoDB evaluates the
                            condition and the write atomically; so do we.
``task_clients_reused``     moto creates a boto3 client for every task it runs
                            (more CPU than the call itself); tasks share one
                            client per service, region and endpoint.
``parse_once``              moto parses the whole definition with ANTLR at
                            every create, update and execution (about 0.2 s for
                            this workflow); parse each definition once (the
                            validation's parse serves the executions) and hand
                            every execution its own copy (unpickled: 3x faster
                            than a deep copy).
``sqs_event_source``        moto invokes a queue's (or a table stream's) function
                            synchronously inside SendMessage (or inside the
                            UpdateItem) and ignores partial batch responses;
                            turned off, and ``event_source.SqsEventSource`` and
                            ``event_source.StreamEventSource`` poll as the
                            Lambda service does.
``cloudformation_sfn``      moto's CloudFormation ignores ``Definition`` and
                            ``DefinitionSubstitutions`` and creates the machine
                            in the non-executing backend, without its type.
``start_sync_execution``    StartSyncExecution (EXPRESS) answers "Not yet
                            implemented"; it starts, waits and returns the
                            result. Served by ``local up`` (clients send it to
                            the same endpoint, without the ``sync-`` prefix).
``cloudformation_sam``      for ``sam deploy``: moto's CloudFormation skips the
                            SAM transform, leaves stacks made by change sets
                            without Outputs, and reads path-style TemplateURLs
                            only from ``localhost``.
``cloudformation_alarms``   moto's CloudFormation skips ``AWS::CloudWatch::Alarm``;
                            create it in moto's CloudWatch, as PutMetricAlarm
                            would (moto stores alarms; it does not evaluate them).
``events_schedule_rules``   moto lets a schedule-only rule match every PutEvents
                            event and then fails on its Lambda target
                            (NotImplementedError); on AWS such a rule fires on
                            its schedule only (``event_source.ScheduleSource``).
``execution_names``         an execution started without ``name`` gets the ARN
                            ``...:None`` (a second one fails with
                            ExecutionAlreadyExists); AWS names it with a UUID.
``cloudformation_updates``  a stack update (a second ``sam deploy``) replaced a
                            resource moto cannot update (a LogGroup) with
                            nothing, so the next ``Fn::GetAtt`` on it failed,
                            and updated state machines from ``DefinitionString``
                            only, in the non-executing backend. Such resources
                            now stay as they are; state machines take their new
                            definition, substitutions, role and settings.
``template_json``           moto reads every template with PyYAML's pure-Python
                            loader, three times per stack, JSON ones too; a
                            JSON body is read by the JSON parser (same result).
``kms_keys_lazy``           moto generates an RSA-2048 signing key for every KMS
                            key, symmetric ones too; it is made on first use.
``states_all_terminal``     moto's ``States.ALL`` matches every error; on AWS no
                            retrier or catcher matches ``States.Runtime``: it
                            fails the execution. (A task result too large,
                            ``States.DataLimitExceeded``, is caught: recorded.)
``operation_models``        moto caches its operation models under botocore's
                            cache key, so a concurrent first request to a
                            service could get botocore's model and fail
                            (``no attribute 'http_trait'``); moto's models get
                            a cache of their own, filled under a lock.
``execution_type``          moto runs every execution as STANDARD (a state
                            machine's ``sm_type`` is fixed); an EXPRESS
                            machine's executions are EXPRESS, so STANDARD's
                            state-transition quota (``aws_limits``) spares them.
``stop_execution``          StopExecution dropped its error and cause and left
                            the execution RUNNING until its state returned (a
                            Lambda task: until the function answered); AWS
                            aborts at once, keeps the error and cause, and
                            records nothing after ``ExecutionAborted``.
``redrive_execution``       RedriveExecution was not implemented (an HTML 500);
                            a FAILED, ABORTED or TIMED_OUT STANDARD execution
                            runs again from the state that did not succeed,
                            under the same ARN (``ExecutionRedriven``), and
                            DescribeExecution carries the redrive fields.
``execution_logs``          executions wrote no log events (moto starts them
                            without a logging session); AWS writes each history
                            event the state machine's level admits to its log
                            group, one JSON event each, in AWS's format (how
                            EXPRESS executions are kept). CloudFormation's
                            ``LoggingConfiguration`` is stored in the API's
                            shape (``cloudformation_sfn``).
``streams_endpoint``        botocore sends the DynamoDB Streams API of a stream
                            to the account's endpoint (``ACCOUNT.streams-ddb``);
                            the in-process mock answered "Not yet implemented".
``cloudformation_reads``    a DescribeStacks during CreateStack resolved
                            the Outputs and created their resources a second
                            time in its own thread (a replay function whose
                            queue mapping pointed at its twin: ``local up``'s
                            start-up ``LookupError``). A stack being created
                            shows no Outputs, as on AWS; each resource is
                            created once, under its stack's lock.
``cloudformation_table_ttl``  moto's CloudFormation drops a table's
                            ``TimeToLiveSpecification`` (TTL DISABLED); the
                            table gets the TTL its template gives.
``cloudformation_apigatewayv2``  moto's CloudFormation skips
                            ``AWS::ApiGatewayV2`` Api, Integration, Route and
                            Stage; create them in moto's API Gateway v2
                            (``local.http_api`` serves their routes).
``evaluation_failed``       a JSONata expression failing in ``Output`` or
                            ``Assign`` ended the execution without the
                            ``EvaluationFailed`` event AWS writes, and no such
                            event named its field (``location``), its state or
                            the state's prefix, or followed the event AWS's
                            follows; all now as AWS records them.
``assign_after_state``      a state's ``Assign`` took effect at once, so its
                            own ``ResultPath``/``OutputPath``/``Output`` read
                            the new values; on AWS they take effect when the
                            state exits.
``assign_literals``         strings written in ``Assign`` kept their JSON
                            escapes, and ``assignedVariables`` quoted string
                            values without escaping them.
``execution_output``        DescribeExecution answered a string output without
                            its JSON quotes, none for ``null`` and objects with
                            spaces; it is now the history's compact JSON text.
``service_errors``          a DynamoDB or Lambda error was named after its code
                            and every SQS error ``SQS.SdkClientException`` with a
                            bare message; now the SDK's class name
                            (``DynamoDB.AmazonDynamoDBException`` for a
                            validation error) and the SDK's cause
                            ``<message> (Service: ...; Status Code: ...; ...)``.
``dynamodb_item_api``       a null item or key and a table name outside AWS's
                            pattern failed inside moto (DynamoDB refuses them:
                            ``ValidationException``); UpdateItem answered
                            ``ConsumedCapacity`` never asked for, and
                            ``UPDATED_NEW`` of a new item with its key.
``sqs_send_message``        SendMessage without a body crashed in moto; SQS
                            refuses it with ``MissingParameter``.
``task_null_members``       a DynamoDB or SQS Task with a ``null`` parameter
                            failed inside boto3; the service now answers it.
``runtime_error_causes``    a ``States.Runtime`` cause named the last event, not
                            the one its state was entered at, and worded a path
                            that found nothing otherwise than AWS.
``redrive_count``           the context object's ``Execution`` lacked
                            ``RedriveCount`` (0 for an execution never redriven).
``sdk_http_metadata``       Lambda, DynamoDB and SQS task results lacked the
                            ``SdkHttpMetadata`` and ``SdkResponseMetadata`` AWS
                            adds (the service's HTTP headers, status, request id).
``lambda_not_found``        Invoke of a missing function did not name the version
                            looked for (``...:$LATEST``), as Lambda does.
``lambda_task_cause``       a function-ARN Task's error cause was re-encoded
                            compactly; AWS gives the payload as written.
``execution_requests``      StartExecution accepted names with spaces or ``<>``,
                            names over 80 characters, inputs over 256 KiB and
                            input that is not JSON (answered with an empty
                            code); refused now as AWS refuses them. moto
                            refused a name used before for every workflow; an
                            EXPRESS workflow manages no idempotency, so the
                            name starts another execution (replay runs a
                            redelivered order again).
``test_state_api``          moto does not serve TestState; the local stack
                            serves it (``breakwater.local.test_state``): mocks,
                            variables, context, ``stateName``, inspection levels.
``sync_host``               in-process clients send StartSyncExecution and
                            TestState to ``sync-states.<region>``, a host moto
                            did not route (404 "Not yet implemented").
``wait_timestamps``         a JSONata Wait ``Timestamp`` that is not ISO-8601
                            failed as ``States.Runtime``; AWS reports the field's
                            evaluation failing (``EvaluationFailed``).
``timeout_path_failure``    a ``TimeoutSecondsPath`` that finds nothing failed
                            the execution twice, the first cause unprefixed;
                            now once, prefixed, as AWS records it.
``map_items_cause``         a Map whose items are not an array named a Python
                            class in its cause; AWS writes the value as JSON.
``branch_error_names``      a Map iteration or Parallel branch failing with a
                            ``States.`` error failed its parent with
                            ``States.Runtime`` ("Custom Error Names MUST NOT
                            begin with ..."); now with the branch's error.
==========================  ===================================================
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator

from breakwater.local.compat.base import Patch
from breakwater.local.compat.cloudformation_sfn import substitute_definition
from breakwater.local.compat.lambda_environments import code_dir_for_zip, function_endpoint
from breakwater.local.compat.timestamps import iso_timestamp, parse_rfc3339

__all__ = [
    "PATCHES",
    "Patch",
    "apply",
    "code_dir_for_zip",
    "disabled",
    "function_endpoint",
    "iso_timestamp",
    "parse_rfc3339",
    "substitute_definition",
]

MODULES = (
    "jsonata_evaluator",
    "timestamps",
    "start_time",
    "parse_once",
    "task_clients",
    "dynamodb_atomic_writes",
    "sqs_event_source",
    "lambda_environments",
    "cloudformation_sfn",
    "cloudformation_updates",
    "execution_names",
    "cloudformation_sam",
    "start_sync_execution",
    "cloudformation_alarms",
    "events_schedule_rules",
    "template_json",
    "kms_keys_lazy",
    "states_all_terminal",
    "operation_models",
    "execution_type",
    "stop_execution",
    "redrive_execution",
    "execution_logs",
    "streams_endpoint",
    "cloudformation_reads",
    "cloudformation_table_ttl",
    "cloudformation_apigatewayv2",
    "evaluation_failed",
    "assign_after_state",
    "assign_literals",
    "execution_output",
    "service_errors",
    "dynamodb_item_api",
    "sqs_send_message",
    "task_null_members",
    "runtime_error_causes",
    "redrive_count",
    "sdk_http_metadata",
    "lambda_not_found",
    "lambda_task_cause",
    "execution_requests",
    "test_state_api",
    "sync_host",
    "wait_timestamps",
    "timeout_path_failure",
    "map_items_cause",
    "branch_error_names",
)


def _collect() -> dict[str, Patch]:
    patches: dict[str, Patch] = {}
    for name in MODULES:
        patch = importlib.import_module(f"{__name__}.{name}").PATCH
        patches[patch.name] = patch
    return patches


PATCHES: dict[str, Patch] = _collect()
_APPLY_LOCK = threading.Lock()


WARM_SERVICES = (
    "lambda",
    "s3",
    "cloudformation",
    "dynamodb",
    "sqs",
    "stepfunctions",
    "iam",
    "logs",
    "secretsmanager",
    "events",
    "cloudwatch",
)


def warm_up() -> None:
    """Load moto's request routers now, not inside the first concurrent executions.

    moto builds a service's router lazily by listing botocore's ~600 data folders;
    done for the first time by dozens of busy threads at once, that listing takes
    seconds and pushes the first Lambda calls past their TimeoutSeconds.
    """
    from moto.core.routing import get_service_router

    for service in WARM_SERVICES:
        get_service_router(service)


def apply() -> None:
    """Install every patch (idempotent) and warm moto's routers."""
    with _APPLY_LOCK:
        for patch in PATCHES.values():
            patch.install()
    warm_up()


@contextlib.contextmanager
def disabled(name: str) -> Iterator[None]:
    """Remove one patch inside the block (tests use this to prove it is needed)."""
    patch = PATCHES[name]
    was_active = patch.active
    patch.remove()
    try:
        yield
    finally:
        if was_active:
            patch.install()
