"""Service errors on the gate's path keep their meaning: transient → retry later (nothing decided or
written), denied → a failed policy naming the denial, not found → really missing. On moto, with one operation
answering the error the service would (after parameter validation, as botocore's Stubber injects it)."""

from __future__ import annotations

from typing import Any

import pytest

from keel.aws import RetryLaterError
from keel.gate.approvals import CloudTrailApprovalLookup
from keel.gate.decide import gate_model_package, handle_event
from keel.gate.facts import GateNotReadyError
from keel.gate.model import ApprovalStatus, DecisionKind
from tests.unit.gate.faults import failing, stubbed, without_fields
from tests.unit.gate.world import Run, World, state_change_event

THROTTLED: dict[str, Any] = {"code": "ThrottlingException", "status": 400}
DENIED: dict[str, Any] = {"code": "AccessDeniedException", "status": 400, "message": "User is not authorized"}
S3_DENIED: dict[str, Any] = {"code": "AccessDenied", "status": 403, "message": "Access Denied"}


def _without_record(world: World) -> Run:
    run = world.train()
    world.s3.delete_object(Bucket=world.settings.reports_bucket, Key=run.record_uri.split("/", 3)[3])
    return run


def _assert_nothing_decided(world: World, run: Run) -> None:
    assert world.evidence_keys() == []
    assert world.status(str(run.model_package_arn)) == "PendingManualApproval"


def test_a_throttled_running_check_is_retry_later_not_a_missing_record(world: World) -> None:
    run = _without_record(world)
    with (
        failing(world.sagemaker, "DescribePipelineExecution", **THROTTLED),
        pytest.raises(RetryLaterError, match="still runs failed transiently") as raised,
    ):
        gate_model_package(world.deps(), str(run.model_package_arn))
    assert not isinstance(raised.value, GateNotReadyError)
    _assert_nothing_decided(world, run)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            DENIED,
            "cannot check whether execution {id} still runs: AccessDeniedException: User is not authorized",
        ),
        ({"code": "ResourceNotFound", "status": 400}, "execution {id} does not exist"),
    ],
)
def test_a_missing_record_says_what_sagemaker_answered(
    world: World, fault: dict[str, Any], expected: str
) -> None:
    run = _without_record(world)
    with failing(world.sagemaker, "DescribePipelineExecution", **fault):
        outcome = gate_model_package(world.deps(), str(run.model_package_arn))
    assert outcome.decision is ApprovalStatus.REJECTED
    assert "lineage record missing" in outcome.message
    assert expected.format(id=run.execution_id) in outcome.message


def test_a_denied_record_read_is_unreadable_not_missing(world: World) -> None:
    run = world.train()
    record_key = run.record_uri.split("/", 3)[3]
    asked: list[dict[str, Any]] = []  # DescribePipelineExecution calls (none fails)

    def record_only(params: dict[str, Any]) -> bool:
        asked.append(params)
        return False

    with (
        failing(world.s3, "GetObject", **S3_DENIED, when=lambda params: params["Key"] == record_key),
        failing(
            world.sagemaker,
            "DescribePipelineExecution",
            **THROTTLED,
            when=record_only,
        ),
    ):
        outcome = gate_model_package(world.deps(), str(run.model_package_arn))
    assert outcome.decision is ApprovalStatus.REJECTED
    assert f"lineage record unreadable: {run.record_uri}: access denied (AccessDenied: Access Denied)" in (
        outcome.message
    )
    assert "lineage record missing" not in outcome.message
    assert len(asked) == 1  # the definition check's only: a record that may exist is not a "still running?"


def test_a_transient_s3_error_on_a_report_is_retry_later(world: World) -> None:
    run = world.train()
    with (
        failing(
            world.s3,
            "GetObject",
            code="SlowDown",
            status=503,
            when=lambda params: params["Key"].endswith("evaluation.json"),
        ),
        pytest.raises(RetryLaterError, match=r"evaluation\.json failed transiently"),
    ):
        gate_model_package(world.deps(), str(run.model_package_arn))
    _assert_nothing_decided(world, run)


def test_a_transient_error_describing_the_package_is_retry_later(world: World) -> None:
    run = world.train()
    with (
        failing(world.sagemaker, "DescribeModelPackage", code="InternalFailure", status=500),
        pytest.raises(RetryLaterError, match="DescribeModelPackage"),
    ):
        gate_model_package(world.deps(), str(run.model_package_arn))
    _assert_nothing_decided(world, run)


