# ruff: noqa: ARG002 - the no-op provider implements Powertools' interface and ignores its arguments
"""The handlers' Powertools Tracer, without loading the X-Ray SDK where tracing is off.

In Lambda (active tracing) this is Powertools' own `Tracer()`, unchanged. Where Powertools disables tracing
(outside Lambda, `POWERTOOLS_TRACE_DISABLED`, SAM/Chalice local: tests, the local runner), Powertools would
still import `aws_xray_sdk.core`, whose recorder builds a centralised sampler with a botocore session outside
Lambda (0.2-0.4 s per process) only to stay disabled; there it gets a provider that does nothing instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        return None


class _NoTracing(BaseProvider):
    """What the disabled X-Ray recorder amounts to: subsegments that record nothing."""

    @contextlib.contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoSegment()

    @contextlib.asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> AsyncGenerator[BaseSegment, None]:
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None


def lambda_tracer() -> Tracer:
    """Powertools' Tracer; with a do-nothing provider where Powertools would disable tracing anyway."""
    # Powertools' own decision (same environment variables), so tracing is on exactly where it was.
    if Tracer._is_tracer_disabled():
        return Tracer(disabled=True, provider=_NoTracing())
    return Tracer()
