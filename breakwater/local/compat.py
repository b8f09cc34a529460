"""The compatibility layer: what moto 5.2.5 lacks to run Breakwater faithfully.

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
                            of its own (``lambda_runtime``): the function's
                            Handler, Environment and Timeout, errors named as
                            Lambda names them, ``Sandbox.Timedout`` past it.
``dynamodb_atomic_writes``  moto checks a ConditionExpression and then writes
                            without a lock: two threads can both pass
                            ``probesInFlight < :max``. DynamoDB evaluates the
                            condition and the write atomically; so do we.
``parse_once``              moto parses the whole definition with ANTLR for
                            every execution (about 0.2 s for this workflow);
                            parse each definition once and hand every execution
                            its own deep copy.
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
==========================  ===================================================
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import functools
import hashlib
import io
import json
import logging
import os
import shutil
import threading
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.awslambda import models as lambda_models
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation import utils as cfn_utils
from moto.core.config import default_user_config
from moto.dynamodb.models import DynamoDBBackend
from moto.events import models as events_models
from moto.settings import moto_server_port
from moto.stepfunctions import models as sfn_models
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.parser import models as sfn_parser_models
from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.query_language import QueryLanguageMode
from moto.stepfunctions.parser.asl.component.common.string import string_expression
from moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations import (
    is_operator,
)
from moto.stepfunctions.parser.asl.eval import variable_store as variable_store_module
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata
from moto.stepfunctions.parser.backend import execution_worker

from breakwater.local import jsonata, lambda_runtime

_SENTINEL = object()
_FUNCTION_LOG = logging.getLogger("breakwater.local.functions")


@dataclass
class Patch:
    """A set of attribute replacements that can be installed and removed."""

    name: str
    description: str
    targets: list[tuple[Any, str, Any]]
    _originals: list[tuple[Any, str, Any]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self._originals)

    def install(self) -> None:
        if self.active:
            return
        for owner, attribute, replacement in self.targets:
            self._originals.append((owner, attribute, owner.__dict__.get(attribute, _SENTINEL)))
            setattr(owner, attribute, replacement)

    def remove(self) -> None:
        for owner, attribute, original in reversed(self._originals):
            if original is _SENTINEL:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)
        self._originals.clear()


# --- JSONata evaluation -------------------------------------------------------

_STATES_VARIABLE = "states"
_STATES_MEMBERS = ("input", "context", "result", "errorOutput")


@functools.lru_cache(maxsize=4096)
def _variable_references(expression: str) -> tuple[str, ...]:
    """The ``$name`` and ``$states.member`` references of an expression (moto's own scan), found once per text."""
    return tuple(sorted(moto_jsonata.extract_jsonata_variable_references(expression)))


def jsonata_bindings(env: Any, expression: str, with_states: bool = True) -> dict[str, Any]:
    """The variables an expression reads, as Step Functions binds them: ``$states`` and the workflow's variables."""
    bindings: dict[str, Any] = {}
    states: dict[str, Any] = {}
    states_data = env.states._states_data
    for reference in _variable_references(expression):
        head, _, rest = reference[1:].partition(".")
        if head == _STATES_VARIABLE:
            member = rest.partition(".")[0]
            if not with_states:
                continue
            if not member:
                states = dict(states_data)
            elif member in _STATES_MEMBERS and member in states_data:
                states[member] = states_data[member]
            continue
        with contextlib.suppress(variable_store_module.NoSuchVariable):
            bindings[head] = env.variable_store.get(head)
    if states:
        bindings[_STATES_VARIABLE] = states
    return bindings


def _query_evaluation_failure(env: Any, cause: str) -> FailureEventException:
    """The failure Step Functions reports for an expression: ``States.QueryEvaluationError`` (moto: States.Runtime)."""
    error_name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    details = EvaluationFailedEventDetails(error=error_name.error_name, cause=cause)
    event = FailureEvent(
        env=env,
        error_name=error_name,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(evaluationFailedEventDetails=details),  # type: ignore[typeddict-item]
    )
    return FailureEventException(failure_event=event)


def evaluate_jsonata(env: Any, expression: str, with_states: bool = True) -> Any:
    """Evaluate one ``{% %}`` expression with its variables as bindings, as Step Functions does."""
    try:
        result = jsonata.evaluate(expression, jsonata_bindings(env, expression, with_states))
    except jsonata.JSONataError as exc:
        cause = f"An error occurred while evaluating the expression '{expression}': {exc}"
        raise _query_evaluation_failure(env, cause) from exc
    if result is jsonata.UNDEFINED:
        raise _query_evaluation_failure(env, f"The JSONata expression '{expression}' returned nothing (undefined).")
    return result


def _string_jsonata_body(self: Any, env: Any) -> None:
    env.stack.append(evaluate_jsonata(env, self.expression))


def _variable_sample_body(self: Any, env: Any) -> None:
    # A ``$var`` reference (JSONPath states too); in JSONata states ``$states`` is bound as well.
    with_states = self.query_language_mode == QueryLanguageMode.JSONata
    env.stack.append(evaluate_jsonata(env, self.expression, with_states))


def _jsonata_evaluator_targets() -> list[tuple[Any, str, Any]]:
    return [
        (string_expression.StringJSONata, "_eval_body", _string_jsonata_body),
        (string_expression.StringVariableSample, "_eval_body", _variable_sample_body),
    ]


# --- timestamps -----------------------------------------------------------------


def iso_timestamp(moment: dt.datetime) -> str:
    """Format as Step Functions does: UTC, milliseconds, ``Z``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_rfc3339(value: str) -> dt.datetime | None:
    """Parse an RFC 3339 timestamp (``T`` and ``Z`` upper-case, optional fraction or offset).

    Returns a naive UTC datetime, so any two results compare correctly.
    """
    if not isinstance(value, str) or len(value) < 20 or value[10] != "T":
        return None
    if not (value.endswith("Z") or value[-6] in "+-"):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


# --- execution context ------------------------------------------------------------

_original_environment = execution_worker.ExecutionWorker._get_evaluation_environment


def _environment_with_string_start_time(self: Any) -> Any:
    env = _original_environment(self)
    execution = env.states._states_data["context"]["Execution"]
    start = execution.get("StartTime")
    if isinstance(start, dt.datetime):
        execution["StartTime"] = iso_timestamp(start)
    return env


# --- parsing ---------------------------------------------------------------------------

_PARSED: dict[str, Any] = {}
_PARSED_LOCK = threading.Lock()


def _parsed_entrypoint(self: Any) -> Any:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    definition = self._evaluation_details.state_machine_details.definition
    with _PARSED_LOCK:
        program = _PARSED.get(definition)
        if program is None:
            program = AmazonStateLanguageParser.parse(definition)[0]
            _PARSED[definition] = program
    return copy.deepcopy(program)


# --- DynamoDB: atomic conditional writes ---------------------------------------------------

# Reads take the lock too: a GetItem never sees an UpdateItem half applied.
_DYNAMODB_WRITE_LOCK = threading.RLock()
_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "get_item")


def _atomic(method: Any) -> Any:
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _DYNAMODB_WRITE_LOCK:
            return method(self, *args, **kwargs)

    write.__name__ = method.__name__
    write.__doc__ = method.__doc__
    return write


def _dynamodb_atomic_targets() -> list[tuple[Any, str, Any]]:
    return [(DynamoDBBackend, name, _atomic(getattr(DynamoDBBackend, name))) for name in _DYNAMODB_WRITES]


# --- SQS event sources --------------------------------------------------------------------

_original_create_esm = lambda_models.LambdaBackend.create_event_source_mapping


def _create_esm_without_sync_trigger(self: Any, spec: dict[str, Any]) -> Any:
    """Create the mapping, but keep moto from invoking the function inside SendMessage or a table write."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.sqs.models import sqs_backends

    esm = _original_create_esm(self, spec)
    for queue in sqs_backends[self.account_id][self.region_name].queues.values():
        queue.lambda_event_source_mappings.pop(esm.function_arn, None)
    for table in dynamodb_backends[self.account_id][self.region_name].tables.values():
        table.lambda_event_source_mappings.pop(esm.function_arn, None)
    return esm


# --- Lambda ------------------------------------------------------------------------


_CODE_CACHE = Path(os.environ.get("BREAKWATER_CODE_CACHE", Path.home() / ".cache" / "breakwater" / "code"))
_FUNCTION_ENDPOINT: list[str] = []  # where the functions' own AWS calls go (the stack that runs them)


def serve_functions_at(endpoint: str | None) -> str | None:
    """The endpoint of the stack whose functions run here (their own AWS calls go there); returns the previous one."""
    previous = _FUNCTION_ENDPOINT[0] if _FUNCTION_ENDPOINT else None
    _FUNCTION_ENDPOINT[:] = [endpoint] if endpoint else []
    return previous


def function_endpoint() -> str:
    return _FUNCTION_ENDPOINT[0] if _FUNCTION_ENDPOINT else f"http://127.0.0.1:{moto_server_port()}"


def code_dir_for_zip(code: bytes, digest: str | None = None) -> Path:
    """Unpack a deployment package once (by its SHA-256) and return its folder: the environment's task root."""
    name = (digest or hashlib.sha256(code).hexdigest()).replace("/", "_").replace("+", "-")[:43]
    target = _CODE_CACHE / name
    if not target.is_dir():
        staging = _CODE_CACHE / f".{name}.{uuid.uuid4().hex}"
        staging.mkdir(parents=True)
        with zipfile.ZipFile(io.BytesIO(code)) as archive:
            archive.extractall(staging)
        with contextlib.suppress(OSError):  # another thread unpacked it first
            staging.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
    return target


def logical_id_of(fn: Any) -> str | None:
    """The logical id of the stack resource that created ``fn`` (what ``sam local start-lambda`` calls it)."""
    from moto.cloudformation.models import cloudformation_backends

    for stack in cloudformation_backends[fn.account_id][fn.region].stacks.values():
        for logical_id, resource in stack.resource_map.items():
            if getattr(resource, "function_name", None) == fn.function_name:
                return str(logical_id)
    return None


def function_spec(fn: Any) -> lambda_runtime.FunctionSpec:
    """Describe a moto Lambda function for the local runtime: its deployed package, settings and environment."""
    from breakwater.local.build import runtime_dir

    return lambda_runtime.FunctionSpec(
        name=fn.function_name,
        handler=fn.handler,
        code_dir=code_dir_for_zip(fn.code_bytes, getattr(fn, "code_sha_256", None)),
        environment={"AWS_ENDPOINT_URL": function_endpoint(), **dict(fn.environment_vars or {})},
        timeout_seconds=float(fn.timeout or 3),
        memory_mb=int(fn.memory_size or 128),
        arn=fn.function_arn,
        runtime_dir=runtime_dir(),
        logical_id=logical_id_of(fn) if lambda_runtime.remote_endpoint() else None,
        region=fn.region,
    )


def _invoke_in_environment(self: Any, body: str, request_headers: Any, response_headers: Any) -> bytes:
    event = json.loads(body) if body else {}
    spec = function_spec(self)
    result = lambda_runtime.invoke(spec, event)
    if result.failed:
        response_headers["x-amz-function-error"] = "Unhandled"
    # As Lambda does for RequestResponse calls: the last 4 KB of the log, base64.
    response_headers["x-amz-log-result"] = base64.b64encode(result.logs.encode()[-4096:]).decode()
    if result.logs:
        _FUNCTION_LOG.debug("%s: %s", spec.name, result.logs.rstrip())
    return result.payload_bytes()


# --- CloudFormation: AWS::StepFunctions::StateMachine ---------------------------------


def substitute_definition(definition: Any, substitutions: dict[str, Any]) -> str:
    """Apply ``DefinitionSubstitutions`` to a definition, as the service does.

    Only ``${Name}`` for names in ``substitutions`` is replaced; everything else
    (``$states``, ``$$.Execution``) is left alone.
    """
    text = definition if isinstance(definition, str) else json.dumps(definition)
    for name, value in substitutions.items():
        text = text.replace("${" + name + "}", str(value))
    return text


def _sfn_backend(account_id: str, region_name: str) -> Any:
    if default_user_config.get("stepfunctions", {}).get("execute_state_machine", False):
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        return stepfunctions_parser_backends[account_id][region_name]
    return sfn_models.stepfunctions_backends[account_id][region_name]


def _definition_from_s3(location: dict[str, str], account_id: str) -> str:
    from moto.s3.models import s3_backends

    key = s3_backends[account_id]["aws"].get_object(location["Bucket"], location["Key"])
    return key.value.decode("utf-8")  # type: ignore[union-attr]


def _create_state_machine_from_cfn(
    cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> Any:
    properties = cloudformation_json["Properties"]
    name = properties.get("StateMachineName", resource_name)
    definition_string = _definition_string(properties, account_id)
    tags = sfn_models.cfn_to_api_tags(properties.get("Tags", []))
    backend = _sfn_backend(account_id, region_name)
    return backend.create_state_machine(
        name,
        definition_string,
        properties.get("RoleArn", ""),
        tags=tags,
        sm_type=properties.get("StateMachineType", "STANDARD"),
        loggingConfiguration=properties.get("LoggingConfiguration"),
        tracingConfiguration=properties.get("TracingConfiguration"),
    )


def _definition_string(properties: dict[str, Any], account_id: str) -> str:
    """The definition a state machine resource describes, its ``DefinitionSubstitutions`` applied."""
    definition = properties.get("DefinitionString") or properties.get("Definition") or ""
    if not definition and properties.get("DefinitionS3Location"):
        definition = _definition_from_s3(properties["DefinitionS3Location"], account_id)
    return substitute_definition(definition, properties.get("DefinitionSubstitutions") or {})


def _delete_state_machine_from_cfn(
    cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    _sfn_backend(account_id, region_name).delete_state_machine(resource_name)


# --- CloudFormation: stack updates ------------------------------------------------------------

_original_parse_and_update_resource = cfn_parsing.parse_and_update_resource


def _update_state_machine_from_cfn(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> Any:
    """Update in place (new definition, substitutions, role, logging, tracing); a new name or type replaces it."""
    properties = cloudformation_json["Properties"]
    name = properties.get("StateMachineName", original_resource.name)
    backend = _sfn_backend(account_id, region_name)
    if name != original_resource.name or properties.get("StateMachineType", "STANDARD") != original_resource.type:
        replacement = _create_state_machine_from_cfn(cls, name, cloudformation_json, account_id, region_name)
        backend.delete_state_machine(original_resource.arn)
        return replacement
    return backend.update_state_machine(
        original_resource.arn,
        definition=_definition_string(properties, account_id),
        role_arn=properties.get("RoleArn") or None,
        logging_configuration=properties.get("LoggingConfiguration"),
        tracing_configuration=properties.get("TracingConfiguration"),
    )


def _update_resource_or_keep(
    logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str, region_name: str
) -> Any:
    """moto's update answers None for a type it cannot update (e.g. AWS::Logs::LogGroup) and stores that
    None as the resource: keep the resource that exists instead (its properties stay as created)."""
    updated = _original_parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region_name)
    if updated is None:
        return resources_map._parsed_resources.get(logical_id)
    return updated


# --- Step Functions: execution names ------------------------------------------------------------

_original_parser_start_execution = sfn_parser_models.StepFunctionsParserBackend.start_execution


def _start_execution_named(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
    """StartExecution without a name: the execution is named with a UUID, as on AWS."""
    return _original_parser_start_execution(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)


# --- CloudFormation: the SAM transform, change sets, template URLs ------------------------

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_original_parse_template = cfn_models.Stack.parse_template
_original_change_set_parse = cfn_models.ChangeSet._parse_template
_original_execute_change_set = cfn_models.CloudFormationBackend.execute_change_set


def _expand_sam(template: dict[str, Any], parameter_values: dict[str, Any], region: str) -> dict[str, Any]:
    transforms = template.get("Transform") if isinstance(template, dict) else None
    names = transforms if isinstance(transforms, list) else [transforms]
    if SAM_TRANSFORM not in names:
        return template
    from breakwater.template import translate

    return translate(template, {k: str(v) for k, v in (parameter_values or {}).items()}, region)


def _parse_template_with_sam(template: str) -> dict[str, Any]:
    return _expand_sam(_original_parse_template(template), {}, "us-east-1")


def _change_set_parse_with_sam(self: Any) -> None:
    _original_change_set_parse(self)
    self.template_dict = _expand_sam(self.template_dict, self.parameters, self.stack.region_name)


def _execute_change_set_with_outputs(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    _original_execute_change_set(self, change_set_name, stack_name)
    change_set = self.change_sets.get(change_set_name) or next(
        cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name
    )
    stack = self.stacks[change_set.stack_id]
    stack.template_dict = change_set.template_dict
    stack.output_map = cfn_models.OutputMap(stack.resource_map, stack.template_dict, stack.stack_id)


def _stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
    """Read a TemplateURL; path-style also for ``127.0.0.1`` (moto knows only ``localhost``)."""
    from urllib.parse import urlparse

    parts = urlparse(template_url)
    if parts.hostname in ("127.0.0.1", "::1"):
        template_url = template_url.replace(parts.netloc, f"localhost:{parts.port}" if parts.port else "localhost", 1)
    return _original_stack_from_s3_url(template_url, account_id, partition)


_original_stack_from_s3_url = cfn_utils.get_stack_from_s3_url


# --- StartSyncExecution ---------------------------------------------------------------------

SYNC_TIMEOUT_SECONDS = 300.0


def _start_sync_execution(self: Any) -> Any:
    """StartSyncExecution: start, wait for the end, answer with the result (EXPRESS workflows)."""
    import time as _time

    from moto.core.responses import ActionResult

    backend = self.stepfunction_backend
    arn = self._get_param("stateMachineArn")
    name = self._get_param("name") or f"sync-{_time.time_ns()}"
    execution = backend.start_execution(arn, name, self._get_param("input", if_none="{}"))
    deadline = _time.monotonic() + SYNC_TIMEOUT_SECONDS
    while execution.status == "RUNNING" and _time.monotonic() < deadline:
        _time.sleep(0.01)
    response: dict[str, Any] = {
        "executionArn": execution.execution_arn,
        "stateMachineArn": arn,
        "name": name,
        "startDate": execution.start_date,
        "stopDate": execution.stop_date,
        "status": execution.status if execution.status != "RUNNING" else "TIMED_OUT",
        "input": execution.execution_input,
        "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100},
    }
    if execution.output is not None:
        response["output"] = execution.output if isinstance(execution.output, str) else json.dumps(execution.output)
    if execution.error is not None:
        response["error"] = execution.error
    if execution.cause is not None:
        response["cause"] = execution.cause
    return ActionResult(response)


# --- registry ---------------------------------------------------------------------------


# --- CloudFormation: CloudWatch alarms ------------------------------------------------------

ALARM_TYPE = "AWS::CloudWatch::Alarm"
_original_resource_class_from_type = cfn_parsing.resource_class_from_type


def _cloudwatch_backend(account_id: str, region_name: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account_id][region_name]


@dataclass
class StackAlarm:
    """An alarm a stack created: what CloudFormation needs of it (Ref is the name, GetAtt Arn)."""

    name: str
    arn: str

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def has_cfn_attr(attribute: str) -> bool:
        return attribute == "Arn"

    def is_created(self) -> bool:
        return True

    def get_cfn_attribute(self, attribute: str) -> str:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute != "Arn":
            raise UnformattedGetAttTemplateException()
        return self.arn

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> StackAlarm:
        properties = cloudformation_json["Properties"]
        if properties.get("Metrics"):
            raise NotImplementedError("the local stack creates single-metric alarms only (no metric math)")
        name = properties.get("AlarmName") or resource_name
        alarm = _cloudwatch_backend(account_id, region_name).put_metric_alarm(
            name=name,
            namespace=properties.get("Namespace"),
            metric_name=properties.get("MetricName"),
            comparison_operator=properties["ComparisonOperator"],
            evaluation_periods=int(properties["EvaluationPeriods"]),
            period=int(properties.get("Period", 60)),
            threshold=float(properties["Threshold"]),
            statistic=properties.get("Statistic"),
            description=properties.get("AlarmDescription"),
            dimensions=properties.get("Dimensions", []),
            alarm_actions=properties.get("AlarmActions", []),
            ok_actions=properties.get("OKActions", []),
            insufficient_data_actions=properties.get("InsufficientDataActions", []),
            datapoints_to_alarm=properties.get("DatapointsToAlarm"),
            extended_statistic=properties.get("ExtendedStatistic"),
            unit=properties.get("Unit"),
            actions_enabled=properties.get("ActionsEnabled", True) not in (False, "false"),
            treat_missing_data=properties.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=properties.get("EvaluateLowSampleCountPercentile"),
            tags=properties.get("Tags"),
        )
        return cls(alarm.name, alarm.alarm_arn)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: StackAlarm,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> StackAlarm:
        # An alarm keeps its name unless AlarmName changes it (then CloudFormation replaces the alarm).
        name = cloudformation_json["Properties"].get("AlarmName") or original_resource.name
        if name != original_resource.name:
            original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        _cloudwatch_backend(account_id, region_name).delete_alarms([resource_name])

    def delete(self, account_id: str, region_name: str) -> None:
        _cloudwatch_backend(account_id, region_name).delete_alarms([self.name])


def _resource_class_with_alarms(resource_type: str) -> Any:
    if resource_type == ALARM_TYPE:
        return StackAlarm
    return _original_resource_class_from_type(resource_type)


# --- EventBridge: schedule-only rules --------------------------------------------------------

_original_send_to_targets = events_models.Rule.send_to_targets


def _send_to_pattern_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
    """A rule with a schedule and no event pattern fires on its schedule only, never on PutEvents."""
    if self.scheduled_expression and not self.event_pattern.get_pattern():
        return
    _original_send_to_targets(self, original_event, transform_input)


def _build_patches() -> dict[str, Patch]:
    patches = [
        Patch(
            "jsonata_evaluator",
            "evaluate JSONata as Step Functions does (2.0.6, variables as bindings, each expression parsed once)",
            _jsonata_evaluator_targets(),
        ),
        Patch(
            "timestamps",
            "RFC 3339 timestamps with fractions and offsets in Timestamp* rules",
            [(is_operator.IsTimestamp, "string_to_timestamp", staticmethod(parse_rfc3339))],
        ),
        Patch(
            "start_time",
            "$$.Execution.StartTime as an ISO-8601 string",
            [(execution_worker.ExecutionWorker, "_get_evaluation_environment", _environment_with_string_start_time)],
        ),
        Patch(
            "dynamodb_atomic_writes",
            "conditional writes check and write as one step, as DynamoDB does",
            _dynamodb_atomic_targets(),
        ),
        Patch(
            "parse_once",
            "parse each definition once, not once per execution",
            [(execution_worker.ExecutionWorker, "_get_evaluation_entrypoint", _parsed_entrypoint)],
        ),
        Patch(
            "lambda_environments",
            "run each function from its deployed package in its own processes, errors named as Lambda names them",
            [(lambda_models.LambdaFunction, "invoke", _invoke_in_environment)],
        ),
        Patch(
            "sqs_event_source",
            "no synchronous Lambda invoke inside SendMessage or a table write (event_source pollers play the service)",
            [(lambda_models.LambdaBackend, "create_event_source_mapping", _create_esm_without_sync_trigger)],
        ),
        Patch(
            "cloudformation_sfn",
            "CloudFormation state machines honour Definition, DefinitionSubstitutions and type",
            [
                (
                    sfn_models.StateMachine,
                    "create_from_cloudformation_json",
                    classmethod(_create_state_machine_from_cfn),
                ),
                (
                    sfn_models.StateMachine,
                    "delete_from_cloudformation_json",
                    classmethod(_delete_state_machine_from_cfn),
                ),
            ],
        ),
        Patch(
            "start_sync_execution",
            "StartSyncExecution for EXPRESS workflows (served over HTTP by local up)",
            [(sfn_responses.StepFunctionResponse, "start_sync_execution", _start_sync_execution)],
        ),
        Patch(
            "cloudformation_sam",
            "the SAM transform, stack outputs after change sets, 127.0.0.1 template URLs (sam deploy)",
            [
                (cfn_models.Stack, "parse_template", staticmethod(_parse_template_with_sam)),
                (cfn_models.ChangeSet, "_parse_template", _change_set_parse_with_sam),
                (cfn_models.CloudFormationBackend, "execute_change_set", _execute_change_set_with_outputs),
                (cfn_responses, "get_stack_from_s3_url", _stack_from_s3_url),
            ],
        ),
        Patch(
            "cloudformation_alarms",
            "CloudFormation creates AWS::CloudWatch::Alarm in moto's CloudWatch",
            [(cfn_parsing, "resource_class_from_type", _resource_class_with_alarms)],
        ),
        Patch(
            "events_schedule_rules",
            "schedule-only EventBridge rules never match PutEvents events",
            [(events_models.Rule, "send_to_targets", _send_to_pattern_targets)],
        ),
        Patch(
            "execution_names",
            "an execution started without a name is named with a UUID",
            [(sfn_parser_models.StepFunctionsParserBackend, "start_execution", _start_execution_named)],
        ),
        Patch(
            "cloudformation_updates",
            "stack updates keep resources moto cannot update and update state machines in place",
            [
                (cfn_parsing, "parse_and_update_resource", _update_resource_or_keep),
                (
                    sfn_models.StateMachine,
                    "update_from_cloudformation_json",
                    classmethod(_update_state_machine_from_cfn),
                ),
            ],
        ),
    ]
    return {patch.name: patch for patch in patches}


PATCHES: dict[str, Patch] = _build_patches()
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
