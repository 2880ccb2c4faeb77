"""The state table's conditional transitions, including lost races between concurrent invocations."""

from __future__ import annotations

from typing import Any

import pytest

from keel.feedback.names import state_table_name
from keel.feedback.state import (
    FILL_GRACE_SECONDS,
    Claim,
    LandedObject,
    Recorded,
    RecordInProgressError,
    StateStore,
)
from tests.unit.feedback.conftest import Aws


@pytest.fixture
def store(aws: Aws) -> StateStore:
    return StateStore(aws.client("dynamodb"), state_table_name(aws.config), clock=lambda: 1000.0)


def landed(key: str) -> LandedObject:
    return LandedObject("raw", key, "v", 1, "e", f"event-{key}", "2026-11-02T10:00:00+00:00")


def test_a_lost_race_to_open_a_window_joins_the_winners_window(aws: Aws, store: StateStore) -> None:
    rival = StateStore(aws.client("dynamodb"), store._table, clock=lambda: 1000.0)
    real = store._client

    class Racing:
        """Lets the rival open its window between our read of the pointer and our write."""

        raced = False

        def __getattr__(self, name: str) -> Any:
            if name == "transact_write_items" and not Racing.raced:
                Racing.raced = True
                rival.record_landed_object(
                    "c", landed("b"), event_time=10, debounce_seconds=60, new_window_id="w2"
                )
            return getattr(real, name)

    store._client = Racing()
    recorded = store.record_landed_object(
        "c", landed("a"), event_time=11, debounce_seconds=60, new_window_id="w1"
    )
    assert recorded == Recorded("w2", {"w2": 70.0})
    assert sorted(o.key for o in store.window_objects("w2")) == ["a", "b"]


def test_a_closing_window_takes_no_more_objects(store: StateStore) -> None:
    store.record_landed_object("c", landed("a"), event_time=10, debounce_seconds=60, new_window_id="w1")
    assert store.begin_close("w1") is not None
    recorded = store.record_landed_object(
        "c", landed("b"), event_time=20, debounce_seconds=60, new_window_id="w2"
    )
    assert recorded.window_id == "w2" and recorded.new
    assert [o.key for o in store.window_objects("w1")] == ["a"]
    store.finish_close("c", "w1", "arn:execution/1")
    assert store.begin_close("w1") is None
    assert set(store.open_windows("c")) == {"w2"}


def test_correction_claims(store: StateStore) -> None:
    assert store.claim_correction("p", "r", "src-1") is Claim.NEW
    assert store.claim_correction("p", "r", "src-2") is Claim.RETRY  # never stored: may be taken over
    store.mark_corrections_stored([("p", "r")], "s3://b/k")
    assert store.claim_correction("p", "r", "src-2") is Claim.REPLAY
    assert store.claim_correction("p", "r", "src-3") is Claim.DUPLICATE
    assert store.claim_correction("p", "other", "src-3") is Claim.NEW


def test_cool_down_claims(aws: Aws) -> None:
    now = [1000.0]
    store = StateStore(aws.client("dynamodb"), state_table_name(aws.config), clock=lambda: now[0])
    assert store.claim_cooldown("c", "e1", cooldown_seconds=60, force=False)
    assert store.claim_cooldown("c", "e1", cooldown_seconds=60, force=False)  # the same event again
    assert not store.claim_cooldown("c", "e2", cooldown_seconds=60, force=False)
    store.release_cooldown("c", "e1")
    assert store.claim_cooldown("c", "e2", cooldown_seconds=60, force=False)
    now[0] += 61
    assert store.claim_cooldown("c", "e3", cooldown_seconds=60, force=False)
    assert store.claim_cooldown("c", "e4", cooldown_seconds=60, force=True)


def test_records_are_counted_once_per_batch_and_consumed_by_a_training(store: StateStore) -> None:
    assert store.count_records("c", "b1", 5, ttl_seconds=60).pending_records == 5
    assert store.count_records("c", "b1", 5, ttl_seconds=60).pending_records == 5
    assert store.count_records("c", "b2", 3, ttl_seconds=60).pending_records == 8
    assert store.record_training_started("c", execution_arn="arn:1", source="kinesis", consumed_records=8)
    assert not store.record_training_started("c", execution_arn="arn:1", source="kinesis", consumed_records=8)
    state = store.training_state("c")
    assert (state.pending_records, state.generation, state.last_execution_arn) == (0, 1, "arn:1")


