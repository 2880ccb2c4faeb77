"""What was deployed, as the service APIs report it (not as CloudFormation claims it).

For each resource of each stack, the describer of its type calls the owning service's describe/get APIs
and sums up the facts that matter (encryption, versioning, public access, logging, state ...). A resource
the service does not know is reported as MISSING; a type without a describer is listed uninspected.
Describers that need the resource's definition (e.g. which roles a policy names) get it from the
stack's template; what they report is still what the service API answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from keel.local.envfile import FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY

SKIPPED_TYPES = frozenset({"AWS::CDK::Metadata"})


@dataclass(frozen=True)
class Row:
    stack: str
    resource_type: str
    name: str
    facts: str


@dataclass(frozen=True)
class Resource:
    """One stack resource: its template definition and the physical ids of its stack's resources."""

    stack: str
    logical_id: str
    resource_type: str
    physical_id: str
    properties: dict[str, Any]
    physical_ids: dict[str, str]  # logical id → physical id, to resolve a `Ref` in `properties`

    def resolve(self, value: Any) -> str | None:
        """A literal or a `Ref` to a resource of the same stack; None for anything else."""
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and set(value) == {"Ref"}:
            return self.physical_ids.get(str(value["Ref"]))
        return None


class Clients:
    """boto3 clients for the local endpoint, created on first use."""

    def __init__(self, endpoint_url: str, region: str):
        self._endpoint_url, self._region = endpoint_url, region
        self._clients: dict[str, Any] = {}

    @property
    def endpoint_url(self) -> str:
        return self._endpoint_url

    @property
    def region(self) -> str:
        return self._region

    def __getattr__(self, service: str) -> Any:
        if service.startswith("_"):
            raise AttributeError(service)
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self._endpoint_url,
                region_name=self._region,
                aws_access_key_id=FAKE_ACCESS_KEY_ID,
                aws_secret_access_key=FAKE_SECRET_ACCESS_KEY,
            )
        return self._clients[service]


Describer = Callable[[Clients, str], str]
ResourceDescriber = Callable[[Clients, Resource], str]
DESCRIBERS: dict[str, Describer] = {}
RESOURCE_DESCRIBERS: dict[str, ResourceDescriber] = {}


def describes(*resource_types: str) -> Callable[[Describer], Describer]:
    def decorator(function: Describer) -> Describer:
        for resource_type in resource_types:
            DESCRIBERS[resource_type] = function
        return function

    return decorator


def describes_resource(*resource_types: str) -> Callable[[ResourceDescriber], ResourceDescriber]:
    """For describers that need the resource's template definition, not only its physical id."""

    def decorator(function: ResourceDescriber) -> ResourceDescriber:
        for resource_type in resource_types:
            RESOURCE_DESCRIBERS[resource_type] = function
        return function

    return decorator


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _optional(call: Callable[[], Any], *missing_codes: str) -> Any:
    """The call's result, or None when the service says the setting is not configured."""
    try:
        return call()
    except ClientError as error:
        if _error_code(error) in missing_codes:
            return None
        raise


def _short_key(key: str | None) -> str:
    return key.rsplit("/", 1)[-1][:8] + "…" if key else "-"


def _on(flag: Any) -> str:
    return "on" if flag else "off"


# -- S3 -------------------------------------------------------------------------------------------------
def _bucket_encryption(c: Clients, name: str) -> str:
    config = _optional(
        lambda: c.s3.get_bucket_encryption(Bucket=name), "ServerSideEncryptionConfigurationNotFoundError"
    )
    if not config:
        return "SSE none"
    rule = config["ServerSideEncryptionConfiguration"]["Rules"][0]
    default = rule["ApplyServerSideEncryptionByDefault"]
    text = f"SSE {default['SSEAlgorithm']}"
    if default.get("KMSMasterKeyID"):
        text += f" key {_short_key(default['KMSMasterKeyID'])}"
    return text + (" (bucket key)" if rule.get("BucketKeyEnabled") else "")


