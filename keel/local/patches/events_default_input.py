"""A target without an input transformer receives the whole event, `account` included.

moto rebuilds such events from a template that leaves `account` out, so a consumer that validates the
EventBridge envelope (Powertools' parser does) rejected every event delivered to an SQS target.
"""

from __future__ import annotations

from moto.events.utils import EventTemplateParser

from keel.local.extensions import Extension

TEMPLATE = (
    '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
    '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, '
    '"detail": <detail>}'
)


def install() -> None:
    EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = TEMPLATE


EXTENSION = Extension(
    name="events-default-input",
    kind="fix",
    what="targets without an input transformer receive the whole event, account included",
    why="moto's default template dropped `account`: envelope validation (Powertools' parser) rejected "
    "events delivered to SQS targets",
    upstream=True,
    install=install,
)
