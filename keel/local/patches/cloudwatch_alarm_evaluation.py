"""CloudWatch evaluates alarms in the local AWS: metric alarms from their stored metrics, composite alarms
from their children (`keel.local.alarm_evaluation`), on the local clock's ticks (`keel.local.timekeeper`)
or at once through `POST /moto-api/keel/cloudwatch/evaluate`. What moto stamps in CloudWatch (datapoints
put without a Timestamp, state changes) takes the local clock's time, so an advance ages them."""

from __future__ import annotations

from typing import Any

import moto.cloudwatch.models as cloudwatch_models
from moto.cloudwatch.models import Alarm

from keel.local import alarm_evaluation
from keel.local.extensions import Extension
from keel.local.timekeeper import CLOCK, naive_utc_now


def install() -> None:
    cloudwatch_models.utcnow = naive_utc_now
    original_init = Alarm.__init__

    def init(self: Alarm, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        # CloudWatch evaluates a new alarm within about a minute (a composite also when a child changes).
        setattr(self, alarm_evaluation.EVALUATED_AT, CLOCK.now())

    Alarm.__init__ = init  # type: ignore[method-assign]


EXTENSION = Extension(
    name="cloudwatch-alarm-evaluation",
    kind="fix",
    what="metric alarms are evaluated every minute of the local clock from their stored datapoints "
    "(Statistic, pNN of raw values, metric math: numbers, ids, + - * /, comparisons, IF; "
    "EvaluationPeriods, DatapointsToAlarm, TreatMissingData) and composite alarms whenever a child "
    "changes (AlarmRule: ALARM/OK/INSUFFICIENT_DATA of a name or ARN, TRUE, FALSE, NOT, AND, OR, "
    "parentheses); new states go through SetAlarmState's path; `POST /moto-api/keel/cloudwatch/evaluate` "
    "evaluates now; CloudWatch's own timestamps follow the local clock",
    why="moto never evaluated an alarm: states changed only through SetAlarmState, so Keel's scenario "
    "evaluated alarms itself and the composite model-health alarm stayed INSUFFICIENT_DATA while its "
    "child was in ALARM",
    upstream=True,
    install=install,
)
