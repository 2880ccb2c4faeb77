"""One local training run end to end: land the data (if a local file), then run the deployed pipeline's
definition through the local runner, which stands in for SageMaker Pipelines.

The runner writes nothing of Keel's own: the execution's lineage record is written by the deployed lineage
recorder (`lambdas/lineage_recorder`) on the execution's final status change, locally as on AWS.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keel.config import EnvironmentConfig
from keel.contract import load_contract
from keel.lineage.record import Trigger
from keel.local.runner.engine import LocalPipelineRunner, Progress, RunResult
from keel.local.runner.s3io import split_uri
from keel.naming import BucketPurpose, bucket_name, pipeline_name


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
) -> RunResult:
    """Start an execution on `data_uri` (as `keel run-pipeline` does) and run it locally. The trigger goes
    into the execution's description, as Keel's triggers put it (the lineage recorder reads it there)."""
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
        description=json.dumps(
            {"reason": trigger.reason, "source": trigger.source, "event_id": trigger.event_id}
        ),
    )
    return execute_training(
        sagemaker=sagemaker, s3=s3, execution_arn=execution_arn, workdir=workdir, progress=progress
    )


def execute_training(
    *,
    sagemaker: Any,
    s3: Any,
    execution_arn: str,
    workdir: Path | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run the steps of a started execution (e.g. one a trigger started) locally."""
    with tempfile.TemporaryDirectory(prefix="keel-run-") as scratch:
        runner = LocalPipelineRunner(
            sagemaker=sagemaker, s3=s3, workdir=workdir or Path(scratch), progress=progress
        )
        return runner.execute(execution_arn)
