"""The monitoring stack's template: alarms exactly as specified (metric, threshold, actions), the composite
model-health alarm, the dashboard, the budget, the drift check's rules and permissions; compliance."""

from __future__ import annotations

import json
from typing import Any

import pytest

from keel.contract import load_contract
from keel.monitoring.alarms import alarm_set
from keel.monitoring.runtime_settings import PublisherSettings, publisher_settings
from keel.monitoring.settings import monitoring_settings
from tests.unit.monitoring.synth import XDIST_GROUP, Synthesized
from tests.unit.stacks.cfn_lint import cfn_lint

pytestmark = pytest.mark.xdist_group(XDIST_GROUP)
TOPIC = "arn:aws:sns:eu-west-1:111111111111:keel-dev-alerts"
ACCEPTED_CFN_LINT_WARNINGS = {"W3005"}  # redundant DependsOn the CDK emits


def alarms_by_name(
    s: Synthesized, resource_type: str = "AWS::CloudWatch::Alarm"
) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in s.resources("Monitoring", resource_type).values()
    }


def test_every_keel_alarm_is_rendered_as_specified(keel_synth: Synthesized) -> None:
    config = keel_synth.config
    specs = alarm_set(config, monitoring_settings(config))
    rendered = alarms_by_name(keel_synth)
    for spec in specs.metric:
        alarm = rendered[spec.name]
        expected = spec.put_metric_alarm_request(actions=[] if spec.model_health else [TOPIC])
        for key in (
            "Namespace",
            "MetricName",
            "Period",
            "EvaluationPeriods",
            "DatapointsToAlarm",
            "Threshold",
        ):
            assert alarm[key] == expected[key], (spec.name, key)
        assert alarm["ComparisonOperator"] == spec.comparison
        assert alarm["TreatMissingData"] == spec.treat_missing_data
        assert alarm.get("Statistic", alarm.get("ExtendedStatistic")) == spec.statistic
        assert sorted(alarm["Dimensions"], key=lambda d: d["Name"]) == sorted(
            expected["Dimensions"], key=lambda d: d["Name"]
        )
        assert alarm.get("AlarmActions", []) == expected["AlarmActions"], spec.name
        assert alarm.get("OKActions", []) == expected["OKActions"], spec.name


