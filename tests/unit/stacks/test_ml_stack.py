"""The ML stack: pipeline resource with its generated definition, model registry, least-privilege roles."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from stacks.ml.roles import JOB_CREATE_ACTIONS
from tests.unit.stacks.conftest import resources

pytestmark = pytest.mark.xdist_group("synth")


def test_pipeline_definition_is_substituted_with_key_and_image_tokens(synth) -> None:
    s = synth("dev")
    template = s.template_json("Keel-dev-ML")
    (pipeline,) = resources(template, "AWS::SageMaker::Pipeline").values()
    properties = pipeline["Properties"]
    assert properties["PipelineName"] == "keel-dev-training"
    body, variables = properties["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"]
    definition = json.loads(body)
    assert definition["Steps"][0]["Name"] == "ValidateData"
    assert set(variables) == {"ArtifactsKeyArn", "StepImageUri"}
    assert "Fn::GetStackOutput" in variables["ArtifactsKeyArn"]  # the security stack's artifacts key
    assert "Fn::Sub" in variables["StepImageUri"] or "Fn::Join" in variables["StepImageUri"]
    role = properties["RoleArn"]["Fn::GetAtt"][0]
    assert template["Resources"][role]["Properties"]["RoleName"] == "keel-dev-pipeline"


def test_local_uses_the_configured_image_and_needs_no_docker(synth) -> None:
    s = synth("local")
    (pipeline,) = resources(s.template_json("Keel-local-ML"), "AWS::SageMaker::Pipeline").values()
    variables = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"][1]
    assert variables["StepImageUri"] == s.config.training.image_uri
    assets = json.loads((s.outdir / "Keel-local-ML.assets.json").read_text())
    assert not assets.get("dockerImages")
    dev_assets = json.loads((synth("dev").outdir / "Keel-dev-ML.assets.json").read_text())
    assert dev_assets["dockerImages"], "dev builds the step image as an ECR asset at deploy time"


def test_model_package_group(synth) -> None:
    synth("prod").template("Keel-prod-ML").has_resource_properties(
        "AWS::SageMaker::ModelPackageGroup", {"ModelPackageGroupName": "keel-prod-models"}
    )


def test_pipeline_role_denies_jobs_without_encryption_or_isolation(synth) -> None:
    template = synth("dev").template_json("Keel-dev-ML")
    statements = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    denies = {s["Sid"]: s for s in statements if s["Effect"] == "Deny"}
    expected = {
        "DenyJobsWithoutVolumeKey": {"Null": {"sagemaker:VolumeKmsKey": "true"}},
        "DenyJobsWithoutOutputKey": {"Null": {"sagemaker:OutputKmsKey": "true"}},
        "DenyJobsWithoutNetworkIsolation": {"Bool": {"sagemaker:NetworkIsolation": "false"}},
        "DenyJobsWithNetworkIsolationUnset": {"Null": {"sagemaker:NetworkIsolation": "true"}},
        "DenyJobsWithoutTrafficEncryption": {"Bool": {"sagemaker:InterContainerTrafficEncryption": "false"}},
        "DenyJobsWithTrafficEncryptionUnset": {"Null": {"sagemaker:InterContainerTrafficEncryption": "true"}},
    }
    assert set(denies) == set(expected)
    for sid, condition in expected.items():
        assert denies[sid]["Condition"] == condition
        assert sorted(denies[sid]["Action"]) == sorted(JOB_CREATE_ACTIONS)


def test_job_role_never_deletes_and_reads_only_named_buckets(synth) -> None:
    template = synth("dev").template("Keel-dev-ML")
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Sid": "WriteJobOutputs", "Action": ["s3:AbortMultipartUpload", "s3:PutObject"]}
                        )
                    ]
                )
            }
        },
    )
    text = json.dumps(synth("dev").template_json("Keel-dev-ML"))
    assert "s3:DeleteObject" not in text
    assert '"s3:*"' not in text and '"sagemaker:*"' not in text
