"""The feedback loops' durable state in one DynamoDB table (`pk`, `sk`, TTL attribute `expires_at`).

Every transition is a conditional write, so concurrent invocations and redeliveries agree on one outcome:

- debounce windows of the data trigger: a pointer to the current window per contract, one header and one
  item per object of each window, and the open windows (id -> closing time) on the pointer;
- the training state per contract: valid streamed records since the last training, and the last execution;
- the alarm cool-down per contract;
- claims of human corrections (prediction id + reviewer), which make them unique.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE = "pk", "sk", "expires_at"  # the table's schema (stack and tests)
STATE_TTL_SECONDS = 30 * 24 * 3600  # windows and markers are kept a month for inspection, then expire
# A closing window waits this long for objects whose join registered but whose item is not written yet
# (a joiner between its two writes, or one that crashed there: its retry lands in the next window).
FILL_GRACE_SECONDS = 120
_MAX_ATTEMPTS = 8  # optimistic-concurrency retries before the invocation fails (and is retried)
_CONFLICT_CODES = {"ConditionalCheckFailedException", "TransactionCanceledException"}


class StateConflictError(RuntimeError):
    """Concurrent writers kept winning; the invocation fails so that the platform retries it."""


def _is_conflict(error: ClientError) -> bool:
    if error.response.get("Error", {}).get("Code") not in _CONFLICT_CODES:
        return False
    reasons = error.response.get("CancellationReasons") or []
    # A cancelled transaction is a conflict only if a condition failed (not e.g. throttling).
    return not reasons or any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _value(attribute) for name, attribute in item.items()}


def _value(attribute: Mapping[str, Any]) -> Any:
    ((kind, raw),) = attribute.items()
    if kind == "S":
        return raw
    if kind == "N":
        number = float(raw)
        return int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number
    if kind == "BOOL":
        return raw
    if kind == "NULL":
        return None
    if kind == "M":
        return _plain(raw)
    if kind == "L":
        return [_value(v) for v in raw]
    if kind == "SS":
        return set(raw)
    raise ValueError(f"unsupported DynamoDB attribute type {kind}")


class Claim(StrEnum):
    NEW = "new"
    RETRY = "retry"  # claimed before but never stored: store it now
    REPLAY = "replay"  # stored already by this same source: rewrite the same object, publish nothing new
    DUPLICATE = "duplicate"  # another submission of this prediction by this reviewer was stored


@dataclass(frozen=True)
class LandedObject:
    bucket: str
    key: str
    version_id: str | None
    size: int
    etag: str
    event_id: str
    event_time: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def to_item(self) -> dict[str, Any]:
        return {
            "bucket": _s(self.bucket),
            "key": _s(self.key),
            "version_id": _s(self.version_id or ""),
            "size": _n(self.size),
            "etag": _s(self.etag),
            "event_id": _s(self.event_id),
            "event_time": _s(self.event_time),
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> LandedObject:
        plain = _plain(item)
        return cls(
            bucket=plain["bucket"],
            key=plain["key"],
            version_id=plain["version_id"] or None,
            size=int(plain["size"]),
            etag=plain["etag"],
            event_id=plain["event_id"],
            event_time=plain["event_time"],
        )


@dataclass(frozen=True)
class Window:
    window_id: str
    contract: str
    status: str
    opened_at: float
    closes_at: float
    joined: int = 0  # objects registered before the window closed
    closing_since: float | None = None
    execution_arn: str | None = None


@dataclass(frozen=True)
class TrainingState:
    pending_records: int
    generation: int
    last_execution_arn: str | None
    last_started_at: float | None


class StateStore:
    """Conditional writes on the state table through a boto3 DynamoDB client (or anything shaped like it)."""

    def __init__(self, client: Any, table_name: str, *, clock: Any = time.time) -> None:
        self._client = client
        self._table = table_name
        self._now = clock

    # ----------------------------------------------------------------------------------------- helpers
    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key={"pk": _s(pk), "sk": _s(sk)}, ConsistentRead=True
        )
        return response.get("Item")

    def _expires(self) -> dict[str, str]:
        return _n(int(self._now()) + STATE_TTL_SECONDS)

    # -------------------------------------------------------------------------------- debounce windows
    @staticmethod
    def _pointer_pk(contract: str) -> str:
        return f"debounce#{contract}"

    @staticmethod
    def _window_pk(window_id: str) -> str:
        return f"window#{window_id}"

    def record_landed_object(
        self,
        contract: str,
        landed: LandedObject,
        *,
        event_time: float,
        debounce_seconds: int,
        new_window_id: str,
    ) -> tuple[str, dict[str, float]]:
        """Add the object to the open window that covers `event_time`, or open a new window with it.

        Returns the window id and the open windows (id -> closing time) as seen by this call.
        """
        for _ in range(_MAX_ATTEMPTS):
            pointer = self._get(self._pointer_pk(contract), "pointer")
            plain = _plain(pointer) if pointer else None
            open_windows = dict(plain.get("open_windows") or {}) if plain else {}
            if (
                plain
                and event_time < float(plain["closes_at"])
                and self._try_join(plain["window_id"], landed)
            ):
                return plain["window_id"], open_windows
            closes_at = event_time + debounce_seconds
            if self._try_open(contract, plain, new_window_id, event_time, closes_at, landed):
                return new_window_id, open_windows | {new_window_id: closes_at}
        raise StateConflictError(f"could not record {landed.uri} in a debounce window of {contract}")

    def _try_join(self, window_id: str, landed: LandedObject) -> bool:
        """Register the join on the header (conditional on the window being open), then put the object.

        Two single-item writes instead of a transaction: closing counts the registered joins and waits
        until that many objects are there (see `begin_close`)."""
        key = {"pk": _s(self._window_pk(window_id)), "sk": _s("#header")}
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="ADD joined :one",
                ConditionExpression="#status = :open",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":one": _n(1), ":open": _s("open")},
            )
        except ClientError as error:
            if _is_conflict(error):
                return False  # the window is closing: the object opens the next one
            raise
        try:
            self._client.put_item(
                TableName=self._table, Item=self._object_item(self._window_pk(window_id), landed)
            )
        except ClientError:
            # Best effort: without it the close waits FILL_GRACE_SECONDS for an object that never comes.
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="ADD joined :minus",
                ExpressionAttributeValues={":minus": _n(-1)},
            )
            raise
        return True

    def _object_item(self, pk: str, landed: LandedObject) -> dict[str, Any]:
        return {
            "pk": _s(pk),
            "sk": _s(f"object#{landed.key}#{landed.version_id or ''}"),
            "expires_at": self._expires(),
            **landed.to_item(),
        }

    def _try_open(
        self,
        contract: str,
        pointer: dict[str, Any] | None,
        window_id: str,
        opened_at: float,
        closes_at: float,
        landed: LandedObject,
    ) -> bool:
        pk = self._window_pk(window_id)
        values: dict[str, Any] = {
            ":id": _s(window_id),
            ":opened": _n(opened_at),
            ":closes": _n(closes_at),
        }
        names = {"#w": window_id}
        if pointer is None:
            condition = "attribute_not_exists(pk)"
            update = "SET window_id = :id, opened_at = :opened, closes_at = :closes, open_windows = :map"
            values[":map"] = {"M": {window_id: _n(closes_at)}}
            names = {}
        else:
            condition = "window_id = :old"
            update = (
                "SET window_id = :id, opened_at = :opened, closes_at = :closes, open_windows.#w = :closes"
            )
            values[":old"] = _s(pointer["window_id"])
        header = {
            "pk": _s(pk),
            "sk": _s("#header"),
            "status": _s("open"),
            "contract": _s(contract),
            "opened_at": _n(opened_at),
            "closes_at": _n(closes_at),
            "joined": _n(1),
            "expires_at": self._expires(),
        }
        pointer_update: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"pk": _s(self._pointer_pk(contract)), "sk": _s("pointer")},
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        if names:
            pointer_update["ExpressionAttributeNames"] = names
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Update": pointer_update},
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": header,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {"Put": {"TableName": self._table, "Item": self._object_item(pk, landed)}},
                ]
            )
        except ClientError as error:
            if _is_conflict(error):
                return False
            raise
        return True

    def open_windows(self, contract: str) -> dict[str, float]:
        pointer = self._get(self._pointer_pk(contract), "pointer")
        if not pointer:
            return {}
        return {k: float(v) for k, v in (_plain(pointer).get("open_windows") or {}).items()}

    def begin_close(self, window_id: str) -> Window | None:
        """open/closing -> closing (no object joins after this); None if the window was started already."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={"pk": _s(self._window_pk(window_id)), "sk": _s("#header")},
                UpdateExpression="SET #status = :closing, closing_since = if_not_exists(closing_since, :now)",
                ConditionExpression="#status IN (:open, :closing)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":open": _s("open"),
                    ":closing": _s("closing"),
                    ":now": _n(round(self._now(), 3)),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _is_conflict(error):
                return None
            raise
        plain = _plain(response["Attributes"])
        return Window(
            window_id=window_id,
            contract=plain["contract"],
            status=plain["status"],
            opened_at=float(plain["opened_at"]),
            closes_at=float(plain["closes_at"]),
            joined=int(plain.get("joined", 0)),
            closing_since=float(plain["closing_since"]),
        )

    def window_objects(self, window_id: str) -> list[LandedObject]:
        objects: list[LandedObject] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :object)",
            ExpressionAttributeValues={":pk": _s(self._window_pk(window_id)), ":object": _s("object#")},
            ConsistentRead=True,
        ):
            objects.extend(LandedObject.from_item(item) for item in page.get("Items", []))
        return objects

    def finish_close(
        self, contract: str, window_id: str, execution_arn: str, objects: Sequence[LandedObject] = ()
    ) -> None:
        """Mark the window started; its objects are in the trigger record now, so their items go (the table
        then holds only open windows' objects)."""
        self._client.update_item(
            TableName=self._table,
            Key={"pk": _s(self._window_pk(window_id)), "sk": _s("#header")},
            UpdateExpression="SET #status = :started, execution_arn = :arn",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":started": _s("started"), ":arn": _s(execution_arn)},
        )
        self.forget_window(contract, window_id)
        pk = self._window_pk(window_id)
        keys = [{"pk": _s(pk), "sk": _s(f"object#{o.key}#{o.version_id or ''}")} for o in objects]
        for start in range(0, len(keys), 25):  # BatchWriteItem's limit
            requests = {self._table: [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]}
            for _ in range(_MAX_ATTEMPTS):
                unprocessed = self._client.batch_write_item(RequestItems=requests).get("UnprocessedItems")
                if not unprocessed:
                    break
                requests = unprocessed  # throttled: the rest again (whatever remains expires by TTL)

    def forget_window(self, contract: str, window_id: str) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": _s(self._pointer_pk(contract)), "sk": _s("pointer")},
                UpdateExpression="REMOVE open_windows.#w",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#w": window_id},
            )
        except ClientError as error:
            if not _is_conflict(error):
                raise

    # ---------------------------------------------------------------------------------- training state
    @staticmethod
    def _training_key(contract: str) -> dict[str, Any]:
        return {"pk": _s(f"training#{contract}"), "sk": _s("state")}

    def training_state(self, contract: str) -> TrainingState:
        item = self._get(f"training#{contract}", "state")
        plain = _plain(item) if item else {}
        return TrainingState(
            pending_records=int(plain.get("pending_records", 0)),
            generation=int(plain.get("generation", 0)),
            last_execution_arn=plain.get("last_execution_arn"),
            last_started_at=plain.get("last_started_at"),
        )

    def count_records(self, contract: str, batch_key: str, count: int, *, ttl_seconds: int) -> TrainingState:
        """Add `count` new valid records, once per micro-batch object (a retried batch is not re-counted)."""
        if count > 0:
            try:
                self._client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": {
                                    "pk": _s(f"counted#{batch_key}"),
                                    "sk": _s("batch"),
                                    "records": _n(count),
                                    "expires_at": _n(int(self._now()) + ttl_seconds),
                                },
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                        {
                            "Update": {
                                "TableName": self._table,
                                "Key": self._training_key(contract),
                                "UpdateExpression": "ADD pending_records :n",
                                "ExpressionAttributeValues": {":n": _n(count)},
                            }
                        },
                    ]
                )
            except ClientError as error:
                if not _is_conflict(error):
                    raise
        return self.training_state(contract)

    def record_training_started(
        self, contract: str, *, execution_arn: str, source: str, consumed_records: int
    ) -> bool:
        """Note a started execution (once per execution): the records it consumed are no longer pending."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._training_key(contract),
                UpdateExpression=(
                    "SET last_execution_arn = :arn, last_source = :source, last_started_at = :now "
                    "ADD generation :one, pending_records :consumed"
                ),
                ConditionExpression="attribute_not_exists(last_execution_arn) OR last_execution_arn <> :arn",
                ExpressionAttributeValues={
                    ":arn": _s(execution_arn),
                    ":source": _s(source),
                    ":now": _n(round(self._now(), 3)),
                    ":one": _n(1),
                    ":consumed": _n(-consumed_records),
                },
            )
        except ClientError as error:
            if _is_conflict(error):
                return False
            raise
        return True

    # ------------------------------------------------------------------------------------- cool-down
    def claim_cooldown(self, contract: str, claim_id: str, *, cooldown_seconds: int, force: bool) -> bool:
        """Take the alarm cool-down (the last start is older than `cooldown_seconds`, or it is ours)."""
        now = self._now()
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"pk": _s(f"cooldown#{contract}"), "sk": _s("retrain")},
            "UpdateExpression": "SET last_started_at = :now, claim_id = :id",
            "ExpressionAttributeValues": {":now": _n(round(now, 3)), ":id": _s(claim_id)},
        }
        if not force:
            arguments["ConditionExpression"] = (
                "attribute_not_exists(last_started_at) OR last_started_at <= :threshold OR claim_id = :id"
            )
            arguments["ExpressionAttributeValues"][":threshold"] = _n(round(now - cooldown_seconds, 3))
        try:
            self._client.update_item(**arguments)
        except ClientError as error:
            if _is_conflict(error):
                return False
            raise
        return True

    def release_cooldown(self, contract: str, claim_id: str) -> None:
        """Undo a claim whose start failed, so that the retried event can start the execution.

        No training started, so the cool-down is cleared rather than restored: a non-forced claim only
        succeeds when the previous start is older than the cool-down anyway."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": _s(f"cooldown#{contract}"), "sk": _s("retrain")},
                UpdateExpression="REMOVE last_started_at, claim_id",
                ConditionExpression="claim_id = :id",
                ExpressionAttributeValues={":id": _s(claim_id)},
            )
        except ClientError as error:
            if not _is_conflict(error):
                raise

    # ----------------------------------------------------------------------------- correction claims
    @staticmethod
    def _correction_key(prediction_id: str, reviewer: str) -> dict[str, Any]:
        return {"pk": _s(f"correction#{prediction_id}"), "sk": _s(f"reviewer#{reviewer}")}

    def claim_correction(self, prediction_id: str, reviewer: str, source_ref: str) -> Claim:
        """First claim of (prediction, reviewer) wins. The same source (a retried file or identical
        submission) and a claim that was never stored may claim again. Claims have no TTL: corrections stay
        unique."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._correction_key(prediction_id, reviewer),
                UpdateExpression=(
                    "SET source_ref = :ref, claimed_at = :now, #stored = if_not_exists(#stored, :f)"
                ),
                ConditionExpression="attribute_not_exists(pk) OR #stored = :f OR source_ref = :ref",
                ExpressionAttributeNames={"#stored": "stored"},  # a reserved word
                ExpressionAttributeValues={
                    ":ref": _s(source_ref),
                    ":now": _n(round(self._now(), 3)),
                    ":f": {"BOOL": False},
                },
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if _is_conflict(error):
                return Claim.DUPLICATE
            raise
        old = response.get("Attributes")
        if not old:
            return Claim.NEW
        return Claim.REPLAY if old.get("stored", {}).get("BOOL") else Claim.RETRY

    def mark_corrections_stored(self, keys: Iterable[tuple[str, str]], object_uri: str) -> None:
        for prediction_id, reviewer in keys:
            self._client.update_item(
                TableName=self._table,
                Key=self._correction_key(prediction_id, reviewer),
                UpdateExpression="SET #stored = :t, object_uri = :uri",
                ExpressionAttributeNames={"#stored": "stored"},
                ExpressionAttributeValues={":t": {"BOOL": True}, ":uri": _s(object_uri)},
            )
