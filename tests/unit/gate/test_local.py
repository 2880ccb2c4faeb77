"""The local runner's entry points: the gate after a run and the quarantine of one object, in-process."""

from __future__ import annotations

from keel.gate.local import gate_registered_model, quarantine_object
from keel.gate.model import ApprovalStatus
from tests.unit.gate.world import World


def test_the_local_runner_gates_a_registered_model_and_quarantines_objects(world: World) -> None:
    run = world.train()
    bucket, key = run.input_uri[5:].split("/", 1)
    result = quarantine_object(
        world.config, bucket, key, run.input_version, finding_id="f-local", s3=world.s3, sns=world.sns
    )
    assert result.action == "quarantined" and result.alerted
    clients = {"sagemaker": world.sagemaker, "s3": world.s3, "kms": world.kms, "sns": world.sns}
    outcome = gate_registered_model(world.config, run.model_package_arn, **clients)
    assert outcome.decision is ApprovalStatus.REJECTED
    assert outcome.evidence and outcome.evidence.failed_blocking == ["data.no-open-findings"]
    assert outcome.evidence.actor.identity == "keel-local-runner"
    clean = world.train(input_key="landing/wine_quality/ingest_date=2026-11-02/clean.csv")
    assert (
        gate_registered_model(world.config, clean.model_package_arn, **clients).decision
        is ApprovalStatus.APPROVED
    )
    assert len(world.alerts()) == 2  # the quarantine, the rejection
