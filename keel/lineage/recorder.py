"""Write an ended execution's lineage record and announce it: what the lineage recorder Lambda does.

The record goes to the reports bucket at `lineage/executions/<execution id>.json` (SSE-KMS with the
artifacts key); then a "Keel Lineage Record Written" event on the default bus tells the policy gate that the
evidence of the run's model package is complete (a run longer than the retries of the package's own state
change event would otherwise never be decided). Writing is idempotent: a retried event writes the same record
again and announces it again; the gate's decisions are idempotent per package state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from keel.lineage.assemble import RecordSources, assemble_record
from keel.lineage.record import (
    RECORD_EVENT_DETAIL_TYPE,
    RECORD_EVENT_SOURCE,
    LineageRecord,
    record_key,
    to_json,
)


class AnnouncementError(RuntimeError):
    """EventBridge did not accept the announcement (PutEvents reported a failed entry)."""


@dataclass
class LineageRecorder:
    sources: RecordSources
    events: Any
    kms_key_id: str
    event_bus: str = "default"

    def record(self, execution_arn: str) -> dict[str, Any]:
        record = assemble_record(self.sources, execution_arn)
        uri = self.write(record)
        self.announce(record, uri)
        return {
            "status": "recorded",
            "execution_arn": execution_arn,
            "execution_status": record.status,
            "record_uri": uri,
            "model_package_arn": record.model_package_arn,
            "inputs": len(record.inputs),
            "steps": len(record.steps),
        }

    def write(self, record: LineageRecord) -> str:
        bucket, key = self.sources.reports_bucket, record_key(record.execution_id)
        self.sources.s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=to_json(record).encode(),
            ContentType="application/json",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=self.kms_key_id,
        )
        return f"s3://{bucket}/{key}"

    def announce(self, record: LineageRecord, uri: str) -> None:
        detail = {
            "ExecutionArn": record.execution_arn,
            "ExecutionStatus": record.status,
            "RecordUri": uri,
            "ModelPackageArn": record.model_package_arn,
        }
        resources = [record.execution_arn] + ([record.model_package_arn] if record.model_package_arn else [])
        answer = self.events.put_events(
            Entries=[
                {
                    "Source": RECORD_EVENT_SOURCE,
                    "DetailType": RECORD_EVENT_DETAIL_TYPE,
                    "Detail": json.dumps(detail),
                    "Resources": resources,
                    "EventBusName": self.event_bus,
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            failed: dict[str, Any] = next((e for e in answer.get("Entries", []) if e.get("ErrorCode")), {})
            raise AnnouncementError(
                f"EventBridge refused the record event of {record.execution_arn}: "
                f"{failed.get('ErrorCode')}: {failed.get('ErrorMessage')}"
            )
