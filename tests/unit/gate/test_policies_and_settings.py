"""The declarative policy set, the settings round trip, references, and names kept in sync."""

from __future__ import annotations

import json

import pytest

from keel.gate import checks, facts
from keel.gate.model import Severity
from keel.gate.policies import PolicyError, evaluate, load_policies, parse_policies
from keel.gate.refs import ForeignModelPackageError, parse_reference
from keel.gate.settings import GovernanceSettings, SettingsError
from tests.unit.gate.test_checks import good_facts
from tests.unit.gate.world import definition_template, keel_config

SETTINGS = GovernanceSettings.from_config(keel_config("local"))


def test_the_policy_set_covers_every_check_once_and_blocks_on_the_required_policies() -> None:
    policies = load_policies()
    assert sorted(p.check for p in policies.policies) == sorted(checks.CHECKS)
    assert {p.id for p in policies.blocking} == {
        "metrics.accuracy-threshold",
        "data.validation-passed",
        "data.drift-within-threshold",
        "lineage.complete",
        "artifacts.encrypted-with-artifacts-key",
        "data.no-open-findings",
        "pipeline.compliant-definition",
    }
    assert len(policies.sha256) == 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schema_version: 1\npolicies: []", "at least 1 item"),
        (
            "schema_version: 1\npolicies:\n- {id: a.b, severity: blocking, check: nope, description: "
            "'a long enough description'}",
            "unknown check 'nope'",
        ),
        (
            "schema_version: 1\npolicies:\n- {id: a.b, severity: fatal, check: lineage_complete, "
            "description: 'a long enough description'}",
            "severity",
        ),
        (
            "schema_version: 1\npolicies:\n" + "- {id: a.b, severity: blocking, check: lineage_complete, "
            "description: 'a long enough description'}\n" * 2,
            "duplicate policy ids: a.b",
        ),
        ("[unclosed", "policies"),
    ],
)
def test_a_malformed_policy_file_is_refused(text: str, expected: str) -> None:
    with pytest.raises(PolicyError, match=expected):
        parse_policies(text)


def test_a_crashing_check_fails_its_policy() -> None:
    document = good_facts()
    document.package = None  # type: ignore[assignment]
    results = evaluate(load_policies().policies, document, SETTINGS)
    crashed = [r for r in results if "crashed" in r.reason]
    assert crashed and not any(r.passed for r in crashed)
    assert all(r.severity in Severity for r in results)


def test_settings_travel_through_the_environment() -> None:
    environ = SETTINGS.to_environ()
    assert environ["KEEL_GOV_AUTO_APPROVE"] == "true"
    assert environ["KEEL_GOV_MACIE_BUCKETS"] == ",".join(SETTINGS.macie_buckets)
    assert GovernanceSettings.from_environ(environ) == SETTINGS
    with pytest.raises(SettingsError, match="KEEL_GOV_MIN_ACCURACY"):
        GovernanceSettings.from_environ(environ | {"KEEL_GOV_MIN_ACCURACY": "high"})
    assert not GovernanceSettings.from_config(keel_config("prod")).auto_approve


def test_references_are_parsed_and_foreign_ones_refused() -> None:
    assert parse_reference(SETTINGS, "4").arn == SETTINGS.model_package_arn(4)
    assert parse_reference(SETTINGS, SETTINGS.model_package_arn(2)).version == 2
    for text in (
        "0",
        "arn:aws:sagemaker:us-east-1:123456789012:model-package/keel-local-models",
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package/keel-local-models/1",
    ):
        with pytest.raises(ForeignModelPackageError):
            parse_reference(SETTINGS, text)


def test_the_report_locations_match_the_pipeline_definition() -> None:
    definition = json.loads(definition_template("local"))
    steps = {}
    pending = list(definition["Steps"])
    while pending:
        step = pending.pop()
        steps[step["Name"]] = step
        pending += step.get("Arguments", {}).get("IfSteps", []) + step.get("Arguments", {}).get(
            "ElseSteps", []
        )
    files = {
        (s, p["OutputName"], p["FilePath"])
        for s, step in steps.items()
        for p in step.get("PropertyFiles", [])
    }
    for output, file_name in (
        (facts.EVALUATION_OUTPUT, facts.EVALUATION_FILE),
        (facts.VALIDATION_OUTPUT, facts.VALIDATION_FILE),
        (facts.DRIFT_OUTPUT, facts.DRIFT_FILE),
    ):
        step, name = output.split(".")
        assert (step, name, file_name) in files
    assert facts.MODEL_OUTPUT.split(".")[0] in steps and facts.GE_OUTPUT.split(".")[0] in steps
    from keel.quality.validation import GX_RESULT_JSON, SUMMARY_JSON

    assert (facts.GE_RESULT_FILE, facts.VALIDATION_FILE) == (GX_RESULT_JSON, SUMMARY_JSON)
    from pipeline_steps.definition import EVALUATION_JSON_PATH

    assert ".".join(checks.ACCURACY_PATH) == EVALUATION_JSON_PATH
