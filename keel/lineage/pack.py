"""The lineage pack of one model version: everything an auditor asks about it, in one document.

Assembled when asked (`keel lineage`), from what the services hold at that moment: the model registry, the
execution's lineage record (`keel.lineage.record`), the trigger record of the feedback loops (if any), the
archived reports, the policy gate's evidence, the endpoints that serve the version and the model deployer's
records. Nothing is stored in between, so a pack cannot go stale behind a later deployment: it is a snapshot
at `generated_at`. `LineagePack` is the stable, versioned schema (documented in PACK_SCHEMA.md and exported as
pack.schema.json); missing pieces are null with a warning, never silently absent or "none".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keel import __version__
from keel.gate.evidence import EvidenceStore, decision_key
from keel.gate.facts import (
    DRIFT_FILE,
    DRIFT_OUTPUT,
    EVALUATION_FILE,
    EVALUATION_OUTPUT,
    EXECUTION_ID_KEY,
    GE_OUTPUT,
    VALIDATION_FILE,
    VALIDATION_OUTPUT,
    report_uri,
)
from keel.gate.findings import quarantine_record_prefix
from keel.gate.model import Actor, ApprovalStatus, DecisionKind, PolicyResult
from keel.gate.refs import ModelPackageRef, parse_reference
from keel.gate.settings import GovernanceSettings
from keel.lineage.record import ContractRef, LineageRecord, Trigger, record_key
from keel.s3uri import split_uri

PACK_SCHEMA_VERSION: Final = 2
TRIGGER_RECORD_PREFIX = "lineage/triggers/"  # written by the feedback loops next to the execution records
DEPLOYMENT_RECORDS_PREFIX = "lineage/deployments/"  # written by the model deployer, per model version
DRIFT_HTML_FILE = "drift_report.html"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PackModelPackage(_Model):
    arn: str
    group: str
    version: int
    package_status: str | None
    approval_status: str | None
    approval_description: str | None
    created: str | None
    last_modified: str | None
    image: str | None
    image_digest: str | None
    model_data_url: str | None
    metrics_uri: str | None
    customer_metadata: dict[str, str]


class PackTrigger(_Model):
    reason: str | None
    source: str | None
    event_id: str | None
    details: dict[str, Any] = Field(default_factory=dict)
    trigger_record_uri: str | None = None
    trigger_record: dict[str, Any] | None = None


class PackInput(_Model):
    uri: str
    version_id: str | None
    etag: str
    size: int
    sha256: str
    version_exists: bool | None = Field(description="HeadObject with the version id succeeded (now)")
    quarantined: bool | None = Field(description="Keel's Macie quarantine recorded a finding on it")


class PackValidation(_Model):
    success: bool | None
    summary_uri: str | None
    ge_results_prefix: str | None
    rows: int | None
    evaluated_expectations: int | None
    successful_expectations: int | None
    failures: int | None
    summary: dict[str, Any] | None


class PackExecution(_Model):
    arn: str | None
    id: str | None
    pipeline_name: str | None
    pipeline_arn: str | None
    status: str | None
    current_status: str | None = Field(description="DescribePipelineExecution now")
    failure_reason: str | None
    started: str | None
    ended: str | None
    definition_sha256: str | None
    parameters: dict[str, Any]
    steps: list[dict[str, Any]]


class PackCode(_Model):
    git_commit: str | None
    git_dirty: bool | None
    source_sha256: str | None
    image_uri: str | None
    image_digest: str | None


class PackMetrics(_Model):
    uri: str | None
    accuracy: float | None
    document: dict[str, Any] | None


class PackDrift(_Model):
    report_uri: str | None
    html_uri: str | None
    dataset_drift: bool | None
    drifted_share: float | None
    drifted_features: list[str]
    thresholds: dict[str, Any] | None
    summary: dict[str, Any] | None


class PackDecision(_Model):
    decision_id: str
    kind: DecisionKind
    decided_at: str
    decision: ApprovalStatus
    applied: bool
    reason: str
    actor: Actor
    approver: Actor | None
    failed_blocking: list[str]
    failed_advisory: list[str]
    policies: list[PolicyResult]
    policy_set_sha256: str | None
    inputs_sha256: str
    evidence_uri: str
    seal_valid: bool = Field(description="document_sha256 matches the document's content")


class PackApproval(_Model):
    status: str | None
    decided_by: Actor | None
    decision_id: str | None
    decided_at: str | None
    via: Literal["policy-gate", "human-reviewed-by-gate", "outside-gate-unreviewed", "none"]


class PackDeployment(_Model):
    endpoint_name: str
    endpoint_arn: str | None
    endpoint_status: str | None
    endpoint_config_name: str | None
    variant_name: str | None
    model_name: str | None
    created: str | None
    source: str


class PackDeploymentEvent(_Model):
    """One record of the model deployer's history that involves this version."""

    event: str | None
    time: str | None
    endpoint_name: str | None
    deployment_id: str | None
    role: Literal["new", "previous", "unknown"]
    new_version: int | None
    previous_version: int | None
    serving_version: int | None
    detail: str | None
    record_uri: str


