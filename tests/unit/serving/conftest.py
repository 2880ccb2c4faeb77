"""Fixtures of the serving tests: a moto world (in-process, fake credentials from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.unit.monitoring.world import World, make_world


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        yield make_world("local")


@pytest.fixture(scope="session")
def keel_synth(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from tests.unit.monitoring.synth import synthesized

    return synthesized(tmp_path_factory, "dev")
