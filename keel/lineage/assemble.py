"""Assemble an execution's lineage record from what the services report once it has ended.

Runs in the lineage recorder Lambda (`lambdas/lineage_recorder`) on SageMaker's pipeline execution status
change, for every terminal status: the record is written by deployed code on AWS and locally alike. Every
fact comes from an API a real account answers:

- the execution (DescribePipelineExecution), the definition it ran (DescribePipelineDefinitionForExecution)
  and its parameters (ListPipelineParametersForExecution, defaults from that definition);
- its steps (ListPipelineExecutionSteps) and their jobs (DescribeProcessingJob / DescribeTrainingJob): job
  names, output locations, the image;
- the property files the definition declares (validation summary, evaluation, drift report) read from the
  steps' outputs in S3;
- the training inputs: the object versions that were current under the validation step's input when that
  step started (ListObjectVersions), each hashed from its version (GetObject with VersionId);
- the trigger: the trigger record the starting Lambda wrote, else the execution's description.

Errors keep their meaning: only "no such object" means a report is absent (a failed run writes fewer);
access denied, throttling and other failures propagate, so the invocation fails and is retried (the rule's
retry policy, then its dead-letter queue) rather than writing a record that silently lacks facts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from keel.feedback.lineage import TriggerRecord, trigger_record_key
from keel.lineage.record import (
    CodeVersion,
    ContractRef,
    InputObject,
    LineageRecord,
    StepRecord,
    Trigger,
)
from keel.naming import LATEST_VERSIONS
from keel.s3uri import split_uri

# Names of the definition's steps and property files whose content the record summarises
# (pipeline_steps/definition.py; a test keeps them in sync).
INPUT_STEP, INPUT_NAME = "ValidateData", "data"
VALIDATION_FILE = "CombineValidation.ValidationSummary"
EVALUATION_FILE = "Evaluate.Evaluation"
DRIFT_FILE = "MeasureDrift.DriftReport"
TERMINAL_STATUSES = ("Succeeded", "Failed", "Stopped")
_ABSENT_CODES = {"NoSuchKey", "404", "NotFound"}
_HASH_CHUNK = 1024 * 1024


class ExecutionNotEndedError(RuntimeError):
    """The execution is still running: its record is written when it ends (a later status change)."""


@dataclass(frozen=True)
class DeployedCode:
    """What the deployment that created the pipeline knows about its own code (set at synth)."""

    environment: str
    contract: ContractRef
    git_commit: str | None
    git_dirty: bool | None
    source_sha256: str


@dataclass
class RecordSources:
    sagemaker: Any
    s3: Any
    reports_bucket: str
    deployed: DeployedCode


def assemble_record(sources: RecordSources, execution_arn: str) -> LineageRecord:
    """The lineage record of an ended execution; ExecutionNotEndedError while it still runs."""
    sagemaker = sources.sagemaker
    execution = sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
    status = str(execution["PipelineExecutionStatus"])
    if status not in TERMINAL_STATUSES:
        raise ExecutionNotEndedError(f"execution {execution_arn} is {status}")
    definition_text = str(
        sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution_arn)[
            "PipelineDefinition"
        ]
    )
    definition = json.loads(definition_text)
    parameters = _parameters(definition, _listed_parameters(sagemaker, execution_arn))
    step_types = {step["Name"]: step["Type"] for step in _all_steps(definition["Steps"])}
    steps: list[StepRecord] = []
    jobs: dict[str, dict[str, Any]] = {}  # step name -> job description
    model_package_arn: str | None = None
    for step in list(_execution_steps(sagemaker, execution_arn)):  # every page, then the jobs
        record, job = _step_record(sagemaker, step, step_types)
        steps.append(record)
        if job is not None:
            jobs[record.name] = job
        model_package_arn = record.outputs.get("model_package") or model_package_arn
    reports = {f"{s.name}.{name}": uri for s in steps for name, uri in s.outputs.items()}
    property_files = {
        key: _read_json(sources.s3, uri) for key, uri in _property_file_uris(definition, steps).items()
    }
    drift = property_files.get(DRIFT_FILE)
    execution_id = execution_arn.rsplit("/", 1)[-1]
    deployed = sources.deployed
    return LineageRecord(
        environment=deployed.environment,
        pipeline_name=execution_arn.split(":", 5)[5].split("/")[1],
        pipeline_arn=str(execution.get("PipelineArn") or execution_arn.rsplit("/execution/", 1)[0]),
        definition_sha256=hashlib.sha256(definition_text.encode()).hexdigest(),
        execution_arn=execution_arn,
        execution_id=execution_id,
        status=status,
        failure_reason=execution.get("FailureReason") or _first_failure(steps),
        started=_iso(execution.get("CreationTime")),
        ended=_iso(execution.get("LastModifiedTime")),
        trigger=_trigger(sources, execution, parameters, execution_id),
        parameters=parameters,
        contract=deployed.contract,
        code=CodeVersion(
            git_commit=deployed.git_commit,
            git_dirty=deployed.git_dirty,
            source_sha256=deployed.source_sha256,
            image_uri=_image_uri(jobs) or "unknown: no job ran",
        ),
        inputs=_inputs(sources.s3, jobs.get(INPUT_STEP), parameters),
        steps=steps,
        validation=property_files.get(VALIDATION_FILE),
        metrics=property_files.get(EVALUATION_FILE),
        drift=drift_summary(drift) if drift else None,
        reports=reports,
        model_package_arn=model_package_arn,
    )


# --- the execution -----------------------------------------------------------------------------------
def _listed_parameters(sagemaker: Any, execution_arn: str) -> dict[str, str]:
    given: dict[str, str] = {}
    paginator = sagemaker.get_paginator("list_pipeline_parameters_for_execution")
    for page in paginator.paginate(PipelineExecutionArn=execution_arn):
        for item in page.get("PipelineParameters", []):
            given[str(item["Name"])] = str(item["Value"])
    return given


def _parameters(definition: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """Every declared parameter with the value the execution ran with (its default when not given), typed as
    the definition declares it."""
    casts: dict[str, Any] = {
        "String": str,
        "Integer": int,
        "Float": float,
        "Boolean": lambda v: str(v).lower() == "true",
    }
    resolved: dict[str, Any] = {}
    for spec in definition.get("Parameters", []):
        name = spec["Name"]
        value = given.get(name, spec.get("DefaultValue"))
        try:
            resolved[name] = casts.get(spec.get("Type", "String"), str)(value)
        except (TypeError, ValueError):
            resolved[name] = value  # recorded as the service reported it
    for name in given.keys() - resolved.keys():
        resolved[name] = given[name]
    return resolved


def _all_steps(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Top-level steps and those nested in condition branches."""
    for step in steps:
        yield step
        arguments = step.get("Arguments") or {}
        if step.get("Type") == "Condition":
            yield from _all_steps(list(arguments.get("IfSteps", [])) + list(arguments.get("ElseSteps", [])))


