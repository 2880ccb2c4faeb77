"""Report how a pipeline execution ended to the SageMaker that holds it, when that SageMaker cannot know.

Keel's local runner executes the steps itself, so the local SageMaker (moto) does not know the outcome.
`report_execution_status` tells it:

- Keel's local server (an `http://` endpoint on loopback): the Keel-local action
  `KeelCompletePipelineExecution` (`keel/local/patches/sagemaker_pipeline_executions.py`), sent as a
  signed JSON request like any SageMaker action;
- moto in-process (`mock_aws`, unit tests): the status is set on moto's SageMaker backend directly;
- real AWS: nothing to do, SageMaker tracks its executions itself (returns False).

moto is never imported here unless it is already loaded and mocking: this module ships in Lambda bundles.
"""

from __future__ import annotations

import ipaddress
import json
import sys
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

ACTION = "KeelCompletePipelineExecution"
TARGET = f"SageMaker.{ACTION}"
CONTENT_TYPE = "application/x-amz-json-1.1"
COMPLETED_STATUSES = ("Succeeded", "Failed", "Stopped")
# The runner records each step of the execution the way SageMaker keeps them (ListPipelineExecutionSteps).
STEP_ACTION = "KeelRecordPipelineExecutionStep"
STEP_STATUSES = ("Starting", "Executing", "Stopping", "Stopped", "Failed", "Succeeded")
MAX_FAILURE_REASON = 3072  # SageMaker's limit (shape String3072)
TIMEOUT_SECONDS = 30
# Signing only tells the local server which service and region are meant; it checks no signatures.
_FALLBACK_ACCESS_KEY = "keel-local"


class ExecutionStatusError(RuntimeError):
    """The local SageMaker refused the report or could not be reached."""


def report_execution_status(
    sagemaker_client: Any, execution_arn: str, status: str, failure_reason: str | None = None
) -> bool:
    """Record that `execution_arn` ended with `status` (Succeeded, Failed or Stopped) and why.

    True when a local SageMaker recorded it; False on real AWS (SageMaker tracks status itself). Raises
    ValueError for another status, ExecutionStatusError when the local server answers an error (unknown
    execution, already completed, ...) or cannot be reached. A reason longer than SageMaker allows is
    shortened.
    """
    if status not in COMPLETED_STATUSES:
        raise ValueError(f"status must be one of {', '.join(COMPLETED_STATUSES)}, not {status!r}")
    reason = _shorten(failure_reason) if failure_reason else None
    endpoint = getattr(sagemaker_client.meta, "endpoint_url", None)
    if is_loopback_http(endpoint):
        payload: dict[str, str] = {"PipelineExecutionArn": execution_arn, "PipelineExecutionStatus": status}
        if reason:
            payload["FailureReason"] = reason
        post_local_action(sagemaker_client, ACTION, payload)
        return True
    if _moto_is_mocking():
        _set_in_process(execution_arn, status, reason)
        return True
    return False


def record_step(sagemaker_client: Any, execution_arn: str, step: dict[str, Any]) -> bool:
    """Record one step of a running execution (a ListPipelineExecutionSteps item; times ISO 8601) in the
    local SageMaker. True when recorded; False on real AWS, where SageMaker keeps its steps itself."""
    payload = {"PipelineExecutionArn": execution_arn, "Step": step}
    if is_loopback_http(getattr(sagemaker_client.meta, "endpoint_url", None)):
        post_local_action(sagemaker_client, STEP_ACTION, payload)
        return True
    if _moto_is_mocking():
        backend = _backend_of(execution_arn)
        record = getattr(backend, "keel_record_pipeline_execution_step", None)
        if not callable(record):
            return False  # stock moto keeps no steps
        try:
            record(execution_arn, json.loads(json.dumps(step, default=str)))
        except Exception as error:  # moto's service errors
            raise ExecutionStatusError(f"{STEP_ACTION}: {error}") from error
        return True
    return False


def is_local(sagemaker_client: Any) -> bool:
    """The client talks to a local SageMaker (Keel's server, or moto in this process), never to AWS."""
    return is_loopback_http(getattr(sagemaker_client.meta, "endpoint_url", None)) or _moto_is_mocking()


