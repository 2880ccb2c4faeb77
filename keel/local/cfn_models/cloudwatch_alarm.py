"""AWS::CloudWatch::Alarm and AWS::CloudWatch::CompositeAlarm through moto's CloudWatch backend.

moto skips both types. (AWS::CloudWatch::Dashboard is moto's own model and works.)
"""

from __future__ import annotations

import contextlib
from typing import Any, Self

from moto.cloudwatch.models import (
    CloudWatchBackend,
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)
from typing_extensions import override

from keel.local.cfn_models.base import KeelModel, Properties, as_bool, tag_list
from keel.local.cfn_models.registry import register
from keel.local.extensions import Extension


def metric_data_queries(properties: Properties) -> list[MetricDataQuery] | None:
    queries = []
    for query in properties.get("Metrics") or []:
        stat = query.get("MetricStat")
        metric_stat = None
        if stat:
            metric = stat["Metric"]
            metric_stat = MetricStat(
                metric=Metric(
                    metric_name=metric.get("MetricName"),
                    namespace=metric.get("Namespace"),
                    dimensions=[Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions") or []],
                ),
                period=stat.get("Period"),
                stat=stat.get("Stat"),
                unit=stat.get("Unit"),
            )
        queries.append(
            MetricDataQuery(
                query_id=query["Id"],
                label=query.get("Label"),
                period=query.get("Period"),
                return_data=query.get("ReturnData"),
                expression=query.get("Expression"),
                metric_stat=metric_stat,
            )
        )
    return queries or None


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    return None if value is None else kind(value)


class _AlarmBase(KeelModel):
    NAME_PROPERTY = "AlarmName"
    CREATE_ONLY = ("AlarmName",)
    ATTRIBUTES = ("Arn",)

    def _backend(self) -> CloudWatchBackend:
        return cloudwatch_backends[self.account_id][self.region_name]

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        alarm = cls(account_id=account_id, region_name=region_name, physical_id=name, properties={})
        alarm.apply(properties)
        return alarm

    def _common(self, properties: Properties) -> dict[str, Any]:
        return {
            "name": self.physical_id,
            "description": properties.get("AlarmDescription"),
            "alarm_actions": list(properties.get("AlarmActions") or []),
            "ok_actions": list(properties.get("OKActions") or []),
            "insufficient_data_actions": list(properties.get("InsufficientDataActions") or []),
            "actions_enabled": as_bool(properties.get("ActionsEnabled"), default=True),
            "tags": tag_list(properties),
        }

    @override
    def remove(self) -> None:
        with contextlib.suppress(KeyError):
            self._backend().delete_alarms([self.physical_id])

    @override
    def attribute(self, name: str) -> str:
        return self._backend().alarms[self.physical_id].alarm_arn


class Alarm(_AlarmBase):
    TYPE = "AWS::CloudWatch::Alarm"

    @override
    def apply(self, properties: Properties) -> None:
        arguments: dict[str, Any] = self._common(properties) | {
            "namespace": properties.get("Namespace"),
            "metric_name": properties.get("MetricName"),
            "statistic": properties.get("Statistic"),
        }
        self._backend().put_metric_alarm(
            **arguments,
            comparison_operator=properties["ComparisonOperator"],
            evaluation_periods=int(properties["EvaluationPeriods"]),
            period=_number(properties.get("Period"), int),
            threshold=_number(properties.get("Threshold"), float),
            dimensions=list(properties.get("Dimensions") or []),
            metric_data_queries=metric_data_queries(properties),
            datapoints_to_alarm=_number(properties.get("DatapointsToAlarm"), int),
            extended_statistic=properties.get("ExtendedStatistic"),
            unit=properties.get("Unit"),
            treat_missing_data=properties.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=properties.get("EvaluateLowSampleCountPercentile"),
            threshold_metric_id=properties.get("ThresholdMetricId"),
        )


class CompositeAlarm(_AlarmBase):
    TYPE = "AWS::CloudWatch::CompositeAlarm"

    @override
    def apply(self, properties: Properties) -> None:
        self._backend().put_metric_alarm(
            **self._common(properties),
            namespace=None,  # type: ignore[arg-type]
            metric_name=None,  # type: ignore[arg-type]
            comparison_operator=None,  # type: ignore[arg-type]
            evaluation_periods=None,  # type: ignore[arg-type]
            period=None,  # type: ignore[arg-type]
            threshold=None,  # type: ignore[arg-type]
            statistic=None,  # type: ignore[arg-type]
            dimensions=[],
            rule=properties["AlarmRule"],
        )


def install() -> None:
    register(Alarm, CompositeAlarm)


EXTENSION = Extension(
    name="cfn-cloudwatch-alarms",
    kind="cfn-model",
    what="AWS::CloudWatch::Alarm (incl. metric math `Metrics`) and AWS::CloudWatch::CompositeAlarm",
    why="moto skips both types: no alarm existed locally",
    upstream=True,
    install=install,
)
