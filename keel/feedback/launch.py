"""Start a training execution for a trigger, then record it (trigger record + training state).

Starting is the only non-idempotent AWS call of the loops: callers wrap `start` in Powertools idempotency
keyed on what must start one execution (an event, a window, a stream generation). Recording is idempotent
(same key, same content), so it runs after the idempotent part and is simply retried with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keel.feedback.lineage import TriggerRecord, start_request, to_json, trigger_record_key
from keel.feedback.ports import Clock, ObjectStore, PipelineStarter, StartedExecution
from keel.feedback.state import StateStore
from keel.lineage.record import Trigger


@dataclass
class Launcher:
    environment: str
    contract: str
    pipeline_name: str
    reports_bucket: str
    starter: PipelineStarter
    objects: ObjectStore
    state: StateStore
    clock: Clock

    def start(self, *, trigger: Trigger, parameters: dict[str, str], idempotency_key: str) -> dict[str, Any]:
        now = self.clock()
        request = start_request(
            pipeline_name=self.pipeline_name,
            trigger=trigger,
            parameters=parameters,
            now=now,
            idempotency_key=idempotency_key,
        )
        started = self.starter.start(request)
        # A plain dict: Powertools stores it as the idempotent result.
        return {
            "execution_arn": started.execution_arn,
            "execution_id": started.execution_id,
            "display_name": request.display_name,
            "parameters": dict(request.parameters),
            "started_at": now.isoformat(),
        }

    def record(
        self, started: dict[str, Any], trigger: Trigger, *, consumed_records: int | None = None
    ) -> str:
        """Write the trigger record and note the training in the state; returns the record's URI."""
        execution = StartedExecution(started["execution_arn"])
        record = TriggerRecord(
            environment=self.environment,
            pipeline_name=self.pipeline_name,
            execution_arn=execution.execution_arn,
            execution_id=execution.execution_id,
            started_at=started["started_at"],
            parameters=started["parameters"],
            trigger=trigger,
        )
        key = trigger_record_key(execution.execution_id)
        self.objects.put(self.reports_bucket, key, to_json(record), content_type="application/json")
        if consumed_records is None:
            consumed_records = self.state.training_state(self.contract).pending_records
        self.state.record_training_started(
            self.contract,
            execution_arn=execution.execution_arn,
            source=trigger.source,
            consumed_records=consumed_records,
        )
        return f"s3://{self.reports_bucket}/{key}"
