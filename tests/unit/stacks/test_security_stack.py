"""Fine-grained assertions on the security stack's template."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from keel.naming import DATA_EVENT_BUCKETS, bucket_name, trail_name
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