def _execution_steps(sagemaker: Any, execution_arn: str) -> Iterator[dict[str, Any]]:
    paginator = sagemaker.get_paginator("list_pipeline_execution_steps")
    for page in paginator.paginate(PipelineExecutionArn=execution_arn, SortOrder="Ascending"):
        yield from page.get("PipelineExecutionSteps", [])


def _step_record(
    sagemaker: Any, step: dict[str, Any], step_types: dict[str, str]
) -> tuple[StepRecord, dict[str, Any] | None]:
    name = str(step["StepName"])
    metadata = step.get("Metadata") or {}
    outputs: dict[str, str] = {}
    job: dict[str, Any] | None = None
    job_name: str | None = None
    detail = str(step.get("FailureReason") or "")
    if "ProcessingJob" in metadata:
        job_name = _name_of(metadata["ProcessingJob"]["Arn"])
        job = sagemaker.describe_processing_job(ProcessingJobName=job_name)
        for output in (job.get("ProcessingOutputConfig") or {}).get("Outputs", []):
            if "S3Output" in output:
                outputs[str(output["OutputName"])] = str(output["S3Output"]["S3Uri"])
    elif "TrainingJob" in metadata:
        job_name = _name_of(metadata["TrainingJob"]["Arn"])
        job = sagemaker.describe_training_job(TrainingJobName=job_name)
        artifacts = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
        if artifacts and job.get("TrainingJobStatus") == "Completed":
            outputs["model"] = str(artifacts)
    elif "RegisterModel" in metadata:
        arn = str(metadata["RegisterModel"]["Arn"])
        outputs["model_package"] = arn
        detail = detail or arn
    elif "Condition" in metadata:
        detail = detail or f"outcome: {metadata['Condition'].get('Outcome')}"
    elif "Fail" in metadata:
        detail = detail or str(metadata["Fail"].get("ErrorMessage") or "")
    if job is not None and not detail:
        detail = str(job.get("FailureReason") or "")
    record = StepRecord(
        name=name,
        type=step_types.get(name, "Unknown"),
        status=str(step.get("StepStatus") or "Unknown"),
        started=_iso(step.get("StartTime")),
        ended=_iso(step.get("EndTime")),
        detail=detail,
        job_name=job_name,
        outputs=outputs,
    )
    return record, job


