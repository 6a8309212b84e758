"""Reads of the member registry, always through the scope choke point.

Used by the web pages and the API alike. Every function taking ``user`` starts from
``Model.objects.restrict(user, action)``; filters naming another object can only narrow what
the user already sees.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.members.choices import ApplicationStatus, Household
from niangjia.members.models import JoinApplication, JoinCeremony, Member, Transfer
from niangjia.orgs.models import Union
from niangjia.orgs.selectors import CursorPage

# A member-list cursor: the last row's union path and id, ``<path>-<id>``.
_MEMBER_CURSOR_RE = re.compile(
    rf"^((?:[{re.escape(Union.alphabet)}]{{{Union.steplen}}})+)-([1-9][0-9]{{0,18}})$"
)
INVALID_CURSOR = "翻页游标无效，请从第一页重新开始"


# --- Members


def member_list(
    *,
    user: Any,
    action: str = Action.VIEW,
    status: str | None = None,
    employment_form: str | None = None,
    migrant: bool | None = None,
    joined_from: datetime.date | None = None,
    joined_to: datetime.date | None = None,
    within: Union | None = None,
    employer_id: int | None = None,
) -> QuerySet[Member]:
    """Members ``user`` may ``action``, in keyset order (holding union's path, then id).

    ``migrant`` keeps members with a rural (True) or urban (False) household registration;
    ``joined_from`` / ``joined_to`` bound the join date (both included); ``within`` keeps the
    members held anywhere in that union's subtree."""
    members = Member.objects.restrict(user, action).select_related("union", "employer")
    if status:
        members = members.filter(status=status)
    if employment_form:
        members = members.filter(employment_form=employment_form)
    if migrant is not None:
        members = members.filter(household=Household.RURAL if migrant else Household.URBAN)
    if joined_from is not None:
        members = members.filter(join_date__gte=joined_from)
    if joined_to is not None:
        members = members.filter(join_date__lte=joined_to)
    if within is not None:
        members = members.filter(union_path__startswith=within.path)
    if employer_id is not None:
        members = members.filter(employer_id=employer_id)
    return members.order_by("union_path", "id")


def member_cursor(member: Member) -> str:
    return f"{member.union_path}-{member.pk}"


def member_page(
    rows: QuerySet[Member], *, cursor: str | None = None, limit: int = 50
) -> CursorPage[Member]:
    """One page of ``rows`` (ordered as ``member_list`` orders them) after ``cursor``, the
    ``next_cursor`` of the previous page. The condition reads the (union_path, id) index
    from the cursor on, so page 10,000 of ten million members costs what page 1 costs."""
    if cursor:
        match = _MEMBER_CURSOR_RE.match(cursor)
        if match is None:
            raise ValidationError({"cursor": INVALID_CURSOR})
        path, pk = match.group(1), int(match.group(2))
        rows = rows.filter(
            Q(union_path__gte=path), Q(union_path__gt=path) | Q(union_path=path, pk__gt=pk)
        )
    items = list(rows[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return CursorPage(items=items, next_cursor=member_cursor(items[-1]) if more else None)


def member_find(
    *, user: Any, id_hash: str | None = None, phone_hash: str | None = None
) -> QuerySet[Member]:
    """Exact look-up by the keyed hash of an ID number or of a phone, within the scope."""
    members = Member.objects.restrict(user, Action.VIEW).select_related("union", "employer")
    if id_hash is not None:
        members = members.filter(id_hash=id_hash)
    if phone_hash is not None:
        members = members.filter(phone_hash=phone_hash)
    if id_hash is None and phone_hash is None:
        return members.none()
    return members.order_by("union_path", "id")


# --- Join applications


def application_list(
    *,
    user: Any,
    action: str = Action.VIEW,
    status: str | None = None,
    overdue: bool | None = None,
    union: Union | None = None,
) -> QuerySet[JoinApplication]:
    """Applications ``user`` may ``action``: the pending ones with the nearest deadline first,
    then the newest. ``overdue=True`` keeps the pending ones past their 15-working-day
    deadline; ``overdue=False`` the rest."""
    applications = JoinApplication.objects.restrict(user, action).select_related(
        "union", "employer", "venue", "decided_by"
    )
    if status:
        applications = applications.filter(status=status)
    late = Q(status=ApplicationStatus.SUBMITTED, due_date__lt=timezone.localdate())
    if overdue is True:
        applications = applications.filter(late)
    elif overdue is False:
        applications = applications.exclude(late)
    if union is not None:
        applications = applications.filter(union_path__startswith=union.path)
    return applications.order_by("due_date", "-submitted_at", "-id")


# --- Transfers

INCOMING = "incoming"
OUTGOING = "outgoing"


def transfer_list(
    *, user: Any, direction: str | None = None, status: str | None = None
) -> QuerySet[Transfer]:
    """Transfers ``user`` sees: ``incoming`` ones are bound for a union in the user's scope,
    ``outgoing`` ones leave from one; without a direction, both."""
    transfers = Transfer.objects.restrict(user, Action.VIEW).select_related(
        "member", "from_union", "to_union", "new_employer", "released_by", "decided_by"
    )
    if direction in (INCOMING, OUTGOING):
        side = "to_union" if direction == INCOMING else "from_union"
        paths = paths_for(user, Action.VIEW)
        subtree = Q(pk__in=[])
        for path in paths:
            subtree |= Q(**{f"{side}__path__startswith": path})
        transfers = transfers.filter(subtree)
    if status:
        transfers = transfers.filter(status=status)
    return transfers.order_by("-released_at", "-id")


# --- Ceremonies


def ceremony_list(*, user: Any) -> QuerySet[JoinCeremony]:
    return (
        JoinCeremony.objects.restrict(user, Action.VIEW)
        .select_related("union")
        .order_by("-starts_at", "-id")
    )
