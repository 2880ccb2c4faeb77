"""The pipeline's source from config: a CodeConnections repository (GitHub, GitLab, Bitbucket) or an S3
object (a zip of the repository, e.g. exported by another system)."""

from __future__ import annotations

from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from constructs import Construct

from keel.config import SourceConnection


def pipeline_source(scope: Construct, source: SourceConnection) -> pipelines.CodePipelineSource:
    if source.type == "codeconnections":
        assert source.repository and source.connection_arn  # the config model validated them
        return pipelines.CodePipelineSource.connection(
            source.repository,
            source.branch,
            connection_arn=source.connection_arn,
            trigger_on_push=True,
        )
    assert source.bucket and source.object_key
    bucket = s3.Bucket.from_bucket_name(scope, "SourceBucket", source.bucket)
    # Polling needs nothing else in the tooling account; event-based detection would need a CloudTrail trail
    # recording the bucket's data events (the repository source, the usual one, is event-based).
    return pipelines.CodePipelineSource.s3(bucket, source.object_key, trigger=actions.S3Trigger.POLL)
