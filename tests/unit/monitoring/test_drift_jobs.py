"""The drift publisher's AWS path against moto: the schedule starts a compliant drift job on the served
model's baseline and image, its completion puts the metrics from the job's outputs."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keel.contract import load_contract
from keel.drift.detect import DriftThresholds
from keel.monitoring import s3 as s3io
from keel.monitoring.drift_check import run_drift_check
from keel.monitoring.drift_jobs import ENTRYPOINT, DriftJobs, drift_job_request, manifest_document
from keel.monitoring.publisher import build_publisher
from keel.monitoring.runtime_settings import PublisherSettings, publisher_settings
from keel.serving.endpoint_service import SageMakerEndpointService
from keel.serving.model_package import SageMakerModelRegistry
from tests.unit.monitoring.world import World, features, serve, wine

KEY = "arn:aws:kms:us-east-1:123456789012:key/abc"


def jobs(world: World, settings: PublisherSettings | None = None) -> DriftJobs:
    return DriftJobs(
        settings or publisher_settings(world.config, kms_key_arn=KEY),
        sagemaker=world.sagemaker,
        s3=world.s3,
        cloudwatch=world.cloudwatch,
        endpoints=SageMakerEndpointService(world.sagemaker, None),
        registry=SageMakerModelRegistry(world.sagemaker),
        clock=lambda: datetime.now(UTC),
    )


def test_the_request_is_a_compliant_keel_job() -> None:
    from keel.config import load_environment

    settings = publisher_settings(load_environment("prod"), kms_key_arn=KEY)
    request = drift_job_request(
        settings,
        job_name="keel-prod-drift-1",
        image_uri="img",
        manifest_uri="s3://r/m.json",
        baseline_uri="s3://a/b",
        output_uri="s3://r/o/",
        quarantine_uri="s3://r/quarantine/q/",
    )
    assert request["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KEY
    assert request["ProcessingOutputConfig"]["KmsKeyId"] == KEY
    assert request["NetworkConfig"] == {
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
    }
    assert request["AppSpecification"]["ContainerEntrypoint"] == ENTRYPOINT
    arguments = request["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--max-feature-psi") + 1] == "0.2"
    assert arguments[arguments.index("--max-drifted-feature-share") + 1] == "0.25"
    inputs = {i["InputName"]: i["S3Input"] for i in request["ProcessingInputs"]}
    assert inputs["capture"]["S3DataType"] == "ManifestFile" and inputs["baseline"]["S3Uri"] == "s3://a/b"
    assert {"Key": "environment", "Value": "prod"} in request["Tags"]
    assert request["RoleArn"] == "arn:aws:iam::333333333333:role/keel-prod-pipeline-jobs"


def test_manifest_lists_keys_relative_to_the_prefix() -> None:
    document = json.loads(
        manifest_document("b", "data-capture/ep/live/", ["data-capture/ep/live/2026/a.jsonl"])
    )
    assert document == [{"prefix": "s3://b/data-capture/ep/live/"}, "2026/a.jsonl"]


def metric_names(world: World) -> set[str]:
    return {m["MetricName"] for m in world.cloudwatch.list_metrics(Namespace="Keel")["Metrics"]}


def test_nothing_to_check_still_counts_as_a_check(world: World) -> None:
    result = jobs(world).start()
    assert result["status"] == "nothing-to-check" and "serves no Keel model" in result["reason"]
    assert metric_names(world) == {"DriftChecks", "CaptureRows", "CaptureRecordsUnparseable"}
    package = world.register_version("exec-1")
    serve(world, package)
    assert "no captured traffic" in jobs(world).start()["reason"]


def test_schedule_starts_the_job_and_completion_puts_the_metrics(world: World) -> None:
    package = world.register_version("exec-1")
    baseline = world.upload_baseline("exec-1", wine("white"))
    serve(world, package)
    world.write_capture(wine("red").head(300)[features(world.contract)].itertuples(index=False))
    settings = publisher_settings(world.config, kms_key_arn=KEY)
    started = jobs(world, settings).start()
    assert started["status"] == "started" and started["files"] == 1 and started["model_version"] == 1
    job = world.sagemaker.describe_processing_job(ProcessingJobName=started["job"])
    assert job["AppSpecification"]["ImageUri"].endswith("keel-steps:local")  # the image that trained it
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in job["ProcessingInputs"]}
    assert inputs["baseline"] == baseline
    manifest = json.loads(s3io.read(world.s3, *s3io.split_uri(inputs["capture"])))
    assert len(manifest) == 2 and manifest[1].endswith(".jsonl")

    # What SageMaker would run: the job's own code on the job's inputs, outputs uploaded to its output URI.
    outputs = {o["OutputName"]: o["S3Output"]["S3Uri"] for o in job["ProcessingOutputConfig"]["Outputs"]}
    _run_job_locally(world, manifest, baseline, outputs["drift"])
    event: dict[str, Any] = {
        "detail-type": "SageMaker Processing Job State Change",
        "detail": {"ProcessingJobName": started["job"], "ProcessingJobStatus": "Completed"},
    }
    _complete(world, started["job"])
    publisher = build_publisher(settings, sagemaker=world.sagemaker, s3=world.s3, cloudwatch=world.cloudwatch)
    result = publisher.handle(event)
    assert result["status"] == "published" and result["rows"] == 300 and result["dataset_drift"] is True
    assert {"DriftedFeatureShare", "FeaturePsi", "FeatureKsPValue"} <= metric_names(world)
    assert (
        publisher.handle(
            {"detail-type": "SageMaker Processing Job State Change", "detail": {"ProcessingJobName": "other"}}
        )["status"]
        == "ignored"
    )


def _run_job_locally(world: World, manifest: list[Any], baseline: str, output_uri: str) -> None:
    prefix = manifest[0]["prefix"]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        s3io.download_prefix(world.s3, baseline, root / "baseline")
        captures = [
            (f"{prefix}{key}", s3io.read(world.s3, *s3io.split_uri(f"{prefix}{key}"))) for key in manifest[1:]
        ]
        run_drift_check(
            baseline_dir=root / "baseline",
            captures=captures,
            output_dir=root / "out",
            quarantine_dir=root / "q",
            contract=load_contract(),
            thresholds=DriftThresholds.of(world.config.thresholds),
            min_rows=100,
            capture_label=prefix,
            baseline_label=baseline,
        )
        s3io.upload_tree(world.s3, root / "out", output_uri, kms_key_id=None)


def _complete(world: World, job_name: str) -> None:
    """moto never runs a job: mark it Completed, as SageMaker would once the job's code ran."""
    from moto.sagemaker.models import sagemaker_backends

    backend = sagemaker_backends["123456789012"]["us-east-1"]
    job = backend.processing_jobs[job_name]
    job.processing_job_status = "Completed"
