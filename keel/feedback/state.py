"""The feedback loops' durable state in one DynamoDB table (`pk`, `sk`, TTL attribute `expires_at`).

Every transition is a conditional write, so concurrent invocations and redeliveries agree on one outcome:

- debounce windows of the data trigger: a pointer to the current window per contract, one header and one
  item per object of each window (kept after the start, until the TTL), and the open windows (id -> closing
  time) on the pointer; plus one marker per landed object version, which names its window (the event's
  idempotency record: a redelivery finds it whichever window is open by then);
- the training state per contract: valid streamed records since the last training, and the last execution;
- the alarm cool-down per contract;
- claims of human corrections (prediction id + reviewer), which make them unique.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE = "pk", "sk", "expires_at"  # the table's schema (stack and tests)
STATE_TTL_SECONDS = 30 * 24 * 3600  # windows and markers are kept a month for inspection, then expire
# A closing window waits this long for objects whose join registered but whose item is not written yet
# (a joiner between its writes, or one that crashed there: its retry takes over its claim after this long
# and lands in the window open then).
FILL_GRACE_SECONDS = 120
_MAX_ATTEMPTS = 8  # optimistic-concurrency retries before the invocation fails (and is retried)
_CONFLICT_CODES = {"ConditionalCheckFailedException", "TransactionCanceledException"}


class StateConflictError(RuntimeError):
    """Concurrent writers kept winning; the invocation fails so that the platform retries it."""


class RecordInProgressError(StateConflictError):
    """Another delivery of the same object is recording it right now; the platform retries this one."""


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
class Recorded:
    """Where a landed object went: `new` False for a redelivery (the object was recorded before)."""

    window_id: str | None  # None: a redelivery whose marker does not say (not returned by the table)
    open_windows: dict[str, float]
    new: bool = True


@dataclass(frozen=True)
class _Pointer:
    window_id: str
    closes_at: float
    open_windows: dict[str, float]


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
        # The last pointer seen per contract (this instance lives as long as its Lambda container): a hint
        # that saves reading the pointer for each object. Every write it leads to is conditional on the
        # table's state, and a failed one reads the pointer again.
        self._pointers: dict[str, _Pointer] = {}

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
    ) -> Recorded:
        """Add the object to the open window that covers `event_time`, or open a new window with it; once per
        object version (a redelivery is recognised by the object's marker, whichever window holds it).

        Costs two writes when the cached pointer is still right (the usual case): the join, then the object
        with its marker; otherwise one pointer read more, and one transaction to open a window.
        """
        pointer = self._pointers.get(contract)
        fresh = pointer is None
        if fresh:
            pointer = self._read_pointer(contract)
        refused: str | None = None  # the window that refused the join (closing): do not try it again
        for _ in range(_MAX_ATTEMPTS):
            if pointer is not None and event_time < pointer.closes_at and pointer.window_id != refused:
                recorded = self._try_join(pointer, landed)
                if recorded is not None:
                    return recorded
                refused = pointer.window_id
            if not fresh:  # the cached pointer is out of date: another container moved on
                pointer, fresh = self._read_pointer(contract), True
                continue
            closes_at = event_time + debounce_seconds
            recorded = self._try_open(contract, pointer, new_window_id, event_time, closes_at, landed)
            if recorded is not None:
                return recorded
            pointer = self._read_pointer(contract)  # lost the race to open: join the winner's window
        raise StateConflictError(f"could not record {landed.uri} in a debounce window of {contract}")

    def _read_pointer(self, contract: str) -> _Pointer | None:
        item = self._get(self._pointer_pk(contract), "pointer")
        if not item:
            self._pointers.pop(contract, None)
            return None
        plain = _plain(item)
        pointer = _Pointer(
            window_id=plain["window_id"],
            closes_at=float(plain["closes_at"]),
            open_windows={k: float(v) for k, v in (plain.get("open_windows") or {}).items()},
        )
        self._pointers[contract] = pointer
        return pointer

    def _try_join(self, pointer: _Pointer, landed: LandedObject) -> Recorded | None:
        """Register the join on the header (conditional on the window being open), claim the object version
        (its marker), then put the object: three single-item writes.

        No transaction: concurrent joiners of one window would make transactions on its header conflict (and
        retry), while an ADD never fails for them. Closing counts the registered joins and waits until that
        many objects are there (`begin_close`). None: the window is closing (or gone)."""
        key = {"pk": _s(self._window_pk(pointer.window_id)), "sk": _s("#header")}
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
                return None  # the window is closing: the object opens the next one
            raise
        try:
            claimed = self._claim(pointer.window_id, landed)
            if claimed is None:
                self._put_object(pointer.window_id, landed)
        except Exception:  # a failed write, or a concurrent delivery still recording it (retried later)
            self._unjoin(key)
            raise
        if claimed is not None:  # recorded before: this join is not an object
            self._unjoin(key)
            return Recorded(claimed or None, dict(pointer.open_windows), new=False)
        return Recorded(pointer.window_id, dict(pointer.open_windows))

    def _unjoin(self, key: dict[str, Any]) -> None:
        # Best effort: without it the close waits FILL_GRACE_SECONDS for an object that never comes. The
        # caller's outcome (or original error) is what counts.
        with contextlib.suppress(ClientError):
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="ADD joined :minus",
                ExpressionAttributeValues={":minus": _n(-1)},
            )

    def _marker_key(self, landed: LandedObject) -> dict[str, Any]:
        return {
            "pk": _s(f"landed#{landed.bucket}/{landed.key}"),
            "sk": _s(f"version#{landed.version_id or 'event:' + landed.event_id}"),
        }

    def _claim(self, window_id: str, landed: LandedObject) -> str | None:
        """Claim the object version for `window_id` (its marker, the event's idempotency record): None if
        claimed now, else the window that holds it ("" if the table does not say).

        A marker whose object never came (its writer crashed between the two puts) is taken over once it is
        older than FILL_GRACE_SECONDS (the closer of its window has stopped waiting for it by then); a younger
        one may be a concurrent delivery still writing: `RecordInProgressError`, so the event is retried."""
        now = round(self._now(), 3)
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **self._marker_key(landed),
                    "window_id": _s(window_id),
                    "claimed_at": _n(now),
                    "expires_at": self._expires(),
                },
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _is_conflict(error):
                raise
            item: Mapping[str, Any] = error.response.get("Item") or {}  # type: ignore[assignment]
            old = _plain(item)
            holder = str(old.get("window_id", ""))
            if not holder or self._get(self._window_pk(holder), self._object_sk(landed)) is not None:
                return holder
            if now - float(old.get("claimed_at", 0)) < FILL_GRACE_SECONDS:
                raise RecordInProgressError(f"{landed.uri} is being recorded in {holder}") from error
            try:  # take over the crashed writer's claim (once: the condition names its window)
                self._client.update_item(
                    TableName=self._table,
                    Key=self._marker_key(landed),
                    UpdateExpression="SET window_id = :new, claimed_at = :now",
                    ConditionExpression="window_id = :old",
                    ExpressionAttributeValues={
                        ":new": _s(window_id),
                        ":now": _n(now),
                        ":old": _s(holder),
                    },
                )
            except ClientError as taken:
                if _is_conflict(taken):
                    raise RecordInProgressError(f"{landed.uri} is being recorded again") from taken
                raise
        return None

    def _put_object(self, window_id: str, landed: LandedObject) -> None:
        self._client.put_item(
            TableName=self._table, Item=self._object_item(self._window_pk(window_id), landed)
        )

    @staticmethod
    def _object_sk(landed: LandedObject) -> str:
        # An unversioned bucket's object is identified by its event (two writes are two objects).
        return f"object#{landed.key}#{landed.version_id or 'event:' + landed.event_id}"

    def _object_item(self, pk: str, landed: LandedObject) -> dict[str, Any]:
        return {
            "pk": _s(pk),
            "sk": _s(self._object_sk(landed)),
            "expires_at": self._expires(),
            **landed.to_item(),
        }

    def _try_open(
        self,
        contract: str,
        pointer: _Pointer | None,
        window_id: str,
        opened_at: float,
        closes_at: float,
        landed: LandedObject,
    ) -> Recorded | None:
        """Move the pointer to a new window that counts the object (one transaction of two items), then claim
        and put the object as a joiner does; None: lost the race to open."""
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
            values[":old"] = _s(pointer.window_id)
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
        open_windows = dict(pointer.open_windows) if pointer else {}
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
                ]
            )
        except ClientError as error:
            if _is_conflict(error):
                return None
            raise
        open_windows[window_id] = closes_at
        opened = _Pointer(window_id, closes_at, open_windows)
        self._pointers[contract] = opened
        # The header counts this object already (joined = 1): claim it and put it as a joiner does.
        key = {"pk": _s(pk), "sk": _s("#header")}
        try:
            claimed = self._claim(window_id, landed)
            if claimed is None:
                self._put_object(window_id, landed)
        except ClientError:
            self._unjoin(key)
            raise
        if claimed is not None:
            self._unjoin(key)
            return Recorded(claimed or None, dict(open_windows), new=False)
        return Recorded(window_id, dict(open_windows))

    def open_windows(self, contract: str) -> dict[str, float]:
        pointer = self._read_pointer(contract)
        return dict(pointer.open_windows) if pointer else {}

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

    def finish_close(self, contract: str, window_id: str, execution_arn: str) -> None:
        """Mark the window started. Its object items stay until their TTL: a redelivery that finds an object's
        marker tells a recorded object (item there) from a writer that crashed before writing it (none)."""
        self._client.update_item(
            TableName=self._table,
            Key={"pk": _s(self._window_pk(window_id)), "sk": _s("#header")},
            UpdateExpression="SET #status = :started, execution_arn = :arn",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":started": _s("started"), ":arn": _s(execution_arn)},
        )
        self.forget_window(contract, window_id)

    def forget_window(self, contract: str, window_id: str) -> None:
        cached = self._pointers.get(contract)
        if cached is not None and window_id in cached.open_windows:
            remaining = {k: v for k, v in cached.open_windows.items() if k != window_id}
            self._pointers[contract] = _Pointer(cached.window_id, cached.closes_at, remaining)
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
