"""The container-contract helpers: SageMaker host identity, environment paths, strict JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pipeline_steps.container import SM_MODEL_DIR, container_path, env_path, processing_hosts, write_json


def test_processing_hosts_from_resource_config(tmp_path: Path) -> None:
    config = tmp_path / "resourceconfig.json"
    config.write_text(json.dumps({"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]}))
    assert processing_hosts(config) == ("algo-2", ["algo-1", "algo-2"])
    assert processing_hosts(tmp_path / "absent.json") == (None, [])


def test_env_path_defaults_to_the_sagemaker_location() -> None:
    assert env_path(SM_MODEL_DIR, {}) == Path("/opt/ml/model")
    assert env_path(SM_MODEL_DIR, {"SM_MODEL_DIR": "/tmp/m"}) == Path("/tmp/m")


def test_write_json_refuses_nan(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Out of range float"):
        write_json(tmp_path / "x.json", {"value": math.nan})


def test_container_root_relocates_every_default(tmp_path: Path) -> None:
    environ = {"KEEL_CONTAINER_ROOT": str(tmp_path)}
    assert container_path("/opt/ml/model", environ) == tmp_path / "opt/ml/model"
    assert env_path(SM_MODEL_DIR, environ) == tmp_path / "opt/ml/model"
    assert env_path(SM_MODEL_DIR, environ | {"SM_MODEL_DIR": "/x"}) == Path("/x")  # explicit beats root
    assert container_path("/opt/ml/model", {}) == Path("/opt/ml/model")
