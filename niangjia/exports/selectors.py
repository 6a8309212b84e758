"""Reads of exports for the pages: the approval queue, a person's requests and files."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.exports.choices import RequestState
from niangjia.exports.models import ExportFile, ExportRequest
from niangjia.orgs.models import Union


def requests_to_decide(*, user: Any) -> QuerySet[ExportRequest]:
    """Pending requests ``user`` may decide (``services.may_decide``), oldest first: from
    unions strictly below one where the user is an administrator (at the root, the root's
    own too), not the user's own."""
    condition = Q(pk__in=[])
    for path in paths_for(user, Action.REVEAL):
        below = Q(union__path__startswith=path)
        if len(path) > Union.steplen:
            below &= ~Q(union__path=path)
        condition |= below
    return (
        ExportRequest.objects.restrict(user, Action.REVEAL)
        .filter(condition, state=RequestState.PENDING, expires_at__gt=timezone.now())
        .exclude(requester_id=user.pk)
        .select_related("requester", "union")
        .order_by("created_at", "id")
    )


def requests_of(*, user: Any, limit: int = 50) -> list[ExportRequest]:
    """The user's own requests, newest first."""
    return list(
        ExportRequest.objects.restrict(user, Action.VIEW)
        .filter(requester_id=getattr(user, "pk", None))
        .select_related("union", "approver")
        .order_by("-created_at", "-id")[:limit]
    )


def files_of(*, user: Any, limit: int = 50) -> list[ExportFile]:
    """The user's stored exports, newest first."""
    return list(
        ExportFile.objects.restrict(user, Action.EXPORT)
        .select_related("job")
        .order_by("-created_at", "-id")[:limit]
    )
