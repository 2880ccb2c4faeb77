"""cdk-nag findings on the resources CDK Pipelines generates, acknowledged role by role with the reason
each is needed. Every ID is computed from the construct it is attached to (logical IDs included), so the
acknowledgments follow the pipeline as stages and steps change, and a test proves none is stale."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from aws_cdk import CfnElement, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from stacks.compliance import acknowledge

T = TypeVar("T")

INLINE_POLICY = ("HIPAA.Security-IAMNoInlinePolicy", "NIST.800.53.R5-IAMNoInlinePolicy")
ARTIFACT_READ_ACTIONS = ("s3:GetBucket*", "s3:GetObject*", "s3:List*")
ARTIFACT_WRITE_ACTIONS = ("s3:Abort*", "s3:DeleteObject*")
ARTIFACT_KEY_ACTIONS = ("kms:GenerateDataKey*", "kms:ReEncrypt*")


def _iam5(*findings: str) -> list[str]:
    return [f"AwsSolutions-IAM5[{finding}]" for finding in findings]


def _logical_id(construct: IConstruct) -> str:
    element = construct.node.default_child
    assert isinstance(element, CfnElement)
    stack = Stack.of(element)
    resolved: str = stack.resolve(stack.get_logical_id(element))
    return resolved


def _under(scope: IConstruct, kind: type[T]) -> list[T]:
    return [child for child in scope.node.find_all() if isinstance(child, kind)]


def acknowledge_generated_findings(
    pipeline: pipelines.CodePipeline, *, artifact_bucket: s3.IBucket, step_roles: Sequence[iam.IRole]
) -> None:
    """Call after `build_pipeline()`; `step_roles`: the roles given to the pipeline's own CodeBuild steps."""
    stack = Stack.of(pipeline)
    arn = f"arn:{stack.partition}"
    bucket_objects = f"Resource::<{_logical_id(artifact_bucket)}.Arn>/*"
    read = _iam5(*(f"Action::{a}" for a in ARTIFACT_READ_ACTIONS), bucket_objects)
    write = _iam5(*(f"Action::{a}" for a in ARTIFACT_WRITE_ACTIONS))
    key = _iam5(*(f"Action::{a}" for a in ARTIFACT_KEY_ACTIONS))

    codepipeline = pipeline.pipeline
    source_roles = _under(codepipeline.node.find_child("Source"), iam.Role)
    assets = pipeline.node.try_find_child("Assets")  # only when a stage has assets
    asset_roles = _under(assets, iam.Role) if assets else []
    asset_role_paths = {role.node.path for role in asset_roles}
    action_role = pipeline.node.try_find_child("CodeBuildActionRole")
    writers = [codepipeline.role, *source_roles, pipeline.synth_project.role]
    readers = [pipeline.self_mutation_project.role, *step_roles]

    for role in _unique([*writers, *readers, *asset_roles, action_role]):
        acknowledge(
            role,
            "CDK Pipelines renders this role's grants (artifact bucket and key, build logs, CodeBuild "
            "projects, bootstrap roles) as its inline DefaultPolicy; they are scoped by the CDK.",
            *INLINE_POLICY,
        )
    for role in _unique(writers):
        acknowledge(
            role,
            "Reads and writes pipeline artifacts: the CDK's object-level wildcards are within the pipeline's "
            "own artifact bucket and its key only.",
            *read,
            *write,
            *key,
        )
    for role in _unique(readers):
        acknowledge(
            role,
            "Reads pipeline artifacts and encrypts its build output with the artifact key: the wildcards "
            "are within the pipeline's own artifact bucket and key only.",
            *read,
            *key,
        )
    for role in asset_roles:
        acknowledge(
            role,
            "Asset publishing reads the cloud assembly: the wildcards are within the pipeline's own "
            "artifact bucket only.",
            *read,
        )
        acknowledge(
            role,
            "One asset-publishing role serves every asset project CDK Pipelines creates, so its build-log, "
            "report-group and StartBuild grants cannot name a single project.",
            *_iam5(
                f"Resource::{arn}:logs:{stack.region}:{stack.account}:log-group:/aws/codebuild/*",
                f"Resource::{arn}:codebuild:{stack.region}:{stack.account}:report-group/*",
                "Resource::*",
            ),
        )
    self_mutation_role = pipeline.self_mutation_project.role
    assert self_mutation_role is not None
    acknowledge(
        self_mutation_role,
        "Self-mutation runs `cdk deploy` of this stack: it may assume only roles tagged as CDK bootstrap "
        "roles (tag condition), and the CLI's DescribeStacks/ListBucket have no narrower resource.",
        *_iam5(f"Resource::arn:*:iam::{stack.account}:role/*", "Resource::*"),
    )
    for project in _under(pipeline, codebuild.Project):
        acknowledge(
            project,
            "The project's source is the pipeline artifact (source type CODEPIPELINE): it never clones a "
            "repository URL, so there are no repository credentials to protect with OAuth.",
            "HIPAA.Security-CodeBuildProjectSourceRepoUrl",
        )
        if project.role is None or project.role.node.path in asset_role_paths:
            continue
        project_id = _logical_id(project)
        acknowledge(
            project.role,
            "CodeBuild's own log streams and report groups of this project: the CDK scopes them to the "
            "project's name, the wildcard is its streams/reports.",
            *_iam5(
                f"Resource::{arn}:logs:{stack.region}:{stack.account}:log-group:/aws/codebuild/<{project_id}>:*",
                f"Resource::{arn}:codebuild:{stack.region}:{stack.account}:report-group/<{project_id}>-*",
            ),
        )


def _unique(roles: Iterable[IConstruct | None]) -> list[IConstruct]:
    seen: dict[str, IConstruct] = {}
    for role in roles:
        if role is not None:
            seen.setdefault(role.node.path, role)
    return list(seen.values())
