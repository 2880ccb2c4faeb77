"""Client of the local AWS's time controls (`keel.local.control_api`), for tests and the scenario:
advance the local clock, evaluate alarms now, fire a scheduled rule now. Never imports moto unless moto
is already mocking in this process (then alarms are evaluated on its in-process backend)."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from keel.local import control_api
from keel.local.runner.execution_status import is_loopback_http

TIMEOUT_SECONDS = 120  # an advance may fire many schedules and evaluate every alarm


class LocalClockError(RuntimeError):
    """The local AWS refused or did not answer a time control."""


def _call(endpoint_url: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    if not is_loopback_http(endpoint_url):
        raise LocalClockError(f"{endpoint_url} is not Keel's local AWS on loopback")
    url = endpoint_url.rstrip("/") + path
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback http only, checked above
        url, data=data, method="GET" if body is None else "POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        raise LocalClockError(f"{path}: HTTP {error.code}: {detail}") from error
    except (OSError, ValueError) as error:
        raise LocalClockError(f"{path}: no answer from {endpoint_url}: {error}") from error
    if not isinstance(answer, dict):
        raise LocalClockError(f"{path}: unexpected answer {str(answer)[:200]}")
    return answer


def _where(account: str | None, region: str | None) -> dict[str, str]:
    return {k: v for k, v in (("account", account), ("region", region)) if v}


def now(endpoint_url: str) -> datetime:
    """The local AWS's time."""
    return datetime.fromisoformat(str(_call(endpoint_url, control_api.CLOCK_PATH)["now"]))


def advance(endpoint_url: str, seconds: float) -> dict[str, Any]:
    """Move the local clock forward; the due schedules fire and the due alarms are evaluated. The answer:
    `now`, `fired` (the Scheduled Events sent) and `alarms` (states of the alarms evaluated)."""
    return _call(endpoint_url, control_api.ADVANCE_PATH, {"seconds": seconds})


def fire_rule(
    endpoint_url: str,
    rule: str,
    *,
    event_bus: str = "default",
    account: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """Send the rule's Scheduled Event to its targets now; the event."""
    body = {"rule": rule, "event_bus": event_bus, **_where(account, region)}
    return dict(_call(endpoint_url, control_api.FIRE_PATH, body)["event"])


def _moto_is_mocking() -> bool:
    models = sys.modules.get("moto.core.models")  # loaded only if moto is in use in this process
    stubber = getattr(models, "botocore_stubber", None)
    return bool(getattr(stubber, "enabled", False))


def _in_process(region: str, names: list[str] | None, at: datetime | None) -> dict[str, str | None]:
    from datetime import UTC

    from keel.local import alarm_evaluation

    for _account, backend_region, backend in alarm_evaluation.backends():
        if backend_region == region and (names is None or set(names) <= set(backend.alarms)):
            return alarm_evaluation.evaluate(backend, at or datetime.now(UTC), names=names)
    raise LocalClockError(f"no alarm named {', '.join(names or [])} in moto's {region} backends")


def evaluate_alarms(
    target: Any,
    names: list[str] | None = None,
    *,
    at: datetime | None = None,
    account: str | None = None,
    region: str | None = None,
) -> dict[str, str | None]:
    """Evaluate alarms now (or at `at`), as CloudWatch's next evaluation would; each alarm's state
    (None: not evaluated locally). `target`: the local AWS's endpoint URL, or a CloudWatch client of it
    (or of moto mocking in this process)."""
    if not isinstance(target, str):
        endpoint = getattr(target.meta, "endpoint_url", None)
        region = region or target.meta.region_name
        if not is_loopback_http(endpoint) and _moto_is_mocking():
            return _in_process(str(region), names, at)
        target = str(endpoint)
    body: dict[str, Any] = {**_where(account, region)}
    if names is not None:
        body["alarm_names"] = names
    if at is not None:
        body["time"] = at.isoformat()
    return dict(_call(target, control_api.EVALUATE_PATH, body)["states"])


def evaluate_alarm(target: Any, name: str, *, at: datetime | None = None) -> str | None:
    """Evaluate one alarm now (see `evaluate_alarms`); its state."""
    return evaluate_alarms(target, [name], at=at).get(name)
