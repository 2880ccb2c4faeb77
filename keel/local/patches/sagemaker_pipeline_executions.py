"""SageMaker pipeline executions whose status means something locally.

Stock moto marks every execution Succeeded the moment it starts, reports FailureReason "" (describe) or
"None" (list), creates a second execution for a retried start with the same ClientRequestToken and has
no StopPipelineExecution. Here:

- a new execution is Executing until someone says otherwise;
- StartPipelineExecution with a ClientRequestToken already used for that pipeline returns that
  execution (as SageMaker does) instead of starting another;
- StopPipelineExecution moves an Executing execution to Stopped (at once; SageMaker passes through
  Stopping) and answers its ARN; a retry with the same ClientRequestToken answers the same;
- the Keel-local action `KeelCompletePipelineExecution` (JSON: PipelineExecutionArn,
  PipelineExecutionStatus Succeeded|Failed|Stopped, FailureReason?) lets Keel's local runner, which
  runs the steps, record the outcome (`keel/local/runner/execution_status.py` sends it). Only an Executing
  execution can be completed;
- Describe/ListPipelineExecutions report that status, and the FailureReason only when there is one;
- the Keel-local action `KeelRecordPipelineExecutionStep` (JSON: PipelineExecutionArn, Step in the shape of
  a ListPipelineExecutionSteps item, times as ISO 8601) lets the runner record each step as it starts and
  ends; the job its Metadata names (created by the runner with CreateProcessingJob/CreateTrainingJob) takes
  the step's outcome (Completed/Failed/Stopped, FailureReason, end time), as SageMaker's own jobs would;
- ListPipelineExecutionSteps (moto: not implemented) answers those steps, newest first unless
  SortOrder=Ascending, paginated with MaxResults/NextToken.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
from moto.sagemaker.models import FakePipelineExecution, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import get_pipeline_from_name

from keel.local.extensions import Extension
from keel.local.runner.execution_status import (
    ACTION,
    COMPLETED_STATUSES,
    MAX_FAILURE_REASON,
    STEP_ACTION,
    STEP_STATUSES,
)
from keel.local.service_events import emit

EXECUTING = "Executing"
STOPPED = "Stopped"
KEEL_ACTIONS = (ACTION, STEP_ACTION)
_JOB_STATUS = {"Succeeded": "Completed", "Failed": "Failed", "Stopped": "Stopped"}

_original_init = FakePipelineExecution.__init__
_original_start = SageMakerModelBackend.start_pipeline_execution
_original_describe = SageMakerModelBackend.describe_pipeline_execution
_original_list = SageMakerModelBackend.list_pipeline_executions
_original_parse_parameters = SageMakerResponse.parse_parameters


def _execution(backend: SageMakerModelBackend, execution_arn: str | None) -> FakePipelineExecution:
    if not execution_arn:
        raise ValidationError("PipelineExecutionArn is required.")
    try:
        pipeline_name = execution_arn.split(":", 5)[5].split("/")[1]
        return backend.pipelines[pipeline_name].pipeline_executions[execution_arn]
    except (IndexError, KeyError):
        raise ResourceNotFound(f"Pipeline execution {execution_arn} does not exist.") from None


# -- backend ------------------------------------------------------------------------------------------
def _init(self: FakePipelineExecution, *args: Any, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    self.pipeline_execution_status = EXECUTING
    self.pipeline_execution_failure_reason = None
    self.keel_stop_token = None  # type: ignore[attr-defined]
    self.keel_steps = {}  # type: ignore[attr-defined]  # step name -> ListPipelineExecutionSteps item


def start_pipeline_execution(
    self: SageMakerModelBackend,
    pipeline_name: str,
    pipeline_execution_display_name: str,
    pipeline_parameters: list[dict[str, Any]],
    pipeline_execution_description: str,
    parallelism_configuration: dict[str, int],
    client_request_token: str,
) -> dict[str, str]:
    if client_request_token:  # a retried start is the same execution, as in SageMaker
        pipeline = get_pipeline_from_name(self.pipelines, pipeline_name)
        for execution in pipeline.pipeline_executions.values():
            if execution.client_request_token == client_request_token:
                return {"PipelineExecutionArn": execution.arn}
    started = _original_start(
        self,
        pipeline_name,
        pipeline_execution_display_name,
        pipeline_parameters,
        pipeline_execution_description,
        parallelism_configuration,
        client_request_token,
    )
    _status_event(_execution(self, started["PipelineExecutionArn"]), None)
    return started


def describe_pipeline_execution(self: SageMakerModelBackend, pipeline_execution_arn: str) -> dict[str, Any]:
    described = _original_describe(self, pipeline_execution_arn)
    execution = _execution(self, pipeline_execution_arn)
    described.pop("FailureReason", None)
    if execution.pipeline_execution_failure_reason:
        described["FailureReason"] = execution.pipeline_execution_failure_reason
    return described


def list_pipeline_executions(self: SageMakerModelBackend, pipeline_name: str) -> dict[str, Any]:
    listed = _original_list(self, pipeline_name)
    executions = get_pipeline_from_name(self.pipelines, pipeline_name).pipeline_executions
    for summary in listed["PipelineExecutionSummaries"]:
        summary.pop("PipelineExecutionFailureReason", None)  # moto says "None" when there is none
        reason = executions[summary["PipelineExecutionArn"]].pipeline_execution_failure_reason
        if reason:
            summary["PipelineExecutionFailureReason"] = reason
    return listed


def stop_pipeline_execution(
    self: SageMakerModelBackend, pipeline_execution_arn: str, client_request_token: str | None
) -> dict[str, str]:
    execution = _execution(self, pipeline_execution_arn)
    status = execution.pipeline_execution_status
    stop_token = getattr(execution, "keel_stop_token", None)
    if status == STOPPED and client_request_token and client_request_token == stop_token:  # a retry
        return {"PipelineExecutionArn": execution.arn}
    if status != EXECUTING:
        raise ValidationError(
            f"Pipeline execution {execution.arn} is {status}: only an {EXECUTING} execution can be stopped."
        )
    _set_status(execution, STOPPED, None)
    execution.keel_stop_token = client_request_token  # type: ignore[attr-defined]
    return {"PipelineExecutionArn": execution.arn}


def keel_complete_pipeline_execution(
    self: SageMakerModelBackend, pipeline_execution_arn: str, status: str, failure_reason: str | None
) -> dict[str, str]:
    if status not in COMPLETED_STATUSES:
        raise ValidationError(
            f"PipelineExecutionStatus must be one of {', '.join(COMPLETED_STATUSES)}, not {status!r}."
        )
    if failure_reason is not None and not isinstance(failure_reason, str):
        raise ValidationError("FailureReason must be a string.")
    if failure_reason and status == "Succeeded":
        raise ValidationError("FailureReason is only for a Failed or Stopped execution.")
    if failure_reason and len(failure_reason) > MAX_FAILURE_REASON:
        raise ValidationError(f"FailureReason is longer than {MAX_FAILURE_REASON} characters.")
    execution = _execution(self, pipeline_execution_arn)
    if execution.pipeline_execution_status != EXECUTING:
        raise ValidationError(
            f"Pipeline execution {execution.arn} is already {execution.pipeline_execution_status}: "
            f"only an {EXECUTING} execution can be completed."
        )
    _set_status(execution, status, failure_reason or None)
    return {"PipelineExecutionArn": execution.arn, "PipelineExecutionStatus": status}


def keel_record_pipeline_execution_step(
    self: SageMakerModelBackend, pipeline_execution_arn: str, step: Any
) -> dict[str, str]:
    if not isinstance(step, dict) or not isinstance(step.get("StepName"), str) or not step["StepName"]:
        raise ValidationError("Step must be an object with a StepName.")
    status = step.get("StepStatus")
    if status not in STEP_STATUSES:
        raise ValidationError(f"StepStatus must be one of {', '.join(STEP_STATUSES)}, not {status!r}.")
    execution = _execution(self, pipeline_execution_arn)
    if execution.pipeline_execution_status != EXECUTING:
        raise ValidationError(
            f"Pipeline execution {execution.arn} is {execution.pipeline_execution_status}: steps are "
            f"recorded while it is {EXECUTING}."
        )
    item: dict[str, Any] = {"StepName": step["StepName"], "StepStatus": status, "AttemptCount": 1}
    for name in ("StepDisplayName", "StepDescription", "FailureReason"):
        if step.get(name):
            item[name] = str(step[name])
    for name in ("StartTime", "EndTime"):
        if step.get(name):
            try:
                item[name] = datetime.fromisoformat(str(step[name]))
            except ValueError:
                raise ValidationError(f"{name} must be an ISO 8601 time, not {step[name]!r}.") from None
    metadata = step.get("Metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise ValidationError("Metadata must be an object.")
    if metadata:
        item["Metadata"] = metadata
        _settle_job(self, metadata, item)
    steps = execution.keel_steps  # type: ignore[attr-defined]
    steps[item["StepName"]] = item
    return {"PipelineExecutionArn": execution.arn, "StepName": item["StepName"]}


def _settle_job(self: SageMakerModelBackend, metadata: dict[str, Any], step: dict[str, Any]) -> None:
    """The job a step names ends as the step does."""
    job_status = _JOB_STATUS.get(step["StepStatus"])
    if job_status is None:
        return
    for kind, jobs, attribute in (
        ("ProcessingJob", self.processing_jobs, "processing_job_status"),
        ("TrainingJob", self.training_jobs, "training_job_status"),
    ):
        arn = str((metadata.get(kind) or {}).get("Arn") or "")
        job = jobs.get(arn.rsplit("/", 1)[-1]) if arn else None
        if job is None:
            continue
        setattr(job, attribute, job_status)
        if kind == "TrainingJob":
            setattr(job, "secondary_status", job_status)  # noqa: B010 - not on both job types
        if step.get("FailureReason"):
            setattr(job, "failure_reason", step["FailureReason"])  # noqa: B010 - moto has no such field
        job.last_modified_time = step.get("EndTime") or utcnow()


def list_pipeline_execution_steps(
    self: SageMakerModelBackend,
    pipeline_execution_arn: str,
    next_token: str | None,
    max_results: int | None,
    sort_order: str | None,
) -> dict[str, Any]:
    if sort_order not in (None, "Ascending", "Descending"):
        raise ValidationError(f"SortOrder must be Ascending or Descending, not {sort_order!r}.")
    steps = list(_execution(self, pipeline_execution_arn).keel_steps.values())  # type: ignore[attr-defined]
    steps.sort(key=lambda s: s.get("StartTime") or utcnow(), reverse=sort_order != "Ascending")
    start = int(next_token) if next_token and next_token.isdigit() else 0
    size = int(max_results or 20)
    page = steps[start : start + size]
    answer: dict[str, Any] = {"PipelineExecutionSteps": page}
    if start + size < len(steps):
        answer["NextToken"] = str(start + size)
    return answer


def _set_status(execution: FakePipelineExecution, status: str, failure_reason: str | None) -> None:
    previous = execution.pipeline_execution_status
    execution.pipeline_execution_status = status
    execution.pipeline_execution_failure_reason = failure_reason  # type: ignore[assignment]
    execution.last_modified_time = utcnow()
    _status_event(execution, previous)


def _status_event(execution: FakePipelineExecution, previous: str | None) -> None:
    """SageMaker's `... Pipeline Execution Status Change` event on the default bus."""
    pipeline_arn = execution.arn.rsplit("/execution/", 1)[0]
    detail = {
        "pipelineArn": pipeline_arn,
        "pipelineExecutionArn": execution.arn,
        "pipelineExecutionDisplayName": execution.pipeline_execution_display_name,
        "currentPipelineExecutionStatus": execution.pipeline_execution_status,
        "previousPipelineExecutionStatus": previous,
        "executionStartTime": str(execution.start_time),
    }
    if execution.pipeline_execution_status != EXECUTING:
        detail["executionEndTime"] = str(execution.last_modified_time)
    _, _, _, region, account, _ = execution.arn.split(":", 5)
    emit(
        account,
        region,
        source="aws.sagemaker",
        detail_type="SageMaker Model Building Pipeline Execution Status Change",
        detail=detail,
        resources=[pipeline_arn, execution.arn],
    )


