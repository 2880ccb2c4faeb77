"""The drift publisher's Lambda handler in-process against moto, with the environment the stack gives it."""

from __future__ import annotations

import pytest

from keel.monitoring.runtime_settings import KMS_KEY_VARIABLE, publisher_settings
from tests.unit.monitoring.world import World, serve


class Context:
    function_name = "keel-local-drift-publisher"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:keel-local-drift-publisher"
    aws_request_id = "request-1"


def test_the_schedule_runs_a_check(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    environ = publisher_settings(world.config).to_environ() | {
        KMS_KEY_VARIABLE: "arn:aws:kms:us-east-1:1:key/k"
    }
    for name, value in {**environ, "POWERTOOLS_TRACE_DISABLED": "1"}.items():
        monkeypatch.setenv(name, value)
    from lambdas.drift_publisher import handler

    monkeypatch.setattr(handler, "_publisher", [])
    serve(world, world.register_version("exec-1"))
    scheduled = {"id": "e", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    result = handler.lambda_handler(scheduled, Context())
    assert result["status"] == "nothing-to-check" and "no captured traffic" in result["reason"]
    assert handler.lambda_handler({"id": "x", "detail-type": "Other"}, Context())["status"] == "ignored"
