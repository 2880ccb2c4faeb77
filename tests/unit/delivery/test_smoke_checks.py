"""The smoke check against an environment in in-process moto: healthy, then broken one way at a time.

One moto environment serves the module (provisioning costs about a second); a test that breaks something
puts it back in `finally`, so every test starts from the healthy environment.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto import mock_aws

from keel.cli import main
from keel.config import load_environment
from keel.delivery.checks import CHECKS, select
from keel.delivery.clients import client_factory
from keel.delivery.smoke import CheckResult, SmokeContext, run_checks
from keel.naming import BucketPurpose, bucket_name, pipeline_name, trail_name
from pipeline_steps.definition import STEPS
from tests.unit.delivery.moto_env import MotoEnvironment, provision

pytestmark = pytest.mark.xdist_group("smoke")


@pytest.fixture(scope="module")
def env() -> Iterator[MotoEnvironment]:
    config = load_environment("dev")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_ACCOUNT_ID", config.account)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        with mock_aws():
            yield provision(config)


def run(env: MotoEnvironment) -> dict[str, CheckResult]:
    context = SmokeContext(env.config, client_factory(env.config))
    return {result.name: result for result in run_checks(context, CHECKS)}


def test_a_healthy_environment_passes_every_check(env: MotoEnvironment) -> None:
    results = run(env)
    assert [name for name, r in results.items() if not r.ok] == []
    assert list(results) == ["training-pipeline", "model-registry", "audit-trail", "buckets"]
    assert "definition as expected" in results["training-pipeline"].detail
    assert "6 jobs encrypted with alias/keel-dev/artifacts" in results["training-pipeline"].detail


def test_a_healthy_environment_exits_zero_through_the_assumed_role(
    env: MotoEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    role = env.client("iam").create_role(RoleName="keel-dev-smoke-check", AssumeRolePolicyDocument="{}")
    assert main(["smoke-check", "--env", "dev", "--role-arn", role["Role"]["Arn"]]) == 0
    assert "healthy: 4 check(s) passed" in capsys.readouterr().out


def test_missing_pipeline_exits_one_with_a_clear_message(
    env: MotoEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    sagemaker, name = env.client("sagemaker"), pipeline_name(env.config)
    role_arn = sagemaker.describe_pipeline(PipelineName=name)["RoleArn"]
    sagemaker.delete_pipeline(PipelineName=name, ClientRequestToken="x" * 32)
    try:
        assert main(["smoke-check", "--env", "dev"]) == 1
    finally:
        sagemaker.create_pipeline(
            PipelineName=name, PipelineDefinition=json.dumps(env.definition), RoleArn=role_arn
        )
    output = capsys.readouterr().out
    assert (
        "FAIL  training-pipeline  SageMaker pipeline keel-dev-training not found in 111111111111/eu-west-1"
        in output
    )
    assert "PASS  model-registry" in output  # the other checks still ran
    assert output.rstrip().endswith("FAILED: 1 of 4 check(s): training-pipeline")


def _step(definition: dict[str, Any], name: str) -> dict[str, Any]:
    return next(step for step in definition["Steps"] if step["Name"] == name)


def _without_isolation(d: dict[str, Any]) -> None:
    _step(d, STEPS.train)["Arguments"]["EnableNetworkIsolation"] = False


def _without_drift(d: dict[str, Any]) -> None:
    d["Steps"] = [step for step in d["Steps"] if step["Name"] != STEPS.drift]


def _lower_threshold(d: dict[str, Any]) -> None:
    next(p for p in d["Parameters"] if p["Name"] == "MinAccuracy")["DefaultValue"] = 0.01


def _other_image(d: dict[str, Any]) -> None:
    _step(d, STEPS.train)["Arguments"]["AlgorithmSpecification"]["TrainingImage"] = "elsewhere/image:1"


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_without_isolation, f"- {STEPS.train}: network isolation is not enabled"),
        (_without_drift, f"- missing step(s): {STEPS.drift} (Processing)"),
        (_lower_threshold, "- definition.Parameters[MinAccuracy].DefaultValue: 0.01, expected 0.5"),
        (
            _other_image,
            f"- definition.Steps[{STEPS.train}].Arguments.AlgorithmSpecification.TrainingImage: "
            '"elsewhere/image:1", expected',
        ),
    ],
    ids=["isolation-off", "step-missing", "parameter-changed", "image-changed"],
)
def test_a_deployed_definition_that_differs_is_reported_precisely(
    env: MotoEnvironment, breakage: Callable[[dict[str, Any]], None], expected: str
) -> None:
    broken = copy.deepcopy(env.definition)
    breakage(broken)
    with env.deployed(broken):
        result = run(env)["training-pipeline"]
    assert not result.ok
    assert result.detail.startswith(
        "SageMaker pipeline keel-dev-training: the deployed definition is not the expected one:"
    )
    assert expected in result.detail


def test_a_job_encrypted_with_another_key_is_named(env: MotoEnvironment) -> None:
    other = env.client("kms").create_key()["KeyMetadata"]["Arn"]
    broken = copy.deepcopy(env.definition)
    _step(broken, STEPS.validate)["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"] = other
    with env.deployed(broken):
        detail = run(env)["training-pipeline"].detail
    assert f"{STEPS.validate}: output KMS key is {other}, not Keel's artifacts key" in detail


def test_missing_artifacts_key_is_reported(env: MotoEnvironment) -> None:
    kms = env.client("kms")
    alias = "alias/keel-dev/artifacts"
    kms.delete_alias(AliasName=alias)
    try:
        detail = run(env)["training-pipeline"].detail
    finally:
        kms.create_alias(AliasName=alias, TargetKeyId=env.key_arn)
    assert detail == f"KMS key {alias} not found: the security stack is not deployed"


def test_trail_that_stopped_logging(env: MotoEnvironment) -> None:
    cloudtrail = env.client("cloudtrail")
    cloudtrail.stop_logging(Name=trail_name(env.config))
    try:
        result = run(env)["audit-trail"]
    finally:
        cloudtrail.start_logging(Name=trail_name(env.config))
    assert not result.ok and result.detail == "CloudTrail trail keel-dev-audit-trail is not logging"


def test_buckets_unversioned_or_unencrypted_are_each_named(env: MotoEnvironment) -> None:
    s3 = env.client("s3")
    raw, reports = bucket_name(env.config, BucketPurpose.RAW), bucket_name(env.config, BucketPurpose.REPORTS)
    encryption = s3.get_bucket_encryption(Bucket=reports)["ServerSideEncryptionConfiguration"]
    s3.put_bucket_versioning(Bucket=raw, VersioningConfiguration={"Status": "Suspended"})
    s3.delete_bucket_encryption(Bucket=reports)
    try:
        lines = run(env)["buckets"].detail.splitlines()
    finally:
        s3.put_bucket_versioning(Bucket=raw, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(Bucket=reports, ServerSideEncryptionConfiguration=encryption)
    assert lines == [f"{raw}: versioning is Suspended", f"{reports} has no default encryption"]


def test_only_selected_checks_run_and_unknown_names_are_usage_errors(
    env: MotoEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    assert [c.name for c in select(["buckets", "audit-trail"])] == ["audit-trail", "buckets"]
    assert main(["smoke-check", "--env", "dev", "--check", "buckets"]) == 0
    assert "healthy: 1 check(s) passed" in capsys.readouterr().out
    assert main(["smoke-check", "--env", "dev", "--check", "alarms"]) == 2
    assert "unknown check(s) alarms; allowed values:" in capsys.readouterr().err


def test_unknown_environment_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["smoke-check", "--env", "nope"]) == 2
    assert "unknown environment 'nope'" in capsys.readouterr().err


# IAM actions whose name is not the API operation's.
_IAM_ACTION_OF = {"s3:GetBucketEncryption": "s3:GetEncryptionConfiguration"}


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.name)
def test_each_check_declares_the_permission_of_every_call_it_makes(env: MotoEnvironment, check: Any) -> None:
    """The smoke-check role is generated from these declarations: a forgotten one would fail in AWS only."""
    calls: set[str] = set()
    factory = client_factory(env.config)

    def recording(service: str) -> Any:
        client = factory(service)
        prefix = client.meta.service_model.signing_name

        def record(model: Any, **_: Any) -> None:
            calls.add(_IAM_ACTION_OF.get(f"{prefix}:{model.name}", f"{prefix}:{model.name}"))

        client.meta.events.register("before-call", record)
        return client

    (result,) = run_checks(SmokeContext(env.config, recording), [check])
    assert result.ok, result.detail
    declared = {action for permission in check.permissions(env.config) for action in permission.actions}
    assert calls and calls <= declared, sorted(calls - declared)
