"""Create the AWS resources the feedback functions use, on a local endpoint (moto), as the stacks define them.

moto's CloudFormation does not create all of them (e.g. Glue tables, SageMaker pipelines), and unit tests
use in-process moto without any stack: tests, the benchmark and the local runner call this instead.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract, glue_columns, glue_partition_keys, load_contract
from keel.feedback import idempotency, state
from keel.feedback.corrections import feedback_contract
from keel.feedback.names import CORRECTIONS_PREFIX, idempotency_table_name, state_table_name
from keel.naming import (
    BucketPurpose,
    bucket_name,
    glue_database_name,
    glue_table_name,
    pipeline_name,
)

FEEDBACK_BUCKETS = (BucketPurpose.RAW, BucketPurpose.FEEDBACK, BucketPurpose.REPORTS)
# A placeholder definition: moto stores it and never runs steps (the local runner interprets the real one).
_STUB_DEFINITION = {"Version": "2020-12-01", "Parameters": [], "Steps": []}


def _ignore_exists(call: Any, **arguments: Any) -> None:
    try:
        call(**arguments)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code not in (
            "ResourceInUseException",
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
            "AlreadyExistsException",
            "ValidationException",
            "ResourceLimitExceeded",
        ):
            raise


def create_tables(dynamodb: Any, config: EnvironmentConfig) -> None:
    _ignore_exists(
        dynamodb.create_table,
        TableName=idempotency_table_name(config),
        KeySchema=[{"AttributeName": idempotency.KEY_ATTRIBUTE, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": idempotency.KEY_ATTRIBUTE, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    _ignore_exists(
        dynamodb.create_table,
        TableName=state_table_name(config),
        KeySchema=[
            {"AttributeName": state.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": state.SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": state.PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": state.SORT_KEY, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def create_buckets(s3: Any, config: EnvironmentConfig) -> None:
    for purpose in FEEDBACK_BUCKETS:
        name = bucket_name(config, purpose)
        arguments: dict[str, Any] = {"Bucket": name}
        if config.region != "us-east-1":
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": config.region}
        _ignore_exists(s3.create_bucket, **arguments)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def create_pipeline(sagemaker: Any, config: EnvironmentConfig) -> None:
    _ignore_exists(
        sagemaker.create_pipeline,
        PipelineName=pipeline_name(config),
        PipelineDefinition=json.dumps(_STUB_DEFINITION),
        RoleArn=f"arn:aws:iam::{config.account}:role/{config.prefix}-pipeline",
    )


def _table_input(contract: DatasetContract, name: str, location: str) -> dict[str, Any]:
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
        "PartitionKeys": [{"Name": k["name"], "Type": k["type"]} for k in glue_partition_keys(contract)],
        "StorageDescriptor": {
            "Columns": [{"Name": c["name"], "Type": c["type"]} for c in glue_columns(contract)],
            "Location": location,
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                "Parameters": {"field.delim": contract.format.delimiter},
            },
        },
    }


def create_catalog(glue: Any, config: EnvironmentConfig) -> None:
    database = glue_database_name(config)
    dataset = load_contract(config.contract)
    _ignore_exists(glue.create_database, DatabaseInput={"Name": database})
    raw = bucket_name(config, BucketPurpose.RAW)
    feedback = bucket_name(config, BucketPurpose.FEEDBACK)
    for contract, name, location in (
        (dataset, glue_table_name(dataset.name, BucketPurpose.RAW), f"s3://{raw}/{dataset.landing_prefix}"),
        (
            feedback_contract(dataset),
            glue_table_name(dataset.name, BucketPurpose.FEEDBACK),
            f"s3://{feedback}/{CORRECTIONS_PREFIX}",
        ),
    ):
        _ignore_exists(
            glue.create_table, DatabaseName=database, TableInput=_table_input(contract, name, location)
        )


def create_feedback_resources(
    session: Any, config: EnvironmentConfig, *, endpoint_url: str | None = None
) -> None:
    """Tables, buckets, the pipeline (a stub definition) and the Glue catalog, where missing."""

    def make(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url, region_name=config.region)

    create_tables(make("dynamodb"), config)
    create_buckets(make("s3"), config)
    create_pipeline(make("sagemaker"), config)
    create_catalog(make("glue"), config)
