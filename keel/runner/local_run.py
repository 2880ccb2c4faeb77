"""One local training run end to end: land the data (if a local file), run the deployed pipeline's definition
through the local runner, then write the execution's lineage record to the reports bucket."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keel.config import EnvironmentConfig
from keel.contract import load_contract
from keel.lineage.record import (
    CodeVersion,
    ContractRef,
    InputObject,
    LineageRecord,
    StepRecord,
    Trigger,
    contract_sha256,
    git_version,
    record_key,
    source_sha256,
    to_json,
)
from keel.naming import BucketPurpose, KeyPurpose, bucket_name, key_alias, pipeline_name
from keel.runner.engine import LocalPipelineRunner, Progress, RunResult
from keel.runner.s3io import split_uri

# Names of the definition's steps whose outputs the lineage record summarises.
VALIDATION_FILE = "CombineValidation.ValidationSummary"
EVALUATION_FILE = "Evaluate.Evaluation"
DRIFT_FILE = "MeasureDrift.DriftReport"
INPUT_STEP, INPUT_NAME = "ValidateData", "data"


@dataclass
class LocalRun:
    result: RunResult
    record: LineageRecord
    record_uri: str


def land_file(s3: Any, config: EnvironmentConfig, path: Path) -> tuple[str, str | None]:
    """Put a local data file into the raw bucket's landing prefix; returns (S3 URI, version id)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such data file")
    contract = load_contract(config.contract)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    key = f"{contract.landing_prefix}ingest_date={stamp}/{path.name}"
    bucket = bucket_name(config, BucketPurpose.RAW)
    response = s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    return f"s3://{bucket}/{key}", response.get("VersionId")


def run_training(
    config: EnvironmentConfig,
    *,
    sagemaker: Any,
    s3: Any,
    data_uri: str,
    data_version: str | None = None,
    trigger: Trigger | None = None,
    parameters: dict[str, Any] | None = None,
    workdir: Path | None = None,
    progress: Progress | None = None,
) -> LocalRun:
    """Start an execution on `data_uri` (as `keel run-pipeline` does) and run it locally."""
    split_uri(data_uri)  # validates the URI early, with a clear message
    trigger = trigger or Trigger(reason="manual run", source="cli")
    given = {"InputDataUri": data_uri, "TriggerReason": trigger.reason, **(parameters or {})}
    if data_version:
        given["InputObjectVersion"] = data_version
    runner = LocalPipelineRunner(sagemaker=sagemaker, s3=s3, workdir=Path(), progress=progress)
    execution_arn = runner.start(
        pipeline_name(config),
        given,
        display_name=f"keel-{trigger.source}-{datetime.now(UTC):%Y%m%dT%H%M%S}",
    )
    return execute_training(
        config,
        sagemaker=sagemaker,
        s3=s3,
        execution_arn=execution_arn,
        trigger=trigger,
        workdir=workdir,
        progress=progress,
    )


def execute_training(
    config: EnvironmentConfig,
    *,
    sagemaker: Any,
    s3: Any,
    execution_arn: str,
    trigger: Trigger,
    workdir: Path | None = None,
    progress: Progress | None = None,
) -> LocalRun:
    """Run the steps of a started execution (e.g. one a trigger started) locally, then write its lineage
    record to the reports bucket."""
    with tempfile.TemporaryDirectory(prefix="keel-run-") as scratch:
        runner = LocalPipelineRunner(
            sagemaker=sagemaker, s3=s3, workdir=workdir or Path(scratch), progress=progress
        )
        result = runner.execute(execution_arn)
    record = lineage_record(config, result, trigger)
    reports_bucket = bucket_name(config, BucketPurpose.REPORTS)
    key = record_key(result.execution_id)
    s3.put_object(
        Bucket=reports_bucket,
        Key=key,
        Body=to_json(record).encode(),
        ContentType="application/json",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_alias(config, KeyPurpose.ARTIFACTS),
    )
    return LocalRun(result=result, record=record, record_uri=f"s3://{reports_bucket}/{key}")


def lineage_record(config: EnvironmentConfig, result: RunResult, trigger: Trigger) -> LineageRecord:
    contract = load_contract(config.contract)
    commit, dirty = git_version()
    first = result.step(INPUT_STEP)
    seen: set[tuple[str, str | None]] = set()
    inputs = []
    for item in first.inputs if first else []:
        if item.get("input") != INPUT_NAME or (item["uri"], item["version_id"]) in seen:
            continue
        seen.add((item["uri"], item["version_id"]))
        inputs.append(InputObject(**{k: item[k] for k in ("uri", "version_id", "etag", "size", "sha256")}))
    image_uri = ""
    reports: dict[str, str] = {}
    for step in result.steps:
        for name, uri in step.outputs.items():
            reports[f"{step.name}.{name}"] = uri
    drift = result.property_files.get(DRIFT_FILE)
    return LineageRecord(
        environment=config.name,
        pipeline_name=result.pipeline_name,
        pipeline_arn=result.pipeline_arn,
        definition_sha256=result.definition_sha256,
        execution_arn=result.execution_arn,
        execution_id=result.execution_id,
        status=result.status,
        failure_reason=result.failure_reason,
        started=result.started,
        ended=result.ended,
        trigger=trigger,
        parameters=result.parameters,
        contract=ContractRef(
            name=contract.name, version=contract.version, sha256=contract_sha256(contract.name)
        ),
        code=CodeVersion(
            git_commit=commit,
            git_dirty=dirty,
            source_sha256=source_sha256(),
            image_uri=image_uri or (config.training.image_uri or "built-at-deploy"),
        ),
        inputs=inputs,
        steps=[
            StepRecord(
                name=s.name,
                type=s.type,
                status=s.status,
                started=s.started,
                ended=s.ended,
                detail=s.detail,
                job_name=s.job_name,
                outputs=s.outputs,
            )
            for s in result.steps
        ],
        validation=result.property_files.get(VALIDATION_FILE),
        metrics=result.property_files.get(EVALUATION_FILE),
        drift=_drift_summary(drift) if drift else None,
        reports=reports,
        model_package_arn=result.model_package_arn,
    )


def _drift_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The drift report without per-feature histograms (kept in the report itself)."""
    return {k: v for k, v in report.items() if k not in ("features",)} | {
        "features": {
            name: {k: v for k, v in feature.items() if not isinstance(v, list)}
            for name, feature in (report.get("features") or {}).items()
        }
        if isinstance(report.get("features"), dict)
        else report.get("features")
    }