def _bucket_public_access(c: Clients, name: str) -> str:
    block = _optional(
        lambda: c.s3.get_public_access_block(Bucket=name), "NoSuchPublicAccessBlockConfiguration"
    )
    flags = list((block or {}).get("PublicAccessBlockConfiguration", {}).values())
    return "PAB all" if flags and all(flags) else "PAB partial" if any(flags) else "PAB none"


def _bucket_lock(c: Clients, name: str) -> str:
    lock = _optional(
        lambda: c.s3.get_object_lock_configuration(Bucket=name), "ObjectLockConfigurationNotFoundError"
    )
    retention = ((lock or {}).get("ObjectLockConfiguration", {}).get("Rule") or {}).get("DefaultRetention")
    if not lock:
        return "object lock off"
    if not retention:
        return "object lock on"
    period = f"{retention['Days']} d" if retention.get("Days") else f"{retention.get('Years')} y"
    return f"object lock {retention['Mode']} {period}"


@describes("AWS::S3::Bucket")
def _bucket(c: Clients, name: str) -> str:
    versioning = c.s3.get_bucket_versioning(Bucket=name).get("Status", "off")
    logging = c.s3.get_bucket_logging(Bucket=name).get("LoggingEnabled")
    notifications = c.s3.get_bucket_notification_configuration(Bucket=name)
    lifecycle = _optional(
        lambda: c.s3.get_bucket_lifecycle_configuration(Bucket=name), "NoSuchLifecycleConfiguration"
    )
    policy = _optional(lambda: c.s3.get_bucket_policy(Bucket=name), "NoSuchBucketPolicy")
    facts = [
        f"versioning {versioning}",
        _bucket_encryption(c, name),
        _bucket_public_access(c, name),
        f"logging → {logging['TargetBucket']}/{logging.get('TargetPrefix', '')}"
        if logging
        else "logging off",
        f"EventBridge {_on('EventBridgeConfiguration' in notifications)}",
        f"lifecycle {len(lifecycle['Rules'])} rules" if lifecycle else "lifecycle none",
        _bucket_lock(c, name),
        f"policy {len(json.loads(policy['Policy'])['Statement'])} stmts" if policy else "policy none",
    ]
    return ", ".join(facts)


def _statements(document: str) -> list[dict[str, Any]]:
    statements = json.loads(document).get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


@describes("AWS::S3::BucketPolicy")
def _bucket_policy(c: Clients, name: str) -> str:
    statements = _statements(c.s3.get_bucket_policy(Bucket=name)["Policy"])
    tls = any("aws:SecureTransport" in json.dumps(s.get("Condition", {})) for s in statements)
    return f"{len(statements)} statements" + (", denies insecure transport" if tls else "")


# -- KMS, Logs ----------------------------------------------------------------------------------------
@describes("AWS::KMS::Key")
def _key(c: Clients, key_id: str) -> str:
    meta = c.kms.describe_key(KeyId=key_id)["KeyMetadata"]
    rotation = (
        c.kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
        if meta["KeyState"] == "Enabled"
        else None
    )
    aliases = [a["AliasName"] for a in c.kms.list_aliases(KeyId=key_id).get("Aliases", [])]
    facts = [meta["KeyState"], f"{meta.get('KeySpec', '')} {meta['KeyUsage']}".strip()]
    if rotation is not None:
        facts.append(f"rotation {_on(rotation)}")
    if aliases:
        facts.append(", ".join(aliases))
    return ", ".join(facts)


@describes("AWS::KMS::Alias")
def _alias(c: Clients, name: str) -> str:
    alias = next(a for a in c.kms.list_aliases()["Aliases"] if a["AliasName"] == name)
    return f"→ key {alias.get('TargetKeyId')}"


@describes("AWS::Logs::LogGroup")
def _log_group(c: Clients, name: str) -> str:
    group = next(
        g
        for g in c.logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        if g["logGroupName"] == name
    )
    retention = (
        f"retention {group['retentionInDays']} d"
        if group.get("retentionInDays")
        else "retention never expires"
    )
    return f"{retention}, KMS {_short_key(group.get('kmsKeyId'))}"


# -- SNS, SQS -----------------------------------------------------------------------------------------
@describes("AWS::SNS::Topic")
def _topic(c: Clients, arn: str) -> str:
    attributes = c.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    subscriptions = attributes.get("SubscriptionsConfirmed", "0")
    return f"KMS {_short_key(attributes.get('KmsMasterKeyId'))}, {subscriptions} subscriptions"


