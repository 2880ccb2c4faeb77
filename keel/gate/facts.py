"""Gather what the policies judge: one pass of reads over S3, SageMaker and KMS, with every failure kept as a
precise message (the checks turn a missing fact into a failed policy: fail closed).

Where the evidence of a run lives comes from its lineage record (`keel.lineage.record`): `reports` maps
"<step>.<output>" to the S3 prefix a step wrote; the property files are named in the pipeline definition.

A failed read is a fact only when it says something about the thing read (missing, denied, rejected): a
transient failure that outlasts the clients' retries raises `RetryLaterError`, and nothing is decided.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from keel.aws import RetryLaterError, describe_error, error_kind, retry_later
from keel.definition_policy import job_violations
from keel.gate.findings import Finding, FindingsSource, FindingsUnavailableError, ObjectVersion
from keel.gate.reading import ReadError, RecordingReader
from keel.gate.settings import GovernanceSettings
from keel.lineage.record import LineageRecord, record_key
from keel.s3uri import split_uri

EXECUTION_ID_KEY = "keel:execution_id"
# Step outputs (record.reports keys) and the files in them that the gate reads. The step and property file
# names are those of pipeline_steps/definition.py (a test keeps them in sync).
MODEL_OUTPUT = "Train.model"
EVALUATION_OUTPUT, EVALUATION_FILE = "Evaluate.evaluation", "evaluation.json"
VALIDATION_OUTPUT, VALIDATION_FILE = "CombineValidation.validation", "summary.json"
GE_OUTPUT, GE_RESULT_FILE = "ValidateData.validation", "validation_result.json"
DRIFT_OUTPUT, DRIFT_FILE = "MeasureDrift.drift", "drift_report.json"
RUNNING_STATUSES = ("Executing", "Stopping")


class GateNotReadyError(RetryLaterError):
    """The execution that registered the package is still running and has not written its lineage record
    yet: retry later (the Lambda is retried; the CLI says so). Not a decision."""


def _failure(error: ClientError | BotoCoreError, doing: str) -> str:
    """What a failed call says as a fact; raises RetryLaterError for a transient failure."""
    if error_kind(error) == "transient":
        raise retry_later(error, doing) from error
    return f"{doing}: {describe_error(error)}"


@dataclass
class Document:
    """A JSON document the gate read (value) or could not read (error)."""

    uri: str | None
    value: Any = None
    error: str | None = None


@dataclass
class ObjectState:
    """Encryption of one stored object, from S3 HeadObject."""

    role: str
    uri: str | None
    sse: str | None = None
    kms_key_id: str | None = None
    key_arn: str | None = None
    error: str | None = None


@dataclass
class InputState:
    """One training input version: still there, and still the bytes the lineage record hashed?"""

    uri: str
    version_id: str | None
    recorded_sha256: str
    recorded_size: int
    actual_sha256: str | None = None
    actual_size: int | None = None
    error: str | None = None


@dataclass
class DefinitionState:
    source: str | None = None  # "execution" (what that execution ran) or "deployed" (fallback)
    fallback_reason: str | None = None  # why the deployed definition stands in for the execution's
    sha256: str | None = None
    violations: list[str] = field(default_factory=list)
    pipeline_arn: str | None = None
    deployed_sha256: str | None = None
    error: str | None = None


@dataclass
class GateFacts:
    model_package_arn: str
    package: dict[str, Any]
    execution_id: str | None = None
    record_uri: str | None = None
    record: LineageRecord | None = None
    record_error: str | None = None
    artifacts_key_arn: str | None = None
    key_error: str | None = None
    evaluation: Document = field(default_factory=lambda: Document(None, error="not read"))
    validation: Document = field(default_factory=lambda: Document(None, error="not read"))
    ge_results: list[str] = field(default_factory=list)
    ge_error: str | None = None
    drift: Document = field(default_factory=lambda: Document(None, error="not read"))
    objects: list[ObjectState] = field(default_factory=list)
    inputs: list[InputState] = field(default_factory=list)
    findings: list[Finding] | None = None
    findings_error: str | None = None
    findings_source: str = ""
    definition: DefinitionState = field(default_factory=DefinitionState)

    @property
    def customer_metadata(self) -> dict[str, str]:
        return dict(self.package.get("CustomerMetadataProperties") or {})

    @property
    def metrics_uri(self) -> str | None:
        quality = (self.package.get("ModelMetrics") or {}).get("ModelQuality") or {}
        uri = (quality.get("Statistics") or {}).get("S3Uri")
        return str(uri) if uri else None

    @property
    def model_data_url(self) -> str | None:
        containers = (self.package.get("InferenceSpecification") or {}).get("Containers") or []
        url = containers[0].get("ModelDataUrl") if containers else None
        return str(url) if url else None


def report_uri(record: LineageRecord | None, output: str, file_name: str | None = None) -> str | None:
    if record is None or output not in record.reports:
        return None
    prefix = record.reports[output].rstrip("/")
    return f"{prefix}/{file_name}" if file_name else prefix


@dataclass
class FactCollector:
    settings: GovernanceSettings
    sagemaker: Any
    s3: Any
    kms: Any
    findings: FindingsSource
    reader: RecordingReader
    _key_cache: dict[str, str] = field(default_factory=dict)

    def collect(self, arn: str, package: dict[str, Any]) -> GateFacts:
        self.reader.record_document(f"sagemaker:DescribeModelPackage:{arn}", package, purpose="model package")
        facts = GateFacts(model_package_arn=arn, package=package)
        self._record(facts)
        self._key(facts)
        facts.evaluation = self._document(facts.metrics_uri, "evaluation metrics (model package)")
        if facts.metrics_uri is None:
            facts.evaluation.error = "the model package has no ModelMetrics.ModelQuality.Statistics.S3Uri"
        record = facts.record
        facts.validation = self._document(
            report_uri(record, VALIDATION_OUTPUT, VALIDATION_FILE), "validation summary", record=record
        )
        facts.drift = self._document(
            report_uri(record, DRIFT_OUTPUT, DRIFT_FILE), "drift report", record=record
        )
        self._ge_results(facts)
        self._objects(facts)
        self._inputs(facts)
        self._findings(facts)
        self._definition(facts)
        return facts

    # --- the lineage record ---
    def _record(self, facts: GateFacts) -> None:
        execution_id = facts.customer_metadata.get(EXECUTION_ID_KEY)
        if not execution_id:
            facts.record_error = f"the model package has no {EXECUTION_ID_KEY} customer metadata"
            return
        facts.execution_id = execution_id
        facts.record_uri = f"s3://{self.settings.reports_bucket}/{record_key(execution_id)}"
        try:
            document = self.reader.get_json(facts.record_uri, purpose="lineage record")
        except ReadError as error:
            if error.kind != "not-found":  # denied, or not JSON: the record may exist, it is unreadable
                facts.record_error = f"lineage record unreadable: {error}"
                return
            facts.record_error = f"lineage record missing: {error}{self._execution_note(execution_id)}"
            return
        try:
            facts.record = LineageRecord.model_validate(document)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in item['loc']) or '(top)'}: {item['msg']}"
                for item in error.errors()
            )
            facts.record_error = f"lineage record {facts.record_uri} is invalid: {problems}"

    def _execution_note(self, execution_id: str) -> str:
        """Why the record is missing, as far as SageMaker says. Raises GateNotReadyError while the execution
        runs (its record comes at the end), RetryLaterError if SageMaker fails transiently."""
        arn = self.settings.execution_arn(execution_id)
        try:
            status = self.sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn).get(
                "PipelineExecutionStatus"
            )
        except (ClientError, BotoCoreError) as error:
            kind = error_kind(error)
            if kind == "transient":
                raise retry_later(error, f"checking whether execution {execution_id} still runs") from error
            if kind == "not-found":
                return f"; execution {execution_id} does not exist"
            # Denied (or rejected): whether it is still running is unknown, and the evidence says why.
            return f"; cannot check whether execution {execution_id} still runs: {describe_error(error)}"
        if status in RUNNING_STATUSES:
            raise GateNotReadyError(
                f"execution {execution_id} is {status} and has not written its lineage record yet"
            )
        return f"; execution {execution_id} is {status}"

    # --- KMS ---
    def _key(self, facts: GateFacts) -> None:
        try:
            facts.artifacts_key_arn = self.resolve_key(self.settings.artifacts_key_alias)
        except (ClientError, BotoCoreError) as error:
            facts.key_error = _failure(error, f"cannot resolve {self.settings.artifacts_key_alias}")

    def resolve_key(self, key_id: str) -> str:
        """The key ARN of a key id, key ARN, alias name or alias ARN (as S3 may report any of them)."""
        if key_id not in self._key_cache:
            self._key_cache[key_id] = str(self.kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"])
        return self._key_cache[key_id]

    # --- reports ---
    def _document(self, uri: str | None, purpose: str, *, record: Any = True) -> Document:
        if uri is None:
            reason = "no lineage record to locate it" if record is None else "its location is not recorded"
            return Document(None, error=f"{purpose}: {reason}")
        try:
            return Document(uri, value=self.reader.get_json(uri, purpose=purpose))
        except ReadError as error:
            return Document(uri, error=f"{purpose} not archived: {error}")

    def _ge_results(self, facts: GateFacts) -> None:
        prefix = report_uri(facts.record, GE_OUTPUT)
        if prefix is None:
            facts.ge_error = "no recorded location of the Great Expectations results"
            return
        bucket, key_prefix = split_uri(prefix + "/")
        try:
            paginator = self.s3.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=key_prefix):
                for item in page.get("Contents", []):
                    if item["Key"].endswith("/" + GE_RESULT_FILE) or item["Key"] == GE_RESULT_FILE:
                        facts.ge_results.append(f"s3://{bucket}/{item['Key']}")
        except (ClientError, BotoCoreError) as error:
            facts.ge_error = _failure(error, f"cannot list {prefix}")

    def _objects(self, facts: GateFacts) -> None:
        wanted = [
            ("model artifact", facts.model_data_url),
            ("evaluation metrics", facts.metrics_uri),
            ("lineage record", facts.record_uri if facts.record else None),
            ("validation summary", facts.validation.uri),
            ("drift report", facts.drift.uri),
        ]
        for role, uri in wanted:
            state = ObjectState(role=role, uri=uri)
            facts.objects.append(state)
            if uri is None:
                state.error = f"{role}: location unknown"
                continue
            try:
                head = self.reader.head(uri)
            except (ReadError, ValueError) as error:
                state.error = f"{role}: {error}"
                continue
            state.sse = head.get("ServerSideEncryption")
            state.kms_key_id = head.get("SSEKMSKeyId")
            if state.kms_key_id:
                try:
                    state.key_arn = self.resolve_key(state.kms_key_id)
                except (ClientError, BotoCoreError) as error:
                    state.error = _failure(error, f"{role}: cannot resolve its KMS key {state.kms_key_id}")

    # --- training inputs ---
    def _inputs(self, facts: GateFacts) -> None:
        for item in facts.record.inputs if facts.record else []:
            state = InputState(item.uri, item.version_id, item.sha256, item.size)
            facts.inputs.append(state)
            try:
                state.actual_sha256, state.actual_size, _ = self.reader.hash_version(
                    item.uri, item.version_id, purpose="training input"
                )
            except (ReadError, ValueError) as error:
                state.error = str(error)

    def _findings(self, facts: GateFacts) -> None:
        facts.findings_source = self.findings.name
        if facts.record is None:
            facts.findings_error = "no lineage record: the training inputs are unknown"
            return
        objects = []
        for item in facts.record.inputs:
            bucket, key = split_uri(item.uri)
            objects.append(ObjectVersion(bucket, key, item.version_id))
        try:
            facts.findings = self.findings.open_findings(objects)
        except FindingsUnavailableError as error:
            facts.findings_error = f"{self.findings.name}: {error}"

    # --- the pipeline definition the execution ran ---
    def _definition(self, facts: GateFacts) -> None:
        state = facts.definition
        if not facts.execution_id:
            state.error = "no execution id: cannot tell which definition produced the model"
            return
        execution_arn = (
            facts.record.execution_arn if facts.record else self.settings.execution_arn(facts.execution_id)
        )
        try:
            deployed = self.sagemaker.describe_pipeline(PipelineName=self.settings.pipeline_name)
            deployed_text = str(deployed["PipelineDefinition"])
            state.deployed_sha256 = hashlib.sha256(deployed_text.encode()).hexdigest()
        except (ClientError, BotoCoreError) as error:
            state.error = _failure(error, f"cannot describe pipeline {self.settings.pipeline_name}")
            return
        try:
            state.pipeline_arn = self.sagemaker.describe_pipeline_execution(
                PipelineExecutionArn=execution_arn
            ).get("PipelineArn")
        except (ClientError, BotoCoreError) as error:
            state.error = _failure(error, f"cannot describe execution {execution_arn}")
            return
        try:
            text = str(
                self.sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution_arn)[
                    "PipelineDefinition"
                ]
            )
            state.source = "execution"
        except (ClientError, BotoCoreError) as error:
            # ResourceNotFound (the API's only modeled error) after the execution itself was just described
            # means SageMaker keeps no definition for it: the deployed one stands in, and the evidence says
            # so (the check still compares it with the record's hash). Anything else is not an absence.
            if error_kind(error) != "not-found":
                state.error = _failure(error, f"cannot read the definition {execution_arn} ran")
                return
            text, state.source = deployed_text, "deployed"
            state.fallback_reason = f"no definition kept for {execution_arn}: {describe_error(error)}"
        state.sha256 = hashlib.sha256(text.encode()).hexdigest()
        self.reader.record_document(
            f"sagemaker:PipelineDefinition:{execution_arn}",
            {"sha256": state.sha256, "source": state.source, "fallback_reason": state.fallback_reason},
            purpose="definition",
        )
        try:
            definition = json.loads(text)
        except ValueError as error:
            state.error = f"the definition of {execution_arn} is not valid JSON: {error}"
            return
        state.violations = job_violations(definition, kms_key_arn=facts.artifacts_key_arn)
