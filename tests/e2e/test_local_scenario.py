"""`make local`'s scenario end to end: env `local` deployed with the real CDK CLI into Keel's local AWS, then
the whole production loop through the deployed functions — and every outcome asserted: executions and their
triggers, model versions and gate decisions, the deployment, drift and the alarm it raised, the retraining,
the quarantined rows, the alerts, the feedback metric, and the report folder.

Slow (a synth, a deploy, three training runs): marked `slow`; CI runs it (beside the deploy test).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keel.commands.scenario import outcome_problems
from keel.commands.synth import synth_environment
from keel.config import load_environment
from keel.lineage.record import LineageRecord
from keel.local import process
from keel.local.cdk import CDK_BIN, CdkCli
from keel.monitoring.names import Alarm, drift_alarm_name, system_alarm_name
from keel.naming import BucketPurpose, bucket_name, endpoint_name
from keel.scenario import LocalPlatform, ScenarioSummary, run_scenario

pytestmark = [
    pytest.mark.slow,
    pytest.mark.integration,
    pytest.mark.xdist_group("e2e-scenario"),
    pytest.mark.skipif(not CDK_BIN.exists(), reason="the pinned CDK CLI is not installed (npm ci)"),
]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("local-scenario")
    config = load_environment("local")
    paths = process.StatePaths(root / "state")
    server, _ = process.start(paths, account_id=config.account, region=config.region)
    try:
        assembly = root / "assembly"
        synth_environment("local", assembly)
        cli = CdkCli(server.endpoint_url, config.account, config.region, root / "out", app=str(assembly))
        cli.bootstrap(capture=True)
        cli.deploy(capture=True)
        report = root / "report"
        lines: list[str] = []
        platform = LocalPlatform.connect(config, server.endpoint_url, report / "lambda-logs")
        try:
            summary = run_scenario(platform, report_dir=report, say=lines.append)
            yield {
                "summary": summary,
                "lines": lines,
                "report": report,
                "platform": platform,
                "config": config,
            }
        finally:
            platform.close()
    finally:
        process.stop(paths)


def test_the_loop_worked_end_to_end(scenario: dict[str, Any]) -> None:
    assert outcome_problems(scenario["summary"]) == []


def test_executions_and_their_triggers(scenario: dict[str, Any]) -> None:
    summary: ScenarioSummary = scenario["summary"]
    runs = {e["label"]: e for e in summary.executions}
    assert list(runs) == ["white", "retrain", "corrupted"]
    white, retrain, corrupted = runs["white"], runs["retrain"], runs["corrupted"]
    assert (white["trigger"], retrain["trigger"], corrupted["trigger"]) == ("s3-event", "alarm", "s3-event")
    assert retrain["trigger_reason"].startswith(f"alarm {drift_alarm_name(scenario['config'])}")
    for run in (white, retrain):
        assert run["status"] == "Succeeded" and run["validation_passed"] is True and run["accuracy"] >= 0.5
    assert corrupted["status"] == "Failed" and corrupted["failure_reason"].startswith("CombineValidation")
    assert corrupted["validation_passed"] is False and corrupted["quarantined_rows"] == 2
    # Every failing expectation in full (column, what was found, what the contract expects), not a log tail.
    failing = corrupted["failing_expectations"]
    assert failing and all("(expected " in line for line in failing if not line.startswith("error:"))
    assert any(line.startswith("fixed_acidity: ") for line in failing)
    # The lineage record of each run was written by the deployed recorder, the failed one included.
    assert all(run["lineage_record"].startswith("s3://") for run in summary.executions)
    # The service knows every execution, with the outcome the local runner reported.
    sagemaker = scenario["platform"].clients.sagemaker
    for run in summary.executions:
        arn = run["lineage_record"]  # the record names the execution; the service has it
        record = LineageRecord.model_validate_json(
            scenario["platform"]
            .clients.s3.get_object(
                Bucket=bucket_name(scenario["config"], BucketPurpose.REPORTS),
                Key=arn.split("/", 3)[3],
            )["Body"]
            .read()
        )
        described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=record.execution_arn)
        assert described["PipelineExecutionStatus"] == run["status"]


def test_versions_decisions_and_deployments(scenario: dict[str, Any]) -> None:
    summary: ScenarioSummary = scenario["summary"]
    assert [(v["version"], v["approval"]) for v in summary.versions] == [(1, "Approved"), (2, "Approved")]
    assert [d["decision"] for d in summary.decisions] == ["Approved", "Approved"]
    assert all(d["failed_blocking"] == [] and d["evidence"] for d in summary.decisions)
    assert [(d["version"], d["steps"][-1]) for d in summary.deployments] == [
        (1, "succeeded"),
        (2, "succeeded"),
    ]
    assert [v["version"] for v in summary.versions if v["serving"]] == [2]
    # The endpoint as SageMaker's API reports it: in service on version 2's config, capturing all traffic.
    sagemaker = scenario["platform"].clients.sagemaker
    endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name(scenario["config"]))
    assert endpoint["EndpointStatus"] == "InService"
    endpoint_config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    capture = endpoint_config["DataCaptureConfig"]
    assert capture["EnableCapture"] is True and capture["InitialSamplingPercentage"] == 100
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}


def test_drift_alarm_and_retraining(scenario: dict[str, Any]) -> None:
    summary: ScenarioSummary = scenario["summary"]
    config = scenario["config"]
    assert summary.drift and summary.drift["dataset_drift"] is True and summary.drift["rows"] == 300
    assert {"residual_sugar", "total_sulfur_dioxide"} <= set(summary.drift["drifted_features"])
    assert summary.retrain and summary.retrain["status"] == "started"
    assert summary.alarms[drift_alarm_name(config)] == "ALARM"
    for alarm in (Alarm.DATA_VALIDATION, Alarm.PIPELINE_FAILED):
        assert summary.alarms[system_alarm_name(config, alarm)] == "ALARM"


def test_reviewer_feedback_moves_the_quality_metric(scenario: dict[str, Any]) -> None:
    white, red = scenario["summary"].feedback
    assert white["stored"] == red["stored"] == white["reviewed"] == 60
    assert white["merged_into_training_data"] == red["merged_into_training_data"] == 60
    assert white["metric_accuracy"] == pytest.approx(white["batch_accuracy"])
    # The red-wine reviews pull the model-quality metric down: the mean over both batches.
    assert red["metric_accuracy"] == pytest.approx((white["batch_accuracy"] + red["batch_accuracy"]) / 2)
    assert red["batch_accuracy"] < white["batch_accuracy"]
    # 120 reviews (at least the 20 the alarm needs) at 0.65 accuracy: above the 0.5 minimum.
    assert (white["quality_alarm"], red["quality_alarm"]) == ("OK", "OK")


def test_alerts_reach_the_alert_topic(scenario: dict[str, Any]) -> None:
    subjects = [a["subject"] for a in scenario["summary"].alerts]
    config = scenario["config"]
    for alarm in (Alarm.DATA_VALIDATION, Alarm.PIPELINE_FAILED):
        name = system_alarm_name(config, alarm)
        assert any(name in subject and "ALARM" in subject for subject in subjects), subjects


def test_report_folder(scenario: dict[str, Any]) -> None:
    report: Path = scenario["report"]
    summary = json.loads((report / "summary.json").read_text())
    assert [e["label"] for e in summary["executions"]] == ["white", "retrain", "corrupted"]
    records = sorted(report.glob("lineage-*.json"))
    assert len(records) == 3
    for path in records:
        LineageRecord.model_validate_json(path.read_text())
    for version in (1, 2):
        [pack] = (report / f"lineage-pack-v{version}").glob("*.json")
        assert json.loads(pack.read_text())["model_package"]["version"] == version
        assert list((report / f"lineage-pack-v{version}").glob("*.html"))
    html = Path(summary["drift"]["html"])
    assert html.is_file() and "<svg" in html.read_text()
    logs = {p.name for p in (report / "lambda-logs").glob("*.log")}
    assert {"keel-local-data-trigger.log", "keel-local-performance-trigger.log"} <= logs
    assert any(line.startswith("4. Reviewers label") for line in scenario["lines"])