def test_drift_alarm_threshold_and_family(keel_synth: Synthesized) -> None:
    alarm = alarms_by_name(keel_synth)["keel-dev-drift-dataset"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("Keel", "DriftedFeatureShare")
    assert alarm["Threshold"] == keel_synth.config.thresholds.max_drifted_feature_share == 0.25
    assert alarm["Dimensions"] == [{"Name": "Environment", "Value": "dev"}]


def test_accuracy_and_anomaly_alarms(keel_synth: Synthesized) -> None:
    rendered = alarms_by_name(keel_synth)
    accuracy = rendered["keel-dev-model-quality-feedback-accuracy"]
    assert accuracy["Threshold"] == keel_synth.config.thresholds.min_accuracy
    assert accuracy["ComparisonOperator"] == "LessThanThreshold"
    expression = next(m for m in accuracy["Metrics"] if "Expression" in m)["Expression"]
    assert expression == "IF(reviews >= 20, accuracy, 1)"
    stats = {m["Id"]: m["MetricStat"]["Stat"] for m in accuracy["Metrics"] if "MetricStat" in m}
    assert stats == {"accuracy": "Average", "reviews": "SampleCount"}
    anomaly = rendered["keel-dev-system-endpoint-invocations-anomaly"]
    assert anomaly["ComparisonOperator"] == "LessThanLowerOrGreaterThanUpperThreshold"
    band = next(m for m in anomaly["Metrics"] if m["Id"] == anomaly["ThresholdMetricId"])
    assert band["Expression"].startswith("ANOMALY_DETECTION_BAND(") and band["Expression"].endswith(", 3)")
    watched = next(m for m in anomaly["Metrics"] if "MetricStat" in m)["MetricStat"]["Metric"]
    assert (watched["Namespace"], watched["MetricName"]) == ("AWS/SageMaker", "Invocations")


def test_the_composite_model_health_alarm_notifies_the_alert_topic(keel_synth: Synthesized) -> None:
    (composite,) = alarms_by_name(keel_synth, "AWS::CloudWatch::CompositeAlarm").values()
    assert composite["AlarmName"] == "keel-dev-system-model-health"
    assert composite["AlarmActions"] == composite["OKActions"] == [TOPIC]
    template = keel_synth.template_json("Monitoring")["Resources"]
    rule = composite["AlarmRule"]["Fn::Join"][1]
    children = {
        template[part["Fn::GetAtt"][0]]["Properties"]["AlarmName"] for part in rule if isinstance(part, dict)
    }
    specs = alarm_set(keel_synth.config, monitoring_settings(keel_synth.config))
    assert children == set(specs.model_health_children)
    assert all(text.strip() in ('(ALARM("', '") OR ALARM("', '"))') for text in rule if isinstance(text, str))


def test_lambda_alarms(keel_synth: Synthesized) -> None:
    rendered = alarms_by_name(keel_synth)
    for what in ("errors", "throttles", "dlq"):
        alarm = rendered[f"keel-dev-system-drift-publisher-{what}"]
        assert alarm["Threshold"] == 1 and alarm["AlarmActions"] == [TOPIC]
    assert (
        rendered["keel-dev-system-drift-publisher-dlq"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    )
    for function in ("data-trigger", "stream-ingest", "performance-trigger", "feedback-ingest"):
        throttles = rendered[f"keel-dev-system-{function}-throttles"]
        assert throttles["Dimensions"] == [{"Name": "FunctionName", "Value": f"keel-dev-{function}"}]


def dashboard_body(s: Synthesized) -> dict[str, Any]:
    (dashboard,) = s.resources("Monitoring", "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    return json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))


def test_the_dashboard_shows_data_model_and_system_health(keel_synth: Synthesized) -> None:
    widgets = dashboard_body(keel_synth)["widgets"]
    titles = [w["properties"].get("title") for w in widgets if w["type"] != "text"]
    assert titles == [
        "Alarms",
        "Drifted feature share (production vs training baseline)",
        "PSI per feature",
        "KS p-value per feature",
        "KS statistic per feature",
        "Captured rows and unparseable records (quarantined)",
        "Training data: validation failures and quarantined rows",
        "Accuracy of reviewed predictions (feedback)",
        "Training pipeline executions",
        "Retrains by reason",
        "Endpoint invocations and expected band",
        "Endpoint errors",
        "Model latency (µs)",
        "Lambda errors",
        "Lambda throttles",
        "Dead-letter queues (messages waiting)",
    ]
    by_title = {w["properties"].get("title"): w["properties"] for w in widgets}
    thresholds = keel_synth.config.thresholds
    assert by_title["PSI per feature"]["annotations"]["horizontal"][0]["value"] == thresholds.max_feature_psi
    assert len(by_title["PSI per feature"]["metrics"]) == len(load_contract().drift_features) == 11
    assert (
        by_title["KS p-value per feature"]["annotations"]["horizontal"][0]["value"] == thresholds.ks_p_value
    )
    share = by_title["Drifted feature share (production vs training baseline)"]
    assert share["annotations"]["horizontal"][0]["value"] == thresholds.max_drifted_feature_share
    accuracy = by_title["Accuracy of reviewed predictions (feedback)"]
    assert accuracy["annotations"]["horizontal"][0]["value"] == thresholds.min_accuracy
    specs = alarm_set(keel_synth.config, monitoring_settings(keel_synth.config))
    assert len(by_title["Alarms"]["alarms"]) == 1 + len(specs.all_names)
    assert "SEARCH(" in json.dumps(by_title["Retrains by reason"]["metrics"])
    assert "ANOMALY_DETECTION_BAND" in json.dumps(
        by_title["Endpoint invocations and expected band"]["metrics"]
    )


def test_the_budget_alerts_the_topic_on_the_environment_cost_tag(keel_synth: Synthesized) -> None:
    (budget,) = keel_synth.resources("Monitoring", "AWS::Budgets::Budget").values()
    data = budget["Properties"]["Budget"]
    assert data["CostFilters"] == {"TagKeyValue": ["user:environment$dev"]}
    assert (data["BudgetType"], data["TimeUnit"], data["BudgetLimit"]) == (
        "COST",
        "MONTHLY",
        {"Amount": 500, "Unit": "USD"},
    )
    notifications = budget["Properties"]["NotificationsWithSubscribers"]
    assert [
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"]) for n in notifications
    ] == [
        ("ACTUAL", 80),
        ("FORECASTED", 100),
    ]
    assert all(n["Subscribers"] == [{"Address": TOPIC, "SubscriptionType": "SNS"}] for n in notifications)
    security = json.dumps(keel_synth.template_json("Security"))
    assert "AllowBudgetsToPublish" in security and "AllowBudgetsToEncryptAlerts" in security


def test_the_drift_check_rules_and_settings(keel_synth: Synthesized) -> None:
    rules = {
        r["Properties"]["Description"]: r["Properties"]
        for r in keel_synth.resources("Monitoring", "AWS::Events::Rule").values()
    }
    schedule = next(r for d, r in rules.items() if d.startswith("Production drift check"))
    assert schedule["ScheduleExpression"] == "rate(1 day)"
    finished = next(r for d, r in rules.items() if d.startswith("A drift job finished"))
    assert finished["EventPattern"]["detail"]["ProcessingJobName"] == [{"prefix": "keel-dev-drift-"}]
    pipeline = next(r for d, r in rules.items() if d.startswith("Training pipeline"))
    assert pipeline["EventPattern"]["detail"]["pipelineArn"] == [
        "arn:aws:sagemaker:eu-west-1:111111111111:pipeline/keel-dev-training"
    ]
    (function,) = keel_synth.resources("Monitoring", "AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]
    settings = PublisherSettings.model_validate_json(variables["KEEL_MONITORING_SETTINGS"])
    assert settings == publisher_settings(keel_synth.config).model_copy(update={"kms_key_arn": ""})
    assert "Fn::GetStackOutput" in json.dumps(
        variables["KEEL_ARTIFACTS_KEY_ARN"]
    ) or "Fn::ImportValue" in json.dumps(variables["KEEL_ARTIFACTS_KEY_ARN"])


def statements(s: Synthesized, stack: str) -> list[dict[str, Any]]:
    return [
        st
        for policy in s.resources(stack, "AWS::IAM::Policy").values()
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_drift_publisher_can_only_start_compliant_jobs(keel_synth: Synthesized) -> None:
    found = {st.get("Sid"): st for st in statements(keel_synth, "Monitoring")}
    for sid, condition in (
        ("DenyJobsWithoutVolumeKey", {"Null": {"sagemaker:VolumeKmsKey": "true"}}),
        ("DenyJobsWithoutOutputKey", {"Null": {"sagemaker:OutputKmsKey": "true"}}),
        ("DenyJobsWithoutNetworkIsolation", {"Bool": {"sagemaker:NetworkIsolation": "false"}}),
        (
            "DenyJobsWithoutTrafficEncryption",
            {"Bool": {"sagemaker:InterContainerTrafficEncryption": "false"}},
        ),
    ):
        assert found[sid]["Effect"] == "Deny" and found[sid]["Condition"] == condition
    assert found["PutKeelMetrics"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Keel"}}
    assert found["PassJobRole"]["Resource"] == "arn:aws:iam::111111111111:role/keel-dev-pipeline-jobs"


def test_both_stacks_pass_the_four_packs(keel_synth: Synthesized) -> None:
    # app.synth() raised ValidationFailed on any unacknowledged finding; the report lists no failure.
    report = json.loads((keel_synth.outdir / "validation-report.json").read_text())
    assert [r for r in report["pluginReports"] if r["conclusion"] != "success"] == []


def test_cfn_lint_reports_no_errors(keel_synth: Synthesized) -> None:
    templates = [
        keel_synth.outdir / f"Keel-dev-{s}.template.json" for s in ("Monitoring", "Serving", "Security")
    ]
    findings = cfn_lint(templates)  # shared with the stack tests' lint of env dev when they share its synth
    assert [f["Level"] for f in findings if f["Level"] != "Warning"] == []  # warnings only
    assert [f for f in findings if f["Rule"]["Id"] not in ACCEPTED_CFN_LINT_WARNINGS] == []
