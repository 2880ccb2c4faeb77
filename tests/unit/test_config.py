"""The environment config: loaded once, validated, with errors that name the key and the allowed values."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from keel.config import ConfigError, load_config, load_environment, read_cdk_context

ENVIRONMENTS = ("local", "dev", "staging", "prod")


@pytest.fixture
def context() -> dict[str, Any]:
    return copy.deepcopy(read_cdk_context())


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_every_shipped_environment_is_valid(name: str) -> None:
    config = load_environment(name)
    assert config.name == name
    assert config.prefix == f"keel-{name}"
    assert config.tags == {
        "project": "keel",
        "environment": name,
        "owner": "ml-platform",
        "cost-center": "ml-0000",
    }


def test_defaults_merge_under_overrides() -> None:
    prod = load_environment("prod")
    assert prod.thresholds.min_accuracy == 0.55  # overridden
    assert prod.thresholds.max_feature_psi == 0.2  # from keel:defaults
    assert prod.sizes.training_instance_type == "ml.m5.xlarge"
    assert prod.sizes.processing_volume_gb == 30
    assert not prod.auto_approve
    assert load_environment("local").auto_approve


def test_no_env_means_local(context: dict[str, Any]) -> None:
    assert load_config(context, None).name == "local"


def test_unknown_environment_names_the_allowed_values(context: dict[str, Any]) -> None:
    with pytest.raises(
        ConfigError, match=r"unknown environment 'qa'.*allowed values: local, dev, staging, prod"
    ):
        load_config(context, "qa")


def test_invalid_value_names_the_key_and_allowed_values(context: dict[str, Any]) -> None:
    context["keel:environments"]["dev"]["retention"]["log_days"] = 8
    with pytest.raises(ConfigError) as error:
        load_config(context, "dev")
    message = str(error.value)
    assert "keel:environments.dev.retention.log_days" in message
    assert "365" in message and "3653" in message  # the allowed values are listed


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("account",), "12345", "keel:environments.dev.account"),
        (("region",), "Europe", "keel:environments.dev.region"),
        (("removal_policy",), "keep", "'retain' or 'destroy'"),
        (("thresholds", "min_accuracy"), 1.5, "thresholds.min_accuracy"),
        (("sizes", "training_instance_type"), "m5.large", "sizes.training_instance_type"),
        (("security", "macie_job_frequency"), "HOURLY", "'DAILY', 'WEEKLY' or 'MONTHLY'"),
        (("alert_emails",), ["not-an-email"], "not an e-mail address"),
        (("unexpected_key",), 1, "keel:environments.dev.unexpected_key: Extra inputs are not permitted"),
    ],
)
def test_each_invalid_value_is_reported(
    context: dict[str, Any], path: tuple[str, ...], value: Any, expected: str
) -> None:
    target = context["keel:environments"]["dev"]
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(".", r"\.")):
        load_config(context, "dev")


def test_prod_may_not_auto_approve(context: dict[str, Any]) -> None:
    context["keel:environments"]["prod"]["auto_approve"] = True
    with pytest.raises(ConfigError, match="auto_approve must be false in prod"):
        load_config(context, "prod")


def test_missing_environments_mapping() -> None:
    with pytest.raises(ConfigError, match="no 'keel:environments'"):
        load_config({}, "dev")


def test_unreadable_cdk_json(tmp_path: Path) -> None:
    broken = tmp_path / "cdk.json"
    broken.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read"):
        read_cdk_context(broken)
    broken.write_text(json.dumps({"app": "x"}))
    with pytest.raises(ConfigError, match="no 'context'"):
        read_cdk_context(broken)


def test_overrides_from_the_command_line_merge_over_the_environment(context: dict[str, Any]) -> None:
    context["keel:overrides"] = '{"retention": {"log_days": 14}, "thresholds": {"min_accuracy": 0.7}}'
    config = load_config(context, "dev")
    assert config.retention.log_days == 14 and config.thresholds.min_accuracy == 0.7
    assert config.retention.evidence_days == 30  # untouched values stay
    context["keel:overrides"] = "{not json"
    with pytest.raises(ConfigError, match="keel:overrides is not valid JSON"):
        load_config(context, "dev")
    context["keel:overrides"] = '{"retention": {"log_days": 13}}'
    with pytest.raises(ConfigError, match=r"keel:environments\.dev\.retention\.log_days"):
        load_config(context, "dev")