def _name_of(arn: str) -> str:
    # SageMaker lower-cases the name in a job's ARN; its Describe* APIs take names case-insensitively.
    return arn.rsplit("/", 1)[-1]


def _first_failure(steps: list[StepRecord]) -> str | None:
    failed = next((s for s in steps if s.status == "Failed"), None)
    return f"{failed.name}: {failed.detail}" if failed else None


def _image_uri(jobs: dict[str, dict[str, Any]]) -> str | None:
    for job in jobs.values():
        image = (job.get("AppSpecification") or {}).get("ImageUri") or (
            job.get("AlgorithmSpecification") or {}
        ).get("TrainingImage")
        if image:
            return str(image)
    return None


# --- reports -----------------------------------------------------------------------------------------
def _property_file_uris(definition: dict[str, Any], steps: list[StepRecord]) -> dict[str, str]:
    """ "<step>.<property file>" -> the S3 URI of the file, for the steps that ran and wrote that output."""
    outputs = {s.name: s.outputs for s in steps}
    uris: dict[str, str] = {}
    for step in _all_steps(definition["Steps"]):
        for item in step.get("PropertyFiles", []):
            prefix = outputs.get(step["Name"], {}).get(item["OutputName"])
            if prefix:
                name = f"{step['Name']}.{item['PropertyFileName']}"
                uris[name] = f"{prefix.rstrip('/')}/{item['FilePath']}"
    return uris


def _read_json(s3: Any, uri: str) -> Any:
    """The JSON document at `uri`; None only when there is no such object (a step that failed early)."""
    bucket, key = split_uri(uri)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if _code(error) in _ABSENT_CODES:
            return None
        raise
    return json.loads(body)


