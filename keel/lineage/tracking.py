"""Register a lineage pack with SageMaker ML Lineage Tracking.

Entities (idempotent: found by name or source URI before being created):
  context   keel-<env>-<execution id>                    (type KeelTrainingRun, source: the execution ARN)
  artifacts one DataSet per input version, the Model, its Metrics  (found by source URI)
  action    keel-<env>-<group>-v<version>-approval       (type ModelApproval, source: the package ARN)
  associations  dataset -ContributedTo-> context -Produced-> model; metrics -AssociatedWith-> model;
                model -AssociatedWith-> approval action

The pack's `tracking.status` says what happened: `recorded`; `failed` with the operation, error code, HTTP
status and message (after botocore's standard retries of throttling and 5xx answers: give the tracker a
client made with `RETRIES`); `not available in this region` only when SageMaker itself says it does not know
the operation; `skipped` when not asked or there is nothing to register.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from keel.lineage.pack import NOT_AVAILABLE, LineagePack, PackTracking, TrackingStatus

# Throttling and 5xx answers are retried by botocore (standard mode: exponential backoff with jitter). Every
# call below is safe to repeat: reads, creates of uniquely named entities (a repeat answers "already exists",
# resolved below) and AddAssociation (a repeat answers "already exists").
RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 4})  # the first call and 3 retries

# What a JSON-protocol AWS service (SageMaker is one: it routes by X-Amz-Target on POST /) answers for an
# operation it does not offer: HTTP 400 UnknownOperationException. That, and only that, means the API is not
# available here. A 404 is not an answer SageMaker gives for an operation (there are no per-operation paths
# to miss), and a 500 or a throttle is the service failing, not the API being absent.
UNKNOWN_OPERATION = "UnknownOperationException"
_NAME = re.compile(r"[^a-zA-Z0-9-]")
_MESSAGE_LIMIT = 300


class LineageTracker(Protocol):
    def register(self, pack: LineagePack) -> PackTracking: ...


@dataclass
class SkipTracking:
    reason: str = "not requested"

    def register(self, pack: LineagePack) -> PackTracking:  # noqa: ARG002
        return PackTracking(status="skipped", reason=self.reason)


def entity_name(*parts: str) -> str:
    """A lineage entity name: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}."""
    name = re.sub("-+", "-", _NAME.sub("-", "-".join(parts))).strip("-")
    return name[:120].rstrip("-")


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "")


def already_exists(error: ClientError) -> bool:
    """SageMaker answers a duplicate context, action, named artifact or association with a
    ValidationException saying "already exists" (the SageMaker Python SDK tests the same two things:
    `sagemaker.core.experiments._utils.is_already_exist_error`). Other ValidationExceptions are bad
    requests, and "does not exist" is not a duplicate."""
    message = str(error.response.get("Error", {}).get("Message") or "")
    return error_code(error) == "ValidationException" and "already exists" in message.lower()


def describe_error(error: ClientError) -> str:
    """`<Operation>: <code> (HTTP <status>): <message>`, the message shortened to one line."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = " ".join(str(error.response.get("Error", {}).get("Message") or "").split())
    if len(message) > _MESSAGE_LIMIT:
        message = message[:_MESSAGE_LIMIT] + "…"
    return f"{error.operation_name}: {error_code(error) or 'unknown error'} (HTTP {status}): {message}"


def tracking_client(session: Any, endpoint_url: str | None) -> Any:
    """A SageMaker client with the retries the tracker relies on."""
    return session.client("sagemaker", endpoint_url=endpoint_url, config=RETRIES)


