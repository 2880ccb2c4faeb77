"""The checks behind the gate's policies: pure functions of the gathered facts and the settings.

Each returns a `Verdict`; a fact that could not be gathered is a failure with the reason (fail closed).
Evidence is compared with the lineage record by SHA-256 of canonical JSON: a report changed after the run
("tampered") fails the policy that reads it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from keel.gate.facts import (
    DRIFT_OUTPUT,
    EVALUATION_FILE,
    EVALUATION_OUTPUT,
    GE_OUTPUT,
    MODEL_OUTPUT,
    VALIDATION_OUTPUT,
    Document,
    GateFacts,
    report_uri,
)
from keel.gate.model import canonical_sha256
from keel.gate.settings import GovernanceSettings
from keel.naming import QUARANTINE_PREFIX
from keel.s3uri import split_uri

ACCURACY_PATH = ("multiclass_classification_metrics", "accuracy", "value")
REQUIRED_REPORTS = (MODEL_OUTPUT, EVALUATION_OUTPUT, VALIDATION_OUTPUT, GE_OUTPUT, DRIFT_OUTPUT)
# Customer metadata the pipeline's RegisterModel step writes, and the record field it must agree with.
METADATA_FIELDS = (
    "keel:execution_id",
    "keel:contract_version",
    "keel:input_data_uri",
    "keel:input_object_version",
)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


def fail(reason: str, **details: Any) -> Verdict:
    return Verdict(False, reason, details)


def ok(reason: str, **details: Any) -> Verdict:
    return Verdict(True, reason, details)


Check = Callable[[GateFacts, GovernanceSettings], Verdict]


def _tampered(document: Document, recorded: Any, what: str) -> str | None:
    """Why the archived document and the lineage record's copy disagree, or None when they match."""
    archived_sha, recorded_sha = canonical_sha256(document.value), canonical_sha256(recorded)
    if archived_sha == recorded_sha:
        return None
    return (
        f"{what} at {document.uri} (sha256 {archived_sha[:16]}…) does not match the lineage record "
        f"(sha256 {recorded_sha[:16]}…): changed after the run"
    )


def accuracy_meets_threshold(facts: GateFacts, settings: GovernanceSettings) -> Verdict:
    if facts.evaluation.error or facts.evaluation.value is None:
        return fail(f"missing metrics: {facts.evaluation.error or 'empty evaluation.json'}")
    record = facts.record
    if record is None:
        return fail(f"cannot verify the metrics against the lineage record: {facts.record_error}")
    if record.metrics is None:
        return fail("the lineage record has no metrics")
    expected_uri = report_uri(record, EVALUATION_OUTPUT, EVALUATION_FILE)
    if facts.metrics_uri != expected_uri:
        return fail(
            f"the model package's metrics ({facts.metrics_uri}) are not the evaluation of execution "
            f"{record.execution_id} ({expected_uri})"
        )
    tampered = _tampered(facts.evaluation, record.metrics, "evaluation.json")
    if tampered:
        return fail(tampered)
    value: Any = facts.evaluation.value
    for part in ACCURACY_PATH:
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return fail(f"evaluation.json has no numeric {'.'.join(ACCURACY_PATH)} (found {value!r})")
    details = {"accuracy": value, "min_accuracy": settings.min_accuracy, "metrics_uri": facts.metrics_uri}
    if value < settings.min_accuracy:
        return fail(f"accuracy {value:.4f} < min_accuracy {settings.min_accuracy}", **details)
    return ok(f"accuracy {value:.4f} >= min_accuracy {settings.min_accuracy}", **details)


