"""Training-pipeline metrics from SageMaker's execution status events: executions by end status, retrainings
by reason (when an execution starts) and the validation outcome (when it ends).

The reason comes from the execution's display name (`keel-<trigger source>-<time>-...`, as the triggers and
the local runner name executions) and, for alarm-triggered runs, from the TriggerReason parameter (which
alarm family: drift or model quality). A bounded set of values, so it can be a metric dimension.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from keel.monitoring.aws_errors import error_code, raise_if_denied
from keel.monitoring.metrics import pipeline_data, put_metric_data
from keel.monitoring.runtime_settings import PublisherSettings

PIPELINE_STATUS_DETAIL_TYPE = "SageMaker Model Building Pipeline Execution Status Change"
TERMINAL = ("Succeeded", "Failed", "Stopped")


class CorruptSummaryError(ValueError):
    """The execution's validation summary exists but is not a JSON object; the message names the object."""


_SOURCES = {
    "schedule": "schedule",
    "cli": "manual",
    "manual": "manual",
    "s3": "data",
    "s3-event": "data",
    "data": "data",
    "kinesis": "stream",
    "stream": "stream",
    "api": "feedback",
    "file": "feedback",
    "feedback": "feedback",
    "alarm": "alarm",
}


def retrain_reason(
    display_name: str | None, trigger_reason: str | None, alarm_prefixes: Mapping[str, str]
) -> str:
    """drift | model-quality | alarm | schedule | data | stream | feedback | manual | other."""
    if trigger_reason and trigger_reason.startswith("alarm "):
        alarm = trigger_reason.removeprefix("alarm ").split(":", 1)[0].strip()
        for reason, prefix in alarm_prefixes.items():
            if alarm.startswith(prefix):
                return reason
        return "alarm"
    name = display_name or ""
    if name.startswith("keel-"):
        rest = name.removeprefix("keel-")
        for source in sorted(_SOURCES, key=len, reverse=True):
            if rest.startswith(f"{source}-"):
                return _SOURCES[source]
    return "other"


class PipelineMetrics:
    def __init__(
        self,
        settings: PublisherSettings,
        *,
        sagemaker: Any,
        s3: Any,
        cloudwatch: Any,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings, self.sagemaker, self.s3, self.cloudwatch, self.clock = (
            settings,
            sagemaker,
            s3,
            cloudwatch,
            clock,
        )

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        detail = event.get("detail") or {}
        pipeline_arn = str(detail.get("pipelineArn", ""))
        if not pipeline_arn.endswith(f":pipeline/{self.settings.pipeline_name}"):
            return {"status": "ignored", "reason": f"not Keel's pipeline: {pipeline_arn!r}"}
        execution_arn = str(detail.get("pipelineExecutionArn", ""))
        status = str(detail.get("currentPipelineExecutionStatus", ""))
        common: dict[str, Any] = {"environment": self.settings.environment, "timestamp": self.clock()}
        if status == "Executing":
            reason = retrain_reason(
                detail.get("pipelineExecutionDisplayName"),
                self._trigger_reason(execution_arn),
                self.settings.alarm_prefixes,
            )
            data = pipeline_data(retrain_reason=reason, **common)
        elif status in TERMINAL:
            data = pipeline_data(status=status, validation=self._validation(execution_arn), **common)
        else:
            return {"status": "ignored", "reason": f"status {status!r}"}
        put_metric_data(self.cloudwatch, data)
        return {
            "status": "published",
            "execution": execution_arn,
            "pipeline_status": status,
            "metrics": len(data),
        }

    def _trigger_reason(self, execution_arn: str) -> str | None:
        """The execution's TriggerReason parameter; None if it has none or SageMaker does not know the
        execution (then the display name decides the reason). Denied or failing calls raise."""
        pages = self.sagemaker.get_paginator("list_pipeline_parameters_for_execution")
        try:
            for page in pages.paginate(PipelineExecutionArn=execution_arn):
                for parameter in page.get("PipelineParameters", []):
                    if parameter.get("Name") == "TriggerReason":
                        return str(parameter.get("Value"))
        except ClientError as error:
            if error_code(error) == "ResourceNotFound":
                return None
            raise_if_denied(error, "sagemaker:ListPipelineParametersForExecution", execution_arn)
            raise
        return None

    def _validation(self, execution_arn: str) -> dict[str, Any] | None:
        """The combined validation summary of the execution; None if the run did not get that far (no such
        key: the role may list the prefix, so S3 answers a missing key with NoSuchKey, not AccessDenied)."""
        execution_id = execution_arn.rsplit("/", 1)[-1]
        key = f"pipeline/{self.settings.pipeline_name}/{execution_id}/validation/summary.json"
        uri = f"s3://{self.settings.reports_bucket}/{key}"
        try:
            body = self.s3.get_object(Bucket=self.settings.reports_bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error_code(error) in ("NoSuchKey", "404"):
                return None
            raise_if_denied(error, "s3:GetObject", uri)
            raise
        try:
            document = json.loads(body)
        except ValueError as error:
            raise CorruptSummaryError(f"{uri}: not valid JSON ({error})") from None
        if not isinstance(document, dict):
            raise CorruptSummaryError(f"{uri}: expected a JSON object, got {type(document).__name__}")
        return document
