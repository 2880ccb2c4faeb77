"""Least privilege of the governance functions: specific actions on named resources, one statement each."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns

from keel.feedback.names import TRIGGER_PREFIX
from keel.gate.evidence import MODEL_PACKAGES_PREFIX
from keel.gate.findings import QUARANTINE_EVIDENCE_PREFIX
from keel.lineage.record import LINEAGE_PREFIX, RECORD_EVENT_SOURCE
from keel.quarantine.quarantine import MACIE_QUARANTINE_PREFIX
from stacks.compliance import acknowledge, acknowledge_iam_lint
from stacks.governance.functions import GovernanceFunction
from stacks.security.keys import KeelKeys

PIPELINE_PREFIX = "pipeline/"  # where the pipeline's jobs write (pipeline_steps/definition.py)


def _allow_run_reads(fn: GovernanceFunction, sid: str, reads: dict[str, tuple[str, ...]], what: str) -> None:
    """Object (version) reads under the prefixes of each bucket, one statement per bucket."""
    for index, (bucket, prefixes) in enumerate(reads.items()):
        fn.allow(
            f"{sid}{index}",
            ["s3:GetObject", "s3:GetObjectVersion"],
            fn.s3_objects(bucket, *prefixes),
            reason=f"{what}, whose keys are made at run time, only in {bucket}.",
        )


def _common(fn: GovernanceFunction, *, keys: KeelKeys, table: dynamodb.ITable, topic: sns.ITopic) -> None:
    table.grant_read_write_data(fn.role)
    acknowledge_iam_lint(
        fn.role,
        "The CDK's table grant (grant_read_write_data) adds the stream actions GetRecords and "
        "GetShardIterator on the table ARN; the idempotency table has no stream, so they grant nothing.",
        "RESOURCE_MISMATCH[dynamodb:GetRecords]",
        "RESOURCE_MISMATCH[dynamodb:GetShardIterator]",
    )
    topic.grant_publish(fn.role)
    keys.logs.grant_encrypt_decrypt(fn.role)  # the alert topic, the evidence bucket and the table use it
    acknowledge(
        fn.role,
        "kms:GenerateDataKey* and kms:ReEncrypt* are the action families of the CDK's key grants; every "
        "statement names one Keel key.",
        "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
    )


def grant_gate(fn: GovernanceFunction, *, keys: KeelKeys, table: dynamodb.ITable, topic: sns.ITopic) -> None:
    s = fn.settings
    sagemaker = f"arn:{s.partition}:sagemaker:{s.region}:{s.account}"
    _common(fn, keys=keys, table=table, topic=topic)
    fn.allow(
        "DecideOnKeelModelVersions",
        ["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
        [f"{sagemaker}:model-package/{s.model_package_group}/*"],
        reason="Model package versions are numbered at registration: the gate may describe and approve or "
        "reject any version of Keel's group, and no other package.",
    )
    fn.allow("ReadKeelPipeline", ["sagemaker:DescribePipeline"], [s.pipeline_arn])
    fn.allow(
        "ReadKeelPipelineExecutions",
        ["sagemaker:DescribePipelineExecution", "sagemaker:DescribePipelineDefinitionForExecution"],
        [f"{s.pipeline_arn}/execution/*"],
        reason="Execution ids are assigned at start: the gate reads any execution of Keel's pipeline only.",
    )
    reads = {
        s.reports_bucket: (LINEAGE_PREFIX, PIPELINE_PREFIX),
        s.artifacts_bucket: (PIPELINE_PREFIX,),
        **dict.fromkeys(s.input_buckets, ("",)),
    }
    _allow_run_reads(
        fn,
        "ReadEvidenceOfRuns",
        reads,
        "The gate reads run evidence (records, reports, model artifacts, training input versions)",
    )
    fn.allow(
        "ListForPreciseErrors",
        ["s3:ListBucket"],
        [fn.s3_bucket(b) for b in reads],
        reason=None,
    )
    fn.allow(
        "WriteDecisionEvidence",
        ["s3:PutObject"],
        fn.s3_objects(s.evidence_bucket, MODEL_PACKAGES_PREFIX),
        reason="Each decision is a new object named by its id under the gate's evidence prefix; Object Lock "
        "(governance) keeps it, the gate has no delete or retention permission.",
    )
    fn.allow(
        "ReadEvidence",
        ["s3:GetObject"],
        fn.s3_objects(s.evidence_bucket, MODEL_PACKAGES_PREFIX, QUARANTINE_EVIDENCE_PREFIX),
        reason="The gate reads its earlier decisions (idempotency, console approvals) and the quarantine's "
        "records (open findings) under those two evidence prefixes only.",
    )
    fn.allow(
        "ListEvidence",
        ["s3:ListBucket"],
        [fn.s3_bucket(s.evidence_bucket)],
        conditions={
            "StringLike": {"s3:prefix": [f"{MODEL_PACKAGES_PREFIX}*", f"{QUARANTINE_EVIDENCE_PREFIX}*"]}
        },
    )
    keys.artifacts.grant_decrypt(fn.role)
    keys.artifacts.grant(fn.role, "kms:DescribeKey")
    keys.data.grant_decrypt(fn.role)
    fn.allow(
        "ReadSensitiveDataFindings",
        ["macie2:ListFindings", "macie2:GetFindings"],
        ["*"],
        reason="Macie ListFindings and GetFindings have no resource-level permissions.",
    )
    fn.allow(
        "FindWhoApproved",
        ["cloudtrail:LookupEvents"],
        ["*"],
        reason="CloudTrail LookupEvents has no resource-level permissions.",
    )
    fn.acknowledge_wildcards()


def grant_quarantine(
    fn: GovernanceFunction, *, keys: KeelKeys, table: dynamodb.ITable, topic: sns.ITopic
) -> None:
    s = fn.settings
    _common(fn, keys=keys, table=table, topic=topic)
    for index, bucket in enumerate(s.macie_buckets):
        fn.allow(
            f"ReadFlaggedObjects{index}",
            ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging"],
            fn.s3_objects(bucket, ""),
            reason=f"Macie may flag any object of {bucket}: the quarantine reads the flagged version to "
            "copy it.",
        )
        fn.allow(
            f"HideFlaggedObjects{index}",
            ["s3:DeleteObject"],
            fn.s3_objects(bucket, ""),
            reason=f"A delete marker hides a flagged key of {bucket} from training; without "
            "s3:DeleteObjectVersion no version can be deleted.",
        )
        fn.allow(
            f"WriteQuarantineCopies{index}",
            ["s3:PutObject", "s3:PutObjectTagging"],
            fn.s3_objects(bucket, MACIE_QUARANTINE_PREFIX),
            reason="Quarantine copies keep the flagged object's key under "
            f"{MACIE_QUARANTINE_PREFIX} of {bucket}.",
        )
    fn.allow("ListFlaggedBuckets", ["s3:ListBucket"], [fn.s3_bucket(b) for b in s.macie_buckets])
    fn.allow(
        "RecordQuarantines",
        ["s3:GetObject", "s3:PutObject"],
        fn.s3_objects(s.evidence_bucket, QUARANTINE_EVIDENCE_PREFIX),
        reason="One record per finding, named by bucket, key and finding id, under the quarantine's evidence "
        "prefix only.",
    )
    fn.allow(
        "ListQuarantineRecords",
        ["s3:ListBucket"],
        [fn.s3_bucket(s.evidence_bucket)],
        conditions={"StringLike": {"s3:prefix": [f"{QUARANTINE_EVIDENCE_PREFIX}*"]}},
    )
    keys.data.grant_encrypt_decrypt(fn.role)
    fn.acknowledge_wildcards()


def grant_lineage_recorder(fn: GovernanceFunction, *, keys: KeelKeys, topic: sns.ITopic) -> None:
    """Reads an ended execution, its steps and jobs, the reports and the training inputs it names; writes
    its record; announces it on the default bus."""
    s = fn.settings
    sagemaker = f"arn:{s.partition}:sagemaker:{s.region}:{s.account}"
    topic.grant_publish(fn.role)
    keys.logs.grant_encrypt_decrypt(fn.role)
    fn.allow(
        "ReadEndedExecutions",
        [
            "sagemaker:DescribePipelineExecution",
            "sagemaker:DescribePipelineDefinitionForExecution",
            "sagemaker:ListPipelineParametersForExecution",
            "sagemaker:ListPipelineExecutionSteps",
        ],
        [f"{s.pipeline_arn}/execution/*"],
        reason="Execution ids are assigned at start: the recorder reads executions of Keel's pipeline only.",
    )
    fn.allow(
        "ReadTheirJobs",
        ["sagemaker:DescribeProcessingJob", "sagemaker:DescribeTrainingJob"],
        [f"{sagemaker}:processing-job/*", f"{sagemaker}:training-job/*"],
        reason="Job names are made by SageMaker Pipelines at run time (pipelines-<id>-<step>): the recorder "
        "describes the jobs its execution's steps name.",
    )
    reads = {
        s.reports_bucket: (PIPELINE_PREFIX, TRIGGER_PREFIX),
        s.artifacts_bucket: (PIPELINE_PREFIX,),
        **dict.fromkeys(s.input_buckets, ("",)),
    }
    _allow_run_reads(
        fn,
        "ReadRunFacts",
        reads,
        "The recorder reads the run's reports, trigger record and training input versions",
    )
    fn.allow(
        "ListRunFacts",
        ["s3:ListBucket", "s3:ListBucketVersions"],
        [fn.s3_bucket(b) for b in reads],
    )
    fn.allow(
        "WriteLineageRecords",
        ["s3:PutObject"],
        fn.s3_objects(s.reports_bucket, LINEAGE_PREFIX),
        reason=f"One record per execution, named by its id, under {LINEAGE_PREFIX} only.",
    )
    fn.allow(
        "AnnounceLineageRecords",
        ["events:PutEvents"],
        [f"arn:{s.partition}:events:{s.region}:{s.account}:event-bus/default"],
        conditions={"StringEquals": {"events:source": RECORD_EVENT_SOURCE}},
    )
    keys.artifacts.grant_encrypt_decrypt(fn.role)
    keys.data.grant_decrypt(fn.role)
    acknowledge(
        fn.role,
        "kms:GenerateDataKey* and kms:ReEncrypt* are the action families of the CDK's key grants; every "
        "statement names one Keel key.",
        "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
    )
    fn.acknowledge_wildcards()
