"""The local scenario behind `make local`: Keel's production loop, narrated, on the deployed local platform.

1. White-wine data lands in the raw bucket → the data trigger (debounced) starts the pipeline → the local
   runner executes it (validate, preprocess, train, evaluate, drift) → the version is registered → the policy
   gate approves it (env local auto-approves) → the deployer puts it on the endpoint with data capture →
   white-wine requests are answered and captured.
2. Red-wine requests arrive → the drift check finds drift against the served version's training baseline →
   the drift alarm goes to ALARM → the performance trigger retrains → the new version is gated (and deployed
   when approved).
3. A corrupted batch lands → the data trigger starts a run → validation stops it, its bad rows are
   quarantined → the pipeline metrics put the data-validation alarm in ALARM → the alert reaches the inbox.
4. Reviewers label served predictions (a file in the feedback bucket) → the feedback loop stores the
   corrections, merges them into training data and publishes the model-quality metric, which moves.

Every Lambda step runs the deployed function's handler in-process (`keel.scenario.lambdas`); every execution
is started in the service and run by the local runner; the report folder keeps each execution's lineage
record, each version's lineage pack, the drift reports and the Lambda logs.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from keel.config import PROJECT_ROOT, EnvironmentConfig
from keel.contract import load_contract
from keel.feedback.names import INCOMING_PREFIX, FeedbackFunction
from keel.lineage.record import LineageRecord, to_json
from keel.local import clock
from keel.local.runner.engine import RunResult
from keel.local.runner.local_run import execute_training, land_file
from keel.local.runner.s3io import download, list_objects
from keel.monitoring.names import Alarm, accuracy_alarm_name, drift_alarm_name, system_alarm_name
from keel.monitoring.publish import publish_drift
from keel.naming import BucketPurpose, bucket_name, lambda_function_name, model_package_group_name
from keel.scenario.endpoint import Prediction
from keel.scenario.platform import LocalPlatform
from keel.scenario.serving import served_version
from keel.serving.names import endpoint_capture_uri

DATA = PROJECT_ROOT / "data" / "wine-quality"
WHITE, RED = DATA / "winequality-white.csv", DATA / "winequality-red.csv"
Say = Callable[[str], None]
TRAFFIC_ROWS = 300  # requests per traffic batch; the drift check needs `min_capture_rows` (100)
REVIEWED = 60  # predictions reviewers label per batch
WINDOW_TIMEOUT_SECONDS = 120
DRIFT_PUBLISHER, POLICY_GATE, MODEL_DEPLOYER = "drift_publisher", "policy_gate", "model_deployer"
LINEAGE_RECORDER = "lineage_recorder"


@dataclass
class LocalRun:
    """An execution the local runner ran, and the lineage record the deployed recorder wrote for it."""

    result: RunResult
    record: LineageRecord
    record_uri: str


@dataclass
class ScenarioSummary:
    executions: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    drift: dict[str, Any] | None = None
    retrain: dict[str, Any] | None = None
    feedback: list[dict[str, Any]] = field(default_factory=list)
    alarms: dict[str, str] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    lambda_invocations: dict[str, int] = field(default_factory=dict)
    report_dir: str = ""
    started: str = ""
    ended: str = ""

    def execution(self, label: str) -> dict[str, Any]:
        return next(e for e in self.executions if e["label"] == label)


def corrupted_batch(source: Path, target: Path, rows: int = 300) -> Path:
    """A batch with typical upstream breakage: a text value in a numeric column, an impossible value."""
    lines = source.read_text(encoding="utf-8").splitlines()
    batch = [lines[0], *lines[1 : rows + 1]]
    fields = batch[3].split(",")
    fields[0] = "n/a"
    batch[3] = ",".join(fields)
    fields = batch[9].split(",")
    fields[10] = "96.5"  # alcohol % vol
    batch[9] = ",".join(fields)
    target.write_text("\n".join(batch) + "\n", encoding="utf-8")
    return target


@dataclass
class Scenario:
    platform: LocalPlatform
    report_dir: Path
    say: Say
    summary: ScenarioSummary = field(default_factory=ScenarioSummary)

    @property
    def config(self) -> EnvironmentConfig:
        return self.platform.config

    # ------------------------------------------------------------------------------------------ story
    def run(self) -> ScenarioSummary:
        self.summary.report_dir = str(self.report_dir)
        self.summary.started = _now()
        prepare_report_dir(self.report_dir)
        self.platform.use_local_lookups_in_the_gate()
        self.platform.use_simulated_endpoints_in_the_deployer()
        self.platform.inbox.collect()  # alerts from before this run are not this run's
        earlier = self.registered_versions()
        if earlier:
            self.say(
                f"   note: this local AWS holds {len(earlier)} model version(s) from an earlier run; "
                "outcomes differ from a fresh start (`keel local up --fresh`)"
            )
        work = self.report_dir / "inputs"
        work.mkdir(exist_ok=True)

        self.say("1. White-wine data lands in the raw bucket → the data trigger starts the pipeline")
        white = self.data_lands(WHITE, "white")
        white_traffic: list[tuple[Prediction, Any]] = []
        if white and white.result.model_package_arn:
            self.gate_and_deploy(white.result.model_package_arn)
        if self.summary.deployments:
            self.say("   white-wine requests reach the endpoint (captured)")
            white_traffic = self.traffic(WHITE, seed=1)

        self.say("2. Red-wine requests arrive → drift → alarm → the performance trigger retrains")
        red_traffic: list[tuple[Prediction, Any]] = []
        if white_traffic:
            time.sleep(1.1)  # S3 times have one-second resolution: the check reads this batch's captures
            red_started = datetime.now(UTC).replace(microsecond=0)
            red_traffic = self.traffic(RED, seed=2)
            self.drift_and_retrain(since=red_started)

        self.say(
            "3. A corrupted batch lands → validation stops it, its rows are quarantined, an alert goes out"
        )
        self.data_lands(corrupted_batch(WHITE, work / "corrupted-batch.csv"), "corrupted")
        self.check_alarms(Alarm.DATA_VALIDATION, Alarm.PIPELINE_FAILED)

        self.say("4. Reviewers label served predictions → the model-quality metric moves")
        for label, traffic in (("white", white_traffic), ("red", red_traffic)):
            if traffic:
                self.review(label, traffic)

        self.finish()
        return self.summary

    # ------------------------------------------------------------------------------------------ steps
    def data_lands(self, path: Path, label: str) -> LocalRun | None:
        uri, _ = land_file(self.platform.clients.s3, self.config, path)
        self.say(f"   landed {path.name} → {uri}")
        trigger = FeedbackFunction.DATA_TRIGGER.value
        results = self.platform.lambdas.deliver(trigger)  # S3 → EventBridge → the deployed rule → here
        if not results:
            self.say("   no event reached the data trigger: the deployed rule did not match")
            return None
        started: list[str] = []
        for result in results:
            self.say(
                f"   EventBridge → data trigger: {result['status']} (window {result.get('window_id', '-')})"
            )
            started += result.get("started", [])
        sweeps = self.schedule_rules(trigger)
        if not started and not sweeps:
            self.say("   no schedule rule targets the data trigger: nothing closes its debounce window")
            return None
        deadline = time.monotonic() + WINDOW_TIMEOUT_SECONDS
        while not started and time.monotonic() < deadline:
            # The window closes on the function's (real) clock: wait a second, then fire the deployed sweep
            # rule now (the local AWS sends its Scheduled Event) rather than wait for its next minute.
            time.sleep(1)
            for rule in sweeps:
                clock.fire_rule(self.platform.lambdas.endpoint_url, rule)
            for result in self.platform.lambdas.deliver(trigger):
                started += result.get("started", [])
        if not started:
            self.say(f"   no execution started within {WINDOW_TIMEOUT_SECONDS}s")
            return None
        [execution_arn] = started
        self.say(f"   the data trigger started {execution_arn.rsplit('/', 1)[-1]}")
        return self.execute(execution_arn, label)

    def schedule_rules(self, folder: str) -> list[str]:
        """The deployed schedule rules whose target is the function (e.g. the data trigger's sweep)."""
        events, name = self.platform.clients.events, lambda_function_name(self.config, folder)
        arn = self.platform.clients.lambda_.get_function_configuration(FunctionName=name)["FunctionArn"]
        rules = events.list_rule_names_by_target(TargetArn=arn).get("RuleNames", [])
        return [r for r in rules if events.describe_rule(Name=r).get("ScheduleExpression")]

    def execute(self, execution_arn: str, label: str) -> LocalRun:
        """Run a started execution locally, delivering its status events to the pipeline-metrics publisher."""
        clients = self.platform.clients
        self.pipeline_events()  # the Executing event SageMaker sent when the trigger started it

        def progress(step: str, status: str, detail: str) -> None:
            if status != "Executing":
                self.say(f"     {step:18s} {status:10s} {detail[:100]}")

        result = execute_training(
            sagemaker=clients.sagemaker, s3=clients.s3, execution_arn=execution_arn, progress=progress
        )
        self.pipeline_events()  # the outcome the runner reported, as SageMaker's status change event
        run = self.lineage_of(result)
        self.record(run, label)
        return run

    def lineage_of(self, result: RunResult) -> LocalRun:
        """The execution's end reached the lineage recorder through its deployed rule; the record it wrote
        is read back from the reports bucket, as the gate and `keel lineage` read it."""
        outcomes = self.platform.lambdas.deliver(LINEAGE_RECORDER)
        written = [o for o in outcomes if o.get("execution_arn") == result.execution_arn]
        if not written:
            raise RuntimeError(
                f"no lineage record for {result.execution_id}: its status change did not reach the recorder"
            )
        uri = str(written[-1]["record_uri"])
        bucket, key = uri[5:].split("/", 1)
        body = self.platform.clients.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        self.say(f"   EventBridge → lineage recorder: {uri}")
        return LocalRun(result=result, record=LineageRecord.model_validate_json(body), record_uri=uri)

    def pipeline_events(self) -> None:
        for result in self.platform.lambdas.deliver(DRIFT_PUBLISHER):
            if result.get("status") == "published":
                status, count = result["pipeline_status"], result["metrics"]
                self.say(f"   EventBridge → pipeline metrics: {status} ({count} metrics)")

    def gate_and_deploy(self, package_arn: str) -> dict[str, Any] | None:
        """The registration event goes to the policy gate's handler (and its decision's event too); an
        approval event goes to the deployer."""
        decision: dict[str, Any] | None = None
        while results := self.platform.lambdas.deliver(
            POLICY_GATE
        ):  # a decision changes the package: an event
            for outcome in results:
                status = "version " + outcome["model_package_arn"].rsplit("/", 1)[-1]
                if outcome["action"] != "decided":
                    message = outcome["message"][:90]
                    self.say(f"   EventBridge → policy gate ({status}): {outcome['action']} — {message}")
                    continue
                decision = {
                    "model_package_arn": outcome["model_package_arn"],
                    "version": int(outcome["model_package_arn"].rsplit("/", 1)[-1]),
                    "decision": outcome["decision"],
                    "message": outcome["message"],
                    "failed_blocking": list(outcome["failed_blocking"]),
                    "evidence": outcome["evidence_uri"],
                }
                self.summary.decisions.append(decision)
                message = outcome["message"][:90]
                self.say(f"   EventBridge → policy gate ({status}): {decision['decision']} — {message}")
        if decision is None:
            self.say(f"   no gate decision on {package_arn}: no model package event reached the gate")
            return None
        for event in self.platform.lambdas.take(MODEL_DEPLOYER):  # the deployer's rule: approvals only
            results = [self.platform.lambdas.invoke(MODEL_DEPLOYER, event)]
            endpoints = self.platform.endpoints
            while endpoints.events:  # the endpoint state changes SageMaker would send to the same function
                results.append(self.platform.lambdas.invoke(MODEL_DEPLOYER, endpoints.events.pop(0)))
            deployment: dict[str, Any] = {
                "version": int(event["detail"]["ModelPackageArn"].rsplit("/", 1)[-1]),
                "steps": [r.get("status") for r in results],
            }
            self.summary.deployments.append(deployment)
            steps = " → ".join(str(step) for step in deployment["steps"])
            message = str(results[-1].get("message") or results[-1].get("reason") or "")
            self.say(f"   EventBridge → deployer: version {deployment['version']}: {steps} {message[:80]}")
        self.lineage_pack(package_arn)  # after the deployment, so the pack shows it
        return decision

    def lineage_pack(self, package_arn: str) -> None:
        from keel.commands.lineage import write_pack
        from keel.gate.settings import GovernanceSettings
        from keel.lineage.pack import PackSources, build_pack

        clients = self.platform.clients
        pack = build_pack(
            PackSources(GovernanceSettings.from_config(self.config), clients.sagemaker, clients.s3),
            package_arn,
        )
        _, html = write_pack(pack, self.report_dir / f"lineage-pack-v{package_arn.rsplit('/', 1)[-1]}")
        self.say(f"   lineage pack: {html}")

    def traffic(self, source: Path, *, seed: int) -> list[tuple[Prediction, Any]]:
        """Requests of `TRAFFIC_ROWS` rows of `source` to the endpoint; (prediction, true label) each."""
        contract = load_contract(self.config.contract)
        with source.open(encoding="utf-8", newline="") as handle:
            rows = random.Random(seed).sample(  # noqa: S311 - a reproducible sample, not a secret
                list(csv.DictReader(handle)), TRAFFIC_ROWS
            )
        target = contract.target_column
        predictions = self.platform.endpoint.invoke(
            [{c.name: float(row[c.header]) for c in contract.feature_columns} for row in rows]
        )
        served = served_version(self.config, sagemaker=self.platform.clients.sagemaker)
        self.say(
            f"   {len(predictions)} {source.stem} requests answered by version "
            f"{served.version if served else '?'} and captured under {endpoint_capture_uri(self.config)}"
        )
        return [(p, int(r[target.header])) for p, r in zip(predictions, rows, strict=True)]

    def drift_and_retrain(self, *, since: datetime) -> None:
        clients = self.platform.clients
        served = served_version(self.config, sagemaker=clients.sagemaker)
        assert served is not None  # traffic was answered
        publication = publish_drift(
            s3=clients.s3,
            cloudwatch=clients.cloudwatch,
            config=self.config,
            capture_uri=endpoint_capture_uri(self.config),
            baseline_uri=served.baseline_uri(self.config),
            since=since,
        )
        report = publication.report
        local_copy = self.report_dir / "drift-red-traffic"
        download(
            clients.s3, list_objects(clients.s3, publication.report_uri), publication.report_uri, local_copy
        )
        self.summary.drift = {
            "dataset_drift": publication.summary.dataset_drift,
            "drifted_features": list(report.drifted_features) if report else [],
            "rows": publication.summary.rows,
            "report_uri": publication.report_uri,
            "html": str(next(iter(sorted(local_copy.rglob("*.html"))), "")),
            "metrics": len(publication.metrics),
        }
        drifted = self.summary.drift["drifted_features"]
        self.say(
            f"   drift check on {publication.summary.rows} captured rows: dataset drift "
            f"{publication.summary.dataset_drift} ({len(drifted)} features: {', '.join(drifted[:5])}…)"
        )
        name = drift_alarm_name(self.config)
        before = self._alarm(name)
        state = clock.evaluate_alarm(clients.cloudwatch, name)  # CloudWatch's next evaluation, now
        self.say(f"   alarm {name}: {before['StateValue']} → {state}")
        if state != "ALARM":
            return
        # CloudWatch's state change event → the deployed rule → the performance trigger.
        outcomes = self.platform.lambdas.deliver(FeedbackFunction.PERFORMANCE_TRIGGER.value)
        if not outcomes:
            self.say("   no alarm event reached the performance trigger: the deployed rule did not match")
            return
        outcome = outcomes[-1]
        self.summary.retrain = {"status": outcome["status"], "reason": outcome.get("reason")}
        self.say(
            f"   EventBridge → performance trigger: {outcome['status']} "
            f"{outcome.get('execution_arn', outcome.get('reason', ''))}"
        )
        if outcome["status"] != "started":
            return
        retrain = self.execute(outcome["execution_arn"], "retrain")
        self.summary.retrain["execution_id"] = retrain.result.execution_id
        if retrain.result.model_package_arn:
            self.gate_and_deploy(retrain.result.model_package_arn)

    def check_alarms(self, *alarms: Alarm) -> None:
        for alarm in alarms:
            name = system_alarm_name(self.config, alarm)
            before = self._alarm(name)["StateValue"]
            state = clock.evaluate_alarm(self.platform.clients.cloudwatch, name)
            self.say(f"   alarm {name}: {before} → {state}")
        for alert in self.platform.inbox.collect():
            self.say(f"   alert received: {alert['subject'][:100]}")

    def review(self, label: str, traffic: list[tuple[Prediction, Any]]) -> None:
        """Reviewers label `REVIEWED` served predictions in a file dropped in the feedback bucket."""
        clients = self.platform.clients
        lines = [
            json.dumps(
                {
                    "prediction_id": prediction.inference_id,
                    "predicted": int(prediction.predicted),
                    "corrected_label": truth,
                    "reviewer": f"reviewer-{index % 3 + 1}",
                }
            )
            for index, (prediction, truth) in enumerate(traffic[:REVIEWED])
        ]
        bucket = bucket_name(self.config, BucketPurpose.FEEDBACK)
        key = f"{INCOMING_PREFIX}{datetime.now(UTC):%Y-%m-%d}/{label}-reviews-{int(time.time())}.jsonl"
        clients.s3.put_object(Bucket=bucket, Key=key, Body=("\n".join(lines) + "\n").encode())
        results = self.platform.lambdas.deliver(FeedbackFunction.FEEDBACK_INGEST.value)
        if not results:
            self.say("   no event reached the feedback loop: the deployed rule did not match")
            return
        result = results[-1]
        confirmed = sum(1 for prediction, truth in traffic[:REVIEWED] if int(prediction.predicted) == truth)
        accuracy = self.feedback_accuracy()
        entry = {
            "label": label,
            "reviewed": len(lines),
            "stored": result.get("stored"),
            "merged_into_training_data": result.get("merged"),
            "training_rows": result.get("training_rows"),
            "batch_accuracy": confirmed / len(lines),
            "metric_accuracy": accuracy,
            "quality_alarm": clock.evaluate_alarm(clients.cloudwatch, accuracy_alarm_name(self.config)),
        }
        self.summary.feedback.append(entry)
        metric = f"{accuracy:.3f}" if accuracy is not None else "not published"
        self.say(
            f"   {label}: {entry['stored']} corrections stored, {entry['merged_into_training_data']} merged "
            f"into training data; batch accuracy {entry['batch_accuracy']:.2f}; FeedbackAccuracy {metric}; "
            f"model-quality alarm {entry['quality_alarm']}"
        )

    def feedback_accuracy(self) -> float | None:
        """The model-quality metric as the alarm reads it: the mean of FeedbackAccuracy over the window."""
        from keel.feedback.names import ENVIRONMENT_DIMENSION, FEEDBACK_ACCURACY_METRIC
        from keel.naming import METRICS_NAMESPACE

        now = datetime.now(UTC)
        points = self.platform.clients.cloudwatch.get_metric_statistics(
            Namespace=METRICS_NAMESPACE,
            MetricName=FEEDBACK_ACCURACY_METRIC,
            Dimensions=[{"Name": ENVIRONMENT_DIMENSION, "Value": self.config.name}],
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(minutes=1),
            Period=3600,
            Statistics=["Sum", "SampleCount"],
        )["Datapoints"]
        total = sum(p["Sum"] for p in points)
        count = sum(p["SampleCount"] for p in points)
        return total / count if count else None

    # --------------------------------------------------------------------------------------- summary
    def record(self, run: LocalRun, label: str) -> None:
        result, record = run.result, run.record
        (self.report_dir / f"lineage-{label}-{result.execution_id}.json").write_text(
            to_json(record), encoding="utf-8"
        )
        accuracy = (record.metrics or {}).get("multiclass_classification_metrics", {}).get("accuracy", {})
        validation = record.validation or {}
        # Every failing expectation in full, from the validation summary the run archived (the job's own
        # failure reason is at most 1 KB, as SageMaker keeps it).
        failing = [
            f"{f.get('column') or '(table)'}: {f.get('message')} (expected {f.get('expected')})"
            + (f" [{f['unexpected_count']} row(s)]" if f.get("unexpected_count") is not None else "")
            for f in validation.get("failures") or []
        ] + [f"error: {e}" for e in validation.get("errors") or []]
        if result.status != "Succeeded" and failing:
            self.say(f"   validation stopped {result.execution_id}: {len(failing)} problem(s)")
            for line in failing:
                self.say(f"     - {line}")
        self.summary.executions.append(
            {
                "label": label,
                "execution_id": result.execution_id,
                "trigger": record.trigger.source,
                "trigger_reason": record.trigger.reason,
                "status": result.status,
                "failure_reason": result.failure_reason,
                "validation_passed": (record.validation or {}).get("success"),
                "quarantined_rows": validation.get("quarantined_rows"),
                "failing_expectations": failing,
                "accuracy": accuracy.get("value"),
                "model_package_arn": result.model_package_arn,
                "lineage_record": run.record_uri,
            }
        )

    def finish(self) -> None:
        clients = self.platform.clients
        packages = self.registered_versions()
        served = served_version(self.config, sagemaker=clients.sagemaker)
        self.summary.versions = [
            {
                "version": p.get("ModelPackageVersion") or int(p["ModelPackageArn"].rsplit("/", 1)[-1]),
                "arn": p["ModelPackageArn"],
                "approval": p.get("ModelApprovalStatus"),
                "serving": bool(served and served.package_arn == p["ModelPackageArn"]),
            }
            for p in packages
        ]
        alarms = clients.cloudwatch.describe_alarms(AlarmNamePrefix=f"{self.config.prefix}-")
        self.summary.alarms = {
            a["AlarmName"]: a["StateValue"]
            for a in [*alarms.get("MetricAlarms", []), *alarms.get("CompositeAlarms", [])]
        }
        self.platform.inbox.collect()
        self.summary.alerts = self.platform.inbox.received
        self.summary.lambda_invocations = dict(self.platform.lambdas.invocations)
        self.summary.ended = _now()
        (self.report_dir / "summary.json").write_text(
            json.dumps(asdict(self.summary), indent=2, default=str) + "\n", encoding="utf-8"
        )

    def registered_versions(self) -> list[dict[str, Any]]:
        return list(
            self.platform.clients.sagemaker.list_model_packages(
                ModelPackageGroupName=model_package_group_name(self.config),
                SortBy="CreationTime",
                SortOrder="Ascending",
            )["ModelPackageSummaryList"]
        )

    def _alarm(self, name: str) -> dict[str, Any]:
        [alarm] = self.platform.clients.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        return dict(alarm)


class ReportDirError(ValueError):
    """The report folder holds something other than an earlier scenario report."""


def prepare_report_dir(path: Path) -> None:
    """An empty report folder: an earlier report (it has summary.json) is replaced, anything else refused."""
    if path.exists() and any(path.iterdir()):
        if not (path / "summary.json").is_file():
            raise ReportDirError(f"{path} is not empty and holds no earlier scenario report: choose another")
        for child in path.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    path.mkdir(parents=True, exist_ok=True)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run_scenario(platform: LocalPlatform, *, report_dir: Path, say: Say) -> ScenarioSummary:
    return Scenario(platform=platform, report_dir=report_dir, say=say).run()