# -- request handling ---------------------------------------------------------------------------------
def parse_parameters(self: SageMakerResponse, request: Any) -> None:
    """Keel's actions are not in botocore's SageMaker model: their JSON body is the parameters."""
    if self._get_action() not in KEEL_ACTIONS:
        _original_parse_parameters(self, request)
        return
    try:
        body = json.loads(request.data or b"{}")
    except ValueError:
        body = None
    self.params = body if isinstance(body, dict) else {}


def handle_stop_pipeline_execution(self: SageMakerResponse) -> ActionResult:
    return ActionResult(
        self.sagemaker_backend.stop_pipeline_execution(  # type: ignore[attr-defined]
            self._get_param("PipelineExecutionArn"), self._get_param("ClientRequestToken")
        )
    )


def handle_keel_record_pipeline_execution_step(self: SageMakerResponse) -> str:
    answer = self.sagemaker_backend.keel_record_pipeline_execution_step(  # type: ignore[attr-defined]
        self._get_param("PipelineExecutionArn"), self._get_param("Step")
    )
    return json.dumps(answer)


def handle_list_pipeline_execution_steps(self: SageMakerResponse) -> ActionResult:
    return ActionResult(
        self.sagemaker_backend.list_pipeline_execution_steps(  # type: ignore[attr-defined]
            self._get_param("PipelineExecutionArn"),
            self._get_param("NextToken"),
            self._get_param("MaxResults"),
            self._get_param("SortOrder"),
        )
    )


