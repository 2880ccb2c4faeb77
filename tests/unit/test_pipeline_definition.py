"""The training pipeline definition: every job encrypted and isolated, steps in order, gate before register.

cdk-nag and checkov cannot see inside a pipeline definition, so Keel tests its JSON itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from keel.config import load_environment
from keel.contract import load_contract
from pipeline_steps.definition import EVALUATION_JSON_PATH, STEPS, SYNTH_PLACEHOLDERS, pipeline_definition

KEY = "arn:aws:kms:eu-west-1:111111111111:key/abcd"
IMAGE = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/keel-steps@sha256:" + "0" * 64


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    from pipeline_steps.definition import targets_for

    config = load_environment("dev")
    return pipeline_definition(config, load_contract(), targets_for(config, kms_key_arn=KEY, image_uri=IMAGE))


def _all_steps(definition: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for step in definition["Steps"]:
        steps.append(step)
        arguments = step.get("Arguments", {})
        steps.extend(arguments.get("IfSteps", []))
        steps.extend(arguments.get("ElseSteps", []))
    return steps


def _jobs(definition: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _all_steps(definition) if s["Type"] in ("Processing", "Training")]


def test_steps_run_in_the_documented_order(definition: dict[str, Any]) -> None:
    names = [s["Name"] for s in definition["Steps"]]
    assert names == [
        STEPS.validate,
        STEPS.combine_validation,
        STEPS.preprocess,
        STEPS.train,
        STEPS.evaluate,
        STEPS.drift,
        STEPS.condition,
    ]
    types = {s["Name"]: s["Type"] for s in _all_steps(definition)}
    assert types[STEPS.register] == "RegisterModel"
    assert types[STEPS.fail] == "Fail"


def test_every_job_is_encrypted_isolated_and_encrypts_traffic(definition: dict[str, Any]) -> None:
    jobs = _jobs(definition)
    assert len(jobs) == 6
    for job in jobs:
        arguments = job["Arguments"]
        if job["Type"] == "Processing":
            assert arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KEY, job["Name"]
            assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == KEY, job["Name"]
            assert arguments["NetworkConfig"]["EnableNetworkIsolation"] is True, job["Name"]
            assert arguments["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True, job["Name"]
            assert arguments["AppSpecification"]["ImageUri"] == IMAGE
        else:
            assert arguments["ResourceConfig"]["VolumeKmsKeyId"] == KEY
            assert arguments["OutputDataConfig"]["KmsKeyId"] == KEY
            assert arguments["EnableNetworkIsolation"] is True
            assert arguments["EnableInterContainerTrafficEncryption"] is True
            assert arguments["AlgorithmSpecification"]["TrainingImage"] == IMAGE
        assert arguments["RoleArn"] == "arn:aws:iam::111111111111:role/keel-dev-pipeline-jobs"
        assert {t["Key"] for t in arguments["Tags"]} >= {"project", "environment", "owner", "cost-center"}


def test_no_job_uploads_code_or_reads_outside_keel_buckets(definition: dict[str, Any]) -> None:
    text = str(definition)
    assert "sourcedir" not in text and "sagemaker_submit_directory" not in text
    for job in _jobs(definition):
        for output in job["Arguments"].get("ProcessingOutputConfig", {}).get("Outputs", []):
            uri = output["S3Output"]["S3Uri"]["Std:Join"]["Values"][0]
            assert uri.startswith("s3://keel-dev-"), uri


def test_validation_and_drift_shard_their_input(definition: dict[str, Any]) -> None:
    validate = next(s for s in definition["Steps"] if s["Name"] == STEPS.validate)
    cluster = validate["Arguments"]["ProcessingResources"]["ClusterConfig"]
    assert cluster["InstanceCount"] == {"Get": "Parameters.ProcessingInstanceCount"}
    data = validate["Arguments"]["ProcessingInputs"][0]["S3Input"]
    assert data["S3DataDistributionType"] == "ShardedByS3Key"
    assert data["S3Uri"] == {"Get": "Parameters.InputDataUri"}
    outputs = {o["OutputName"] for o in validate["Arguments"]["ProcessingOutputConfig"]["Outputs"]}
    assert outputs == {"validation", "quarantine"}


def test_quality_gate_reads_validation_and_accuracy_and_explains_failure(definition: dict[str, Any]) -> None:
    gate = next(s for s in definition["Steps"] if s["Name"] == STEPS.condition)
    conditions = gate["Arguments"]["Conditions"]
    assert conditions[0]["LeftValue"]["Std:JsonGet"]["Path"] == "success"
    assert conditions[0]["RightValue"] is True
    assert conditions[1]["Type"] == "GreaterThanOrEqualTo"
    assert conditions[1]["LeftValue"]["Std:JsonGet"]["Path"] == EVALUATION_JSON_PATH
    assert conditions[1]["RightValue"] == {"Get": "Parameters.MinAccuracy"}
    register = gate["Arguments"]["IfSteps"][0]["Arguments"]
    assert register["ModelPackageGroupName"] == "keel-dev-models"
    assert register["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    statistics = register["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["ContentType"] == "application/json"
    assert register["CustomerMetadataProperties"]["keel:input_object_version"] == {
        "Get": "Parameters.InputObjectVersion"
    }
    message = gate["Arguments"]["ElseSteps"][0]["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert "quality gate" in message[0]


def test_parameters_default_to_the_environment_config(definition: dict[str, Any]) -> None:
    config = load_environment("dev")
    parameters = {p["Name"]: p for p in definition["Parameters"]}
    assert parameters["MinAccuracy"]["DefaultValue"] == config.thresholds.min_accuracy
    assert parameters["MaxFeaturePsi"]["DefaultValue"] == config.thresholds.max_feature_psi
    assert parameters["ProcessingInstanceType"]["DefaultValue"] == config.sizes.processing_instance_type
    assert parameters["TrainingInstanceCount"]["Type"] == "Integer"
    assert parameters["ModelApprovalStatus"]["DefaultValue"] == "PendingManualApproval"
    assert parameters["HpNEstimators"]["DefaultValue"] == config.training.hyperparameters["n_estimators"]
    assert definition["PipelineExperimentConfig"]["TrialName"] == {"Get": "Execution.PipelineExecutionId"}


def test_display_names_and_descriptions_on_every_job(definition: dict[str, Any]) -> None:
    for step in _jobs(definition):
        assert step.get("DisplayName") and step.get("Description"), step["Name"]


def test_synth_placeholders_only_for_tokens() -> None:
    config = load_environment("prod")
    text = str(pipeline_definition(config, load_contract()))
    assert SYNTH_PLACEHOLDERS["kms_key_arn"] in text
    assert SYNTH_PLACEHOLDERS["image_uri"] in text
    assert "${" not in text.replace(SYNTH_PLACEHOLDERS["kms_key_arn"], "").replace(
        SYNTH_PLACEHOLDERS["image_uri"], ""
    )


def test_vpc_from_config_reaches_every_job() -> None:
    from keel.config import load_config, read_cdk_context
    from pipeline_steps.definition import targets_for

    context = read_cdk_context()
    vpc = {
        "vpc_id": "vpc-0abc",
        "availability_zones": ["eu-west-1a"],
        "subnet_ids": ["subnet-1"],
        "security_group_ids": ["sg-1"],
    }
    context["keel:environments"]["dev"] = context["keel:environments"]["dev"] | {"security": {"vpc": vpc}}
    config = load_config(context, "dev")
    definition = pipeline_definition(
        config, load_contract(), targets_for(config, kms_key_arn=KEY, image_uri=IMAGE)
    )
    for job in _jobs(definition):
        arguments = job["Arguments"]
        vpc_config = arguments.get("NetworkConfig", arguments).get("VpcConfig")
        assert vpc_config == {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}, job["Name"]


def test_shared_compliance_check_accepts_keel_and_names_each_violation(definition: dict[str, Any]) -> None:
    import copy

    from keel.definition_policy import job_violations

    assert job_violations(definition, kms_key_arn=KEY) == []
    broken = copy.deepcopy(definition)
    broken["Steps"][0]["Arguments"]["NetworkConfig"]["EnableNetworkIsolation"] = False
    train = next(s for s in broken["Steps"] if s["Name"] == STEPS.train)
    del train["Arguments"]["OutputDataConfig"]["KmsKeyId"]
    assert job_violations(broken) == [
        f"{STEPS.validate}: network isolation is not enabled",
        f"{STEPS.train}: no output KMS key",
    ]
    assert job_violations(definition, kms_key_arn="arn:aws:kms:eu-west-1:111111111111:key/other")
    assert job_violations(definition, require_vpc=True)
    assert job_violations({"Steps": []}) == ["the definition has no processing or training job"]
