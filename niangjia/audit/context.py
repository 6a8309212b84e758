"""The request in progress, as seen by code that writes audit rows.

Set by RequestContextMiddleware; background jobs set it themselves with ``bind``.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_ip: str | None = None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "niangjia_request_context", default=None
)


def current() -> RequestContext:
    ctx = _current.get()
    if ctx is None:
        ctx = RequestContext(request_id=new_request_id())
    return ctx


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def bind(ctx: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
