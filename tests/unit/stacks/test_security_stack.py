"""Fine-grained assertions on the security stack's template."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from keel.naming import DATA_EVENT_BUCKETS, bucket_name, trail_name
from stacks.security.alerts import POLICY_CHANGE_EVENTS
from tests.unit.stacks.conftest import ENVIRONMENTS, resources

pytestmark = pytest.mark.xdist_group("synth")


def test_one_rotating_key_per_purpose(synth) -> None:
    s = synth("dev")
    template = s.template("Keel-dev-Security")
    template.resource_count_is("AWS::KMS::Key", 3)
    template.all_resources_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    aliases = {
        r["Properties"]["AliasName"]
        for r in resources(s.template_json("Keel-dev-Security"), "AWS::KMS::Alias").values()
    }
    assert aliases == {"alias/keel-dev/data", "alias/keel-dev/artifacts", "alias/keel-dev/logs"}


def _statements(
    template: dict[str, Any], keys: tuple[str, ...] = ("KeyPolicy", "PolicyDocument")
) -> list[dict[str, Any]]:
    found = []
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for key in keys:
            if key in properties:
                found.extend(properties[key]["Statement"])
    return found


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_no_wildcard_principal_without_conditions(synth, env_name: str) -> None:
    for name, template in synth(env_name).templates.items():
        for statement in _statements(template):
            principal = statement.get("Principal")
            wildcard = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
            if wildcard:
                assert statement.get("Condition"), (name, statement)


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_no_aws_managed_policies_anywhere(synth, env_name: str) -> None:
    for name, template in synth(env_name).templates.items():
        for logical_id, role in resources(template, "AWS::IAM::Role").items():
            assert "ManagedPolicyArns" not in role["Properties"], (name, logical_id)
        assert not resources(template, "AWS::IAM::ManagedPolicy") or name.endswith("Security")


def test_service_grants_on_the_logs_key_are_conditioned(synth) -> None:
    template = synth("prod").template_json("Keel-prod-Security")
    service_statements = [
        s
        for s in _statements(template, ("KeyPolicy",))
        if isinstance(s.get("Principal"), dict) and "Service" in s["Principal"]
    ]
    services = set()
    for statement in service_statements:
        value = statement["Principal"]["Service"]
        services.update(value if isinstance(value, list) else [value])
        assert statement.get("Condition"), statement
    assert {
        "cloudtrail.amazonaws.com",
        "logs.eu-west-1.amazonaws.com",
        "events.amazonaws.com",
        "cloudwatch.amazonaws.com",
        "sns.amazonaws.com",
    } <= services


def test_trail_is_multi_region_validated_encrypted_and_logs_data_events(synth) -> None:
    s = synth("staging")
    template = s.template("Keel-staging-Security")
    template.has_resource_properties(
        "AWS::CloudTrail::Trail",
        {
            "TrailName": trail_name(s.config),
            "IsMultiRegionTrail": True,
            "EnableLogFileValidation": True,
            "IncludeGlobalServiceEvents": True,
            "IsLogging": True,
            "KMSKeyId": Match.any_value(),
            "CloudWatchLogsLogGroupArn": Match.any_value(),
        },
    )
    trail = next(iter(resources(s.template_json("Keel-staging-Security"), "AWS::CloudTrail::Trail").values()))
    selectors = trail["Properties"]["EventSelectors"]
    data_values = {v for sel in selectors for dr in sel.get("DataResources", []) for v in dr["Values"]}
    expected = {f"arn:aws:s3:::{bucket_name(s.config, p)}/" for p in DATA_EVENT_BUCKETS}
    assert data_values == expected
    assert all(sel["ReadWriteType"] == "All" for sel in selectors)
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {"LogGroupName": "/keel/staging/cloudtrail", "KmsKeyId": Match.any_value(), "RetentionInDays": 90},
    )


def test_macie_session_and_security_event_rules_reach_the_encrypted_topic(synth) -> None:
    template = synth("dev").template("Keel-dev-Security")
    template.has_resource_properties("AWS::Macie::Session", {"Status": "ENABLED"})
    template.has_resource_properties(
        "AWS::SNS::Topic", {"TopicName": "keel-dev-alerts", "KmsMasterKeyId": Match.any_value()}
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "email", "Endpoint": "ml-dev-alerts@example.com", "RedrivePolicy": Match.any_value()},
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {"source": ["aws.macie"], "detail-type": ["Macie Finding"]},
            "Targets": [Match.object_like({"DeadLetterConfig": Match.any_value()})],
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {
                    "detail-type": ["AWS API Call via CloudTrail"],
                    "detail": {
                        "eventName": Match.array_with(["PutBucketPolicy", "PutKeyPolicy", "StopLogging"])
                    },
                }
            )
        },
    )


def test_every_taggable_resource_carries_cost_allocation_tags(synth) -> None:
    s = synth("prod")
    expected = s.config.tags
    for name, template in s.templates.items():
        for logical_id, resource in template["Resources"].items():
            tags = resource.get("Properties", {}).get("Tags")
            if tags is None or resource["Type"].startswith("Custom::"):
                continue
            as_dict = {t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else tags
            for key, value in expected.items():
                assert as_dict.get(key) == value, (name, logical_id, key)
    bucket = resources(s.template_json("Keel-prod-Data"), "AWS::S3::Bucket")
    assert bucket, "expected tagged buckets"


def test_permissions_boundary_from_config_applies_to_every_role(tmp_path) -> None:
    from keel.config import read_cdk_context
    from tests.unit.stacks.conftest import synthesize

    context = read_cdk_context()
    boundary = "arn:aws:iam::111111111111:policy/keel-boundary"
    environments = context["keel:environments"] | {
        "dev": context["keel:environments"]["dev"] | {"security": {"permissions_boundary_arn": boundary}}
    }
    s = synthesize(tmp_path, "dev", **{"keel:environments": environments})
    roles = [r for t in s.templates.values() for r in resources(t, "AWS::IAM::Role").values()]
    assert roles
    for role in roles:
        assert role["Properties"]["PermissionsBoundary"] == boundary


def test_macie_can_be_left_to_the_organisation(tmp_path) -> None:
    from keel.config import read_cdk_context
    from tests.unit.stacks.conftest import synthesize

    context = read_cdk_context()
    environments = context["keel:environments"] | {
        "local": context["keel:environments"]["local"] | {"security": {"macie_enabled": False}}
    }
    s = synthesize(tmp_path, "local", **{"keel:environments": environments})
    assert not resources(s.template_json("Keel-local-Security"), "AWS::Macie::Session")
    assert not resources(s.template_json("Keel-local-Data"), "Custom::KeelMacieClassificationJob")


# --------------------------------------------------------------- global services' events (IAM, us-east-1)
IAM_EVENTS = sorted(POLICY_CHANGE_EVENTS["aws.iam"])


def _rules(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in resources(template, "AWS::Events::Rule").values()]


def _topic_target(rule: dict[str, Any], template: dict[str, Any]) -> bool:
    (topic_id,) = resources(template, "AWS::SNS::Topic")
    return any(t["Arn"] == {"Ref": topic_id} for t in rule["Targets"])


@pytest.mark.parametrize("env_name", ["dev", "staging", "prod"])
def test_iam_policy_changes_are_caught_in_us_east_1_and_forwarded_to_the_environment_bus(
    synth, env_name: str
) -> None:
    s = synth(env_name)
    assert s.config.region == "eu-west-1"
    stack = s.stacks.global_events
    assert stack is not None and stack.region == "us-east-1" and stack.account == s.config.account
    template = s.template_json(f"Keel-{env_name}-GlobalEvents")
    [rule] = _rules(template)
    assert rule["EventPattern"] == {
        "source": ["aws.iam"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventName": IAM_EVENTS},
    }
    bus = f"arn:aws:events:eu-west-1:{s.config.account}:event-bus/default"
    [target] = rule["Targets"]
    assert target["Arn"] == bus
    assert target["RoleArn"] and target["DeadLetterConfig"]
    [policy] = resources(template, "AWS::IAM::Policy").values()
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "events:PutEvents", "Effect": "Allow", "Resource": bus}
    ]
    [role] = resources(template, "AWS::IAM::Role").values()
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    rule_arn = f"arn:aws:events:us-east-1:{s.config.account}:rule/{rule['Name']}"
    assert trust["Condition"]["ArnEquals"] == {"aws:SourceArn": rule_arn}
    # No cross-region reference to the regional stack: no imports, readers or parameters of its tokens.
    text = json.dumps(template)
    assert "Fn::ImportValue" not in text and "ExportsReader" not in text
    assert set(template.get("Parameters", {})) <= {"BootstrapVersion"}


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_forwarded_iam_changes_reach_the_alert_topic_in_the_environment_region(synth, env_name: str) -> None:
    s = synth(env_name)
    template = s.template_json(f"Keel-{env_name}-Security")
    rules = _rules(template)
    forwarded = [r for r in rules if r["EventPattern"].get("source") == ["aws.iam"]]
    [rule] = forwarded
    assert rule["EventPattern"]["detail-type"] == ["AWS API Call via CloudTrail"]
    assert rule["EventPattern"]["detail"]["eventName"] == IAM_EVENTS
    assert _topic_target(rule, template)
    assert all("DeadLetterConfig" in t for t in rule["Targets"])
    # The regional rule keeps the regional services; IAM is not expected on this bus except forwarded.
    [regional] = [r for r in rules if "aws.s3" in r["EventPattern"].get("source", [])]
    assert "aws.iam" not in regional["EventPattern"]["source"]
    assert not set(IAM_EVENTS) & set(regional["EventPattern"]["detail"]["eventName"])
    assert _topic_target(regional, template)


def test_an_environment_in_us_east_1_keeps_a_single_policy_change_rule(synth) -> None:
    s = synth("local")
    assert s.config.region == "us-east-1"
    assert s.stacks.global_events is None
    assert not (s.outdir / "Keel-local-GlobalEvents.template.json").exists()
    template = s.template_json("Keel-local-Security")
    [rule] = [
        r for r in _rules(template) if r["EventPattern"].get("detail-type") == ["AWS API Call via CloudTrail"]
    ]
    assert rule["EventPattern"]["source"] == list(POLICY_CHANGE_EVENTS)
    assert set(IAM_EVENTS) <= set(rule["EventPattern"]["detail"]["eventName"])
    assert _topic_target(rule, template)


def test_the_global_events_stack_refuses_an_environment_in_us_east_1() -> None:
    from aws_cdk import App, RemovalPolicy

    from keel.config import load_environment
    from stacks.security.global_events import GlobalEventsStack

    with pytest.raises(ValueError, match="nothing needs forwarding"):
        GlobalEventsStack(App(), "X", config=load_environment("local"), removal_policy=RemovalPolicy.DESTROY)