def validation_passed(facts: GateFacts, settings: GovernanceSettings) -> Verdict:  # noqa: ARG001
    record = facts.record
    if record is None:
        return fail(f"no lineage record: {facts.record_error}")
    if record.validation is None:
        return fail("the lineage record has no validation summary")
    if facts.validation.error or facts.validation.value is None:
        return fail(str(facts.validation.error))
    tampered = _tampered(facts.validation, record.validation, "the validation summary")
    if tampered:
        return fail(tampered)
    summary = facts.validation.value
    if facts.ge_error:
        return fail(f"Great Expectations results not archived: {facts.ge_error}")
    if not facts.ge_results:
        return fail(f"no Great Expectations result archived under {report_uri(record, GE_OUTPUT)}")
    if (summary.get("contract"), summary.get("contract_version")) != (
        record.contract.name,
        record.contract.version,
    ):
        return fail(
            f"validated against contract {summary.get('contract')} {summary.get('contract_version')}, "
            f"trained under {record.contract.name} {record.contract.version}"
        )
    details = {
        "summary_uri": facts.validation.uri,
        "ge_results": facts.ge_results,
        "rows": summary.get("rows"),
        "evaluated_expectations": summary.get("evaluated_expectations"),
        "successful_expectations": summary.get("successful_expectations"),
    }
    if summary.get("success") is not True:
        failures = summary.get("failures") or []
        errors = summary.get("errors") or []
        return fail(
            f"validation failed: {len(failures)} failed expectation(s), {len(errors)} error(s)", **details
        )
    return ok("validation passed; summary and Great Expectations results archived", **details)


def drift_within_threshold(facts: GateFacts, settings: GovernanceSettings) -> Verdict:
    record = facts.record
    if record is None:
        return fail(f"no lineage record: {facts.record_error}")
    if record.drift is None:
        return fail("the lineage record has no drift report")
    if facts.drift.error or facts.drift.value is None:
        return fail(str(facts.drift.error))
    archived = Document(facts.drift.uri, _as_recorded(facts.drift.value, record.drift))
    tampered = _tampered(archived, record.drift, "the drift report")
    if tampered:
        return fail(tampered)
    report = facts.drift.value
    if report.get("contract") != record.contract.name:
        return fail(
            f"the drift report is for contract {report.get('contract')!r}, not {record.contract.name!r}"
        )
    features = report.get("features") or []
    if not features:
        return fail("the drift report has no features")
    drifted = [f.get("name") for f in features if _drifted(f, settings)]
    share = len(drifted) / len(features)
    details = {
        "report_uri": facts.drift.uri,
        "drifted_features": drifted,
        "drifted_share": round(share, 4),
        "max_drifted_feature_share": settings.max_drifted_feature_share,
        "max_feature_psi": settings.max_feature_psi,
        "ks_p_value": settings.ks_p_value,
    }
    if share > settings.max_drifted_feature_share:
        return fail(
            f"{len(drifted)}/{len(features)} features drifted (share {share:.2f} > "
            f"{settings.max_drifted_feature_share}): {', '.join(map(str, drifted))}",
            **details,
        )
    return ok(f"{len(drifted)}/{len(features)} features drifted (share {share:.2f})", **details)


def _drifted(feature: dict[str, Any], settings: GovernanceSettings) -> bool:
    """Drifted by the report, or by the environment's thresholds (which a run's parameters cannot relax)."""
    psi, p_value = feature.get("psi"), feature.get("ks_p_value")
    return bool(
        feature.get("drifted")
        or (isinstance(psi, int | float) and psi > settings.max_feature_psi)
        or (isinstance(p_value, int | float) and p_value < settings.ks_p_value)
    )


def _as_recorded(report: dict[str, Any], recorded: dict[str, Any]) -> dict[str, Any]:
    """The drift report as the lineage record keeps it (list-valued per-feature fields dropped when the
    record keeps features as a mapping)."""
    features = report.get("features")
    if not isinstance(recorded.get("features"), dict) or not isinstance(features, dict):
        return report
    return report | {
        "features": {
            name: {k: v for k, v in feature.items() if not isinstance(v, list)}
            for name, feature in features.items()
        }
    }