@describes("AWS::SNS::TopicPolicy")
def _topic_policy(_clients: Clients, _name: str) -> str:
    return "policy set (see the topics)"


@describes("AWS::SQS::QueuePolicy")
def _queue_policy(_clients: Clients, _name: str) -> str:
    return "policy set (see the queues)"


@describes("AWS::SQS::Queue")
def _queue(c: Clients, url: str) -> str:
    attributes = c.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    encryption = (
        f"KMS {_short_key(attributes['KmsMasterKeyId'])}"
        if attributes.get("KmsMasterKeyId")
        else ("SSE-SQS" if attributes.get("SqsManagedSseEnabled") == "true" else "unencrypted")
    )
    return f"{encryption}, DLQ {_on('RedrivePolicy' in attributes)}, policy {_on('Policy' in attributes)}"


# -- CloudWatch -----------------------------------------------------------------------------------------
@describes("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
def _alarm(c: Clients, name: str) -> str:
    answer = c.cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    alarms = answer["MetricAlarms"] + answer["CompositeAlarms"]
    if not alarms:
        raise LookupError(f"alarm {name} not found")
    alarm = alarms[0]
    if "AlarmRule" in alarm:
        return f"state {alarm['StateValue']}, rule {alarm['AlarmRule']}"
    metric = (
        f"{alarm.get('Namespace')}/{alarm.get('MetricName')}" if alarm.get("MetricName") else "metric math"
    )
    return (
        f"state {alarm['StateValue']}, {metric} {alarm.get('ComparisonOperator')} {alarm.get('Threshold')}, "
        f"{len(alarm.get('AlarmActions', []))} actions"
    )


@describes("AWS::CloudWatch::Dashboard")
def _dashboard(c: Clients, name: str) -> str:
    body = json.loads(c.cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"])
    return f"{len(body.get('widgets', []))} widgets"


# -- Glue ------------------------------------------------------------------------------------------------
@describes("AWS::Glue::Database")
def _database(c: Clients, name: str) -> str:
    database = c.glue.get_database(Name=name)["Database"]
    tables = c.glue.get_tables(DatabaseName=name)["TableList"]
    return f"{len(tables)} tables, location {database.get('LocationUri', '-')}"


@describes("AWS::Glue::Table")
def _table(c: Clients, name: str) -> str:
    for database in c.glue.get_databases()["DatabaseList"]:
        for table in c.glue.get_tables(DatabaseName=database["Name"])["TableList"]:
            if table["Name"] == name:
                storage = table.get("StorageDescriptor", {})
                return (
                    f"{database['Name']}.{name}: {len(storage.get('Columns', []))} columns, "
                    f"{len(table.get('PartitionKeys', []))} partition keys, "
                    f"location {storage.get('Location', '-')}"
                )
    raise LookupError(f"table {name} not found")


@describes("AWS::Glue::DataCatalogEncryptionSettings")
def _catalog_encryption(c: Clients, catalog_id: str) -> str:
    settings = c.glue.get_data_catalog_encryption_settings(CatalogId=catalog_id)[
        "DataCatalogEncryptionSettings"
    ]
    at_rest = settings.get("EncryptionAtRest", {})
    passwords = settings.get("ConnectionPasswordEncryption", {})
    return (
        f"at rest {at_rest.get('CatalogEncryptionMode')} key {_short_key(at_rest.get('SseAwsKmsKeyId'))}, "
        f"connection passwords encrypted {_on(passwords.get('ReturnConnectionPasswordEncrypted'))}"
    )


@describes("AWS::Glue::SecurityConfiguration")
def _security_configuration(c: Clients, name: str) -> str:
    config = c.glue.get_security_configuration(Name=name)["SecurityConfiguration"]["EncryptionConfiguration"]
    s3 = (config.get("S3Encryption") or [{}])[0].get("S3EncryptionMode", "DISABLED")
    logs = config.get("CloudWatchEncryption", {}).get("CloudWatchEncryptionMode", "DISABLED")
    bookmarks = config.get("JobBookmarksEncryption", {}).get("JobBookmarksEncryptionMode", "DISABLED")
    return f"S3 {s3}, CloudWatch {logs}, job bookmarks {bookmarks}"


# -- SageMaker ---------------------------------------------------------------------------------------------
@describes("AWS::SageMaker::Pipeline")
def _pipeline(c: Clients, name: str) -> str:
    pipeline = c.sagemaker.describe_pipeline(PipelineName=name)
    steps = json.loads(pipeline["PipelineDefinition"]).get("Steps", [])
    role = pipeline.get("RoleArn", "-").rsplit("/", 1)[-1]
    return f"{pipeline['PipelineStatus']}, {len(steps)} steps, role {role}"


@describes("AWS::SageMaker::ModelPackageGroup")
def _model_package_group(c: Clients, arn: str) -> str:
    name = arn.rsplit("/", 1)[-1]
    group = c.sagemaker.describe_model_package_group(ModelPackageGroupName=name)
    packages = c.sagemaker.list_model_packages(ModelPackageGroupName=name)["ModelPackageSummaryList"]
    return f"{group['ModelPackageGroupStatus']}, {len(packages)} model packages"


# -- CloudTrail, Macie --------------------------------------------------------------------------------------
@describes("AWS::CloudTrail::Trail")
def _trail(c: Clients, name: str) -> str:
    trail = c.cloudtrail.get_trail(Name=name)["Trail"]
    status = c.cloudtrail.get_trail_status(Name=name)
    selectors = c.cloudtrail.get_event_selectors(TrailName=name)
    count = len(selectors.get("EventSelectors") or []) + len(selectors.get("AdvancedEventSelectors") or [])
    return (
        f"logging {_on(status['IsLogging'])}, multi-region {_on(trail['IsMultiRegionTrail'])}, "
        f"log validation {_on(trail['LogFileValidationEnabled'])}, KMS {_short_key(trail.get('KmsKeyId'))}, "
        f"CloudWatch Logs {_on(trail.get('CloudWatchLogsLogGroupArn'))}, {count} event selectors → s3://{trail['S3BucketName']}"
    )


@describes("AWS::Macie::Session")
def _macie_session(c: Clients, _account_id: str) -> str:
    session = c.macie2.get_macie_session()
    return f"{session['status']}, findings published {session['findingPublishingFrequency']}"


@describes("Custom::KeelMacieClassificationJob")
def _macie_job(c: Clients, job_id: str) -> str:
    job = c.macie2.describe_classification_job(jobId=job_id)
    buckets = sum(len(d.get("buckets", [])) for d in job["s3JobDefinition"].get("bucketDefinitions", []))
    schedule = next(iter(job.get("scheduleFrequency", {})), "").replace("Schedule", "")
    return f"{job['jobType']} {schedule}".strip() + f", {job['jobStatus']}, {buckets} buckets"


# -- IAM, Lambda, SSM, ECR, Events, DynamoDB, Kinesis -------------------------------------------------------
@describes("AWS::IAM::Role")
def _role(c: Clients, name: str) -> str:
    inline = c.iam.list_role_policies(RoleName=name)["PolicyNames"]
    managed = c.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    boundary = c.iam.get_role(RoleName=name)["Role"].get("PermissionsBoundary")
    return f"{len(inline)} inline, {len(managed)} managed policies, boundary {_on(boundary)}"


def _role_names(c: Clients) -> list[str]:
    pages = c.iam.get_paginator("list_roles").paginate()
    return [role["RoleName"] for page in pages for role in page["Roles"]]


def _named_roles(c: Clients, resource: Resource) -> list[str]:
    """The roles the definition names; every role if one of them is not resolvable here (an import)."""
    named = [resource.resolve(role) for role in resource.properties.get("Roles") or []]
    return [str(role) for role in named] if all(named) else _role_names(c)


def _role_policy(c: Clients, role: str, name: str) -> dict[str, Any] | None:
    answer: dict[str, Any] | None = _optional(
        lambda: c.iam.get_role_policy(RoleName=role, PolicyName=name), "NoSuchEntity"
    )
    return answer


@describes_resource("AWS::IAM::Policy")
def _inline_policy(c: Clients, resource: Resource) -> str:
    # The physical id of an AWS::IAM::Policy is a generated id, not the policy's name on the role; a name
    # built with Fn::Sub (the bootstrap stack's) is not resolved here: any inline policy of the role counts.
    literal = resource.resolve(resource.properties.get("PolicyName"))
    name = literal or resource.physical_id
    attached: dict[str, int] = {}
    for role in _named_roles(c, resource):
        names = [literal] if literal else c.iam.list_role_policies(RoleName=role)["PolicyNames"]
        for policy in names:
            document = _role_policy(c, role, policy)
            if document is not None:
                text = document["PolicyDocument"]
                count = len(_statements(text if isinstance(text, str) else json.dumps(text)))
                attached[role] = max(attached.get(role, 0), count)
    others = [kind for kind in ("Users", "Groups") if resource.properties.get(kind)]
    suffix = f" (also on {' and '.join(others).lower()}, not inspected)" if others else ""
    if not attached:
        return f"MISSING: inline policy {name} is on none of its roles" + suffix
    statements = max(attached.values())
    return f"inline {name} on role {', '.join(attached)}, {statements} statements" + suffix


@describes_resource("AWS::IAM::ManagedPolicy")
def _managed_policy(c: Clients, resource: Resource) -> str:
    arn = resource.physical_id
    if not arn.startswith("arn:"):
        policies = c.iam.list_policies(Scope="Local")["Policies"]
        arn = next(p["Arn"] for p in policies if p["PolicyName"] == resource.physical_id)
    roles = [
        role
        for role in _named_roles(c, resource)
        if arn
        in [p["PolicyArn"] for p in c.iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]
    ]
    return f"managed, attached to role {', '.join(roles)}" if roles else "managed, not attached to a role"


@describes("AWS::Lambda::Function")
def _function(c: Clients, name: str) -> str:
    config = getattr(c, "lambda").get_function_configuration(FunctionName=name)
    runtime, handler = config.get("Runtime", "image"), config.get("Handler", "-")
    return f"{runtime}, {config.get('MemorySize')} MB, handler {handler}"


@describes("AWS::SSM::Parameter")
def _parameter(c: Clients, name: str) -> str:
    parameter = c.ssm.get_parameter(Name=name)["Parameter"]
    return f"{parameter['Type']} = {parameter['Value'][:40]}"


@describes("AWS::ECR::Repository")
def _repository(c: Clients, name: str) -> str:
    repository = c.ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    scan = repository.get("imageScanningConfiguration", {}).get("scanOnPush")
    return f"scan on push {_on(scan)}, tags {repository.get('imageTagMutability')}"


@describes("AWS::Events::Rule")
def _rule(c: Clients, name: str) -> str:
    rule_name = name.rsplit("|", 1)[-1]
    rule = c.events.describe_rule(Name=rule_name)
    targets = c.events.list_targets_by_rule(Rule=rule_name)["Targets"]
    return f"{rule['State']}, {len(targets)} targets"


@describes("AWS::DynamoDB::Table")
def _dynamodb_table(c: Clients, name: str) -> str:
    table = c.dynamodb.describe_table(TableName=name)["Table"]
    sse = table.get("SSEDescription", {}).get("SSEType", "owned key")
    billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    return f"{table['TableStatus']}, SSE {sse}, billing {billing}"


@describes("AWS::Kinesis::Stream")
def _stream(c: Clients, name: str) -> str:
    stream = c.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    return f"{stream['StreamStatus']}, encryption {stream.get('EncryptionType', 'NONE')}"


# -- API Gateway ---------------------------------------------------------------------------------------------
def stage_url(api_id: str, region: str, stage: str) -> str:
    """The invoke URL API Gateway gives a REST API stage on AWS."""
    return f"https://{api_id}.execute-api.{region}.amazonaws.com/{stage}/"


def _local_stage(c: Clients, api_id: str, stage: str) -> str:
    # moto serves API Gateway's management API, not the invocation of an API: say so, and what to call.
    return (
        f"{stage_url(api_id, c.region, stage)} on AWS; locally not invocable, inspect it with "
        f"`aws apigateway get-stage --rest-api-id {api_id} --stage-name {stage}` ({c.endpoint_url})"
    )


@describes("AWS::ApiGateway::RestApi")
def _rest_api(c: Clients, api_id: str) -> str:
    api = c.apigateway.get_rest_api(restApiId=api_id)
    stages = [stage["stageName"] for stage in c.apigateway.get_stages(restApiId=api_id)["item"]]
    resources = c.apigateway.get_resources(restApiId=api_id)["items"]
    return f"{api['name']}, {len(resources)} resources, stages {', '.join(stages) or 'none'}"


@describes_resource("AWS::ApiGateway::Stage")
def _stage(c: Clients, resource: Resource) -> str:
    api_id = resource.resolve(resource.properties.get("RestApiId"))
    if api_id is None:
        raise LookupError(f"stage {resource.physical_id}: REST API not resolvable from the template")
    stage = c.apigateway.get_stage(restApiId=api_id, stageName=resource.physical_id)
    return (
        f"tracing {_on(stage.get('tracingEnabled'))}, access logs {_on(stage.get('accessLogSettings'))}; "
        + _local_stage(c, api_id, stage["stageName"])
    )


# -- collection and rendering ---------------------------------------------------------------------------
def describe(clients: Clients, resource_type: str, physical_id: str, resource: Resource | None = None) -> str:
    resource_describer = RESOURCE_DESCRIBERS.get(resource_type)
    describer = DESCRIBERS.get(resource_type)
    try:
        if resource_describer is not None and resource is not None:
            return resource_describer(clients, resource)
        if describer is not None:
            return describer(clients, physical_id)
    except (ClientError, LookupError, StopIteration, KeyError) as error:
        return f"MISSING: {error}"
    return "(not inspected)"


def _yaml_template(body: str) -> Any:
    """A YAML template (the CDK bootstrap stack's is one), short-form intrinsics (`!Ref x`) read as their
    long form; None if it cannot be read."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if suffix == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    Loader.add_multi_constructor("!", intrinsic)
    try:
        return yaml.load(body, Loader=Loader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError:
        return None


def _template_resources(cfn: Any, stack: str) -> dict[str, Any]:
    body = cfn.get_template(StackName=stack)["TemplateBody"]
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            body = _yaml_template(body)
    resources = body.get("Resources") if isinstance(body, dict) else None
    return resources if isinstance(resources, dict) else {}


def collect(clients: Clients, stack_names: Iterable[str] | None = None) -> list[Row]:
    cfn = clients.cloudformation
    if stack_names is None:
        live = [
            s
            for s in cfn.list_stacks()["StackSummaries"]
            if s["StackStatus"] not in ("DELETE_COMPLETE", "REVIEW_IN_PROGRESS")
        ]
        stack_names = [s["StackName"] for s in live]
    rows = []
    for stack in stack_names:
        summaries = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
        physical_ids = {s["LogicalResourceId"]: s.get("PhysicalResourceId") or "" for s in summaries}
        definitions = _template_resources(cfn, stack)
        for summary in summaries:
            resource_type = summary.get("ResourceType") or ""
            if not resource_type or resource_type in SKIPPED_TYPES:
                continue
            physical_id = summary.get("PhysicalResourceId") or ""
            definition = definitions.get(summary["LogicalResourceId"]) or {}
            resource = Resource(
                stack,
                summary["LogicalResourceId"],
                resource_type,
                physical_id,
                dict(definition.get("Properties") or {}),
                physical_ids,
            )
            rows.append(
                Row(
                    stack, resource_type, physical_id, describe(clients, resource_type, physical_id, resource)
                )
            )
    return rows


def render(rows: list[Row]) -> str:
    if not rows:
        return "(no stacks deployed)"
    type_width = max(len(r.resource_type) for r in rows)
    name_width = min(max(len(r.name) for r in rows), 60)
    lines, stack = [], None
    for row in rows:
        if row.stack != stack:
            stack = row.stack
            lines.append(f"{stack}")
        lines.append(f"  {row.resource_type:<{type_width}}  {row.name:<{name_width}}  {row.facts}")
    return "\n".join(lines)
