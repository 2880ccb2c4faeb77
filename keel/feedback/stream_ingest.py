"""Streaming trigger: JSON records from Kinesis, validated per record against the contract, written in
micro-batches to the raw bucket (Hive partitions `ingest_date=YYYY-MM-DD`), invalid ones quarantined with the
reason; after `retrain_after_records` new valid records since the last training, one retraining starts.

Delivery semantics. Lambda checkpoints before the lowest sequence number reported in `batchItemFailures`
and redelivers everything after it, so only the records positively checked before the first failure are
written; every record from the first one not checked on is reported and comes back (none is ever counted as
processed without having been checked). If that first record has no sequence number to report, the whole
invocation fails instead. A batch's objects are named by its
first sequence number: a retried batch replaces them (no duplicate rows, also after bisection), and a
marker per object counts its records once. A failed retraining start fails the invocation, so the batch is
retried (its writes are replaced, its count is not repeated) and the start with it; the start is idempotent
on the counter's generation. Bisected retries may count up to half a batch twice: the threshold is then
reached slightly early, never missed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.parser.models import KinesisDataStreamRecord

from keel.contract import DatasetContract
from keel.feedback.events import PARSE_ERRORS
from keel.feedback.idempotency import Idempotency
from keel.feedback.launch import Launcher
from keel.feedback.names import STREAM_FILE_PREFIX
from keel.feedback.ports import Clock, MetricSink, ObjectStore, PartitionRegistrar
from keel.feedback.quarantine import Quarantine, kept_payload
from keel.feedback.records import render_csv, validate_record
from keel.feedback.settings import StreamIngestSettings
from keel.feedback.state import StateStore, TrainingState
from keel.lineage.record import Trigger
from keel.naming import LATEST_VERSIONS

SOURCE = "kinesis"
QUARANTINE_SOURCE = "stream-ingest"
MAX_RECORD_BYTES = 256 * 1024  # a contract row is a few hundred bytes; larger payloads are quarantined


class UnreportableRecordError(RuntimeError):
    """A record that was not processed has no sequence number, so a partial batch response cannot name it."""


@dataclass(frozen=True)
class CheckedRecord:
    sequence_number: str | None
    shard_id: str
    ingest_date: str
    row: dict[str, Any] | None
    rejection: dict[str, Any] | None


@dataclass
class StreamIngest:
    settings: StreamIngestSettings
    contract: DatasetContract
    state: StateStore
    launcher: Launcher
    objects: ObjectStore
    quarantine: Quarantine
    partitions: PartitionRegistrar
    metrics: MetricSink
    idempotency: Idempotency
    clock: Clock
    logger: Any = None

    def __post_init__(self) -> None:
        self._start_once = self.idempotency.wrap(
            self._start, key_prefix="stream.retrain", key_jmespath="generation_key", data_keyword="retrain"
        )

    def handle(self, event: Any) -> dict[str, Any]:
        records = event.get("Records") if isinstance(event, Mapping) else None
        if not isinstance(records, list):
            self.quarantine.keep(QUARANTINE_SOURCE, "not a Kinesis batch (no Records list)", event)
            self.metrics.add("EventsQuarantined")
            return {"batchItemFailures": []}
        done = self._check_prefix(records)
        # Lambda checkpoints before the lowest reported sequence number and retries everything after it, so
        # the first record not positively checked must be reportable; if it is not, the whole invocation
        # fails (retried, bisected, finally sent to the on-failure destination).
        if len(done) < len(records) and _sequence_number(records[len(done)]) is None:
            raise UnreportableRecordError(
                f"record {len(done)} of {len(records)} was not processed and has no sequence number to "
                "report as a batch item failure; failing the whole batch so no record is lost"
            )
        failures = [
            {"itemIdentifier": sequence}
            for record in records[len(done) :]
            if (sequence := _sequence_number(record)) is not None
        ]
        if failures:
            self.metrics.add("RecordsRetried", len(records) - len(done))
        if done:
            self._flush(done, _sequence_number(records[0]) or "unknown")
        return {"batchItemFailures": failures}

    def _check_prefix(self, records: list[Any]) -> list[CheckedRecord]:
        """The records positively checked, in order, up to the first that could not be (a bug, not bad data:
        bad data is quarantined by `check`). Only this prefix is written; Kinesis redelivers the rest."""
        done: list[CheckedRecord] = []
        for index, record in enumerate(records):
            try:
                done.append(self.check(record))
            except Exception as error:
                if self.logger:
                    self.logger.warning(
                        "record not checked; it and every later record will be retried",
                        extra={
                            "index": index,
                            "sequence_number": _sequence_number(record),
                            "error": repr(error),
                        },
                    )
                break
        return done

    # --------------------------------------------------------------------------------------- per record
    def check(self, raw: Any) -> CheckedRecord:
        """Validate one Kinesis record; never raises for bad data (the record is then quarantined)."""
        sequence = _sequence_number(raw)
        try:
            record = KinesisDataStreamRecord.model_validate(raw)
        except PARSE_ERRORS as error:
            return self._rejected(
                raw, sequence, "malformed Kinesis record: " + str(error).replace("\n", " ")[:300]
            )
        shard_id = record.eventID.split(":", 1)[0]
        arrival = datetime.fromtimestamp(record.kinesis.approximateArrivalTimestamp, UTC)
        data = record.kinesis.data
        assert isinstance(data, bytes)
        if len(data) > MAX_RECORD_BYTES:
            return self._rejected(
                data, sequence, f"oversized: {len(data)} bytes (max {MAX_RECORD_BYTES})", shard_id
            )
        try:
            payload = json.loads(data)
        except (UnicodeDecodeError, ValueError) as error:
            return self._rejected(data, sequence, f"not JSON: {str(error)[:200]}", shard_id)
        check = validate_record(self.contract, payload)
        if not check.valid:
            return self._rejected(data, sequence, "; ".join(check.errors)[:1000], shard_id)
        return CheckedRecord(sequence, shard_id, f"{arrival:%Y-%m-%d}", check.row, None)

    def _rejected(
        self, payload: Any, sequence: str | None, reason: str, shard_id: str = "unknown"
    ) -> CheckedRecord:
        rejection = {
            "sequence_number": sequence,
            "shard_id": shard_id,
            "reason": reason,
            **kept_payload(payload),
        }
        return CheckedRecord(sequence, shard_id, f"{self.clock():%Y-%m-%d}", None, rejection)

    # ---------------------------------------------------------------------------------------- the batch
    def _flush(self, done: list[CheckedRecord], first_sequence: str) -> None:
        shard_id = done[0].shard_id
        batch_name = f"{shard_id}-{first_sequence}"
        rejected = [r.rejection for r in done if r.rejection is not None]
        if rejected:
            self.quarantine.keep_lines(QUARANTINE_SOURCE, batch_name, rejected)
            self.metrics.add("RecordsQuarantined", len(rejected))
        by_date: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in done:
            if record.row is not None:
                by_date[record.ingest_date].append(record.row)
        valid = sum(len(rows) for rows in by_date.values())
        for ingest_date, rows in sorted(by_date.items()):
            folder = f"{self.contract.landing_prefix}ingest_date={ingest_date}/"
            self.objects.put(
                self.settings.raw_bucket,
                f"{folder}{STREAM_FILE_PREFIX}{batch_name}.csv",
                render_csv(self.contract, rows),
                content_type="text/csv",
                metadata={
                    "keel-source": SOURCE,
                    "keel-first-sequence": first_sequence,
                    "keel-records": str(len(rows)),
                },
            )
            self._register_partition(ingest_date, f"s3://{self.settings.raw_bucket}/{folder}")
        if not valid:
            return
        self.metrics.add("RecordsValid", valid)
        training = self.state.count_records(
            self.contract.name,
            batch_name,
            valid,
            ttl_seconds=(self.settings.stream_retention_hours + 24) * 3600,
        )
        if training.pending_records >= self.settings.retrain_after_records:
            self._retrain(training, batch_name)

    def _register_partition(self, ingest_date: str, location: str) -> None:
        # The rows are safe in S3 either way; an unregistered partition is added by the next batch.
        try:
            self.partitions.ensure_partition(
                self.settings.glue_database, self.settings.glue_table, [ingest_date], location
            )
        except Exception as error:
            self.metrics.add("PartitionRegistrationFailed")
            if self.logger:
                self.logger.warning(
                    "partition not registered", extra={"location": location, "error": str(error)}
                )

    # --------------------------------------------------------------------------------------- retraining
    def _retrain(self, training: TrainingState, batch_name: str) -> None:
        trigger = Trigger(
            reason=f"{training.pending_records} new valid streamed records since the last training "
            f"(threshold {self.settings.retrain_after_records})",
            source=SOURCE,
            event_id=f"{self.contract.name}#generation#{training.generation}",
            details={
                "generation": training.generation,
                "pending_records": training.pending_records,
                "threshold": self.settings.retrain_after_records,
                "last_batch": batch_name,
                "previous_execution_arn": training.last_execution_arn,
            },
        )
        retrain = {
            "generation_key": f"{self.contract.name}#{training.generation}",
            "trigger": trigger.model_dump(mode="json"),
            "parameters": {
                "InputDataUri": f"s3://{self.settings.raw_bucket}/{self.contract.landing_prefix}",
                "InputObjectVersion": LATEST_VERSIONS,
            },
        }
        try:
            started = self._start_once(retrain=retrain)
        except IdempotencyAlreadyInProgressError:
            return  # a concurrent invocation (another shard) is starting this generation
        self.launcher.record(started, trigger, consumed_records=training.pending_records)
        self.metrics.add("RetrainsStarted")

    def _start(self, retrain: dict[str, Any]) -> dict[str, Any]:
        return self.launcher.start(
            trigger=Trigger.model_validate(retrain["trigger"]),
            parameters=retrain["parameters"],
            idempotency_key=f"stream#{retrain['generation_key']}",
        )


def _sequence_number(record: Any) -> str | None:
    if isinstance(record, Mapping) and isinstance(record.get("kinesis"), Mapping):
        sequence = record["kinesis"].get("sequenceNumber")
        return sequence if isinstance(sequence, str) and sequence else None
    return None