@dataclass
class SageMakerLineageTracking:
    """Registers the pack's lineage; `sagemaker` should be made with `RETRIES` (see `tracking_client`)."""

    sagemaker: Any

    def register(self, pack: LineagePack) -> PackTracking:
        if pack.execution is None or not pack.execution.id:
            return PackTracking(status="skipped", reason="the pack has no execution (no lineage record)")
        entities: dict[str, str] = {}  # what was registered, also when a later call fails
        try:
            self._register(pack, entities)
        except ClientError as error:
            status: TrackingStatus = NOT_AVAILABLE if error_code(error) == UNKNOWN_OPERATION else "failed"
            return PackTracking(status=status, reason=describe_error(error), entities=entities)
        except BotoCoreError as error:  # connection failures after retries, missing credentials
            reason = f"{type(error).__name__}: {error}"
            return PackTracking(status="failed", reason=reason, entities=entities)
        except NotImplementedError as error:
            # Only an in-process emulator raises this (moto implements none of the lineage APIs); AWS answers.
            reason = f"not implemented by the endpoint Keel called (an AWS emulator, not AWS): {error}"
            return PackTracking(status="failed", reason=reason, entities=entities)
        return PackTracking(status="recorded", reason="SageMaker ML Lineage Tracking", entities=entities)

    def _register(self, pack: LineagePack, entities: dict[str, str]) -> None:
        assert pack.execution is not None and pack.execution.id  # checked by register()
        env, package = pack.environment, pack.model_package
        context = self._context(
            entity_name("keel", env, pack.execution.id), pack.execution.arn or pack.execution.id
        )
        entities["context:training-run"] = context
        model = self._artifact(env, package.model_data_url or package.arn, "Model")
        entities["artifact:model"] = model
        self._associate(context, model, "Produced")
        for item in pack.inputs:
            source = f"{item.uri}?versionId={item.version_id}" if item.version_id else item.uri
            dataset = self._artifact(env, source, "DataSet", etag=item.etag)
            entities[f"artifact:dataset:{item.uri}"] = dataset
            self._associate(dataset, context, "ContributedTo")
        if pack.metrics and pack.metrics.uri:
            metrics = self._artifact(env, pack.metrics.uri, "Metrics")
            entities["artifact:metrics"] = metrics
            self._associate(metrics, model, "AssociatedWith")
        approval = self._action(
            entity_name("keel", env, package.group, f"v{package.version}", "approval"),
            package.arn,
            {"status": str(pack.approval.status), "decision": str(pack.approval.decision_id)},
        )
        entities["action:approval"] = approval
        self._associate(model, approval, "AssociatedWith")

    def _context(self, name: str, source_uri: str) -> str:
        try:
            created = self.sagemaker.create_context(
                ContextName=name, ContextType="KeelTrainingRun", Source={"SourceUri": source_uri}
            )
        except ClientError as error:
            if not already_exists(error):
                raise
            return str(self.sagemaker.describe_context(ContextName=name)["ContextArn"])
        return str(created["ContextArn"])

    def _action(self, name: str, source_uri: str, properties: dict[str, str]) -> str:
        try:
            created = self.sagemaker.create_action(
                ActionName=name,
                ActionType="ModelApproval",
                Status="Completed",
                Source={"SourceUri": source_uri},
                Properties=properties,
            )
        except ClientError as error:
            if not already_exists(error):
                raise
            # The approval may have changed since the action was created: its properties follow it.
            updated = self.sagemaker.update_action(ActionName=name, Status="Completed", Properties=properties)
            return str(updated["ActionArn"])
        return str(created["ActionArn"])

    def _find_artifact(self, source_uri: str, artifact_type: str) -> str | None:
        paginator = self.sagemaker.get_paginator("list_artifacts")
        for page in paginator.paginate(SourceUri=source_uri, ArtifactType=artifact_type):
            for summary in page.get("ArtifactSummaries", []):
                return str(summary["ArtifactArn"])
        return None

    def _artifact(self, env: str, source_uri: str, artifact_type: str, *, etag: str | None = None) -> str:
        found = self._find_artifact(source_uri, artifact_type)
        if found:
            return found
        source: dict[str, Any] = {"SourceUri": source_uri}
        if etag:
            source["SourceTypes"] = [{"SourceIdType": "S3ETag", "Value": etag}]
        # A name derived from the source makes a repeated create (a retry after a lost answer) a duplicate.
        digest = hashlib.sha256(f"{artifact_type}|{source_uri}".encode()).hexdigest()[:20]
        name = entity_name("keel", env, artifact_type, digest)
        try:
            created = self.sagemaker.create_artifact(
                ArtifactName=name, ArtifactType=artifact_type, Source=source
            )
        except ClientError as error:
            if not already_exists(error):
                raise
            found = self._find_artifact(source_uri, artifact_type)
            if found is None:
                raise
            return found
        return str(created["ArtifactArn"])

    def _associate(self, source_arn: str, destination_arn: str, association_type: str) -> None:
        try:
            self.sagemaker.add_association(
                SourceArn=source_arn, DestinationArn=destination_arn, AssociationType=association_type
            )
        except ClientError as error:
            if not already_exists(error):
                raise


def register(pack: LineagePack, tracker: LineageTracker) -> LineagePack:
    """The pack with its `tracking` set to what the tracker did."""
    return pack.model_copy(update={"tracking": tracker.register(pack)})