NOT_AVAILABLE: Final = "not available in this region"
TrackingStatus = Literal["recorded", "failed", "not available in this region", "skipped"]


class PackTracking(_Model):
    status: TrackingStatus
    reason: str = Field(description="failed: the operation, error code, HTTP status and message")
    entities: dict[str, str] = Field(default_factory=dict)


class LineagePack(_Model):
    schema_version: Literal[2] = PACK_SCHEMA_VERSION
    kind: Literal["keel-lineage-pack"] = "keel-lineage-pack"
    generated_at: str
    generator: str
    environment: str
    model_package: PackModelPackage
    lineage_record_uri: str | None
    trigger: PackTrigger | None
    inputs: list[PackInput]
    contract: ContractRef | None
    validation: PackValidation | None
    execution: PackExecution | None
    code: PackCode | None
    metrics: PackMetrics | None
    drift: PackDrift | None
    gate_decisions: list[PackDecision]
    approval: PackApproval
    deployments: list[PackDeployment] | None = Field(
        description="endpoints serving the version at generated_at; null: the lookup failed (see warnings)"
    )
    deployment_history: list[PackDeploymentEvent] | None = Field(
        description="the deployer's records of the version; null: unreadable (see warnings)"
    )
    tracking: PackTracking
    warnings: list[str]

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=False) + "\n"


# --- sources of the pieces that live outside the record ---
class DeploymentSource(Protocol):
    name: str

    def deployments(self, model_package_arn: str) -> list[PackDeployment]: ...


class ModelVersionNotFoundError(LookupError):
    """The model registry has no such version (DescribeModelPackage said so)."""


# SageMaker's answer for a package, endpoint, config or model that does not exist: these codes (Describe*
# of endpoints has no ResourceNotFound and answers ValidationException "Could not find ...").
_NOT_FOUND_CODES = frozenset({"ValidationException", "ResourceNotFound", "ResourceNotFoundException"})


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "")


def _endpoint_gone(error: ClientError) -> bool:
    message = str(error.response.get("Error", {}).get("Message") or "")
    return _code(error) == "ValidationException" and "Could not find" in message


@dataclass
class SageMakerEndpointDeployments:
    """Endpoints whose production variants serve a model created from this model package."""

    sagemaker: Any
    name: str = "sagemaker-endpoints"

    def deployments(self, model_package_arn: str) -> list[PackDeployment]:
        found = []
        paginator = self.sagemaker.get_paginator("list_endpoints")
        for page in paginator.paginate():
            for summary in page.get("Endpoints", []):
                try:
                    endpoint = self.sagemaker.describe_endpoint(EndpointName=summary["EndpointName"])
                except ClientError as error:
                    if _endpoint_gone(error):  # deleted since ListEndpoints: it serves nothing
                        continue
                    raise
                config_name = endpoint.get("EndpointConfigName")
                config = self.sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
                for variant in config.get("ProductionVariants", []):
                    model = self.sagemaker.describe_model(ModelName=variant["ModelName"])
                    containers = [model.get("PrimaryContainer") or {}, *(model.get("Containers") or [])]
                    if any(c.get("ModelPackageName") == model_package_arn for c in containers):
                        found.append(
                            PackDeployment(
                                endpoint_name=summary["EndpointName"],
                                endpoint_arn=endpoint.get("EndpointArn"),
                                endpoint_status=endpoint.get("EndpointStatus"),
                                endpoint_config_name=config_name,
                                variant_name=variant.get("VariantName"),
                                model_name=variant["ModelName"],
                                created=_iso(endpoint.get("CreationTime")),
                                source=self.name,
                            )
                        )
        return found


@dataclass
class PackSources:
    """Clients the pack is read through; made with standard retries by the caller (`keel lineage`)."""

    settings: GovernanceSettings
    sagemaker: Any
    s3: Any
    # Default: the endpoints of the same account, read now (a pack never says "none" without looking).
    deployments: DeploymentSource | None = None

    @property
    def evidence(self) -> EvidenceStore:
        return EvidenceStore(self.s3, self.settings.evidence_bucket)

    @property
    def deployment_source(self) -> DeploymentSource:
        return self.deployments or SageMakerEndpointDeployments(self.sagemaker)


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    return str(value) if value else None


