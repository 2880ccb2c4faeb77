"""The registry of local custom-resource providers (keel.local.custom_resources)."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.local import custom_resources
from keel.local.custom_resources import LocalProvider


def test_spec_round_trip() -> None:
    spec = "Custom::Thing=pkg.module:on_event@macie2,s3"
    provider = custom_resources.parse_spec(spec)
    assert provider == LocalProvider("Custom::Thing", "pkg.module:on_event", ("macie2", "s3"))
    assert custom_resources.format_spec(provider) == spec
    assert custom_resources.parse_spec("Custom::X=m:f").clients == ()


@pytest.mark.parametrize("spec", ["Custom::X", "AWS::S3::Bucket=m:f", "Custom::X=module"])
def test_invalid_specs_are_rejected(spec: str) -> None:
    with pytest.raises(ValueError, match="invalid provider"):
        custom_resources.parse_spec(spec)


def test_scalars_are_handed_over_as_strings_like_cloudformation_does() -> None:
    properties = {
        "Count": 3,
        "Enabled": True,
        "Off": False,
        "Ratio": 0.5,
        "Names": ["a", 1],
        "Nested": {"N": 2},
    }
    assert custom_resources.stringify(properties) == {
        "Count": "3",
        "Enabled": "true",
        "Off": "false",
        "Ratio": "0.5",
        "Names": ["a", "1"],
        "Nested": {"N": "2"},
    }


def test_targets_load_from_modules_and_files(tmp_path: Path) -> None:
    assert custom_resources.load_target("keel.local.custom_resources:stringify") is custom_resources.stringify
    provider_file = tmp_path / "provider.py"
    provider_file.write_text("def on_event(event):\n    return {'PhysicalResourceId': event['Id']}\n")
    on_event = custom_resources.load_target(f"{provider_file}:on_event")
    assert on_event({"Id": "x"}) == {"PhysicalResourceId": "x"}


def test_keel_and_cdk_types_are_registered() -> None:
    registered = {p.resource_type: p for p in custom_resources.registered()}
    assert registered["Custom::KeelMacieClassificationJob"].clients == ("macie2",)
    assert (
        registered["Custom::KeelMacieClassificationJob"].target
        == "lambdas.macie_job_provider.provider:on_event"
    )
    assert {"Custom::S3AutoDeleteObjects", "Custom::LogRetention"} <= set(registered)
    for provider in registered.values():
        if provider.target.startswith("keel."):
            assert callable(provider.load())
