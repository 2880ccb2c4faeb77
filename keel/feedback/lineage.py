"""The trigger record of a started execution: which loop started it, on which event, objects and versions.

Written to the reports bucket at `lineage/triggers/<execution id>.json`, next to the execution's lineage
record (`keel.lineage.record`), whose `trigger` field it fills.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from keel.feedback.names import TRIGGER_PREFIX
from keel.feedback.ports import StartRequest
from keel.lineage.record import Trigger

SCHEMA_VERSION: Literal[1] = 1
_MAX_REASON = 256  # SageMaker parameter values are short strings; the full story is in the record
_MAX_DESCRIPTION = 3072


class TriggerRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    kind: Literal["trigger"] = "trigger"
    environment: str
    pipeline_name: str
    execution_arn: str
    execution_id: str
    started_at: str
    parameters: dict[str, str]
    trigger: Trigger


def trigger_record_key(execution_id: str) -> str:
    return f"{TRIGGER_PREFIX}{execution_id}.json"


def to_json(record: TriggerRecord) -> bytes:
    return (json.dumps(record.model_dump(mode="json"), indent=2) + "\n").encode()


def token(*parts: str) -> str:
    """A stable 64-character idempotency token (SageMaker accepts 32-128 characters)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def start_request(
    *,
    pipeline_name: str,
    trigger: Trigger,
    parameters: Mapping[str, str],
    now: datetime,
    idempotency_key: str,
) -> StartRequest:
    """The StartPipelineExecution request of a trigger: parameters, a readable display name, a token."""
    digest = token(idempotency_key)
    source = re.sub(r"[^A-Za-z0-9]+", "-", trigger.source).strip("-") or "trigger"
    display_name = f"keel-{source}-{now:%Y%m%dT%H%M%S}-{digest[:8]}"[:82]
    given = {"TriggerReason": trigger.reason[:_MAX_REASON], **parameters}
    description = json.dumps(
        {"reason": trigger.reason, "source": trigger.source, "event_id": trigger.event_id}, default=str
    )[:_MAX_DESCRIPTION]
    return StartRequest(
        pipeline_name=pipeline_name,
        parameters=given,
        display_name=display_name,
        description=description,
        idempotency_token=digest,
    )


def details_json(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details made JSON-safe (datetimes and sets as strings/lists)."""
    return json.loads(json.dumps(details, default=lambda v: sorted(v) if isinstance(v, set) else str(v)))