def _backend_of(execution_arn: str) -> Any:
    from moto.sagemaker.models import sagemaker_backends

    _, _, _, region, account, _ = execution_arn.split(":", 5)
    return sagemaker_backends[account][region]


def is_loopback_http(endpoint_url: str | None) -> bool:
    """`http://localhost:…`, `http://127.x.x.x:…` or `http://[::1]:…`: Keel's local server, not AWS."""
    if not endpoint_url:
        return False
    parts = urlsplit(endpoint_url)
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def post_local_action(sagemaker_client: Any, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST a JSON action to the client's (local) endpoint as botocore would: X-Amz-Target, JSON 1.1,
    SigV4 with the client's credentials and region. The decoded answer, or ExecutionStatusError."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = str(sagemaker_client.meta.endpoint_url).rstrip("/") + "/"
    body = json.dumps(payload).encode()
    headers = {"Content-Type": CONTENT_TYPE, "X-Amz-Target": f"SageMaker.{action}"}
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    get_credentials = getattr(sagemaker_client, "_get_credentials", None)
    credentials = get_credentials() if callable(get_credentials) else None
    if credentials is None:
        credentials = Credentials(_FALLBACK_ACCESS_KEY, _FALLBACK_ACCESS_KEY)
    SigV4Auth(credentials, "sagemaker", sagemaker_client.meta.region_name).add_auth(request)
    prepared = urllib.request.Request(url, data=body, headers=dict(request.headers.items()), method="POST")  # noqa: S310 - loopback http only
    try:
        with urllib.request.urlopen(prepared, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            text = answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        detail = _error_detail(error.read().decode("utf-8", "replace"))
        raise ExecutionStatusError(
            f"{action} on {url} answered HTTP {error.code}: {detail or error.reason}"
        ) from error
    except (urllib.error.URLError, OSError) as error:
        raise ExecutionStatusError(f"{action}: cannot reach the local SageMaker at {url}: {error}") from error
    try:
        decoded = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _error_detail(text: str) -> str:
    try:
        error = json.loads(text)
    except ValueError:
        return text.strip()[:500]
    if not isinstance(error, dict):
        return text.strip()[:500]
    code = str(error.get("__type", error.get("code", ""))).rsplit("#", 1)[-1]
    message = error.get("message", error.get("Message", ""))
    return f"{code}: {message}" if code and message else str(code or message or text.strip()[:500])


def _shorten(reason: str) -> str:
    return reason if len(reason) <= MAX_FAILURE_REASON else reason[: MAX_FAILURE_REASON - 1] + "…"


def _moto_is_mocking() -> bool:
    models = sys.modules.get("moto.core.models")  # loaded only if moto is in use in this process
    stubber = getattr(models, "botocore_stubber", None)
    return bool(getattr(stubber, "enabled", False))


def _set_in_process(execution_arn: str, status: str, reason: str | None) -> None:
    """moto in-process: its backend is in this process. With Keel's extension installed here, its own
    (strict) completion; stock moto marks every execution Succeeded at start, so the status is set as is."""
    from moto.core.utils import utcnow
    from moto.sagemaker.models import sagemaker_backends

    try:
        _, _, _, region, account, resource = execution_arn.split(":", 5)
        pipeline_name = resource.split("/")[1]
        backend = sagemaker_backends[account][region]
        execution = backend.pipelines[pipeline_name].pipeline_executions[execution_arn]
    except (ValueError, IndexError, KeyError) as error:
        raise ExecutionStatusError(f"{ACTION}: no pipeline execution {execution_arn} in moto") from error
    complete = getattr(backend, "keel_complete_pipeline_execution", None)
    if callable(complete):
        try:
            complete(execution_arn, status, reason)
        except Exception as error:  # moto's service errors
            raise ExecutionStatusError(f"{ACTION}: {error}") from error
        return
    execution.pipeline_execution_status = status
    execution.pipeline_execution_failure_reason = reason  # type: ignore[assignment]
    execution.last_modified_time = utcnow()
