"""The scenario's summary as tables: executions, model versions and decisions, alarms, alerts, feedback."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from keel.scenario.story import ScenarioSummary


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("-" if value is None else str(value) for value in row))
    return table


def summary_tables(summary: ScenarioSummary) -> list[Table]:
    decisions = {d["version"]: d for d in summary.decisions}
    deployed = {d["version"]: d["steps"][-1] for d in summary.deployments}
    return [
        _table(
            "Executions",
            ["run", "execution", "trigger", "status", "validation", "quarantined", "accuracy", "version"],
            [
                [
                    e["label"],
                    e["execution_id"],
                    e["trigger"],
                    e["status"]
                    if not e["failure_reason"]
                    else f"{e['status']} at {e['failure_reason'].split(':', 1)[0]}",
                    e["validation_passed"],
                    e["quarantined_rows"],
                    f"{e['accuracy']:.3f}" if e["accuracy"] is not None else None,
                    (e["model_package_arn"] or "").rsplit("/", 1)[-1] or None,
                ]
                for e in summary.executions
            ],
        ),
        _table(
            "Model versions",
            ["version", "approval", "gate decision", "failed policies", "deployment", "serving"],
            [
                [
                    v["version"],
                    v["approval"],
                    decisions.get(v["version"], {}).get("decision"),
                    ", ".join(decisions.get(v["version"], {}).get("failed_blocking", [])) or None,
                    deployed.get(v["version"]),
                    "yes" if v["serving"] else "",
                ]
                for v in summary.versions
            ],
        ),
        _table(
            "Alarms",
            ["alarm", "state"],
            [
                *([name, state] for name, state in sorted(summary.alarms.items()) if state == "ALARM"),
                [
                    f"{sum(1 for s in summary.alarms.values() if s != 'ALARM')} other Keel alarms",
                    "OK / INSUFFICIENT_DATA",
                ],
            ],
        ),
        _table(
            "Alerts received (alert topic)",
            ["subject"],
            [[a["subject"][:100]] for a in summary.alerts],
        ),
        _table(
            "Reviewer feedback",
            ["batch", "reviewed", "stored", "merged", "batch accuracy", "FeedbackAccuracy", "quality alarm"],
            [
                [
                    f["label"],
                    f["reviewed"],
                    f["stored"],
                    f["merged_into_training_data"],
                    f"{f['batch_accuracy']:.2f}",
                    f"{f['metric_accuracy']:.3f}" if f["metric_accuracy"] is not None else None,
                    f.get("quality_alarm"),
                ]
                for f in summary.feedback
            ],
        ),
    ]
