"""The state table's conditional transitions, including lost races between concurrent invocations."""

from __future__ import annotations

from typing import Any

import pytest

from keel.feedback.names import state_table_name
from keel.feedback.state import Claim, LandedObject, StateStore
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
    window, open_windows = store.record_landed_object(
        "c", landed("a"), event_time=11, debounce_seconds=60, new_window_id="w1"
    )
    assert window == "w2" and open_windows == {"w2": 70.0}
    assert sorted(o.key for o in store.window_objects("w2")) == ["a", "b"]


def test_a_closing_window_takes_no_more_objects(store: StateStore) -> None:
    store.record_landed_object("c", landed("a"), event_time=10, debounce_seconds=60, new_window_id="w1")
    assert store.begin_close("w1") is not None
    window, _ = store.record_landed_object(
        "c", landed("b"), event_time=20, debounce_seconds=60, new_window_id="w2"
    )
    assert window == "w2"
    assert [o.key for o in store.window_objects("w1")] == ["a"]
    store.finish_close("c", "w1", "arn:execution/1", store.window_objects("w1"))
    assert store.begin_close("w1") is None
    assert store.window_objects("w1") == []  # recorded in the trigger record: the items are gone
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
