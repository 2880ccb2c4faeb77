"""Register a lineage pack with SageMaker ML Lineage Tracking, where the service offers it.

Entities (idempotent: found by name or source URI before being created):
  context   keel-<env>-<execution id>                    (type KeelTrainingRun, source: the execution ARN)
  artifacts one DataSet per input version, the Model, its Metrics  (found by source URI)
  action    keel-<env>-<group>-v<version>-approval       (type ModelApproval, source: the package ARN)
  associations  dataset -ContributedTo-> context -Produced-> model; metrics -AssociatedWith-> model;
                model -AssociatedWith-> approval action
moto implements none of these APIs: the tracker then reports `unsupported` (recorded in the pack) instead
of failing the pack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.lineage.pack import LineagePack, PackTracking

_UNSUPPORTED_CODES = {"500", "501", "404", "NotImplemented", "InternalFailure", "UnknownOperationException"}
_NAME = re.compile(r"[^a-zA-Z0-9-]")


class LineageTracker(Protocol):
    def register(self, pack: LineagePack) -> PackTracking: ...


@dataclass
class SkipTracking:
    reason: str = "not requested"

    def register(self, pack: LineagePack) -> PackTracking:  # noqa: ARG002
        return PackTracking(status="skipped", reason=self.reason)


class _UnsupportedError(Exception):
    pass


def entity_name(*parts: str) -> str:
    """A lineage entity name: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}."""
    name = re.sub("-+", "-", _NAME.sub("-", "-".join(parts))).strip("-")
    return name[:120].rstrip("-")


@dataclass
class SageMakerLineageTracking:
    """Use a client without retries: an unsupported API (HTTP 500 on moto server) then fails fast."""

    sagemaker: Any

    def register(self, pack: LineagePack) -> PackTracking:
        try:
            entities = self._register(pack)
        except _UnsupportedError as error:
            return PackTracking(status="unsupported", reason=str(error))
        except (ClientError, BotoCoreError) as error:
            return PackTracking(status="failed", reason=str(error))
        return PackTracking(status="registered", reason="SageMaker ML Lineage Tracking", entities=entities)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = getattr(self.sagemaker, operation)(**kwargs)
        except NotImplementedError as error:
            raise _UnsupportedError(f"{operation} is not implemented by this endpoint: {error}") from None
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code"))
            status = str(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
            if code in _UNSUPPORTED_CODES or status in ("404", "500", "501"):
                raise _UnsupportedError(f"{operation} is not supported by this endpoint ({code})") from None
            raise
        return response

    def _register(self, pack: LineagePack) -> dict[str, str]:
        if pack.execution is None or not pack.execution.id:
            raise _UnsupportedError("the pack has no execution to register")
        env, package = pack.environment, pack.model_package
        entities: dict[str, str] = {}
        context = self._context(
            entity_name("keel", env, pack.execution.id), pack.execution.arn or pack.execution.id
        )
        entities["context:training-run"] = context
        model = self._artifact(package.model_data_url or package.arn, "Model", package.arn)
        entities["artifact:model"] = model
        self._associate(context, model, "Produced")
        for item in pack.inputs:
            source = f"{item.uri}?versionId={item.version_id}" if item.version_id else item.uri
            dataset = self._artifact(source, "DataSet", item.etag)
            entities[f"artifact:dataset:{item.uri}"] = dataset
            self._associate(dataset, context, "ContributedTo")
        if pack.metrics and pack.metrics.uri:
            metrics = self._artifact(pack.metrics.uri, "Metrics", None)
            entities["artifact:metrics"] = metrics
            self._associate(metrics, model, "AssociatedWith")
        approval = self._action(
            entity_name("keel", env, package.group, f"v{package.version}", "approval"),
            package.arn,
            {"status": str(pack.approval.status), "decision": str(pack.approval.decision_id)},
        )
        entities["action:approval"] = approval
        self._associate(model, approval, "AssociatedWith")
        return entities

    def _context(self, name: str, source_uri: str) -> str:
        try:
            return str(
                self._call(
                    "create_context",
                    ContextName=name,
                    ContextType="KeelTrainingRun",
                    Source={"SourceUri": source_uri},
                )["ContextArn"]
            )
        except ClientError as error:
            if "exist" not in str(error).lower():
                raise
            return str(self._call("describe_context", ContextName=name)["ContextArn"])

    def _action(self, name: str, source_uri: str, properties: dict[str, str]) -> str:
        try:
            return str(
                self._call(
                    "create_action",
                    ActionName=name,
                    ActionType="ModelApproval",
                    Status="Completed",
                    Source={"SourceUri": source_uri},
                    Properties=properties,
                )["ActionArn"]
            )
        except ClientError as error:
            if "exist" not in str(error).lower():
                raise
            self._call("update_action", ActionName=name, Properties=properties)
            return str(self._call("describe_action", ActionName=name)["ActionArn"])

    def _artifact(self, source_uri: str, artifact_type: str, etag: str | None) -> str:
        listed = self._call("list_artifacts", SourceUri=source_uri, ArtifactType=artifact_type)
        for summary in listed.get("ArtifactSummaries", []):
            return str(summary["ArtifactArn"])
        source: dict[str, Any] = {"SourceUri": source_uri}
        if etag:
            source["SourceTypes"] = [{"SourceIdType": "S3ETag", "Value": etag}]
        return str(self._call("create_artifact", ArtifactType=artifact_type, Source=source)["ArtifactArn"])

    def _associate(self, source_arn: str, destination_arn: str, association_type: str) -> None:
        try:
            self._call(
                "add_association",
                SourceArn=source_arn,
                DestinationArn=destination_arn,
                AssociationType=association_type,
            )
        except ClientError as error:
            if "exist" not in str(error).lower():
                raise


def register(pack: LineagePack, tracker: LineageTracker) -> LineagePack:
    """The pack with its `tracking` set to what the tracker did."""
    return pack.model_copy(update={"tracking": tracker.register(pack)})
