"""Human-in-the-loop feedback: the IAM-authenticated corrections API, reviewers' file drops, and the Glue
table of the feedback dataset (schema from `keel.feedback.corrections.feedback_contract`)."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract
from keel.feedback import patterns
from keel.feedback.corrections import correction_json_schema, feedback_contract
from keel.feedback.names import CORRECTIONS_PREFIX, INCOMING_PREFIX, feedback_api_name
from keel.naming import (
    METRICS_NAMESPACE,
    QUARANTINE_PREFIX,
    BucketPurpose,
    bucket_name,
    glue_database_name,
    glue_table_name,
    partition,
)
from keel.serving.names import endpoint_capture_uri
from stacks.compliance import acknowledge
from stacks.constructs.retention import log_retention
from stacks.data.catalog import csv_table_input
from stacks.feedback.function import FeedbackLambda
from stacks.feedback.loops import event_pattern, lambda_target

STAGE = "v1"
# Reviewers are people: a few requests per second is plenty; more is a misbehaving client.
THROTTLE_RATE, THROTTLE_BURST = 20, 40
_SCHEMA_TYPES = {
    "object": apigateway.JsonSchemaType.OBJECT,
    "string": apigateway.JsonSchemaType.STRING,
    "integer": apigateway.JsonSchemaType.INTEGER,
    "number": apigateway.JsonSchemaType.NUMBER,
    "boolean": apigateway.JsonSchemaType.BOOLEAN,
}


def json_schema(document: dict[str, Any]) -> apigateway.JsonSchema:
    """The CDK form of a (draft-4) JSON Schema document."""
    options: dict[str, Any] = {}
    for key, value in document.items():
        if key == "$schema":
            options["schema"] = apigateway.JsonSchemaVersion.DRAFT4
        elif key == "type":
            options["type"] = _SCHEMA_TYPES[value]
        elif key == "properties":
            options["properties"] = {name: json_schema(sub) for name, sub in value.items()}
        elif key == "additionalProperties":
            options["additional_properties"] = value
        elif key in ("maxLength", "minLength"):
            options["max_length" if key == "maxLength" else "min_length"] = value
        else:
            options[key] = value  # title, description, required, enum, pattern, minimum, maximum
    return apigateway.JsonSchema(**options)


class HumanFeedbackLoop(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        contract: DatasetContract,
        function: FeedbackLambda,
        data_key: kms.IKey,
        artifacts_key: kms.IKey,
        logs_key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        feedback_bucket = bucket_name(config, BucketPurpose.FEEDBACK)
        raw = bucket_name(config, BucketPurpose.RAW)
        database = glue_database_name(config)
        table_name = glue_table_name(contract.name, BucketPurpose.FEEDBACK)

        function.allow_get("ReadReviewerFiles", feedback_bucket, [INCOMING_PREFIX], data_key)
        function.allow_put(
            "StoreCorrections", feedback_bucket, [CORRECTIONS_PREFIX, QUARANTINE_PREFIX], data_key
        )
        function.allow_put("MergeIntoTrainingData", raw, [contract.landing_prefix], data_key)
        # A correction joins training data with the model input captured at inference time.
        reports = bucket_name(config, BucketPurpose.REPORTS)
        capture_prefix = endpoint_capture_uri(config).removeprefix(f"s3://{reports}/")
        function.allow_get("ReadDataCapture", reports, [capture_prefix], artifacts_key)
        function.role.add_to_policy(
            iam.PolicyStatement(
                sid="ListDataCapture",
                actions=["s3:ListBucket"],
                resources=[f"arn:{partition(config)}:s3:::{reports}"],
                conditions={"StringLike": {"s3:prefix": [f"{capture_prefix}*"]}},
            )
        )
        function.allow_partitions(database, table_name, data_key)
        function.role.add_to_policy(
            iam.PolicyStatement(
                sid="PublishModelQuality",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
            )
        )
        acknowledge(
            function.role,
            "cloudwatch:PutMetricData has no resource-level permissions; the policy is limited to the Keel "
            "namespace by the cloudwatch:namespace condition.",
            "AwsSolutions-IAM5[Resource::*]",
        )

        dataset = feedback_contract(contract)
        self.table = glue.CfnTable(
            self,
            "Table",
            catalog_id=Stack.of(self).account,
            database_name=database,
            table_input=csv_table_input(
                dataset,
                name=table_name,
                location=f"s3://{feedback_bucket}/{CORRECTIONS_PREFIX}",
                description=f"{dataset.description} v{dataset.version}",
            ),
        )

        self.file_rule = events.Rule(
            self,
            "FileDropped",
            description=f"Reviewers' files dropped under {INCOMING_PREFIX} of the feedback bucket.",
            event_pattern=event_pattern(patterns.reviewer_files(config)),
            targets=[lambda_target(function)],
        )
        self.api = self._api(config, contract, function, logs_key, removal_policy)

    def _api(
        self,
        config: EnvironmentConfig,
        contract: DatasetContract,
        function: FeedbackLambda,
        logs_key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> apigateway.RestApi:
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/keel/{config.name}/feedback-api-access",
            encryption_key=logs_key,
            retention=log_retention(config.retention.log_days),
            removal_policy=removal_policy,
        )
        api = apigateway.RestApi(
            self,
            "Api",
            rest_api_name=feedback_api_name(config),
            description=f"Keel {config.name}: reviewers submit corrections of predictions (SigV4, IAM).",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            cloud_watch_role=False,
            default_method_options=apigateway.MethodOptions(
                authorization_type=apigateway.AuthorizationType.IAM
            ),
            deploy_options=apigateway.StageOptions(
                stage_name=STAGE,
                tracing_enabled=True,
                metrics_enabled=True,
                throttling_rate_limit=THROTTLE_RATE,
                throttling_burst_limit=THROTTLE_BURST,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
        )
        validator = api.add_request_validator(
            "Validator",
            request_validator_name="body",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        model = api.add_model(
            "Correction",
            content_type="application/json",
            model_name="Correction",
            schema=json_schema(correction_json_schema(contract)),
        )
        api.root.add_resource("corrections").add_method(
            "POST",
            apigateway.LambdaIntegration(function.function),
            authorization_type=apigateway.AuthorizationType.IAM,
            request_validator=validator,
            request_models={"application/json": model},
        )
        acknowledge(
            api,
            "Reviewers sign requests with SigV4 (AWS_IAM authorization); there is no Cognito user pool.",
            "AwsSolutions-COG4",
        )
        acknowledge(
            api,
            "An IAM-authenticated API with request validation and throttling; attaching AWS WAF is an "
            "account-level decision of the operator.",
            "AwsSolutions-APIG3",
            "NIST.800.53.R5-APIGWAssociatedWithWAF",
        )
        acknowledge(
            api,
            "Execution logging needs the account-wide API Gateway CloudWatch role, which Keel does not "
            "manage (cdk.json disableCloudWatchRole); access logs record every request, X-Ray traces each.",
            "AwsSolutions-APIG6",
            "HIPAA.Security-APIGWExecutionLoggingEnabled",
            "NIST.800.53.R5-APIGWExecutionLoggingEnabled",
        )
        acknowledge(
            api,
            "Corrections are POSTs that must reach the function every time; a response cache does not apply.",
            "HIPAA.Security-APIGWCacheEnabledAndEncrypted",
            "NIST.800.53.R5-APIGWCacheEnabledAndEncrypted",
        )
        acknowledge(
            api,
            "The backend is a Lambda integration invoked by API Gateway with IAM, not an HTTP endpoint that "
            "could verify a client certificate.",
            "HIPAA.Security-APIGWSSLEnabled",
            "NIST.800.53.R5-APIGWSSLEnabled",
        )
        return api