def lineage_complete(facts: GateFacts, settings: GovernanceSettings) -> Verdict:
    record = facts.record
    if record is None:
        return fail(str(facts.record_error))
    problems: list[str] = []
    if record.status != "Succeeded":
        problems.append(f"execution status is {record.status}")
    if record.model_package_arn != facts.model_package_arn:
        problems.append(f"the record registered {record.model_package_arn}, not this package")
    if record.pipeline_name != settings.pipeline_name:
        problems.append(f"pipeline {record.pipeline_name} is not Keel's {settings.pipeline_name}")
    metadata = facts.customer_metadata
    expected = {
        "keel:execution_id": record.execution_id,
        "keel:contract_version": record.contract.version,
        "keel:input_data_uri": str(record.parameters.get("InputDataUri", "")),
        "keel:input_object_version": str(record.parameters.get("InputObjectVersion", "")),
    }
    for name in METADATA_FIELDS:
        if metadata.get(name, "") != expected[name]:
            problems.append(f"customer metadata {name}={metadata.get(name)!r} != record {expected[name]!r}")
    empty = [
        name
        for name, value in {
            "trigger.reason": record.trigger.reason,
            "trigger.source": record.trigger.source,
            "code.git_commit": record.code.git_commit,
            "code.source_sha256": record.code.source_sha256,
            "code.image_uri": record.code.image_uri,
            "contract.sha256": record.contract.sha256,
            "definition_sha256": record.definition_sha256,
            "parameters": record.parameters,
            "inputs": record.inputs,
            "steps": record.steps,
            "validation": record.validation,
            "metrics": record.metrics,
            "drift": record.drift,
        }.items()
        if value in (None, "", [], {})
    ]
    if empty:
        problems.append(f"empty field(s): {', '.join(empty)}")
    missing_reports = [name for name in REQUIRED_REPORTS if name not in record.reports]
    if missing_reports:
        problems.append(f"report location(s) not recorded: {', '.join(missing_reports)}")
    if MODEL_OUTPUT in record.reports and facts.model_data_url != record.reports[MODEL_OUTPUT]:
        problems.append(
            f"model artifact {facts.model_data_url} is not the one trained ({record.reports[MODEL_OUTPUT]})"
        )
    for item in facts.inputs:
        bucket, _ = split_uri(item.uri)
        if not item.version_id:
            problems.append(f"{item.uri}: no version id recorded")
        if bucket not in settings.input_buckets:
            problems.append(f"{item.uri}: not in Keel's data buckets")
        if item.error:
            problems.append(item.error)
        elif item.actual_sha256 != item.recorded_sha256:
            problems.append(
                f"{item.uri} (version {item.version_id}): sha256 {str(item.actual_sha256)[:16]}… != recorded "
                f"{item.recorded_sha256[:16]}…: tampered evidence"
            )
    details = {
        "record_uri": facts.record_uri,
        "execution_id": record.execution_id,
        "inputs": len(facts.inputs),
    }
    if problems:
        return fail("; ".join(problems), **details)
    return ok(f"complete; {len(facts.inputs)} input version(s) present with matching checksums", **details)


def encrypted_with_artifacts_key(facts: GateFacts, settings: GovernanceSettings) -> Verdict:
    if facts.artifacts_key_arn is None:
        return fail(str(facts.key_error))
    problems = []
    for state in facts.objects:
        if state.error:
            problems.append(state.error)
        elif state.sse != "aws:kms":
            problems.append(f"{state.role} {state.uri}: ServerSideEncryption is {state.sse!r}, not aws:kms")
        elif state.key_arn != facts.artifacts_key_arn:
            problems.append(
                f"{state.role} {state.uri}: encrypted with {state.kms_key_id}, "
                f"not {settings.artifacts_key_alias}"
            )
    details = {"key_arn": facts.artifacts_key_arn, "objects": [s.uri for s in facts.objects]}
    if problems:
        return fail("; ".join(problems), **details)
    return ok(f"{len(facts.objects)} object(s) encrypted with {settings.artifacts_key_alias}", **details)