def _get_json(s3: Any, uri: str | None) -> tuple[Any, str | None]:
    if not uri:
        return None, "location not recorded"
    bucket, key = split_uri(uri)
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()), None
    except (ClientError, BotoCoreError, ValueError) as error:
        return None, str(error)


def _missing(error: ClientError) -> bool:
    """S3's "no such object/version": HeadObject has no body, so its code is the HTTP status."""
    return _code(error) in ("NoSuchKey", "NoSuchVersion", "404")


def build_pack(sources: PackSources, reference: str) -> LineagePack:
    """The pack of one model version (ARN or version number of Keel's group)."""
    settings = sources.settings
    ref = parse_reference(settings, reference)
    try:
        package = sources.sagemaker.describe_model_package(ModelPackageName=ref.arn)
    except ClientError as lookup:
        # The ARN is well formed (parse_reference), so a ValidationException here is SageMaker's not-found.
        if _code(lookup) in _NOT_FOUND_CODES:
            raise ModelVersionNotFoundError(
                f"no model package version {ref.version} in {ref.group} ({_code(lookup)}: "
                f"{lookup.response.get('Error', {}).get('Message')})"
            ) from None
        raise
    warnings: list[str] = []
    model_package = _model_package(ref, package)
    execution_id = model_package.customer_metadata.get(EXECUTION_ID_KEY)
    record, record_uri = None, None
    if not execution_id:
        warnings.append(f"the model package has no {EXECUTION_ID_KEY}: no lineage record to read")
    else:
        record_uri = f"s3://{settings.reports_bucket}/{record_key(execution_id)}"
        document, error = _get_json(sources.s3, record_uri)
        if error:
            warnings.append(f"lineage record {record_uri} unreadable: {error}")
        else:
            try:
                record = LineageRecord.model_validate(document)
            except ValidationError as invalid:
                warnings.append(f"lineage record {record_uri} is invalid: {invalid.error_count()} error(s)")
    if record is not None and record.model_package_arn != ref.arn:
        warnings.append(f"the lineage record names {record.model_package_arn}, not this package")
    decisions = _decisions(sources, ref, warnings)
    return LineagePack(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        generator=f"keel {__version__} (keel lineage)",
        environment=settings.env,
        model_package=model_package,
        lineage_record_uri=record_uri if record else None,
        trigger=_trigger(sources, record, execution_id, warnings) if record else None,
        inputs=_inputs(sources, record, warnings) if record else [],
        contract=record.contract if record else None,
        validation=_validation(record) if record else None,
        execution=_execution(sources, record, warnings) if record else None,
        code=PackCode(**record.code.model_dump(), image_digest=model_package.image_digest)
        if record
        else None,
        metrics=_metrics(sources, model_package, record, warnings),
        drift=_drift(record) if record else None,
        gate_decisions=decisions,
        approval=_approval(model_package, decisions, warnings),
        deployments=_deployments(sources, ref, warnings),
        deployment_history=_deployment_history(sources, ref, warnings),
        tracking=PackTracking(status="skipped", reason="not requested"),
        warnings=warnings,
    )


def _model_package(ref: ModelPackageRef, package: dict[str, Any]) -> PackModelPackage:
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or [{}]
    image = containers[0].get("Image")
    digest = containers[0].get("ImageDigest") or (image.split("@", 1)[1] if image and "@" in image else None)
    quality = (package.get("ModelMetrics") or {}).get("ModelQuality") or {}
    return PackModelPackage(
        arn=ref.arn,
        group=ref.group,
        version=ref.version,
        package_status=package.get("ModelPackageStatus"),
        approval_status=package.get("ModelApprovalStatus"),
        approval_description=package.get("ApprovalDescription"),
        created=_iso(package.get("CreationTime")),
        last_modified=_iso(package.get("LastModifiedTime")),
        image=image,
        image_digest=digest,
        model_data_url=containers[0].get("ModelDataUrl"),
        metrics_uri=(quality.get("Statistics") or {}).get("S3Uri"),
        customer_metadata=dict(package.get("CustomerMetadataProperties") or {}),
    )


