"""Every policy's check, pass and fail, on hand-built facts (no AWS)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from keel.gate import checks
from keel.gate.facts import Document, GateFacts, InputState, ObjectState
from keel.gate.findings import Finding
from keel.gate.settings import GovernanceSettings
from keel.lineage.record import CodeVersion, ContractRef, InputObject, LineageRecord, StepRecord, Trigger
from tests.unit.gate.world import drift_report, evaluation, keel_config, validation_summary

SETTINGS = GovernanceSettings.from_config(keel_config("local"))
KEY = "arn:aws:kms:us-east-1:123456789012:key/artifacts"
ARN = SETTINGS.model_package_arn(3)
RAW = SETTINGS.input_buckets[0]
REPORTS = f"s3://{SETTINGS.reports_bucket}/pipeline/{SETTINGS.pipeline_name}/exec1"
MODEL = f"s3://{SETTINGS.artifacts_bucket}/pipeline/{SETTINGS.pipeline_name}/models/job/output/model.tar.gz"
INPUT = f"s3://{RAW}/landing/wine.csv"
SHA = hashlib.sha256(b"data").hexdigest()


def record(**changes: Any) -> LineageRecord:
    values: dict[str, Any] = {
        "environment": "local",
        "pipeline_name": SETTINGS.pipeline_name,
        "pipeline_arn": SETTINGS.pipeline_arn,
        "definition_sha256": "d" * 64,
        "execution_arn": SETTINGS.execution_arn("exec1"),
        "execution_id": "exec1",
        "status": "Succeeded",
        "failure_reason": None,
        "started": "2026-11-01T10:00:00+00:00",
        "ended": "2026-11-01T10:05:00+00:00",
        "trigger": Trigger(reason="new data", source="s3-event"),
        "parameters": {"InputDataUri": INPUT, "InputObjectVersion": "v1", "MinAccuracy": 0.5},
        "contract": ContractRef(name="wine_quality", version="1.0.0", sha256="c" * 64),
        "code": CodeVersion(git_commit="abc123", git_dirty=False, source_sha256="s" * 64, image_uri="img"),
        "inputs": [InputObject(uri=INPUT, version_id="v1", etag="e", size=4, sha256=SHA)],
        "steps": [StepRecord(name="Train", type="Training", status="Succeeded", started="a", ended="b")],
        "validation": validation_summary(),
        "metrics": evaluation(0.7),
        "drift": drift_report(),
        "reports": {
            "ValidateData.validation": f"{REPORTS}/validation",
            "CombineValidation.validation": f"{REPORTS}/combined",
            "Train.model": MODEL,
            "Evaluate.evaluation": f"{REPORTS}/evaluation",
            "MeasureDrift.drift": f"{REPORTS}/drift",
        },
        "model_package_arn": ARN,
    }
    return LineageRecord(**(values | changes))


def good_facts(rec: LineageRecord | None = None) -> GateFacts:
    rec = rec or record()
    package = {
        "ModelPackageArn": ARN,
        "InferenceSpecification": {"Containers": [{"Image": "img", "ModelDataUrl": MODEL}]},
        "ModelMetrics": {"ModelQuality": {"Statistics": {"S3Uri": f"{REPORTS}/evaluation/evaluation.json"}}},
        "CustomerMetadataProperties": {
            "keel:execution_id": "exec1",
            "keel:contract_version": "1.0.0",
            "keel:input_data_uri": INPUT,
            "keel:input_object_version": "v1",
        },
    }
    facts = GateFacts(
        model_package_arn=ARN,
        package=package,
        execution_id="exec1",
        record=rec,
        record_uri=f"s3://{SETTINGS.reports_bucket}/lineage/executions/exec1.json",
    )
    facts.artifacts_key_arn = KEY
    facts.evaluation = Document(f"{REPORTS}/evaluation/evaluation.json", rec.metrics)
    facts.validation = Document(f"{REPORTS}/combined/summary.json", rec.validation)
    facts.drift = Document(f"{REPORTS}/drift/drift_report.json", rec.drift)
    facts.ge_results = [f"{REPORTS}/validation/validation_result.json"]
    facts.objects = [ObjectState(role, f"{REPORTS}/{role}", "aws:kms", KEY, KEY) for role in ("a", "b")]
    facts.inputs = [InputState(INPUT, "v1", SHA, 4, SHA, 4)]
    facts.findings, facts.findings_source = [], "static"
    facts.definition.source, facts.definition.sha256 = "execution", "d" * 64
    facts.definition.pipeline_arn, facts.definition.deployed_sha256 = SETTINGS.pipeline_arn, "d" * 64
    return facts


@pytest.mark.parametrize("name", sorted(checks.CHECKS))
def test_every_check_passes_on_complete_consistent_facts(name: str) -> None:
    verdict = checks.CHECKS[name](good_facts(), SETTINGS)
    assert verdict.passed, verdict.reason


def test_accuracy_below_threshold_fails_with_the_numbers() -> None:
    facts = good_facts(record(metrics=evaluation(0.41)))
    verdict = checks.accuracy_meets_threshold(facts, SETTINGS)
    assert not verdict.passed and verdict.reason == "accuracy 0.4100 < min_accuracy 0.5"
    assert verdict.details["accuracy"] == 0.41


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: setattr(f, "evaluation", Document(None, error="gone")), "missing metrics: gone"),
        (lambda f: setattr(f.evaluation, "value", evaluation(0.99)), "changed after the run"),
        (
            lambda f: f.package["ModelMetrics"]["ModelQuality"]["Statistics"].update(S3Uri="s3://x/e.json"),
            "are not the evaluation of execution exec1",
        ),
        (
            lambda f: (
                setattr(f, "record", record(metrics={"x": 1})) or setattr(f.evaluation, "value", {"x": 1})
            ),
            "has no numeric multiclass_classification_metrics.accuracy.value",
        ),
        (lambda f: setattr(f, "record", None) or setattr(f, "record_error", "no record"), "no record"),
    ],
)
def test_accuracy_fails_closed(mutate: Any, expected: str) -> None:
    facts = good_facts()
    mutate(facts)
    verdict = checks.accuracy_meets_threshold(facts, SETTINGS)
    assert not verdict.passed and expected in verdict.reason


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda f: (
                setattr(f, "record", record(validation=validation_summary(False)))
                or setattr(f.validation, "value", validation_summary(False))
            ),
            "validation failed: 1 failed expectation",
        ),
        (
            lambda f: setattr(f, "validation", Document(None, error="validation summary not archived: x")),
            "not archived",
        ),
        (lambda f: setattr(f, "ge_results", []), "no Great Expectations result archived"),
        (lambda f: setattr(f, "ge_error", "denied"), "Great Expectations results not archived: denied"),
        (lambda f: f.validation.value.update(rows=1), "changed after the run"),
        (lambda f: setattr(f, "record", record(validation=None)), "has no validation summary"),
    ],
)
def test_validation_fails_closed(mutate: Any, expected: str) -> None:
    facts = good_facts()
    facts.validation.value = dict(facts.validation.value)
    mutate(facts)
    verdict = checks.validation_passed(facts, SETTINGS)
    assert not verdict.passed and expected in verdict.reason


def test_drift_uses_the_environment_thresholds_even_when_the_report_was_lenient() -> None:
    report = drift_report()
    report["features"][0] |= {"psi": 0.9}  # over the environment's 0.2, yet not flagged by a lenient run
    report["features"][1] |= {"ks_p_value": 0.0001}
    facts = good_facts(record(drift=report))
    verdict = checks.drift_within_threshold(facts, SETTINGS)
    assert not verdict.passed
    assert verdict.details["drifted_features"] == ["fixed_acidity", "volatile_acidity"]
    assert "share 0.50 > 0.25" in verdict.reason


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: setattr(f, "record", record(drift=None)), "has no drift report"),
        (lambda f: setattr(f, "drift", Document(None, error="drift report not archived")), "not archived"),
        (lambda f: setattr(f.drift, "value", drift_report(("citric_acid",))), "changed after the run"),
        (
            lambda f: (
                setattr(f, "record", record(drift=drift_report() | {"features": []}))
                or setattr(f.drift, "value", drift_report() | {"features": []})
            ),
            "has no features",
        ),
    ],
)
def test_drift_fails_closed(mutate: Any, expected: str) -> None:
    facts = good_facts()
    mutate(facts)
    verdict = checks.drift_within_threshold(facts, SETTINGS)
    assert not verdict.passed and expected in verdict.reason


def test_one_drifted_feature_of_four_is_within_a_quarter() -> None:
    facts = good_facts(record(drift=drift_report(("citric_acid",))))
    assert checks.drift_within_threshold(facts, SETTINGS).passed


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: setattr(f, "record", record(status="Failed")), "execution status is Failed"),
        (
            lambda f: setattr(f, "record", record(model_package_arn=SETTINGS.model_package_arn(9))),
            "not this package",
        ),
        (
            lambda f: f.package["CustomerMetadataProperties"].update({"keel:execution_id": "other"}),
            "keel:execution_id='other'",
        ),
        (
            lambda f: setattr(
                f,
                "record",
                record(code=CodeVersion(git_commit=None, git_dirty=None, source_sha256="s", image_uri="i")),
            ),
            "empty field(s): code.git_commit",
        ),
        (lambda f: setattr(f, "record", record(reports={})), "report location(s) not recorded"),
        (
            lambda f: f.package["InferenceSpecification"]["Containers"][0].update(ModelDataUrl="s3://x/m"),
            "is not the one trained",
        ),
        (
            lambda f: setattr(f.inputs[0], "error", "s3://raw/x (version v1): no such version"),
            "no such version",
        ),
        (lambda f: setattr(f.inputs[0], "actual_sha256", "0" * 64), "tampered evidence"),
        (lambda f: setattr(f.inputs[0], "version_id", None), "no version id recorded"),
        (lambda f: setattr(f.inputs[0], "uri", "s3://elsewhere/x.csv"), "not in Keel's data buckets"),
        (
            lambda f: setattr(f, "record", None) or setattr(f, "record_error", "lineage record missing"),
            "lineage record missing",
        ),
    ],
)
def test_lineage_completeness_fails_closed(mutate: Any, expected: str) -> None:
    facts = good_facts()
    mutate(facts)
    verdict = checks.lineage_complete(facts, SETTINGS)
    assert not verdict.passed and expected in verdict.reason


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (ObjectState("model artifact", "s3://a/m", "AES256", None), "ServerSideEncryption is 'AES256'"),
        (ObjectState("model artifact", "s3://a/m", None, None), "ServerSideEncryption is None"),
        (ObjectState("metrics", "s3://a/e", "aws:kms", "other", "arn:other"), "encrypted with other"),
        (ObjectState("drift report", None, error="drift report: location unknown"), "location unknown"),
    ],
)
def test_encryption_fails_on_any_object_not_under_the_artifacts_key(
    state: ObjectState, expected: str
) -> None:
    facts = good_facts()
    facts.objects.append(state)
    verdict = checks.encrypted_with_artifacts_key(facts, SETTINGS)
    assert not verdict.passed and expected in verdict.reason


def test_encryption_fails_when_the_key_is_unknown() -> None:
    facts = good_facts()
    facts.artifacts_key_arn, facts.key_error = None, "cannot resolve alias/keel-local/artifacts"
    assert not checks.encrypted_with_artifacts_key(facts, SETTINGS).passed


def test_findings_fail_on_open_findings_unknown_findings_and_quarantined_inputs() -> None:
    facts = good_facts()
    facts.findings = [
        Finding("f1", "SensitiveData:S3Object/Personal", "High", RAW, "landing/wine.csv", "v1", "macie2")
    ]
    assert "1 open finding(s): f1" in checks.no_open_findings(facts, SETTINGS).reason
    facts.findings, facts.findings_error = None, "macie2: ListFindings failed"
    assert "findings unknown: macie2: ListFindings failed" in checks.no_open_findings(facts, SETTINGS).reason
    facts = good_facts()
    facts.inputs[0].uri = f"s3://{RAW}/quarantine/macie/landing/wine.csv"
    assert "quarantined object" in checks.no_open_findings(facts, SETTINGS).reason


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda f: setattr(f.definition, "violations", ["Train: network isolation is not enabled"]),
            "non-compliant jobs: Train: network isolation is not enabled",
        ),
        (lambda f: setattr(f.definition, "sha256", "e" * 64), "is not the one the lineage record names"),
        (
            lambda f: setattr(f.definition, "pipeline_arn", "arn:aws:sagemaker:us-east-1:1:pipeline/other"),
            "the execution belongs to",
        ),
        (lambda f: setattr(f.definition, "error", "cannot describe pipeline"), "cannot describe pipeline"),
        (lambda f: setattr(f, "artifacts_key_arn", None), "cannot check the jobs' KMS key"),
    ],
)
def test_compliant_definition_fails_closed(mutate: Any, expected: str) -> None:
    facts = good_facts()
    mutate(facts)
    verdict = checks.compliant_definition(facts, SETTINGS)
    assert not verdict.passed and expected in verdict.reason


def test_advisory_checks_fail_on_dirty_code_and_relaxed_thresholds() -> None:
    dirty = good_facts(
        record(code=CodeVersion(git_commit="abc", git_dirty=True, source_sha256="s", image_uri="i"))
    )
    assert "uncommitted changes" in checks.clean_working_tree(dirty, SETTINGS).reason
    relaxed = good_facts(
        record(
            parameters={
                "InputDataUri": INPUT,
                "InputObjectVersion": "v1",
                "MinAccuracy": 0.1,
                "MaxDriftedFeatureShare": 0.9,
            }
        )
    )
    verdict = checks.thresholds_not_relaxed(relaxed, SETTINGS)
    assert not verdict.passed
    assert (
        "MinAccuracy=0.1 (environment: 0.5)" in verdict.reason
        and "MaxDriftedFeatureShare=0.9" in verdict.reason
    )
