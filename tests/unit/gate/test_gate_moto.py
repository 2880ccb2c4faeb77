"""The policy gate end to end on moto: decisions, evidence, idempotency, console approvals, fail closed."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from keel.gate.approvals import StaticApprovalLookup
from keel.gate.decide import RefusedReferenceError, gate_model_package, handle_event
from keel.gate.facts import GateNotReadyError
from keel.gate.findings import Finding, StaticFindingsSource
from keel.gate.model import Actor, ApprovalStatus, DecisionKind, EvidenceDocument, TriggerInfo
from keel.gate.notify import RecordingNotifier
from keel.lineage.record import RECORD_EVENT_DETAIL_TYPE, RECORD_EVENT_SOURCE
from tests.unit.gate.world import World, state_change_event


def decisions(world: World) -> list[EvidenceDocument]:
    keys = [k for k in world.evidence_keys() if "/decisions/" in k or "/refused/" in k]
    return [
        EvidenceDocument.model_validate_json(
            world.s3.get_object(Bucket=world.settings.evidence_bucket, Key=k)["Body"].read()
        )
        for k in keys
    ]


def test_good_metrics_are_approved_where_auto_approval_is_allowed(world: World) -> None:
    run = world.train(accuracy=0.62)
    outcome = handle_event(world.deps(), state_change_event(run.model_package_arn, "PendingManualApproval"))
    assert (outcome.action, outcome.decision) == ("decided", ApprovalStatus.APPROVED)
    assert world.status(run.model_package_arn) == "Approved"
    described = world.sagemaker.describe_model_package(ModelPackageName=run.model_package_arn)
    assert "all 7 blocking policies passed" in described["ApprovalDescription"]
    assert outcome.evidence_uri and outcome.evidence_uri in described["ApprovalDescription"]


def test_good_metrics_wait_for_a_human_in_prod(prod_world: World) -> None:
    run = prod_world.train(accuracy=0.62)
    notifier = RecordingNotifier()
    outcome = handle_event(
        prod_world.deps(notifier=notifier), state_change_event(run.model_package_arn, "PendingManualApproval")
    )
    assert outcome.decision is ApprovalStatus.PENDING and not outcome.applied
    assert prod_world.status(run.model_package_arn) == "PendingManualApproval"
    assert "requires a human approval" in outcome.message
    assert [subject for subject, _ in notifier.messages] == [
        "Keel prod: keel-prod-models v1 passed the policy gate, awaiting approval"
    ]


def test_bad_metrics_are_rejected_with_the_failed_policy_as_reason(world: World) -> None:
    run = world.train(accuracy=0.31)
    notifier = RecordingNotifier()
    outcome = handle_event(
        world.deps(notifier=notifier), state_change_event(run.model_package_arn, "PendingManualApproval")
    )
    assert outcome.decision is ApprovalStatus.REJECTED
    assert world.status(run.model_package_arn) == "Rejected"
    description = world.sagemaker.describe_model_package(ModelPackageName=run.model_package_arn)[
        "ApprovalDescription"
    ]
    assert "metrics.accuracy-threshold: accuracy 0.3100 < min_accuracy 0.5" in description
    assert outcome.evidence and outcome.evidence.failed_blocking == ["metrics.accuracy-threshold"]
    assert notifier.messages[0][1]["failed_blocking"] == ["metrics.accuracy-threshold"]


def test_prod_threshold_is_the_environments(prod_world: World) -> None:
    run = prod_world.train(accuracy=0.52)  # passes local's 0.5, not prod's 0.55
    outcome = gate_model_package(prod_world.deps(), run.model_package_arn)
    assert outcome.decision is ApprovalStatus.REJECTED
    assert "accuracy 0.5200 < min_accuracy 0.55" in outcome.message


def test_tampered_metrics_are_rejected(world: World) -> None:
    run = world.train(accuracy=0.40)
    # Someone "fixes" the archived evaluation after the run: it no longer matches the lineage record.
    world.put_report(
        f"{run.reports['Evaluate.evaluation']}/evaluation.json",
        {"multiclass_classification_metrics": {"accuracy": {"value": 0.95, "standard_deviation": "NaN"}}},
    )
    outcome = gate_model_package(world.deps(), run.model_package_arn)
    assert outcome.decision is ApprovalStatus.REJECTED
    assert "does not match the lineage record" in outcome.message
    assert "changed after the run" in outcome.message


def test_tampered_lineage_checksum_is_rejected(world: World) -> None:
    run = world.train()
    record = run.record.model_copy(deep=True)
    record.inputs[0].sha256 = "0" * 64
    world.s3.put_object(
        Bucket=world.settings.reports_bucket,
        Key=run.record_uri.split("/", 3)[3],
        Body=record.model_dump_json().encode(),
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=world.artifacts_key,
    )
    outcome = gate_model_package(world.deps(), run.model_package_arn)
    assert outcome.decision is ApprovalStatus.REJECTED
    assert "lineage.complete" in outcome.evidence.failed_blocking  # type: ignore[union-attr]
    assert "tampered evidence" in outcome.message


def test_a_deleted_input_version_is_rejected(world: World) -> None:
    run = world.train()
    bucket, key = run.input_uri[5:].split("/", 1)
    world.s3.delete_object(Bucket=bucket, Key=key, VersionId=run.input_version)
    outcome = gate_model_package(world.deps(), run.model_package_arn)
    assert outcome.decision is ApprovalStatus.REJECTED
    assert f"{run.input_uri} (version {run.input_version}): no such version" in outcome.message


def test_missing_metrics_and_missing_lineage_record_are_rejected(world: World) -> None:
    run = world.train()
    metrics_key = f"{run.reports['Evaluate.evaluation']}/evaluation.json".split("/", 3)[3]
    world.s3.delete_object(Bucket=world.settings.reports_bucket, Key=metrics_key)
    outcome = gate_model_package(world.deps(), run.model_package_arn)
    assert outcome.decision is ApprovalStatus.REJECTED
    assert "missing metrics" in outcome.message
    second = world.train()
    world.s3.delete_object(Bucket=world.settings.reports_bucket, Key=second.record_uri.split("/", 3)[3])
    outcome = gate_model_package(world.deps(), second.model_package_arn)
    assert outcome.decision is ApprovalStatus.REJECTED
    assert "lineage record missing" in outcome.message
    assert set(outcome.evidence.failed_blocking) >= {"lineage.complete", "metrics.accuracy-threshold"}  # type: ignore[union-attr]


def test_validation_failure_drift_and_open_findings_are_rejected(world: World) -> None:
    failing = world.train(validation_ok=False)
    drifting = world.train(drifted=("fixed_acidity", "citric_acid"))
    flagged = world.train()
    finding = Finding(
        "f-1",
        "SensitiveData:S3Object/Personal",
        "High",
        *flagged.input_uri[5:].split("/", 1),
        flagged.input_version,
        "static",
    )
    deps = world.deps(findings=StaticFindingsSource([finding]))
    reasons = {
        run.model_package_arn: gate_model_package(deps, run.model_package_arn).evidence.failed_blocking  # type: ignore[union-attr]
        for run in (failing, drifting, flagged)
    }
    assert reasons[failing.model_package_arn] == ["data.validation-passed"]
    assert reasons[drifting.model_package_arn] == ["data.drift-within-threshold"]
    assert reasons[flagged.model_package_arn] == ["data.no-open-findings"]


def test_a_definition_change_after_the_run_does_not_block_but_a_non_compliant_run_does(world: World) -> None:
    run = world.train()
    definition = json.loads(world.definition_text)
    for step in definition["Steps"]:
        step.get("Arguments", {}).get("NetworkConfig", {}).pop("EnableNetworkIsolation", None)
    world.sagemaker.update_pipeline(
        PipelineName=world.settings.pipeline_name, PipelineDefinition=json.dumps(definition)
    )
    # The execution already ran the compliant definition: what it ran is what counts.
    outcome = gate_model_package(world.deps(), run.model_package_arn)
    compliant = next(p for p in outcome.evidence.policies if p.id == "pipeline.compliant-definition")  # type: ignore[union-attr]
    assert compliant.passed and compliant.details["deployed_matches"] is False
    # A run of the non-compliant definition fails the policy.
    world.definition_text = json.dumps(definition)
    second = world.train()
    outcome = gate_model_package(world.deps(), second.model_package_arn)
    assert "pipeline.compliant-definition" in outcome.evidence.failed_blocking  # type: ignore[union-attr]
    assert "network isolation is not enabled" in outcome.message


def test_evidence_is_written_once_with_inputs_checksums_and_object_lock(world: World) -> None:
    run = world.train()
    outcome = handle_event(world.deps(), state_change_event(run.model_package_arn, "PendingManualApproval"))
    [document] = decisions(world)
    assert document.seal_valid()
    assert document.decision is ApprovalStatus.APPROVED and document.kind is DecisionKind.GATE
    assert document.actor.identity == "arn:aws:lambda:test:policy-gate"
    assert document.trigger.event_id == "evt-1"
    assert len(document.policies) == 9 and document.policy_set_sha256
    purposes = {read.purpose for read in document.inputs}
    assert {
        "model package",
        "lineage record",
        "training input",
        "evaluation metrics (model package)",
    } <= purposes
    assert all(len(read.sha256) == 64 for read in document.inputs)
    key = outcome.evidence_uri.split("/", 3)[3]  # type: ignore[union-attr]
    head = world.s3.head_object(Bucket=world.settings.evidence_bucket, Key=key)
    assert head["ObjectLockMode"] == "GOVERNANCE"
    receipts = [k for k in world.evidence_keys() if "/applied/" in k]
    assert len(receipts) == 1 and "/applied/Approved-" in receipts[0]


def test_duplicate_events_produce_one_decision(world: World) -> None:
    run = world.train()
    deps = world.deps()
    event = state_change_event(run.model_package_arn, "PendingManualApproval")
    first = handle_event(deps, event)
    again = handle_event(deps, event)  # redelivered
    other_id = handle_event(
        deps, state_change_event(run.model_package_arn, "PendingManualApproval", event_id="evt-2")
    )
    approved_event = handle_event(
        deps, state_change_event(run.model_package_arn, "Approved", event_id="evt-3")
    )
    assert first.action == "decided"
    assert {again.action, other_id.action, approved_event.action} == {"no-op"}
    assert len(decisions(world)) == 1


def test_a_concurrent_duplicate_finds_the_first_decision_and_finishes_applying_it(world: World) -> None:
    run = world.train()
    deps = world.deps()
    dry = gate_model_package(deps, run.model_package_arn, dry_run=True)
    assert dry.action == "dry-run" and world.evidence_keys() == []
    # The first writer crashed after writing its evidence, before updating the package.
    document = dry.evidence.model_copy(update={"dry_run": False}).sealed()  # type: ignore[union-attr]
    assert deps.evidence.put_decision(document)[0]
    outcome = gate_model_package(deps, run.model_package_arn)
    assert (outcome.action, outcome.applied) == ("duplicate", True)
    assert world.status(run.model_package_arn) == "Approved"
    assert len(decisions(world)) == 1


def test_a_console_approval_is_detected_and_recorded_with_who_made_it(prod_world: World) -> None:
    run = prod_world.train()
    deps = prod_world.deps(
        approvals=StaticApprovalLookup(
            Actor(
                kind="human",
                identity="arn:aws:iam::123456789012:user/alice",
                source="cloudtrail",
                details={"event_id": "ct-1"},
            )
        )
    )
    assert gate_model_package(deps, run.model_package_arn).decision is ApprovalStatus.PENDING
    prod_world.set_status_in_console(run.model_package_arn, "Approved")
    by = {"IamIdentity": {"Arn": "arn:aws:sts::123456789012:assumed-role/MLReviewer/alice"}}
    outcome = handle_event(
        deps, state_change_event(run.model_package_arn, "Approved", event_id="evt-9", last_modified_by=by)
    )
    assert outcome.decision is ApprovalStatus.APPROVED and not outcome.applied
    review = outcome.evidence
    assert review and review.kind is DecisionKind.CONSOLE_APPROVAL
    assert review.approver and review.approver.identity == "arn:aws:iam::123456789012:user/alice"
    assert review.approver.details["event_detail_identity"] == by["IamIdentity"]["Arn"]
    assert "approved outside the gate by arn:aws:iam::123456789012:user/alice" in review.reason
    assert prod_world.status(run.model_package_arn) == "Approved"


def test_a_console_approval_of_a_failing_version_is_set_back_to_rejected(world: World) -> None:
    run = world.train(accuracy=0.2, register=True)
    world.set_status_in_console(run.model_package_arn, "Approved")
    by = {
        "UserProfileName": "bob",
        "UserProfileArn": "arn:aws:sagemaker:us-east-1:123456789012:user-profile/d/bob",
    }
    notifier = RecordingNotifier()
    outcome = handle_event(
        world.deps(notifier=notifier),
        state_change_event(run.model_package_arn, "Approved", last_modified_by=by),
    )
    assert outcome.decision is ApprovalStatus.REJECTED and outcome.applied
    assert world.status(run.model_package_arn) == "Rejected"
    assert (
        outcome.evidence and outcome.evidence.approver and outcome.evidence.approver.source == "event-detail"
    )
    assert "set back to Rejected" in outcome.message
    assert "reverted" in notifier.messages[0][0]
    # The gate's own rejection does not trigger another review.
    again = handle_event(
        world.deps(), state_change_event(run.model_package_arn, "Rejected", event_id="evt-x")
    )
    assert again.action == "no-op"


def test_a_rejection_outside_the_gate_is_recorded(world: World) -> None:
    run = world.train()
    world.set_status_in_console(run.model_package_arn, "Rejected")
    outcome = handle_event(world.deps(), state_change_event(run.model_package_arn, "Rejected"))
    assert outcome.evidence and outcome.evidence.kind is DecisionKind.OBSERVED_REJECTION
    assert outcome.evidence.policies == [] and not outcome.applied


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (
            "arn:aws:sagemaker:us-east-1:123456789012:model-package/other-models/1",
            "its group is 'other-models'",
        ),
        ("arn:aws:sagemaker:us-east-1:999999999999:model-package/keel-local-models/1", "its account"),
        (
            "arn:aws:sagemaker:us-east-1:123456789012:model-package/keel-local-models/7",
            "unknown model package",
        ),
        ("not-an-arn", "is not a versioned model package ARN"),
    ],
)
def test_unknown_or_foreign_packages_are_refused(world: World, reference: str, expected: str) -> None:
    # From the CLI: an error naming the problem, and nothing written (a typo leaves no permanent record).
    with pytest.raises(RefusedReferenceError, match=re.escape(expected)):
        gate_model_package(world.deps(), reference)
    assert world.evidence_keys() == []
    # From an event: the refusal is recorded once per event (the rule routed something that is not Keel's).
    trigger = TriggerInfo(source="event", event_id="evt-foreign")
    outcome = gate_model_package(world.deps(), reference, trigger=trigger)
    assert outcome.decision is ApprovalStatus.REJECTED and not outcome.applied
    assert expected in outcome.message
    [document] = decisions(world)
    assert document.kind is DecisionKind.REFUSED


def test_a_running_execution_without_its_record_is_not_decided(world: World) -> None:
    run = world.train()
    world.s3.delete_object(Bucket=world.settings.reports_bucket, Key=run.record_uri.split("/", 3)[3])
    original = world.sagemaker.describe_pipeline_execution

    class Running:
        def __getattr__(self, name: str) -> object:
            return getattr(world.sagemaker, name)

        def describe_pipeline_execution(self, **kwargs: object) -> dict[str, object]:
            return {**original(**kwargs), "PipelineExecutionStatus": "Executing"}

    with pytest.raises(GateNotReadyError, match="has not written its lineage record"):
        gate_model_package(world.deps(sagemaker=Running()), run.model_package_arn)
    assert world.evidence_keys() == []


def test_a_package_registered_while_its_run_executes_is_decided_when_the_record_is_announced(
    world: World,
) -> None:
    """On AWS the run registers its package before it ends, and its record is written after: the package's
    own event is deferred (no error, no retry storm, nothing written) and the recorder's announcement of the
    record brings the decision, however long the run took."""
    run = world.train()
    key = run.record_uri.split("/", 3)[3]
    record = world.s3.get_object(Bucket=world.settings.reports_bucket, Key=key)["Body"].read()
    world.s3.delete_object(Bucket=world.settings.reports_bucket, Key=key)
    original = world.sagemaker.describe_pipeline_execution

    class Running:
        def __getattr__(self, name: str) -> object:
            return getattr(world.sagemaker, name)

        def describe_pipeline_execution(self, **kwargs: object) -> dict[str, object]:
            return {**original(**kwargs), "PipelineExecutionStatus": "Executing"}

    registered = state_change_event(run.model_package_arn, "PendingManualApproval", event_id="registered")
    deferred = handle_event(world.deps(sagemaker=Running()), registered)
    assert deferred.action == "deferred" and deferred.decision is None
    assert "lineage record" in deferred.message
    assert world.evidence_keys() == [] and world.status(run.model_package_arn) == "PendingManualApproval"

    world.s3.put_object(  # the recorder wrote it, as it writes records
        Bucket=world.settings.reports_bucket,
        Key=key,
        Body=record,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=world.settings.artifacts_key_alias,
    )
    announced = {
        "version": "0",
        "id": "record-written",
        "source": RECORD_EVENT_SOURCE,
        "detail-type": RECORD_EVENT_DETAIL_TYPE,
        "account": world.settings.account,
        "region": world.settings.region,
        "time": "2026-12-01T10:30:00Z",
        "resources": [run.model_package_arn],
        "detail": {
            "ExecutionArn": world.settings.execution_arn(run.execution_id),
            "ExecutionStatus": "Succeeded",
            "RecordUri": run.record_uri,
            "ModelPackageArn": run.model_package_arn,
        },
    }
    decided = handle_event(world.deps(), announced)
    assert decided.action == "decided" and decided.decision is ApprovalStatus.APPROVED, decided.message
    assert world.status(run.model_package_arn) == "Approved"


def test_a_request_for_approval_again_is_a_new_decision(world: World) -> None:
    run = world.train(accuracy=0.3)
    clock = [datetime(2026, 11, 1, tzinfo=UTC)]
    deps = world.deps(clock=lambda: clock[0])
    assert gate_model_package(deps, run.model_package_arn).decision is ApprovalStatus.REJECTED
    world.set_status_in_console(run.model_package_arn, "PendingManualApproval")
    clock[0] += timedelta(hours=1)
    outcome = handle_event(
        deps, state_change_event(run.model_package_arn, "PendingManualApproval", event_id="e2")
    )
    assert outcome.action == "decided" and outcome.decision is ApprovalStatus.REJECTED
    assert len(decisions(world)) == 2


def test_the_aws_wiring_fails_closed_where_macie_cannot_answer(world: World) -> None:
    import boto3

    from keel.gate.runtime import gate_deps

    run = world.train()
    deps = gate_deps(world.settings, boto3.session.Session(region_name=world.config.region))
    outcome = gate_model_package(deps, run.model_package_arn)  # moto: no Macie ListFindings, no LookupEvents
    assert outcome.decision is ApprovalStatus.REJECTED
    assert outcome.evidence and outcome.evidence.failed_blocking == ["data.no-open-findings"]
    assert "Macie ListFindings failed: 404" in outcome.message
