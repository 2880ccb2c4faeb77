"""Fine-grained assertions on the feedback stack's template."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Environment, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from keel.config import load_environment
from keel.contract import glue_columns, load_contract
from keel.feedback.corrections import correction_json_schema, feedback_contract
from keel.feedback.names import (
    FeedbackFunction,
    feedback_stack_name,
    function_error_alarm_name,
    function_name,
    idempotency_table_name,
    ingest_stream_name,
    state_table_name,
)
from keel.feedback.settings import function_environment
from keel.naming import alert_topic_name, pipeline_name
from stacks.feedback.function import FeedbackLambda
from stacks.feedback.loops import DataTriggerLoop, PerformanceLoop
from stacks.feedback.tables import FeedbackTables
from tests.unit.stacks.conftest import resources

pytestmark = pytest.mark.xdist_group("synth")


def template(synth: Any, env_name: str) -> tuple[Any, dict[str, Any]]:
    s = synth(env_name)
    return s.config, s.template_json(feedback_stack_name(s.config))


def by_name(template: dict[str, Any], resource_type: str, name_property: str) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"][name_property]: r["Properties"] for r in resources(template, resource_type).values()
    }


def test_tables_are_encrypted_recoverable_and_expire_records(synth: Any) -> None:
    config, t = template(synth, "prod")
    tables = by_name(t, "AWS::DynamoDB::Table", "TableName")
    assert set(tables) == {idempotency_table_name(config), state_table_name(config)}
    for props in tables.values():
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["SSESpecification"]["SSEType"] == "KMS"
        assert "DataKey" in json.dumps(props["SSESpecification"]["KMSMasterKeyId"])
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["DeletionProtectionEnabled"] is True  # prod retains
    assert tables[idempotency_table_name(config)]["TimeToLiveSpecification"]["AttributeName"] == "expiration"
    assert [k["AttributeName"] for k in tables[state_table_name(config)]["KeySchema"]] == ["pk", "sk"]


def test_functions_are_configured_from_the_environment_config(synth: Any) -> None:
    config, t = template(synth, "dev")
    functions = by_name(t, "AWS::Lambda::Function", "FunctionName")
    assert set(functions) == {function_name(config, f) for f in FeedbackFunction}
    for function in FeedbackFunction:
        props = functions[function_name(config, function)]
        assert props["Handler"] == f"lambdas.{function.value}.handler.lambda_handler"
        assert props["ReservedConcurrentExecutions"] == config.feedback.reserved_concurrency
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert "DeadLetterConfig" in props
        variables = props["Environment"]["Variables"]
        expected = function_environment(config, function)
        assert {k: variables[k] for k in expected} == expected


def test_every_function_alarms_on_errors_and_dead_letters_to_the_alert_topic(synth: Any) -> None:
    config, t = template(synth, "dev")
    alarms = by_name(t, "AWS::CloudWatch::Alarm", "AlarmName")
    topic = f"arn:aws:sns:{config.region}:{config.account}:{alert_topic_name(config)}"
    for function in FeedbackFunction:
        errors = alarms[function_error_alarm_name(config, function)]
        assert errors["MetricName"] == "Errors" and errors["Threshold"] == 1
        assert errors["AlarmActions"] == [topic]
    queue_alarms = [a for a in alarms.values() if a["MetricName"] == "ApproximateNumberOfMessagesVisible"]
    assert len(queue_alarms) == 5  # four dead-letter queues and the stream's on-failure queue
    assert all(a["AlarmActions"] == [topic] for a in queue_alarms)


def _rules(t: dict[str, Any]) -> list[dict[str, Any]]:
    return list(resources(t, "AWS::Events::Rule").values())


def test_data_trigger_rule_and_sweep(synth: Any) -> None:
    config, t = template(synth, "dev")
    contract = load_contract(config.contract)
    [landing] = [
        r["Properties"] for r in _rules(t) if "landing" in json.dumps(r["Properties"].get("EventPattern"))
    ]
    detail = landing["EventPattern"]["detail"]
    assert detail["object"]["key"] == [{"prefix": contract.landing_prefix}]
    assert detail["bucket"]["name"] == [f"keel-dev-raw-{config.account}-{config.region}"]
    [target] = landing["Targets"]
    assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 8
    schedules = [
        r["Properties"]["ScheduleExpression"] for r in _rules(t) if "ScheduleExpression" in r["Properties"]
    ]
    assert schedules == ["rate(1 minute)"]  # the sweep; no retraining schedule by default


def test_stream_is_encrypted_and_consumed_with_partial_failures_and_bisection(synth: Any) -> None:
    config, t = template(synth, "dev")
    [stream] = resources(t, "AWS::Kinesis::Stream").values()
    props = stream["Properties"]
    assert props["Name"] == ingest_stream_name(config)
    assert props["ShardCount"] == config.feedback.stream_shard_count
    assert props["RetentionPeriodHours"] == config.feedback.stream_retention_hours
    assert props["StreamEncryption"]["EncryptionType"] == "KMS"
    assert "DataKey" in json.dumps(props["StreamEncryption"]["KeyId"])
    [mapping] = resources(t, "AWS::Lambda::EventSourceMapping").values()
    m = mapping["Properties"]
    assert m["BatchSize"] == config.feedback.stream_batch_size
    assert m["BisectBatchOnFunctionError"] is True
    assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert m["StartingPosition"] == "TRIM_HORIZON"
    assert "OnFailure" in m["DestinationConfig"]


def test_performance_rule_matches_keel_alarm_prefixes_in_alarm_state(synth: Any) -> None:
    _, t = template(synth, "dev")
    [rule] = [
        r["Properties"]
        for r in _rules(t)
        if "aws.cloudwatch" in json.dumps(r["Properties"].get("EventPattern"))
    ]
    pattern = rule["EventPattern"]
    assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
    assert pattern["detail"]["alarmName"] == [
        {"prefix": "keel-dev-drift-"},
        {"prefix": "keel-dev-model-quality-"},
    ]
    assert pattern["detail"]["state"] == {"value": ["ALARM"]}


def test_feedback_api_is_iam_authenticated_validated_and_logged(synth: Any) -> None:
    config, t = template(synth, "dev")
    [method] = [m["Properties"] for m in resources(t, "AWS::ApiGateway::Method").values()]
    assert method["HttpMethod"] == "POST" and method["AuthorizationType"] == "AWS_IAM"
    assert "RequestValidatorId" in method
    [validator] = resources(t, "AWS::ApiGateway::RequestValidator").values()
    assert validator["Properties"]["ValidateRequestBody"] is True
    [model] = resources(t, "AWS::ApiGateway::Model").values()
    schema = model["Properties"]["Schema"]
    expected = correction_json_schema(load_contract(config.contract))
    assert schema["required"] == expected["required"]
    assert (
        schema["properties"]["corrected_label"]["enum"] == expected["properties"]["corrected_label"]["enum"]
    )
    assert schema["additionalProperties"] is False
    [stage] = resources(t, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["TracingEnabled"] is True
    assert "DestinationArn" in stage["Properties"]["AccessLogSetting"]


def test_feedback_dataset_table_comes_from_the_feedback_contract(synth: Any) -> None:
    config, t = template(synth, "dev")
    [table] = resources(t, "AWS::Glue::Table").values()
    table_input = table["Properties"]["TableInput"]
    contract = feedback_contract(load_contract(config.contract))
    assert table_input["Name"] == "wine_quality_feedback"
    assert [c["Name"] for c in table_input["StorageDescriptor"]["Columns"]] == [
        c["name"] for c in glue_columns(contract)
    ]
    assert table_input["StorageDescriptor"]["Location"].endswith("/corrections/")
    assert table_input["PartitionKeys"][0]["Name"] == "ingest_date"


def test_permissions_are_scoped(synth: Any) -> None:
    config, t = template(synth, "dev")
    statements = [
        s
        for p in resources(t, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    starts = [s for s in statements if s.get("Sid") == "StartTrainingPipeline"]
    assert len(starts) == 3
    pipeline_arn = f"arn:aws:sagemaker:{config.region}:{config.account}:pipeline/{pipeline_name(config)}"
    assert all(s["Resource"] == pipeline_arn for s in starts)
    [metric] = [s for s in statements if s.get("Sid") == "PublishModelQuality"]
    assert metric["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Keel"}}
    text = json.dumps(statements)
    assert '"s3:*"' not in text and "s3:DeleteObject" not in text and '"dynamodb:*"' not in text


def test_schedule_and_no_debounce_from_config() -> None:
    """Only the loops that depend on these settings, in a small stack (a whole-app synth costs seconds)."""
    config = load_environment("local")
    config = config.model_copy(
        update={
            "feedback": config.feedback.model_copy(
                update={"retrain_schedule": "rate(7 days)", "debounce_seconds": 0}
            )
        }
    )
    stack = Stack(App(), "Loops", env=Environment(account=config.account, region=config.region))
    key = kms.Key(stack, "Key")
    tables = FeedbackTables(
        stack, "Tables", config=config, data_key=key, removal_policy=RemovalPolicy.DESTROY
    )
    topic = sns.Topic(stack, "Topic")

    def function(which: FeedbackFunction) -> FeedbackLambda:
        return FeedbackLambda(
            stack,
            which.value,
            config=config,
            function=which,
            description=which.value,
            logs_key=key,
            tables=tables,
            alert_topic=topic,
            removal_policy=RemovalPolicy.DESTROY,
        )

    DataTriggerLoop(
        stack,
        "Data",
        config=config,
        contract=load_contract(config.contract),
        function=function(FeedbackFunction.DATA_TRIGGER),
        data_key=key,
        artifacts_key=key,
    )
    PerformanceLoop(
        stack,
        "Performance",
        config=config,
        function=function(FeedbackFunction.PERFORMANCE_TRIGGER),
        artifacts_key=key,
    )
    rules = Template.from_stack(stack).find_resources("AWS::Events::Rule")
    schedules = [
        r["Properties"]["ScheduleExpression"]
        for r in rules.values()
        if "ScheduleExpression" in r["Properties"]
    ]
    assert schedules == ["rate(7 days)"]  # the retraining schedule, and no sweep without debounce