def test_the_deployed_definition_stands_in_only_when_the_executions_is_not_kept(world: World) -> None:
    run = world.train()
    with failing(
        world.sagemaker, "DescribePipelineDefinitionForExecution", code="ResourceNotFound", status=400
    ):
        outcome = gate_model_package(world.deps(), str(run.model_package_arn))
    assert outcome.decision is ApprovalStatus.APPROVED and outcome.evidence
    [definition] = [p for p in outcome.evidence.policies if p.id == "pipeline.compliant-definition"]
    assert definition.passed and definition.details["source"] == "deployed"


def test_a_denied_definition_read_fails_the_policy_with_the_denial(world: World) -> None:
    run = world.train()
    with failing(world.sagemaker, "DescribePipelineDefinitionForExecution", **DENIED):
        outcome = gate_model_package(world.deps(), str(run.model_package_arn))
    assert outcome.decision is ApprovalStatus.REJECTED and outcome.evidence
    assert outcome.evidence.failed_blocking == ["pipeline.compliant-definition"]
    assert "cannot read the definition" in outcome.message and "AccessDeniedException" in outcome.message


def test_a_throttled_definition_read_is_retry_later(world: World) -> None:
    run = world.train()
    with (
        failing(world.sagemaker, "DescribePipelineDefinitionForExecution", **THROTTLED),
        pytest.raises(RetryLaterError),
    ):
        gate_model_package(world.deps(), str(run.model_package_arn))
    _assert_nothing_decided(world, run)


def test_a_console_approval_whose_approver_cannot_be_established_is_set_back(world: World) -> None:
    run = world.train()
    world.set_status_in_console(str(run.model_package_arn), "Approved")
    with (
        stubbed("cloudtrail") as (trail, stub),
        without_fields(world.sagemaker, "DescribeModelPackage", "LastModifiedBy"),  # nobody named
    ):
        stub.add_client_error(
            "lookup_events", service_error_code="AccessDeniedException", service_message="no"
        )
        deps = world.deps(approvals=CloudTrailApprovalLookup(trail))
        outcome = handle_event(deps, state_change_event(str(run.model_package_arn), "Approved"))
    assert outcome.decision is ApprovalStatus.REJECTED and outcome.applied
    assert world.status(str(run.model_package_arn)) == "Rejected"
    assert "could not be established" in outcome.message
    assert "denied: LookupEvents: AccessDeniedException: no" in outcome.message
    review = outcome.evidence
    assert review and review.kind is DecisionKind.CONSOLE_APPROVAL and review.approver
    assert review.approver.kind == "unknown" and review.approver.details["cloudtrail"].startswith("denied:")


def test_a_denied_trail_keeps_the_identity_sagemaker_recorded_and_says_so(world: World) -> None:
    run = world.train()
    world.set_status_in_console(str(run.model_package_arn), "Approved")
    by = {"IamIdentity": {"Arn": "arn:aws:sts::123456789012:assumed-role/MLReviewer/alice"}}
    with stubbed("cloudtrail") as (trail, stub):
        stub.add_client_error(
            "lookup_events", service_error_code="AccessDeniedException", service_message="no"
        )
        deps = world.deps(approvals=CloudTrailApprovalLookup(trail))
        event = state_change_event(str(run.model_package_arn), "Approved", last_modified_by=by)
        outcome = handle_event(deps, event)
    assert outcome.decision is ApprovalStatus.APPROVED and not outcome.applied
    approver = outcome.evidence.approver if outcome.evidence else None
    assert approver and approver.identity == by["IamIdentity"]["Arn"] and approver.source == "event-detail"
    assert approver.details["cloudtrail"] == "denied: LookupEvents: AccessDeniedException: no"


def test_the_aws_wiring_gives_reads_a_retry_mode(world: World) -> None:
    import boto3

    from keel.gate.runtime import gate_deps

    deps = gate_deps(world.settings, boto3.session.Session(region_name=world.config.region))
    for client in (deps.sagemaker, deps.s3, deps.kms):
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 6}  # 5 retries


def test_a_throttled_apply_is_retry_later_and_the_retry_finishes_it(world: World) -> None:
    run = world.train()
    arn = str(run.model_package_arn)
    with (
        failing(world.sagemaker, "UpdateModelPackage", **THROTTLED),
        pytest.raises(RetryLaterError, match="applying"),
    ):
        gate_model_package(world.deps(), arn)
    assert world.status(arn) == "PendingManualApproval" and len(world.evidence_keys()) == 1  # the decision
    outcome = gate_model_package(world.deps(), arn)
    assert (outcome.action, outcome.applied) == ("duplicate", True) and world.status(arn) == "Approved"
