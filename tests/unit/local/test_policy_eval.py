"""The bucket-policy evaluator used on the local server (keel.local.policy_eval)."""

from __future__ import annotations

from typing import Any

import pytest

from keel.local.policy_eval import conditions_match, evaluate

BUCKET = "arn:aws:s3:::data"
OBJECT = "arn:aws:s3:::data/key.csv"
LOCAL = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}


def _deny(condition: dict[str, Any], *, action: str = "s3:*", principal: Any = None) -> dict[str, Any]:
    return {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": principal or {"AWS": "*"},
                "Action": action,
                "Resource": [BUCKET, f"{BUCKET}/*"],
                "Condition": condition,
            }
        ]
    }


def test_enforce_ssl_denies_only_insecure_requests() -> None:
    policy = _deny({"Bool": {"aws:SecureTransport": "false"}})  # what the CDK's enforce_ssl writes
    assert evaluate(policy, "s3:PutObject", OBJECT, LOCAL) is None
    assert evaluate(policy, "s3:PutObject", OBJECT, {"aws:SecureTransport": "false"}) == "Deny"


def test_minimum_tls_version() -> None:
    policy = _deny({"NumericLessThan": {"s3:TlsVersion": 1.2}})
    assert evaluate(policy, "s3:GetObject", OBJECT, LOCAL) is None
    assert evaluate(policy, "s3:GetObject", OBJECT, {"s3:TlsVersion": "1.0"}) == "Deny"


@pytest.mark.parametrize(
    ("headers", "decision"),
    [
        ({}, "Deny"),
        ({"s3:x-amz-server-side-encryption": "AES256"}, "Deny"),
        ({"s3:x-amz-server-side-encryption": "aws:kms"}, None),
    ],
)
def test_negated_operators_match_absent_keys(headers: dict[str, str], decision: str | None) -> None:
    policy = _deny({"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}, action="s3:PutObject")
    assert evaluate(policy, "s3:PutObject", OBJECT, LOCAL | headers) == decision


def test_if_exists_and_null() -> None:
    assert conditions_match({"StringEqualsIfExists": {"k": "v"}}, {})
    assert not conditions_match({"StringEquals": {"k": "v"}}, {})
    assert conditions_match({"Null": {"k": "true"}}, {})
    assert not conditions_match({"Null": {"k": "true"}}, {"k": "x"})


def test_every_operator_and_key_must_match() -> None:
    condition = {
        "StringLike": {"aws:SourceArn": "arn:aws:s3:::*"},
        "StringEquals": {"aws:SourceAccount": "1"},
    }
    assert conditions_match(condition, {"aws:SourceArn": "arn:aws:s3:::raw", "aws:SourceAccount": "1"})
    assert not conditions_match(condition, {"aws:SourceArn": "arn:aws:s3:::raw", "aws:SourceAccount": "2"})


def test_unsupported_operators_do_not_apply_the_statement() -> None:
    assert not conditions_match({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, LOCAL)


def test_statements_for_specific_principals_are_neutral() -> None:
    policy = _deny(
        {"Bool": {"aws:SecureTransport": "true"}}, principal={"Service": "logging.s3.amazonaws.com"}
    )
    assert evaluate(policy, "s3:PutObject", OBJECT, LOCAL) is None


def test_deny_wins_over_allow_and_actions_resources_must_match() -> None:
    allow = {"Effect": "Allow", "Principal": "*", "Action": "s3:Get*", "Resource": f"{BUCKET}/*"}
    deny = {"Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject", "Resource": f"{BUCKET}/*"}
    policy = {"Statement": [allow, deny]}
    assert evaluate(policy, "s3:GetObject", OBJECT, LOCAL) == "Allow"
    assert evaluate(policy, "s3:PutObject", OBJECT, LOCAL) == "Deny"
    assert evaluate(policy, "s3:GetObject", "arn:aws:s3:::other/key", LOCAL) is None
