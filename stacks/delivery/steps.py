"""The pipeline's CodeBuild steps: synth-and-test (produces the cloud assembly) and the per-stage smoke check.

Both install from the pinned files the same way a developer does (`make install`: a venv from
requirements.txt + constraints.txt, the pinned CDK CLI with `npm ci`), on the runtimes Keel supports.
"""

from __future__ import annotations

from aws_cdk import Duration, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam

from keel.config import DELIVERY_ENVIRONMENT, EnvironmentConfig

# The delivery app's cloud assembly: the synth step's primary output, which the pipeline deploys.
ASSEMBLY_DIR = "cdk.out"
INSTALL_COMMANDS = ("make install",)
SYNTH_COMMANDS = (
    "make test",  # ruff, unit tests, the four cdk-nag packs and cfn-lint, integration tests on moto
    ".venv/bin/keel synth-all",  # every environment, each into its own cdk.out.<env>
    f"npx cdk synth -c env={DELIVERY_ENVIRONMENT} --output {ASSEMBLY_DIR}",  # the pipeline and its stages
)
# Set by the Makefile for `make test`; the commands after it need them too.
BUILD_ENV = {
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
    "SAGEMAKER_VALIDATE_ROLE": "false",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}
RUNTIMES = {"python": "3.11", "nodejs": "20"}


def runtime_build_spec() -> codebuild.BuildSpec:
    return codebuild.BuildSpec.from_object({"phases": {"install": {"runtime-versions": RUNTIMES}}})


def synth_step(source: pipelines.IFileSetProducer) -> pipelines.CodeBuildStep:
    """Test everything, then synthesize; any failing test, cdk-nag finding or cfn-lint error stops here."""
    return pipelines.CodeBuildStep(
        "Synth",
        input=source,
        install_commands=list(INSTALL_COMMANDS),
        commands=list(SYNTH_COMMANDS),
        primary_output_directory=ASSEMBLY_DIR,
        env=BUILD_ENV,
        partial_build_spec=runtime_build_spec(),
        # The test suite synthesizes every environment on two workers and runs a local AWS server.
        build_environment=codebuild.BuildEnvironment(compute_type=codebuild.ComputeType.MEDIUM),
        timeout=Duration.minutes(60),
    )


def smoke_check_command(config: EnvironmentConfig, role_arn: str) -> str:
    return f".venv/bin/keel smoke-check --env {config.name} --role-arn {role_arn}"


def smoke_check_step(
    source: pipelines.IFileSetProducer, *, config: EnvironmentConfig, role: iam.IRole, target_role_arn: str
) -> pipelines.CodeBuildStep:
    """After a stage deploys: a non-zero exit fails the stage, so nothing is promoted past it."""
    return pipelines.CodeBuildStep(
        "SmokeCheck",
        input=source,
        install_commands=list(INSTALL_COMMANDS),
        commands=[smoke_check_command(config, target_role_arn)],
        env=BUILD_ENV,
        partial_build_spec=runtime_build_spec(),
        role=role,
        timeout=Duration.minutes(30),
    )
