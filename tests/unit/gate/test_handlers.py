"""The Lambda handlers in-process on moto: Powertools parser, idempotency (DynamoDB) and metrics."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

import boto3
import pytest

from keel.gate.approvals import NoApprovalLookup
from keel.gate.findings import StaticFindingsSource
from tests.unit.gate.test_quarantine import macie_event
from tests.unit.gate.world import World, state_change_event


@dataclass
class Context:
    function_name: str = "keel-local-policy-gate"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:keel-local-policy-gate"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def lambda_env(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    for name, value in world.settings.to_environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Keel")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "test")
    boto3.client("dynamodb", region_name=world.config.region).create_table(
        TableName=world.settings.idempotency_table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return world


def fresh(module_name: str) -> ModuleType:
    module = importlib.import_module(module_name)
    module._runtime = None  # type: ignore[attr-defined]
    return module


def test_the_gate_handler_decides_once_per_event(lambda_env: World) -> None:
    handler = fresh("lambdas.policy_gate.handler")
    # As the local runner does: moto has no Macie ListFindings or CloudTrail LookupEvents.
    handler._runtime = handler.build_runtime(findings=StaticFindingsSource(), approvals=NoApprovalLookup())
    run = lambda_env.train()
    event = state_change_event(run.model_package_arn, "PendingManualApproval")
    first = handler.lambda_handler(event, Context())
    second = handler.lambda_handler(event, Context())
    assert first == second
    assert (first["action"], first["decision"]) == ("decided", "Approved")
    assert lambda_env.status(run.model_package_arn) == "Approved"
    decisions = [k for k in lambda_env.evidence_keys() if "/decisions/" in k]
    assert len(decisions) == 1
    evidence = lambda_env.s3.get_object(Bucket=lambda_env.settings.evidence_bucket, Key=decisions[0])
    assert (
        b'"identity": "arn:aws:lambda:us-east-1:123456789012:function:keel-local-policy-gate"'
        in evidence["Body"].read()
    )


def test_the_gate_handler_rejects_malformed_events(lambda_env: World) -> None:
    from aws_lambda_powertools.utilities.parser import ValidationError

    handler = fresh("lambdas.policy_gate.handler")
    handler._runtime = handler.build_runtime(findings=StaticFindingsSource(), approvals=NoApprovalLookup())
    with pytest.raises(ValidationError):
        handler.lambda_handler({"id": "x", "detail": {}}, Context())


def test_the_quarantine_handler_quarantines_once_per_event(lambda_env: World) -> None:
    handler = fresh("lambdas.macie_quarantine.handler")
    bucket = lambda_env.settings.macie_buckets[1]  # feedback
    version = lambda_env.s3.put_object(Bucket=bucket, Key="incoming/f.csv", Body=b"x")["VersionId"]
    event = macie_event(bucket, "incoming/f.csv", version)
    first = handler.lambda_handler(event, Context())
    second = handler.lambda_handler(event, Context())
    assert first == second and first["action"] == "quarantined" and first["alerted"]
    assert len(lambda_env.alerts()) == 1