def drift_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The drift report without per-feature histograms (kept in the report itself)."""
    features = report.get("features")
    if isinstance(features, dict):
        features = {
            name: {k: v for k, v in feature.items() if not isinstance(v, list)}
            for name, feature in features.items()
        }
    return {k: v for k, v in report.items() if k != "features"} | {"features": features}


# --- trigger -----------------------------------------------------------------------------------------
def _trigger(
    sources: RecordSources, execution: dict[str, Any], parameters: dict[str, Any], execution_id: str
) -> Trigger:
    """The trigger record the starting Lambda wrote; else what the execution's description says (Keel's
    CLI and triggers put the trigger there as JSON); else the TriggerReason parameter alone."""
    key = trigger_record_key(execution_id)
    try:
        body = sources.s3.get_object(Bucket=sources.reports_bucket, Key=key)["Body"].read()
        return TriggerRecord.model_validate_json(body).trigger
    except ClientError as error:
        if _code(error) not in _ABSENT_CODES:
            raise
    description = execution.get("PipelineExecutionDescription")
    try:
        described = json.loads(description) if description else None
    except ValueError:
        described = None
    if isinstance(described, dict) and described.get("reason") and described.get("source"):
        return Trigger(
            reason=str(described["reason"]),
            source=str(described["source"]),
            event_id=str(described["event_id"]) if described.get("event_id") else None,
        )
    return Trigger(
        reason=str(parameters.get("TriggerReason") or "not recorded"),
        source="manual",
        details={
            "note": "started outside Keel's triggers (no trigger record, no Keel description)",
            "display_name": execution.get("PipelineExecutionDisplayName"),
            "started_by": (execution.get("CreatedBy") or {}).get("UserProfileName"),
        },
    )


# --- training inputs ---------------------------------------------------------------------------------
def _inputs(s3: Any, validate_job: dict[str, Any] | None, parameters: dict[str, Any]) -> list[InputObject]:
    """The object versions the validation step read: the version named by InputObjectVersion, or every
    key under its S3Prefix input as it stood when the job started (S3 is strongly consistent, so that is
    what the job downloaded)."""
    if validate_job is None:
        return []
    source = next(
        (i["S3Input"] for i in validate_job.get("ProcessingInputs", []) if i.get("InputName") == INPUT_NAME),
        None,
    )
    if source is None:
        return []
    bucket, prefix = split_uri(str(source["S3Uri"]))
    pinned = str(parameters.get("InputObjectVersion") or LATEST_VERSIONS)
    versions: list[tuple[str, str | None, str, int]]
    if pinned != LATEST_VERSIONS:
        head = s3.head_object(Bucket=bucket, Key=prefix, VersionId=pinned)
        versions = [(prefix, pinned, str(head["ETag"]), int(head["ContentLength"]))]
    else:
        as_of = validate_job.get("ProcessingStartTime") or validate_job.get("CreationTime")
        versions = _versions_as_of(s3, bucket, prefix, as_of)
    return [
        InputObject(
            uri=f"s3://{bucket}/{key}",
            version_id=version_id,
            etag=etag.strip('"'),
            size=size,
            sha256=_sha256(s3, bucket, key, version_id),
        )
        for key, version_id, etag, size in versions
    ]


def _versions_as_of(
    s3: Any, bucket: str, prefix: str, as_of: datetime | None
) -> list[tuple[str, str | None, str, int]]:
    """(key, version id, ETag, size) of each key under the prefix as it stood at `as_of`, sorted by key: the
    newest entry of each key no later than `as_of`, left out when that entry is a delete marker."""
    newest: dict[str, tuple[tuple[datetime, bool, bool], dict[str, Any] | None]] = {}
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        entries = [(v, v) for v in page.get("Versions", [])]
        entries += [(m, None) for m in page.get("DeleteMarkers", [])]
        for entry, version in entries:
            key, modified = str(entry["Key"]), entry["LastModified"]
            if key.endswith("/") or (as_of is not None and modified > as_of):
                continue
            # LastModified has one-second resolution: on a tie the latest entry wins, else the delete marker
            # (a put then a delete within one second is the common case).
            rank = (modified, bool(entry.get("IsLatest")), version is None)
            if key not in newest or rank > newest[key][0]:
                newest[key] = (rank, version)
    return sorted(
        (key, v.get("VersionId"), str(v["ETag"]), int(v["Size"]))
        for key, (_, v) in newest.items()
        if v is not None
    )


def _sha256(s3: Any, bucket: str, key: str, version_id: str | None) -> str:
    extra = {"VersionId": version_id} if version_id and version_id != "null" else {}
    body = s3.get_object(Bucket=bucket, Key=key, **extra)["Body"]
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(_HASH_CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


# --- helpers -----------------------------------------------------------------------------------------
def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value) if value else ""
