"""Settings: the environment the stack sets is the environment the handlers parse (one derivation)."""

from __future__ import annotations

import pytest

from keel.config import load_environment
from keel.feedback.names import FeedbackFunction
from keel.feedback.settings import SETTINGS, SettingsError, function_environment, settings_for


@pytest.mark.parametrize("function", list(FeedbackFunction))
@pytest.mark.parametrize("env_name", ["local", "dev", "prod"])
def test_the_environment_round_trips_into_typed_settings(function: FeedbackFunction, env_name: str) -> None:
    config = load_environment(env_name)
    environment = function_environment(config, function)
    parsed = SETTINGS[function].from_environ(environment)
    assert parsed == settings_for(config, function)
    assert environment["POWERTOOLS_SERVICE_NAME"] == function.value
    assert all(isinstance(v, str) for v in environment.values())


def test_settings_follow_the_feedback_config() -> None:
    config = load_environment("dev")
    data = settings_for(config, FeedbackFunction.DATA_TRIGGER)
    assert data.debounce_seconds == config.feedback.debounce_seconds  # type: ignore[attr-defined]
    assert data.max_object_bytes == config.feedback.max_object_mb * 2**20  # type: ignore[attr-defined]
    performance = settings_for(config, FeedbackFunction.PERFORMANCE_TRIGGER)
    assert performance.alarm_prefixes == ("keel-dev-drift-", "keel-dev-model-quality-")  # type: ignore[attr-defined]
    assert performance.retrain_cooldown_seconds == config.feedback.retrain_cooldown_minutes * 60  # type: ignore[attr-defined]


def test_a_missing_or_invalid_variable_is_named() -> None:
    environment = function_environment(load_environment("local"), FeedbackFunction.DATA_TRIGGER)
    del environment["KEEL_STATE_TABLE"]
    environment["KEEL_DEBOUNCE_SECONDS"] = "soon"
    with pytest.raises(
        SettingsError, match=r"KEEL_STATE_TABLE: Field required.*KEEL_DEBOUNCE_SECONDS"
    ) as error:
        SETTINGS[FeedbackFunction.DATA_TRIGGER].from_environ(environment)
    assert "data_trigger" in str(error.value)
