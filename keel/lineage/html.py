"""The lineage pack as one self-contained HTML page for an auditor: no scripts, no external resources."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from keel.lineage.pack import LineagePack, PackDecision

CSS = (
    "body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:70rem;"
    "color:#1d2430;line-height:1.45;padding:0 1rem}h1{font-size:1.6rem;margin-bottom:.2rem}"
    "h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d5dae1;padding-bottom:.2rem}"
    "h3{font-size:1rem}table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.9rem}"
    "th,td{border:1px solid #d5dae1;padding:.3rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#f3f5f8;width:14rem}code{font-size:.82rem;word-break:break-all}"
    ".pass{color:#116329;font-weight:600}.fail{color:#b42318;font-weight:600}.muted{color:#667085}"
    ".badge{display:inline-block;padding:.1rem .55rem;border-radius:.8rem;font-weight:600;font-size:.85rem}"
    ".Approved{background:#d1fadf;color:#05603a}.Rejected{background:#fee4e2;color:#912018}"
    ".PendingManualApproval{background:#fef0c7;color:#93370d}"
    ".warn{background:#fffaeb;border:1px solid #fedf89;padding:.5rem 1rem}"
    "pre{background:#f6f8fa;padding:1rem;overflow:auto;font-size:.78rem}"
)
Rows = Iterable[tuple[str, Any]]


def _text(value: Any) -> str:
    if value is None or value == "":
        return '<span class="muted">—</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        return f"<code>{escape(json.dumps(value, sort_keys=True, default=str))}</code>"
    text = str(value)
    return (
        f"<code>{escape(text)}</code>"
        if text.startswith(("s3://", "arn:")) or len(text) > 40
        else escape(text)
    )


def _facts(rows: Rows) -> str:
    body = "".join(f"<tr><th>{escape(label)}</th><td>{_text(value)}</td></tr>" for label, value in rows)
    return f"<table>{body}</table>"


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, raw: bool = False) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell if raw else _text(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body or '<tr><td colspan=99 class=muted>none</td></tr>'}</table>"


def _badge(status: str | None) -> str:
    return f'<span class="badge {escape(status or "")}">{escape(status or "unknown")}</span>'


def _section(title: str, content: str) -> str:
    return f"<h2>{escape(title)}</h2>{content}"


def _header(pack: LineagePack) -> str:
    mp = pack.model_package
    html = (
        f"<h1>Model {escape(mp.group)} version {mp.version} {_badge(mp.approval_status)}</h1>"
        f'<p class="muted">Lineage pack (schema {pack.schema_version}) of environment '
        f"{escape(pack.environment)}, generated {escape(pack.generated_at)} by {escape(pack.generator)}. "
        "A snapshot: approval, endpoints and deployment history are as of that time; "
        f"<code>keel lineage {mp.version} --env {escape(pack.environment)}</code> assembles the current "
        "one.</p>"
    )
    if pack.warnings:
        items = "".join(f"<li>{escape(w)}</li>" for w in pack.warnings)
        html += f'<div class="warn"><strong>Warnings</strong><ul>{items}</ul></div>'
    return html


def _approval(pack: LineagePack) -> str:
    a, by = pack.approval, pack.approval.decided_by
    return _section(
        "Approval",
        _facts(
            [
                ("Status", a.status),
                ("Decided via", a.via),
                ("Decided by", by.identity if by else None),
                ("Identity source", by.source if by else None),
                ("Decided at", a.decided_at),
                ("Decision id", a.decision_id),
                ("Approval description", pack.model_package.approval_description),
            ]
        ),
    )


def _model_package(pack: LineagePack) -> str:
    mp = pack.model_package
    rows: list[tuple[str, Any]] = [
        ("ARN", mp.arn),
        ("Created", mp.created),
        ("Image", mp.image),
        ("Image digest", mp.image_digest),
        ("Model artifact", mp.model_data_url),
        ("Metrics", mp.metrics_uri),
    ]
    rows += [(f"metadata {k}", v) for k, v in sorted(mp.customer_metadata.items())]
    return _section("Model package", _facts(rows))


def _data(pack: LineagePack) -> str:
    html = ""
    if pack.trigger:
        t = pack.trigger
        html += _section(
            "Trigger",
            _facts(
                [
                    ("Reason", t.reason),
                    ("Source", t.source),
                    ("Event id", t.event_id),
                    ("Details", t.details or None),
                    ("Trigger record", t.trigger_record_uri),
                ]
            ),
        )
    html += _section(
        "Training data",
        _table(
            ["object", "version", "sha256", "size", "version exists", "quarantined"],
            [(i.uri, i.version_id, i.sha256, i.size, i.version_exists, i.quarantined) for i in pack.inputs],
        ),
    )
    if pack.contract:
        c = pack.contract
        html += _section("Contract", _facts([("Name", c.name), ("Version", c.version), ("sha256", c.sha256)]))
    if pack.validation:
        v = pack.validation
        verdict = '<span class="pass">passed</span>' if v.success else '<span class="fail">failed</span>'
        html += _section(
            "Validation",
            f"<p>Validation {verdict}.</p>"
            + _facts(
                [
                    ("Rows", v.rows),
                    ("Expectations met", f"{v.successful_expectations} / {v.evaluated_expectations}"),
                    ("Failed expectations", v.failures),
                    ("Summary", v.summary_uri),
                    ("Great Expectations results", v.ge_results_prefix),
                ]
            ),
        )
    return html


def _run(pack: LineagePack) -> str:
    html = ""
    if pack.execution:
        e = pack.execution
        steps = [
            (s.get("name"), s.get("type"), s.get("status"), s.get("job_name"), s.get("detail"))
            for s in e.steps
        ]
        html += _section(
            "Pipeline execution",
            _facts(
                [
                    ("Execution", e.arn),
                    ("Pipeline", e.pipeline_arn),
                    ("Status (recorded / now)", f"{e.status} / {e.current_status}"),
                    ("Failure", e.failure_reason),
                    ("Started", e.started),
                    ("Ended", e.ended),
                    ("Definition sha256", e.definition_sha256),
                ]
            )
            + _table(["parameter", "value"], sorted(e.parameters.items()))
            + _table(["step", "type", "status", "job", "detail"], steps),
        )
    if pack.code:
        c = pack.code
        html += _section(
            "Code",
            _facts(
                [
                    ("Git commit", c.git_commit),
                    ("Uncommitted changes", c.git_dirty),
                    ("Source sha256", c.source_sha256),
                    ("Image", c.image_uri),
                    ("Image digest", c.image_digest),
                ]
            ),
        )
    return html


def _results(pack: LineagePack) -> str:
    html = ""
    if pack.metrics:
        m = pack.metrics
        values = (m.document or {}).get("multiclass_classification_metrics", {})
        rows = [
            (k, v.get("value")) for k, v in sorted(values.items()) if isinstance(v, dict) and "value" in v
        ]
        html += _section(
            "Metrics",
            _facts([("Accuracy", m.accuracy), ("Report", m.uri)]) + _table(["metric", "value"], rows),
        )
    if pack.drift:
        d = pack.drift
        html += _section(
            "Drift",
            _facts(
                [
                    ("Dataset drift", d.dataset_drift),
                    ("Drifted share", d.drifted_share),
                    ("Drifted features", ", ".join(d.drifted_features) or "none"),
                    ("Thresholds", d.thresholds),
                    ("Report", d.report_uri),
                    ("HTML report", d.html_uri),
                ]
            ),
        )
    return html


def _decision(decision: PackDecision) -> str:
    policies = _table(
        ["policy", "severity", "result", "reason"],
        [
            (
                f"<code>{escape(p.id)}</code>",
                escape(p.severity.value),
                '<span class="pass">pass</span>' if p.passed else '<span class="fail">fail</span>',
                escape(p.reason),
            )
            for p in decision.policies
        ],
        raw=True,
    )
    title = f"{escape(decision.decided_at)} — {escape(decision.kind.value)} {_badge(decision.decision.value)}"
    return (
        f"<h3>{title}</h3>"
        + _facts(
            [
                ("Reason", decision.reason),
                ("Actor", decision.actor.identity),
                ("Approver (outside the gate)", decision.approver.identity if decision.approver else None),
                ("Evidence", decision.evidence_uri),
                ("Evidence checksum valid", decision.seal_valid),
                ("Inputs sha256", decision.inputs_sha256),
                ("Policy set sha256", decision.policy_set_sha256),
            ]
        )
        + (policies if decision.policies else "")
    )


def _unknown(what: str) -> str:
    return f'<p class="fail">{escape(what)} unknown: the lookup failed (see the warnings above).</p>'


def _governance(pack: LineagePack) -> str:
    decisions = "".join(_decision(d) for d in pack.gate_decisions) or '<p class="muted">none recorded</p>'
    as_of = f'<p class="muted">As of {escape(pack.generated_at)}.</p>'
    deployments = (
        _unknown("Endpoint deployments")
        if pack.deployments is None
        else as_of
        + _table(
            ["endpoint", "status", "config", "variant", "model", "created"],
            [
                (
                    x.endpoint_name,
                    x.endpoint_status,
                    x.endpoint_config_name,
                    x.variant_name,
                    x.model_name,
                    x.created,
                )
                for x in pack.deployments
            ],
        )
    )
    history = (
        _unknown("Deployment history")
        if pack.deployment_history is None
        else _table(
            ["time", "event", "endpoint", "this version", "new", "previous", "serving", "detail"],
            [
                (
                    h.time,
                    h.event,
                    h.endpoint_name,
                    h.role,
                    h.new_version,
                    h.previous_version,
                    h.serving_version,
                    h.detail,
                )
                for h in pack.deployment_history
            ],
        )
    )
    tracking = pack.tracking
    tracked = _facts([("Status", tracking.status), ("Reason", tracking.reason)])
    if tracking.entities:
        tracked += _table(["entity", "ARN"], sorted(tracking.entities.items()))
    return (
        _section("Policy gate decisions", decisions)
        + _section("Endpoint deployments", deployments)
        + _section("Deployment history", history)
        + _section("SageMaker ML Lineage Tracking", tracked)
    )


def render_html(pack: LineagePack) -> str:
    body = "".join(
        [
            _header(pack),
            _approval(pack),
            _model_package(pack),
            _data(pack),
            _run(pack),
            _results(pack),
            _governance(pack),
            "<h2>Machine-readable pack</h2><details><summary>JSON</summary><pre>"
            + escape(pack.to_json())
            + "</pre></details>",
        ]
    )
    mp = pack.model_package
    title = escape(f"Lineage: {mp.group} v{mp.version}")
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{CSS}</style></head><body>{body}</body></html>\n"
    )
