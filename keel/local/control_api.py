"""The local AWS's time controls, under moto's admin path (server side). Tests and the scenario move time
instead of sleeping; every body and answer is JSON.

- `GET  /moto-api/keel/clock` → `{"now", "offset_seconds"}`: the local clock.
- `POST /moto-api/keel/clock/advance` `{"seconds": N}` → `{"now", "offset_seconds", "fired", "alarms"}`:
  moves the clock forward, then fires the schedules that came due and evaluates the alarms that came due.
- `POST /moto-api/keel/cloudwatch/evaluate` `{"alarm_names"?: [...], "time"?: ISO 8601}` →
  `{"now", "states": {name: state or null}}`: evaluates the named alarms (default: all) now (or at
  `time`), composites after metric alarms; null = not evaluated locally (e.g. anomaly detection).
- `POST /moto-api/keel/events/fire` `{"rule": NAME, "event_bus"?: "default"}` → `{"event"}`: sends the
  rule's Scheduled Event to its targets now.
`account` and `region` in a body choose the account and region (default: the server's).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

PREFIX = "/moto-api/keel/"
CLOCK_PATH = PREFIX + "clock"
ADVANCE_PATH = PREFIX + "clock/advance"
EVALUATE_PATH = PREFIX + "cloudwatch/evaluate"
FIRE_PATH = PREFIX + "events/fire"
MAX_BODY = 1 << 20


class ControlError(Exception):
    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def _clock(_body: dict[str, Any], _where: tuple[str, str]) -> dict[str, Any]:
    from keel.local.timekeeper import CLOCK

    return {"now": CLOCK.now().isoformat(), "offset_seconds": CLOCK.offset_seconds}


def _advance(body: dict[str, Any], _where: tuple[str, str]) -> dict[str, Any]:
    from keel.local import timekeeper

    seconds = body.get("seconds")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise ControlError("400 Bad Request", '"seconds" must be a number >= 0')
    timekeeper.tick()  # rules and alarms created since the last tick start on the old time
    timekeeper.CLOCK.advance(float(seconds))
    result = timekeeper.tick().as_json()
    return result | {"offset_seconds": timekeeper.CLOCK.offset_seconds}


def _evaluate(body: dict[str, Any], where: tuple[str, str]) -> dict[str, Any]:
    from moto.cloudwatch.models import cloudwatch_backends

    from keel.local import alarm_evaluation
    from keel.local.timekeeper import CLOCK

    names = body.get("alarm_names")
    if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
        raise ControlError("400 Bad Request", '"alarm_names" must be a list of alarm names')
    try:
        now = datetime.fromisoformat(body["time"]) if body.get("time") else CLOCK.now()
    except (TypeError, ValueError) as error:
        raise ControlError("400 Bad Request", f'"time": {error}') from None
    account, region = where
    try:
        states = alarm_evaluation.evaluate(cloudwatch_backends[account][region], now, names=names)
    except KeyError as error:
        raise ControlError("404 Not Found", str(error).strip("'\"")) from None
    return {"now": alarm_evaluation.as_utc(now).isoformat(), "states": states}


def _fire(body: dict[str, Any], where: tuple[str, str]) -> dict[str, Any]:
    from keel.local import event_schedules
    from keel.local.timekeeper import CLOCK

    name, bus = body.get("rule"), body.get("event_bus") or "default"
    if not isinstance(name, str) or not name:
        raise ControlError("400 Bad Request", '"rule" (a rule name) is required')
    try:
        rule = event_schedules.find_rule(*where, name, bus)
    except KeyError as error:
        raise ControlError("404 Not Found", str(error).strip("'\"")) from None
    return {"event": event_schedules.fire(rule, CLOCK.now())}


Handler = Callable[[dict[str, Any], tuple[str, str]], dict[str, Any]]
ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", CLOCK_PATH): _clock,
    ("POST", ADVANCE_PATH): _advance,
    ("POST", EVALUATE_PATH): _evaluate,
    ("POST", FIRE_PATH): _fire,
}


def _body(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        raise ControlError("413 Payload Too Large", "body too large")
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError as error:
        raise ControlError("400 Bad Request", f"body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise ControlError("400 Bad Request", "body must be a JSON object")
    return body


def handles(path: str | None) -> bool:
    return bool(path and path.startswith(PREFIX))


def answer(
    environ: dict[str, Any], start_response: Callable[..., Any], *, account: str, region: str
) -> Iterable[bytes]:
    route = ROUTES.get((environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")))
    try:
        if route is None:
            raise ControlError("404 Not Found", f"no Keel control at {environ.get('PATH_INFO')}")
        body = _body(environ)
        where = (str(body.get("account") or account), str(body.get("region") or region))
        status, document = "200 OK", route(body, where)
    except ControlError as error:
        status, document = error.status, {"message": str(error)}
    data = json.dumps(document, default=str).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
