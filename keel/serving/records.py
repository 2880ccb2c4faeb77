"""Deployment lineage and the deployer's state, in the reports bucket.

A deployment record (JSON, schema_version 1) is written at each step of a deployment — started, succeeded,
rolled back, failed, queued — under `lineage/deployments/<model package version>/<time>.json` of *both*
versions involved, so the history of either version shows that it replaced, or was restored over, the other.

State (not lineage, overwritten): the deployment in progress and an approval waiting behind it, under
`serving/state/<endpoint>/`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal, Protocol

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from keel.serving.names import STATE_PREFIX, deployment_record_key

DeploymentEvent = Literal[
    "deployment-started",
    "deployment-succeeded",
    "deployment-rolled-back",
    "deployment-failed",
    "deployment-queued",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelRef(_Model):
    package_arn: str
    version: int
    endpoint_config: str | None = None
    model_name: str | None = None
    baseline_uri: str | None = None


class DeploymentRecord(_Model):
    schema_version: Literal[1] = 1
    kind: Literal["deployment"] = "deployment"
    event: DeploymentEvent
    time: str
    environment: str
    endpoint_name: str
    deployment_id: str = Field(description="Shared by every record of one deployment")
    new: ModelRef
    previous: ModelRef | None
    serving: ModelRef | None = Field(default=None, description="What serves traffic after this event")
    strategy: dict[str, Any] = Field(description="create, or the UpdateEndpoint DeploymentConfig")
    rollback_alarms: list[str]
    alarm_states: dict[str, str] = Field(default_factory=dict)
    data_capture: dict[str, Any]
    approval: dict[str, Any]
    detail: str = ""

    @property
    def versions(self) -> list[int]:
        return [self.new.version] + ([self.previous.version] if self.previous else [])


class PendingDeployment(_Model):
    """The deployment in progress, kept until the endpoint settles."""

    deployment_id: str
    started: str
    new: ModelRef
    previous: ModelRef | None
    strategy: dict[str, Any]
    data_capture: dict[str, Any]
    approval: dict[str, Any]


class DeploymentStore(Protocol):
    def write(self, record: DeploymentRecord) -> list[str]: ...

    def pending(self, endpoint: str) -> PendingDeployment | None: ...

    def set_pending(self, endpoint: str, pending: PendingDeployment | None) -> None: ...

    def queued(self, endpoint: str) -> dict[str, Any] | None: ...

    def set_queued(self, endpoint: str, event: dict[str, Any] | None) -> None: ...


def stamp(time: datetime) -> str:
    """Sortable, unique enough for records of one deployment written within a second."""
    return time.strftime("%Y%m%dT%H%M%S.%fZ")


class S3DeploymentStore:
    def __init__(self, s3: Any, bucket: str, *, kms_key_id: str | None, clock: Any) -> None:
        self.s3, self.bucket, self.kms_key_id, self.clock = s3, bucket, kms_key_id, clock

    def _put(self, key: str, body: str) -> str:
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id} if self.kms_key_id else {}
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=body.encode(), ContentType="application/json", **extra
        )
        return f"s3://{self.bucket}/{key}"

    def _get(self, key: str) -> str | None:
        try:
            return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()).decode()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    def write(self, record: DeploymentRecord) -> list[str]:
        body = record.model_dump_json(indent=2) + "\n"
        when = stamp(self.clock())
        return [self._put(deployment_record_key(version, when), body) for version in record.versions]

    def _state_key(self, endpoint: str, name: str) -> str:
        return f"{STATE_PREFIX}{endpoint}/{name}.json"

    def pending(self, endpoint: str) -> PendingDeployment | None:
        body = self._get(self._state_key(endpoint, "pending"))
        return PendingDeployment.model_validate_json(body) if body else None

    def set_pending(self, endpoint: str, pending: PendingDeployment | None) -> None:
        key = self._state_key(endpoint, "pending")
        if pending is None:
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        else:
            self._put(key, pending.model_dump_json(indent=2))

    def queued(self, endpoint: str) -> dict[str, Any] | None:
        body = self._get(self._state_key(endpoint, "queued"))
        return dict(json.loads(body)) if body else None

    def set_queued(self, endpoint: str, event: dict[str, Any] | None) -> None:
        key = self._state_key(endpoint, "queued")
        if event is None:
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        else:
            self._put(key, json.dumps(event, default=str))