def no_open_findings(facts: GateFacts, settings: GovernanceSettings) -> Verdict:  # noqa: ARG001
    if facts.findings is None:
        return fail(f"sensitive-data findings unknown: {facts.findings_error}")
    quarantined = [i.uri for i in facts.inputs if split_uri(i.uri)[1].startswith(QUARANTINE_PREFIX)]
    details = {"source": facts.findings_source, "inputs": len(facts.inputs)}
    if facts.findings:
        listed = ", ".join(f"{f.id} ({f.type}) on {f.bucket}/{f.key}" for f in facts.findings)
        return fail(
            f"{len(facts.findings)} open finding(s): {listed}",
            findings=[f.id for f in facts.findings],
            **details,
        )
    if quarantined:
        return fail(f"trained on quarantined object(s): {', '.join(quarantined)}", **details)
    return ok(
        f"no open findings on {len(facts.inputs)} input version(s) ({facts.findings_source})", **details
    )


def compliant_definition(facts: GateFacts, settings: GovernanceSettings) -> Verdict:
    state = facts.definition
    if state.error:
        return fail(state.error)
    if facts.record is None:
        return fail(f"no lineage record to compare the definition with: {facts.record_error}")
    if facts.artifacts_key_arn is None:
        return fail(f"cannot check the jobs' KMS key: {facts.key_error}")
    details = {
        "source": state.source,
        "sha256": state.sha256,
        "recorded_sha256": facts.record.definition_sha256,
        "deployed_sha256": state.deployed_sha256,
        "deployed_matches": state.deployed_sha256 == facts.record.definition_sha256,
    }
    if state.pipeline_arn != settings.pipeline_arn:
        return fail(f"the execution belongs to {state.pipeline_arn}, not {settings.pipeline_arn}", **details)
    if state.sha256 != facts.record.definition_sha256:
        return fail(
            f"the {state.source} definition (sha256 {str(state.sha256)[:16]}…) is not the one the lineage "
            f"record names ({facts.record.definition_sha256[:16]}…)",
            **details,
        )
    if state.violations:
        return fail("non-compliant jobs: " + "; ".join(state.violations), **details)
    return ok(
        f"the {state.source} definition matches the record; every job encrypted and isolated", **details
    )


def clean_working_tree(facts: GateFacts, settings: GovernanceSettings) -> Verdict:  # noqa: ARG001
    if facts.record is None:
        return fail(f"no lineage record: {facts.record_error}")
    code = facts.record.code
    if not code.git_commit:
        return fail("the code version has no git commit")
    if code.git_dirty is not False:
        return fail(f"built from a working tree with uncommitted changes at {code.git_commit[:12]}")
    return ok(f"built from commit {code.git_commit[:12]}")


def thresholds_not_relaxed(facts: GateFacts, settings: GovernanceSettings) -> Verdict:
    if facts.record is None:
        return fail(f"no lineage record: {facts.record_error}")
    parameters = facts.record.parameters
    relaxed = []
    comparisons = (
        ("MinAccuracy", settings.min_accuracy, lambda run, env: run < env),
        ("MaxFeaturePsi", settings.max_feature_psi, lambda run, env: run > env),
        ("KsPValue", settings.ks_p_value, lambda run, env: run < env),
        ("MaxDriftedFeatureShare", settings.max_drifted_feature_share, lambda run, env: run > env),
    )
    for name, configured, looser in comparisons:
        value = parameters.get(name)
        if isinstance(value, int | float) and looser(float(value), configured):
            relaxed.append(f"{name}={value} (environment: {configured})")
    if relaxed:
        return fail("the run relaxed thresholds: " + ", ".join(relaxed))
    return ok("the run used the environment's thresholds or stricter ones")


CHECKS: dict[str, Check] = {
    "accuracy_meets_threshold": accuracy_meets_threshold,
    "validation_passed": validation_passed,
    "drift_within_threshold": drift_within_threshold,
    "lineage_complete": lineage_complete,
    "encrypted_with_artifacts_key": encrypted_with_artifacts_key,
    "no_open_findings": no_open_findings,
    "compliant_definition": compliant_definition,
    "clean_working_tree": clean_working_tree,
    "thresholds_not_relaxed": thresholds_not_relaxed,
}
