"""Patch ``cloudformation_alarms``: moto's CloudFormation skips ``AWS::CloudWatch::Alarm``; create it in moto's
CloudWatch, as PutMetricAlarm would (moto stores alarms; it does not evaluate them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.cloudformation import parsing as cfn_parsing

from breakwater.local.compat.base import Patch

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


PATCH = Patch(
    "cloudformation_alarms",
    "CloudFormation creates AWS::CloudWatch::Alarm in moto's CloudWatch",
    [(cfn_parsing, "resource_class_from_type", _resource_class_with_alarms)],
)
