"""CloudWatch alarms: new alarms start in INSUFFICIENT_DATA (as in AWS, moto said OK) and the
PutCompositeAlarm API exists (moto had composite alarms in DescribeAlarms but no way to create one).
"""

from __future__ import annotations

from typing import Any

from moto.cloudwatch.models import Alarm
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult, EmptyResult

from keel.local.extensions import Extension

INITIAL_STATE = "INSUFFICIENT_DATA"


def put_composite_alarm(self: CloudWatchResponse) -> ActionResult:
    self.cloudwatch_backend.put_metric_alarm(
        name=self._get_param("AlarmName"),
        namespace=None,  # type: ignore[arg-type]
        metric_name=None,  # type: ignore[arg-type]
        comparison_operator=None,  # type: ignore[arg-type]
        evaluation_periods=None,  # type: ignore[arg-type]
        period=None,  # type: ignore[arg-type]
        threshold=None,  # type: ignore[arg-type]
        statistic=None,  # type: ignore[arg-type]
        description=self._get_param("AlarmDescription"),
        dimensions=[],
        alarm_actions=self._get_param("AlarmActions", []),
        ok_actions=self._get_param("OKActions", []),
        insufficient_data_actions=self._get_param("InsufficientDataActions", []),
        actions_enabled=self._get_bool_param("ActionsEnabled", True),
        rule=self._get_param("AlarmRule"),
        tags=self._get_param("Tags", []),
    )
    return EmptyResult()


def install() -> None:
    original_init = Alarm.__init__

    def init(self: Alarm, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.state_value = INITIAL_STATE

    Alarm.__init__ = init  # type: ignore[method-assign]
    CloudWatchResponse.put_composite_alarm = put_composite_alarm  # type: ignore[attr-defined]


EXTENSION = Extension(
    name="cloudwatch-alarms",
    kind="api",
    what="new alarms start INSUFFICIENT_DATA; PutCompositeAlarm API",
    why="moto started alarms OK (hiding untested alarm paths) and could not create composite alarms",
    upstream=True,
    install=install,
)
