"""Fixtures of the governance tests: an in-process moto account per test, with Keel's resources."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.unit.gate.world import World, keel_config


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def world(aws: None) -> World:
    """env local (auto_approve: true) in moto's account."""
    return World(keel_config("local"))


@pytest.fixture
def prod_world(aws: None) -> World:
    """env prod (auto_approve: false, min_accuracy 0.55) in moto's account."""
    return World(keel_config("prod"))
