"""report_execution_status: moto in-process (mock_aws) gets the status set on its backend, a loopback
endpoint gets the signed Keel-local action, real AWS gets nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.sagemaker.models import sagemaker_backends

from keel.local.runner.execution_status import (
    CONTENT_TYPE,
    TARGET,
    ExecutionStatusError,
    is_loopback_http,
    report_execution_status,
)

REGION = "eu-west-1"
DEFINITION = json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": []})


def _execution(sagemaker: Any, name: str = "keel-test-training") -> str:
    sagemaker.create_pipeline(
        PipelineName=name, PipelineDefinition=DEFINITION, RoleArn="arn:aws:iam::123456789012:role/r"
    )
    return str(sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"])


@pytest.fixture
def mocked() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sagemaker", region_name=REGION)


def test_moto_in_process_gets_the_status_on_its_backend(mocked: Any) -> None:
    arn = _execution(mocked)
    assert report_execution_status(mocked, arn, "Failed", failure_reason="Train: exit code 1") is True
    assert mocked.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Failed"
    (summary,) = mocked.list_pipeline_executions(PipelineName="keel-test-training")[
        "PipelineExecutionSummaries"
    ]
    assert summary["PipelineExecutionFailureReason"] == "Train: exit code 1"
    # Stock moto marks every execution Succeeded at start: in-process the reported status simply wins.
    other = mocked.start_pipeline_execution(PipelineName="keel-test-training")["PipelineExecutionArn"]
    assert report_execution_status(mocked, other, "Succeeded") is True
    execution = (
        sagemaker_backends["123456789012"][REGION].pipelines["keel-test-training"].pipeline_executions[other]
    )
    assert (execution.pipeline_execution_status, execution.pipeline_execution_failure_reason) == (
        "Succeeded",
        None,
    )


def test_moto_in_process_unknown_execution_is_an_error(mocked: Any) -> None:
    arn = _execution(mocked)
    with pytest.raises(ExecutionStatusError, match="no pipeline execution"):
        report_execution_status(mocked, arn.rsplit("/", 1)[0] + "/doesnotexist", "Succeeded")
    with pytest.raises(ExecutionStatusError, match="no pipeline execution"):
        report_execution_status(mocked, "not-an-arn", "Succeeded")


def test_an_invalid_status_is_refused_before_anything_is_sent(mocked: Any) -> None:
    arn = _execution(mocked)
    with pytest.raises(ValueError, match="one of Succeeded, Failed, Stopped"):
        report_execution_status(mocked, arn, "Executing")


def test_real_aws_tracks_status_itself() -> None:
    client = boto3.client("sagemaker", region_name=REGION)  # no mock, no local endpoint: nothing is sent
    arn = f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/p/execution/abc"
    assert report_execution_status(client, arn, "Succeeded") is False


@pytest.mark.parametrize(
    ("endpoint", "loopback"),
    [
        ("http://localhost:4566", True),
        ("http://127.0.0.1:5000", True),
        ("http://127.1.2.3:5000/", True),
        ("http://[::1]:5000", True),
        ("https://127.0.0.1:5000", False),  # Keel's local server speaks plain http
        ("http://10.0.0.5:5000", False),
        ("https://sagemaker.example.invalid", False),
        ("http://localhost.example.com", False),
        (None, False),
        ("", False),
    ],
)
def test_is_loopback_http(endpoint: str | None, loopback: bool) -> None:
    assert is_loopback_http(endpoint) is loopback


class _Recorder(BaseHTTPRequestHandler):
    answer: tuple[int, dict[str, Any]] = (200, {})
    seen: list[tuple[dict[str, str], dict[str, Any]]] = []  # noqa: RUF012 - one test at a time

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((dict(self.headers.items()), body))
        status, document = type(self).answer
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _local_client(endpoint: str) -> Any:
    return boto3.client(
        "sagemaker",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="keel-local",
        aws_secret_access_key="keel-local",
    )


def test_a_loopback_endpoint_gets_the_signed_keel_action(local_server: str) -> None:
    arn = f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/p/execution/abc"
    _Recorder.answer = (200, {"PipelineExecutionArn": arn, "PipelineExecutionStatus": "Failed"})
    assert report_execution_status(_local_client(local_server), arn, "Failed", failure_reason="boom") is True
    assert report_execution_status(_local_client(local_server), arn, "Succeeded") is True
    (headers, body), (_, succeeded) = _Recorder.seen
    assert body == {"PipelineExecutionArn": arn, "PipelineExecutionStatus": "Failed", "FailureReason": "boom"}
    assert succeeded == {"PipelineExecutionArn": arn, "PipelineExecutionStatus": "Succeeded"}
    assert headers["X-Amz-Target"] == TARGET == "SageMaker.KeelCompletePipelineExecution"
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    # Signed as SageMaker in the client's region: that is how the server picks service and region.
    assert f"/{REGION}/sagemaker/aws4_request" in headers["Authorization"]
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=keel-local/")


def test_a_refusal_of_the_local_server_is_a_clear_error(local_server: str) -> None:
    _Recorder.answer = (400, {"__type": "ValidationException", "message": "execution is already Failed"})
    arn = f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/p/execution/abc"
    with pytest.raises(
        ExecutionStatusError,
        match=r"KeelCompletePipelineExecution on http://127\.0\.0\.1:\d+/ answered HTTP 400: "
        "ValidationException: execution is already Failed",
    ):
        report_execution_status(_local_client(local_server), arn, "Succeeded")


def test_an_unreachable_local_server_is_a_clear_error() -> None:
    nowhere = _local_client("http://127.0.0.1:9")  # the discard port: nothing listens
    with pytest.raises(ExecutionStatusError, match="cannot reach the local SageMaker"):
        report_execution_status(nowhere, "arn:aws:sagemaker:eu-west-1:1:pipeline/p/execution/a", "Stopped")


@pytest.fixture
def mocked_with_extension(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto in-process with Keel's pipeline-execution extension, undone after the test."""
    from keel.local.patches import sagemaker_pipeline_executions

    for owner, attribute, replacement in sagemaker_pipeline_executions.PATCHES:
        monkeypatch.setattr(owner, attribute, replacement, raising=False)
    with mock_aws():
        yield boto3.client("sagemaker", region_name=REGION)


def test_moto_in_process_with_keel_extension_completes_strictly(mocked_with_extension: Any) -> None:
    sagemaker = mocked_with_extension
    arn = _execution(sagemaker)
    assert (
        sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        == "Executing"
    )
    assert report_execution_status(sagemaker, arn, "Failed", failure_reason="boom") is True
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert (described["PipelineExecutionStatus"], described["FailureReason"]) == ("Failed", "boom")
    with pytest.raises(ExecutionStatusError, match="already Failed"):
        report_execution_status(sagemaker, arn, "Succeeded")


def test_the_extension_is_undone_after_its_test(mocked: Any) -> None:
    arn = _execution(mocked)
    assert (
        mocked.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Succeeded"
    )
