"""Human-in-the-loop feedback: reviewers' corrections from the IAM-authenticated API and from files dropped in
the feedback bucket's `incoming/` prefix.

Each correction is validated (labels against the dataset's target column), made unique per prediction and
reviewer (a conditional claim), stored in the Glue-catalogued feedback dataset (`corrections/ingest_date=`),
merged into training data when its captured input is known (`keel.feedback.merge`), and counted in the
model-quality metric FeedbackAccuracy (1 = prediction confirmed, 0 = corrected).

Order per submission: claim -> write objects (named by the source, so a retry replaces them) -> publish the
metric -> mark stored. A failure anywhere leaves the claims unstored, so the retry (the file event, or the
API client after a 503) claims and stores them again; a replay of a stored source publishes nothing twice.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    S3EventNotificationEventBridgeModel,
)

from keel.contract import DatasetContract
from keel.feedback.corrections import (
    FIELDS,
    MAX_FEEDBACK_FILE_BYTES,
    MAX_REQUEST_BYTES,
    Correction,
    UnreadableLineError,
    parse_correction,
    parse_feedback_file,
)
from keel.feedback.events import OBJECT_CREATED, PARSE_ERRORS
from keel.feedback.idempotency import Idempotency
from keel.feedback.lineage import token
from keel.feedback.merge import training_rows
from keel.feedback.names import (
    CORRECTIONS_PREFIX,
    ENVIRONMENT_DIMENSION,
    FEEDBACK_ACCURACY_METRIC,
    FEEDBACK_FILE_PREFIX,
    INCOMING_PREFIX,
)
from keel.feedback.ports import (
    CapturedInputs,
    Clock,
    MetricPublisher,
    MetricSink,
    ObjectStore,
    PartitionRegistrar,
)
from keel.feedback.quarantine import Quarantine, kept_payload
from keel.feedback.records import InvalidValueError, format_value, render_csv
from keel.feedback.settings import FeedbackIngestSettings
from keel.feedback.state import Claim, StateStore

QUARANTINE_SOURCE = "feedback-ingest"
FILE_EXTENSIONS = (".jsonl", ".json", ".csv")


@dataclass(frozen=True)
class Submission:
    corrections: list[Correction]
    source: str  # api | file
    source_ref: str
    submitted_by: str
    submitted_at: datetime


@dataclass
class FeedbackIngest:
    settings: FeedbackIngestSettings
    dataset: DatasetContract
    feedback: DatasetContract  # keel.feedback.corrections.feedback_contract(dataset)
    state: StateStore
    objects: ObjectStore
    quarantine: Quarantine
    partitions: PartitionRegistrar
    publisher: MetricPublisher
    captured: CapturedInputs
    metrics: MetricSink
    idempotency: Idempotency
    clock: Clock
    logger: Any = None

    def __post_init__(self) -> None:
        self._api_once = self.idempotency.wrap(
            self._store_api,
            key_prefix="feedback.api",
            # The whole correction: an identical retry gets the stored answer, a different one is a duplicate.
            key_jmespath="[prediction_id, reviewer, predicted, corrected_label, comment]",
            data_keyword="submission",
        )
        self._file_once = self.idempotency.wrap(
            self._ingest_file,
            key_prefix="feedback.file",
            key_jmespath="[event_id, key, version_id]",  # as the data trigger: moto repeats S3 event ids
            data_keyword="event",
        )

    def handle(self, event: Any) -> dict[str, Any]:
        if isinstance(event, Mapping) and ("httpMethod" in event or "requestContext" in event):
            return self.handle_api(event)
        return self.handle_file_event(event)

    # --------------------------------------------------------------------------------------------- API
    def handle_api(self, event: Mapping[str, Any]) -> dict[str, Any]:
        try:
            request = parse(event=dict(event), model=APIGatewayProxyEventModel)
        except PARSE_ERRORS as error:
            return _response(400, {"message": f"malformed request: {str(error)[:200]}"})
        if request.httpMethod != "POST":
            return _response(405, {"message": "use POST"})
        body = request.body if isinstance(request.body, str) else ""
        if request.isBase64Encoded:
            try:
                body = base64.b64decode(body, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return _response(400, {"message": "body is not base64-encoded UTF-8"})
        if len(body.encode()) > MAX_REQUEST_BYTES:
            return _response(413, {"message": f"body larger than {MAX_REQUEST_BYTES} bytes"})
        try:
            payload = json.loads(body)
            correction = parse_correction(self.dataset, payload)
        except ValueError as error:  # JSON errors and InvalidValueError alike
            self.metrics.add("CorrectionsInvalid")
            return _response(400, {"message": "invalid correction", "errors": str(error)[:1000]})
        context = request.requestContext
        principal = context.identity.userArn or context.identity.caller or "unknown"
        # The time API Gateway received the request (Powertools parses it to a datetime).
        received = context.requestTimeEpoch
        submitted_at = received.astimezone(UTC) if isinstance(received, datetime) else self.clock()
        submission = {
            **correction.as_dict(),
            "principal": principal,
            "request_id": context.requestId,
            "submitted_at": submitted_at.isoformat(),
        }
        try:
            result: dict[str, Any] = self._api_once(submission=submission)
        except IdempotencyAlreadyInProgressError:
            return _response(409, {"message": "this correction is being stored; retry shortly"}, retry=True)
        except Exception as error:
            if self.logger:
                self.logger.exception("correction not stored", extra={"request_id": context.requestId})
            self.metrics.add("CorrectionsFailed")
            return _response(503, {"message": f"not stored, retry: {type(error).__name__}"}, retry=True)
        status = 409 if result["status"] == "duplicate" else 201 if result["status"] == "stored" else 200
        return _response(status, result)

    def _store_api(self, submission: dict[str, Any]) -> dict[str, Any]:
        correction = Correction(**{name: submission[name] for name in FIELDS})
        # The same correction (content) is the same source: a retry after a failure stores it again.
        source_ref = "api:" + token(json.dumps(correction.as_dict(), sort_keys=True, default=str))[:32]
        outcome = self.store(
            Submission(
                corrections=[correction],
                source="api",
                source_ref=source_ref,
                submitted_by=submission["principal"],
                submitted_at=datetime.fromisoformat(submission["submitted_at"]),
            )
        )
        status = "duplicate" if outcome["duplicates"] else "stored" if outcome["stored"] else "replayed"
        return {"status": status, "prediction_id": correction.prediction_id, **outcome}

    # -------------------------------------------------------------------------------------------- files
    def handle_file_event(self, event: Any) -> dict[str, Any]:
        try:
            parsed = parse(event=event, model=S3EventNotificationEventBridgeModel)
        except PARSE_ERRORS as error:
            return self._reject(event, f"not an API request or S3 EventBridge event: {str(error)[:300]}")
        detail = parsed.detail
        key, size = detail.object.key, detail.object.size or 0
        reason = None
        if parsed.detail_type != OBJECT_CREATED:
            reason = f"unexpected detail-type {parsed.detail_type[:64]!r}"
        elif detail.bucket.name != self.settings.feedback_bucket or not key.startswith(INCOMING_PREFIX):
            reason = (
                f"not a feedback file: s3://{detail.bucket.name}/{key[:200]} is outside {INCOMING_PREFIX}"
            )
        elif not key.lower().endswith(FILE_EXTENSIONS):
            reason = f"unsupported file type (use {', '.join(FILE_EXTENSIONS)})"
        elif not 0 < size <= MAX_FEEDBACK_FILE_BYTES:
            reason = f"file size {int(size)} is not within 1..{MAX_FEEDBACK_FILE_BYTES} bytes"
        if reason:
            return self._reject(event, reason)
        result: dict[str, Any] = self._file_once(
            event={
                "event_id": parsed.id,
                "bucket": detail.bucket.name,
                "key": key,
                "version_id": detail.object.version_id,
                "requester": detail.requester,
                "time": parsed.time.isoformat(),
            }
        )
        return result

    def _ingest_file(self, event: dict[str, Any]) -> dict[str, Any]:
        bucket, key, version = event["bucket"], event["key"], event["version_id"]
        body = self.objects.get(bucket, key, version_id=version, max_bytes=MAX_FEEDBACK_FILE_BYTES)
        source_ref = f"s3://{bucket}/{key}" + (f"?versionId={version}" if version else "")
        try:
            entries = parse_feedback_file(self.dataset, key, body)
        except (ValueError, UnicodeDecodeError) as error:
            uri = self.quarantine.keep(
                QUARANTINE_SOURCE, f"unreadable file: {str(error)[:200]}", body, file=source_ref
            )
            return {"status": "quarantined", "quarantine": uri, "stored": 0, "duplicates": 0}
        corrections, rejected = _sort_entries(self.dataset, entries, source_ref)
        quarantine_uri = None
        if rejected:
            quarantine_uri = self.quarantine.keep_lines(QUARANTINE_SOURCE, token(source_ref)[:32], rejected)
            self.metrics.add("CorrectionsInvalid", len(rejected))
        outcome = (
            self.store(
                Submission(
                    corrections=corrections,
                    source="file",
                    source_ref=source_ref,
                    submitted_by=f"s3-requester:{event.get('requester') or 'unknown'}",
                    submitted_at=datetime.fromisoformat(event["time"]),
                )
            )
            if corrections
            else {"stored": 0, "duplicates": 0, "replayed": 0, "object": None, "merged": 0}
        )
        return {
            "status": "ingested",
            "file": source_ref,
            "rejected": len(rejected),
            "quarantine": quarantine_uri,
            **outcome,
        }

    # -------------------------------------------------------------------------------------------- store
    def store(self, submission: Submission) -> dict[str, Any]:
        claims = {
            c.prediction_id + "\x1f" + c.reviewer: self.state.claim_correction(
                c.prediction_id, c.reviewer, submission.source_ref
            )
            for c in submission.corrections
        }
        kept = [
            c
            for c in submission.corrections
            if claims[c.prediction_id + "\x1f" + c.reviewer] != Claim.DUPLICATE
        ]
        fresh = [c for c in kept if claims[c.prediction_id + "\x1f" + c.reviewer] in (Claim.NEW, Claim.RETRY)]
        duplicates = len(submission.corrections) - len(kept)
        if duplicates:
            self.metrics.add("CorrectionsDuplicate", duplicates)
        if not kept:
            return {"stored": 0, "duplicates": duplicates, "replayed": 0, "object": None, "merged": 0}
        name = f"{submission.source}-{token(submission.source_ref)[:32]}"
        day = f"{submission.submitted_at:%Y-%m-%d}"
        merge = training_rows(self.dataset, kept, self.captured.lookup([c.prediction_id for c in kept]))
        folder = f"{CORRECTIONS_PREFIX}ingest_date={day}/"
        corrections_uri = f"s3://{self.settings.feedback_bucket}/{folder}{name}.csv"
        training_uri = None
        if merge.rows:
            training_key = f"{self.dataset.landing_prefix}ingest_date={day}/{FEEDBACK_FILE_PREFIX}{name}.csv"
            stored = self.objects.put(
                self.settings.raw_bucket,
                training_key,
                render_csv(self.dataset, merge.rows),
                content_type="text/csv",
                metadata={"keel-source": "feedback", "keel-corrections": corrections_uri},
            )
            training_uri = stored.uri
        merged = set(merge.merged_ids)
        rows = [
            {
                **c.as_dict(),
                "submitted_at": submission.submitted_at.replace(tzinfo=None),
                "submitted_by": submission.submitted_by,
                "source": submission.source,
                "source_ref": submission.source_ref,
                "training_row_uri": training_uri if c.prediction_id in merged else None,
            }
            for c in kept
        ]
        self.objects.put(
            self.settings.feedback_bucket,
            f"{folder}{name}.csv",
            render_csv(self.feedback, rows),
            content_type="text/csv",
            metadata={
                "keel-source": submission.source,
                "keel-source-ref": format_value(submission.source_ref)[:1024],
            },
        )
        self._register_partition(day, f"s3://{self.settings.feedback_bucket}/{folder}")
        if fresh:
            correct = sum(1 for c in fresh if c.correct)
            self.publisher.publish(
                self.settings.metrics_namespace,
                FEEDBACK_ACCURACY_METRIC,
                {ENVIRONMENT_DIMENSION: self.settings.env},
                [(1.0, correct), (0.0, len(fresh) - correct)],
                timestamp=self._metric_time(submission.submitted_at),
            )
            self.metrics.add("CorrectionsStored", len(fresh))
        self.state.mark_corrections_stored(((c.prediction_id, c.reviewer) for c in kept), corrections_uri)
        return {
            "stored": len(fresh),
            "duplicates": duplicates,
            "replayed": len(kept) - len(fresh),
            "object": corrections_uri,
            "merged": len(merge.rows),
            "training_rows": training_uri,
            "not_merged": len(merge.not_merged),
        }

    def _metric_time(self, submitted_at: datetime) -> datetime:
        """When the reviews happened; CloudWatch refuses data older than two weeks (a late retry: now)."""
        now = self.clock()
        return submitted_at if now - timedelta(days=13) <= submitted_at <= now + timedelta(hours=1) else now

    def _register_partition(self, day: str, location: str) -> None:
        try:
            self.partitions.ensure_partition(
                self.settings.glue_database, self.settings.glue_table, [day], location
            )
        except Exception as error:
            self.metrics.add("PartitionRegistrationFailed")
            if self.logger:
                self.logger.warning(
                    "partition not registered", extra={"location": location, "error": str(error)}
                )

    def _reject(self, event: Any, reason: str) -> dict[str, Any]:
        self.metrics.add("EventsQuarantined")
        return {
            "status": "rejected",
            "reason": reason,
            "quarantine": self.quarantine.keep(QUARANTINE_SOURCE, reason, event),
        }


def _sort_entries(
    dataset: DatasetContract, entries: list[tuple[int, Any]], source_ref: str
) -> tuple[list[Correction], list[dict[str, Any]]]:
    """Valid, unique (within the file) corrections, and the rejected lines with their reasons."""
    corrections: list[Correction] = []
    rejected: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for line, payload in entries:
        try:
            if isinstance(payload, UnreadableLineError):
                raise payload
            correction = parse_correction(dataset, payload)
            if (correction.prediction_id, correction.reviewer) in seen:
                raise InvalidValueError("duplicate in this file")
        except InvalidValueError as error:
            kept = payload.text if isinstance(payload, UnreadableLineError) else payload
            rejected.append(
                {"file": source_ref, "line": line, "reason": str(error)[:1000], **kept_payload(kept)}
            )
            continue
        seen.add((correction.prediction_id, correction.reviewer))
        corrections.append(correction)
    return corrections, rejected


def _response(status: int, body: Mapping[str, Any], *, retry: bool = False) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if retry:
        headers["Retry-After"] = "5"
    return {"statusCode": status, "headers": headers, "body": json.dumps(body, default=str)}
