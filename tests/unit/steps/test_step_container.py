"""The container-contract helpers: SageMaker host identity, environment paths, strict JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pipeline_steps.container import (
    SM_MODEL_DIR,
    ContainerFileError,
    HyperparametersError,
    container_path,
    env_path,
    processing_hosts,
    read_hyperparameters,
    report_failure,
    write_failure,
    write_json,
)


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


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"n_estimators": "300",', "not valid JSON (Expecting"),
        (b'["n_estimators", "300"]', "expected a JSON object of hyperparameters, got list"),
        (b"\xff\xfe{}", "cannot be read"),
        (b"", "not valid JSON"),
    ],
)
def test_a_corrupt_hyperparameters_file_is_an_error_naming_it(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "hyperparameters.json"
    path.write_bytes(content)
    with pytest.raises(HyperparametersError) as raised:
        read_hyperparameters(path)
    assert str(raised.value).startswith(f"{path}: {problem}")


def test_an_unreadable_hyperparameters_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(HyperparametersError, match="cannot be read"):
        read_hyperparameters(tmp_path)  # a directory


def test_no_hyperparameters_file_means_no_hyperparameters(tmp_path: Path) -> None:
    assert read_hyperparameters(tmp_path / "absent.json") == {}
    path = tmp_path / "hyperparameters.json"
    path.write_text(json.dumps({"max_depth": '"4"', "class_weight": "balanced", "x": None}))
    assert read_hyperparameters(path) == {"max_depth": "4", "class_weight": "balanced", "x": ""}


def test_a_corrupt_resource_config_is_an_error_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "resourceconfig.json"
    config.write_text("{current_host")
    with pytest.raises(ContainerFileError, match=f"{config}: not valid JSON"):
        processing_hosts(config)


def test_the_failure_file_is_written_inside_a_container_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {"KEEL_CONTAINER_ROOT": str(tmp_path)}
    assert write_failure("x", environ) is None  # no /opt/ml/output: not a container
    (tmp_path / "opt/ml/output").mkdir(parents=True)
    report_failure("train", "bad hyperparameters", environ)
    assert (tmp_path / "opt/ml/output/failure").read_text() == "train: bad hyperparameters\n"
    assert capsys.readouterr().err == "train: bad hyperparameters\n"
