from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from niangjia.audit import context

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9\-]{8,64}$")


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Gives every request an id (or keeps a sane X-Request-ID) for logs and audit rows."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # From META, the header's WSGI name: ``request.headers`` would first build a mapping
        # of every header, on every request, for this one.
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else context.new_request_id()
        ctx = context.RequestContext(request_id=request_id, client_ip=client_ip(request))
        request.request_id = request_id  # type: ignore[attr-defined]
        with context.bind(ctx):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.current().request_id
        return True


class PermissionDeniedAuditMiddleware:
    """Every view that answers 403 by raising PermissionDenied leaves an audit row.

    Django's own handler still renders the 403 page; this only records the refusal. The
    REST API records its refusals through the same function (``audit_permission_denied``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied):
            from niangjia.audit.services import audit_permission_denied

            audit_permission_denied(request, exception)