class CountingClient:
    """The DynamoDB client, counting calls by operation."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.client, name)


def test_an_object_costs_three_writes_while_the_cached_pointer_is_right(aws: Aws, store: StateStore) -> None:
    counting = CountingClient(store._client)
    store._client = counting
    store.record_landed_object("c", landed("a"), event_time=10, debounce_seconds=60, new_window_id="w1")
    # No pointer yet: read it, open the window (pointer + header), claim the version, put the object.
    assert counting.calls == ["get_item", "transact_write_items", "put_item", "put_item"]
    counting.calls.clear()
    recorded = store.record_landed_object(
        "c", landed("b"), event_time=20, debounce_seconds=60, new_window_id="w2"
    )
    assert recorded == Recorded("w1", {"w1": 70.0})
    assert counting.calls == ["update_item", "put_item", "put_item"]  # join, claim (marker), object


def test_a_redelivery_is_recorded_once_whichever_window_is_open(store: StateStore) -> None:
    assert store.record_landed_object(
        "c", landed("a"), event_time=10, debounce_seconds=60, new_window_id="w1"
    ).new
    again = store.record_landed_object(
        "c", landed("a"), event_time=10, debounce_seconds=60, new_window_id="w9"
    )
    assert again == Recorded("w1", {"w1": 70.0}, new=False)
    assert store.begin_close("w1") is not None
    store.finish_close("c", "w1", "arn:execution/1")
    store.record_landed_object("c", landed("b"), event_time=80, debounce_seconds=60, new_window_id="w2")
    # Redelivered after its window started, while another window is open (its time is within it).
    late = store.record_landed_object(
        "c", landed("a"), event_time=10, debounce_seconds=60, new_window_id="w3"
    )
    assert late.window_id == "w1" and not late.new
    assert [o.key for o in store.window_objects("w2")] == ["b"]
    header = store._get("window#w2", "#header")
    assert header is not None and header["joined"] == {"N": "1"}  # the redelivery's join was undone


def test_a_container_with_an_old_pointer_joins_the_window_another_opened(aws: Aws, store: StateStore) -> None:
    other = StateStore(aws.client("dynamodb"), store._table, clock=lambda: 1000.0)
    store.record_landed_object("c", landed("a"), event_time=10, debounce_seconds=60, new_window_id="w1")
    assert store.begin_close("w1") is not None  # another container closes w1 and opens w2
    other.record_landed_object("c", landed("b"), event_time=75, debounce_seconds=60, new_window_id="w2")
    # This container still believes in w1: its join is refused, it reads the pointer and joins w2.
    recorded = store.record_landed_object(
        "c", landed("c"), event_time=30, debounce_seconds=60, new_window_id="w3"
    )
    assert recorded.window_id == "w2" and set(recorded.open_windows) == {"w1", "w2"}
    assert sorted(o.key for o in store.window_objects("w2")) == ["b", "c"]


def test_a_claim_whose_object_never_came_is_taken_over_after_the_grace(aws: Aws) -> None:
    now = [1000.0]
    store = StateStore(aws.client("dynamodb"), state_table_name(aws.config), clock=lambda: now[0])
    real = store._client

    class CrashAfterClaim:
        """The writer dies between its claim (marker) and its object."""

        def __getattr__(self, name: str) -> Any:
            if name == "put_item":

                def put_item(**arguments: Any) -> Any:
                    if arguments["Item"]["pk"]["S"].startswith("window#"):
                        raise RuntimeError("crashed")
                    return real.put_item(**arguments)

                return put_item
            return getattr(real, name)

    store._client = CrashAfterClaim()
    with pytest.raises(RuntimeError, match="crashed"):
        store.record_landed_object("c", landed("a"), event_time=10, debounce_seconds=60, new_window_id="w1")
    store._client = real
    # At once, the claim may be a concurrent delivery still writing: retry later.
    with pytest.raises(RecordInProgressError):
        store.record_landed_object("c", landed("a"), event_time=10, debounce_seconds=60, new_window_id="w2")
    now[0] += FILL_GRACE_SECONDS
    recorded = store.record_landed_object(
        "c", landed("a"), event_time=10, debounce_seconds=60, new_window_id="w2"
    )
    assert recorded.new and recorded.window_id == "w1"
    assert [o.key for o in store.window_objects("w1")] == ["a"]
    assert not store.record_landed_object(
        "c", landed("a"), event_time=10, debounce_seconds=60, new_window_id="w3"
    ).new
