"""Resources that moto cannot delete (a model package group) are left out of a fresh environment instead."""

from __future__ import annotations

import pytest
from moto import mock_aws

from keel.config import load_environment
from keel.delivery.checks import CHECKS
from keel.delivery.clients import client_factory
from keel.delivery.smoke import SmokeContext, run_checks
from keel.naming import BucketPurpose, bucket_name
from tests.unit.delivery.moto_env import provision

pytestmark = pytest.mark.xdist_group("smoke")


def test_missing_model_registry_and_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_environment("dev")
    monkeypatch.setenv("MOTO_ACCOUNT_ID", config.account)
    with mock_aws():
        env = provision(config, model_registry=False)
        evidence = bucket_name(config, BucketPurpose.EVIDENCE)
        env.client("s3").delete_bucket(Bucket=evidence)
        results = {r.name: r for r in run_checks(SmokeContext(config, client_factory(config)), CHECKS)}
    assert results["model-registry"].detail == "model package group keel-dev-models not found"
    assert results["buckets"].detail == f"{evidence} does not exist"
    assert results["training-pipeline"].ok and results["audit-trail"].ok