def handle_keel_complete_pipeline_execution(self: SageMakerResponse) -> str:
    answer = self.sagemaker_backend.keel_complete_pipeline_execution(  # type: ignore[attr-defined]
        self._get_param("PipelineExecutionArn"),
        self._get_param("PipelineExecutionStatus"),
        self._get_param("FailureReason"),
    )
    return json.dumps(answer)  # no botocore shape to serialize with: plain JSON


# (class, attribute, replacement): what install() sets, in one place (tests undo it from here).
PATCHES: tuple[tuple[type, str, Any], ...] = (
    (FakePipelineExecution, "__init__", _init),
    (SageMakerModelBackend, "start_pipeline_execution", start_pipeline_execution),
    (SageMakerModelBackend, "describe_pipeline_execution", describe_pipeline_execution),
    (SageMakerModelBackend, "list_pipeline_executions", list_pipeline_executions),
    (SageMakerModelBackend, "stop_pipeline_execution", stop_pipeline_execution),
    (SageMakerModelBackend, "keel_complete_pipeline_execution", keel_complete_pipeline_execution),
    (SageMakerModelBackend, "keel_record_pipeline_execution_step", keel_record_pipeline_execution_step),
    (SageMakerModelBackend, "list_pipeline_execution_steps", list_pipeline_execution_steps),
    (SageMakerResponse, "parse_parameters", parse_parameters),
    (SageMakerResponse, "keel_record_pipeline_execution_step", handle_keel_record_pipeline_execution_step),
    (SageMakerResponse, "list_pipeline_execution_steps", handle_list_pipeline_execution_steps),
    (SageMakerResponse, "stop_pipeline_execution", handle_stop_pipeline_execution),
    (SageMakerResponse, "keel_complete_pipeline_execution", handle_keel_complete_pipeline_execution),
)


def install() -> None:
    for owner, attribute, replacement in PATCHES:
        setattr(owner, attribute, replacement)


EXTENSION = Extension(
    name="sagemaker-pipeline-executions",
    kind="api",
    what="pipeline executions start Executing; ClientRequestToken makes StartPipelineExecution idempotent; "
    "StopPipelineExecution (Executing → Stopped); Keel-local action KeelCompletePipelineExecution "
    "(Succeeded/Failed/Stopped + FailureReason) and KeelRecordPipelineExecutionStep (a step and the "
    "outcome of its job) for the local runner; ListPipelineExecutionSteps; "
    "Describe/ListPipelineExecutions report that status and FailureReason only when there is one",
    why="moto marked every execution Succeeded at once (before any step ran), ignored ClientRequestToken "
    "(a retried start ran twice), had no StopPipelineExecution nor ListPipelineExecutionSteps, and its jobs "
    "are Completed at creation",
    upstream=False,
    install=install,
)
