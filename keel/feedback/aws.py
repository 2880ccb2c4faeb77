"""boto3 implementations of the feedback loops' interfaces (`keel.feedback.ports`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from keel.feedback.ports import StartedExecution, StartRequest, StoredObject


# Few SDK retries: a throttled call fails the invocation quickly and the event source retries it, which is
# visible (metrics, DLQ) rather than hidden inside one long invocation.
@cache
def client_config() -> Any:
    # Built with the first client: botocore.config pulls in most of botocore (~0.1 s) at a handler's import.
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)


class ObjectTooLargeError(ValueError):
    """An object is larger than the caller accepts; the message says how large."""


def client(session: Any, service: str) -> Any:
    """A client of `service`; AWS_ENDPOINT_URL (the local server) is honoured by boto3 itself."""
    return session.client(service, config=client_config())


class SageMakerPipelineStarter:
    def __init__(self, sagemaker: Any) -> None:
        self._sagemaker = sagemaker

    def start(self, request: StartRequest) -> StartedExecution:
        response = self._sagemaker.start_pipeline_execution(
            PipelineName=request.pipeline_name,
            PipelineExecutionDisplayName=request.display_name,
            PipelineExecutionDescription=request.description,
            PipelineParameters=[{"Name": k, "Value": v} for k, v in request.parameters.items()],
            ClientRequestToken=request.idempotency_token,
        )
        return StartedExecution(response["PipelineExecutionArn"])


class S3ObjectStore:
    def __init__(self, s3: Any) -> None:
        self._s3 = s3

    def put(
        self,
        bucket: str,
        key: str,
        body: bytes,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject:
        # Encryption: the buckets' default SSE-KMS key (each bucket has the key of its purpose).
        response = self._s3.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=content_type, Metadata=dict(metadata or {})
        )
        return StoredObject(uri=f"s3://{bucket}/{key}", version_id=response.get("VersionId"))

    def get(self, bucket: str, key: str, *, version_id: str | None = None, max_bytes: int) -> bytes:
        arguments: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            arguments["VersionId"] = version_id
        response = self._s3.get_object(**arguments)
        if int(response.get("ContentLength", 0)) > max_bytes:
            response["Body"].close()
            raise ObjectTooLargeError(
                f"s3://{bucket}/{key} has {response['ContentLength']} bytes (max {max_bytes})"
            )
        return bytes(response["Body"].read())

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys


class GluePartitionRegistrar:
    """Adds partitions with the table's storage descriptor; remembers the ones it registered (warm starts)."""

    def __init__(self, glue: Any) -> None:
        self._glue = glue
        self._known: set[tuple[str, str, tuple[str, ...]]] = set()
        self._descriptors: dict[tuple[str, str], dict[str, Any]] = {}

    def ensure_partition(self, database: str, table: str, values: Sequence[str], location: str) -> None:
        marker = (database, table, tuple(values))
        if marker in self._known:
            return
        descriptor = self._descriptors.get((database, table))
        if descriptor is None:
            table_info = self._glue.get_table(DatabaseName=database, Name=table)["Table"]
            descriptor = table_info["StorageDescriptor"]
            self._descriptors[(database, table)] = descriptor
        try:
            self._glue.create_partition(
                DatabaseName=database,
                TableName=table,
                PartitionInput={
                    "Values": list(values),
                    "StorageDescriptor": {**descriptor, "Location": location},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "AlreadyExistsException":
                raise
        self._known.add(marker)


class CloudWatchMetricPublisher:
    def __init__(self, cloudwatch: Any) -> None:
        self._cloudwatch = cloudwatch

    def publish(
        self,
        namespace: str,
        name: str,
        dimensions: Mapping[str, str],
        samples: Sequence[tuple[float, int]],
        *,
        timestamp: datetime,
    ) -> None:
        samples = [(value, count) for value, count in samples if count > 0]
        if not samples:
            return
        self._cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                    "Values": [float(value) for value, _ in samples],
                    "Counts": [float(count) for _, count in samples],
                    "Unit": "None",
                    "Timestamp": timestamp,
                }
            ],
        )