def _trigger(
    sources: PackSources, record: LineageRecord, execution_id: str | None, warnings: list[str]
) -> PackTrigger:
    trigger: Trigger = record.trigger
    uri = f"s3://{sources.settings.reports_bucket}/{TRIGGER_RECORD_PREFIX}{execution_id}.json"
    bucket, key = split_uri(uri)
    document, error = None, None
    try:  # only runs started by the feedback loops have a trigger record: its absence is no gap
        document = json.loads(sources.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as failure:
        error = str(failure)
        if not _missing(failure):
            warnings.append(f"trigger record {uri} unreadable: {failure}")
    except (BotoCoreError, ValueError) as failure:
        error = str(failure)
        warnings.append(f"trigger record {uri} unreadable: {failure}")
    return PackTrigger(
        reason=trigger.reason,
        source=trigger.source,
        event_id=trigger.event_id,
        details=trigger.details,
        trigger_record_uri=None if error else uri,
        trigger_record=None if error else document,
    )


def _inputs(sources: PackSources, record: LineageRecord, warnings: list[str]) -> list[PackInput]:
    result = []
    for item in record.inputs:
        bucket, key = split_uri(item.uri)
        exists: bool | None
        try:
            extra = {"VersionId": item.version_id} if item.version_id else {}
            sources.s3.head_object(Bucket=bucket, Key=key, **extra)
            exists = True
        except ClientError as error:
            exists = False if _missing(error) else None  # denied or failing: unknown, not "gone"
            if exists is False:
                warnings.append(f"input {item.uri} version {item.version_id} no longer exists")
            else:
                warnings.append(f"input {item.uri} version {item.version_id} could not be checked: {error}")
        try:
            listed = sources.s3.list_objects_v2(
                Bucket=sources.settings.evidence_bucket,
                Prefix=quarantine_record_prefix(bucket, key),
                MaxKeys=1,
            )
            quarantined: bool | None = bool(listed.get("KeyCount", len(listed.get("Contents", []))))
        except ClientError as error:
            quarantined = None
            warnings.append(f"quarantine records of {item.uri} unreadable: {error}")
        if quarantined:
            warnings.append(f"input {item.uri} was quarantined after a Macie finding")
        result.append(PackInput(**item.model_dump(), version_exists=exists, quarantined=quarantined))
    return result


def _validation(record: LineageRecord) -> PackValidation:
    summary = record.validation or {}
    return PackValidation(
        success=summary.get("success") if record.validation else None,
        summary_uri=report_uri(record, VALIDATION_OUTPUT, VALIDATION_FILE),
        ge_results_prefix=report_uri(record, GE_OUTPUT),
        rows=summary.get("rows"),
        evaluated_expectations=summary.get("evaluated_expectations"),
        successful_expectations=summary.get("successful_expectations"),
        failures=len(summary.get("failures") or []) if record.validation else None,
        summary=record.validation,
    )


def _execution(sources: PackSources, record: LineageRecord, warnings: list[str]) -> PackExecution:
    try:
        current = sources.sagemaker.describe_pipeline_execution(
            PipelineExecutionArn=record.execution_arn
        ).get("PipelineExecutionStatus")
    except ClientError as error:
        current = None
        gone = _code(error) in _NOT_FOUND_CODES
        warnings.append(f"execution {record.execution_arn} {'not found' if gone else 'unreadable'}: {error}")
    except BotoCoreError as error:
        current = None
        warnings.append(f"execution {record.execution_arn} unreadable: {error}")
    return PackExecution(
        arn=record.execution_arn,
        id=record.execution_id,
        pipeline_name=record.pipeline_name,
        pipeline_arn=record.pipeline_arn,
        status=record.status,
        current_status=current,
        failure_reason=record.failure_reason,
        started=record.started,
        ended=record.ended,
        definition_sha256=record.definition_sha256,
        parameters=record.parameters,
        steps=[s.model_dump(mode="json") for s in record.steps],
    )


def _accuracy(document: Any) -> float | None:
    try:
        value = document["multiclass_classification_metrics"]["accuracy"]["value"]
    except (KeyError, TypeError):
        return None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _metrics(
    sources: PackSources, package: PackModelPackage, record: LineageRecord | None, warnings: list[str]
) -> PackMetrics | None:
    document = record.metrics if record else None
    if document is None and package.metrics_uri:
        document, error = _get_json(sources.s3, package.metrics_uri)
        if error:
            warnings.append(f"metrics {package.metrics_uri} unreadable: {error}")
    if document is None and package.metrics_uri is None:
        return None
    uri = package.metrics_uri or (report_uri(record, EVALUATION_OUTPUT, EVALUATION_FILE) if record else None)
    return PackMetrics(uri=uri, accuracy=_accuracy(document), document=document)


def _drift(record: LineageRecord) -> PackDrift:
    summary = record.drift or {}
    report = report_uri(record, DRIFT_OUTPUT, DRIFT_FILE)
    return PackDrift(
        report_uri=report,
        html_uri=report_uri(record, DRIFT_OUTPUT, DRIFT_HTML_FILE),
        dataset_drift=summary.get("dataset_drift"),
        drifted_share=summary.get("drifted_share"),
        drifted_features=list(summary.get("drifted_features") or []),
        thresholds=summary.get("thresholds"),
        summary=record.drift,
    )


def _decisions(sources: PackSources, ref: ModelPackageRef, warnings: list[str]) -> list[PackDecision]:
    store = sources.evidence
    try:
        found = store.decisions(ref.group, ref.version)
    except (ClientError, BotoCoreError, ValidationError) as error:
        warnings.append(f"gate evidence unreadable: {error}")
        return []
    decisions = []
    for key, document in found:
        valid = document.seal_valid()
        if not valid:
            warnings.append(f"evidence {store.uri(key)} does not match its own checksum: altered")
        decisions.append(
            PackDecision(
                decision_id=document.decision_id,
                kind=document.kind,
                decided_at=document.decided_at,
                decision=document.decision,
                applied=document.applied,
                reason=document.reason,
                actor=document.actor,
                approver=document.approver,
                failed_blocking=document.failed_blocking,
                failed_advisory=document.failed_advisory,
                policies=document.policies,
                policy_set_sha256=document.policy_set_sha256,
                inputs_sha256=document.inputs_sha256,
                evidence_uri=store.uri(decision_key(ref.group, ref.version, document.decision_id)),
                seal_valid=valid,
            )
        )
    return decisions


def _approval(
    package: PackModelPackage, decisions: Sequence[PackDecision], warnings: list[str]
) -> PackApproval:
    status = package.approval_status
    matching = [d for d in decisions if d.decision.value == status]
    if not matching:
        if status == ApprovalStatus.APPROVED:
            warnings.append("approved, but no gate evidence exists for the approval")
            return PackApproval(
                status=status,
                decided_by=None,
                decision_id=None,
                decided_at=None,
                via="outside-gate-unreviewed",
            )
        return PackApproval(status=status, decided_by=None, decision_id=None, decided_at=None, via="none")
    latest = matching[-1]
    human = latest.kind in (DecisionKind.CONSOLE_APPROVAL, DecisionKind.OBSERVED_REJECTION)
    return PackApproval(
        status=status,
        decided_by=latest.approver if human else latest.actor,
        decision_id=latest.decision_id,
        decided_at=latest.decided_at,
        via="human-reviewed-by-gate" if human else "policy-gate",
    )


def _deployments(
    sources: PackSources, ref: ModelPackageRef, warnings: list[str]
) -> list[PackDeployment] | None:
    source = sources.deployment_source
    try:
        return source.deployments(ref.arn)
    except (ClientError, BotoCoreError) as error:
        warnings.append(f"endpoint deployments unknown ({source.name}): {error}")
        return None


def _deployment_history(
    sources: PackSources, ref: ModelPackageRef, warnings: list[str]
) -> list[PackDeploymentEvent] | None:
    bucket = sources.settings.reports_bucket
    history = []
    try:
        paginator = sources.s3.get_paginator("list_objects_v2")
        keys = [
            item["Key"]
            for page in paginator.paginate(Bucket=bucket, Prefix=f"{DEPLOYMENT_RECORDS_PREFIX}{ref.version}/")
            for item in page.get("Contents", [])
        ]
    except (ClientError, BotoCoreError) as listing_error:
        warnings.append(f"deployment records unreadable: {listing_error}")
        return None
    for key in sorted(keys):
        uri = f"s3://{bucket}/{key}"
        record, problem = _get_json(sources.s3, uri)
        if problem or not isinstance(record, dict):
            warnings.append(f"deployment record {uri} unreadable: {problem}")
            continue

        def version(part: str, document: dict[str, Any] = record) -> int | None:
            value = (document.get(part) or {}).get("version")
            return int(value) if isinstance(value, int) else None

        new, previous = version("new"), version("previous")
        history.append(
            PackDeploymentEvent(
                event=record.get("event"),
                time=record.get("time"),
                endpoint_name=record.get("endpoint_name"),
                deployment_id=record.get("deployment_id"),
                role="new" if new == ref.version else "previous" if previous == ref.version else "unknown",
                new_version=new,
                previous_version=previous,
                serving_version=version("serving"),
                detail=record.get("detail"),
                record_uri=uri,
            )
        )
    return history


def pack_schema() -> dict[str, Any]:
    """The JSON Schema of the pack (kept in pack.schema.json; a test keeps the two in sync)."""
    return LineagePack.model_json_schema()
