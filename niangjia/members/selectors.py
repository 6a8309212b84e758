"""Reads of the member registry, always through the scope choke point.

Used by the web pages and the API alike. Every function taking ``user`` starts from
``Model.objects.restrict(user, action)``; filters naming another object can only narrow what
the user already sees.
"""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.members.choices import ApplicationStatus, Household
from niangjia.members.models import (
    CeremonyVenue,
    JoinApplication,
    JoinCeremony,
    Member,
    MemberEvent,
    Transfer,
)
from niangjia.orgs.models import Employer, Union

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


# --- The cadre pages: the member list's filters, pages in both directions, capped counts

COUNT_CAP = 10_000
MEMBERS_PER_PAGE = 50
EMPLOYER_MATCH_LIMIT = 200


@dataclass(frozen=True)
class MemberFilters:
    """The filters of the member list page and of its export. ``phone_hash`` / ``id_hash``
    are keyed hashes of a searched phone or ID number: the clear number is never kept."""

    status: str = ""
    employment_form: str = ""
    gig_occupation: str = ""
    migrant: bool | None = None
    joined_from: datetime.date | None = None
    joined_to: datetime.date | None = None
    within: Union | None = None
    employer: str = ""
    name: str = ""
    name_contains: bool = False
    phone_hash: str = ""
    id_hash: str = ""
    member_pk: int | None = None

    def describe(self) -> dict[str, str]:
        """The filters in use as plain text (an export's audit row)."""
        result: dict[str, str] = {}
        for key, value in self.__dict__.items():
            if value in (None, "", False):
                continue
            result[key] = str(getattr(value, "pk", value))
        return result


def member_search(
    *, user: Any, filters: MemberFilters, action: str = Action.VIEW
) -> QuerySet[Member]:
    """``member_list`` with every filter of the cadre page: also gig occupation, employer by
    name, name (prefix, or anywhere in it), phone or ID number by keyed hash, member number."""
    f = filters
    members = member_list(
        user=user,
        action=action,
        status=f.status or None,
        employment_form=f.employment_form or None,
        migrant=f.migrant,
        joined_from=f.joined_from,
        joined_to=f.joined_to,
        within=f.within,
    )
    if f.gig_occupation:
        members = members.filter(gig_occupation=f.gig_occupation)
    if f.employer:
        # Registered employers the user sees by that name, or the typed name of one that is
        # not registered yet.
        matching = (
            Employer.objects.restrict(user, Action.VIEW)
            .filter(name__icontains=f.employer)
            .order_by()
            .values_list("pk", flat=True)[:EMPLOYER_MATCH_LIMIT]
        )
        members = members.filter(
            Q(employer_id__in=list(matching)) | Q(employer_name__icontains=f.employer)
        )
    if f.name:
        members = members.filter(
            **{"name__contains" if f.name_contains else "name__startswith": f.name}
        )
    if f.phone_hash:
        members = members.filter(phone_hash=f.phone_hash)
    if f.id_hash:
        members = members.filter(id_hash=f.id_hash)
    if f.member_pk is not None:
        members = members.filter(pk=f.member_pk)
    return members


def parse_member_cursor(cursor: str) -> tuple[str, int]:
    match = _MEMBER_CURSOR_RE.match(cursor or "")
    if match is None:
        raise ValidationError({"cursor": INVALID_CURSOR})
    return match.group(1), int(match.group(2))


@dataclass(frozen=True)
class MemberPage:
    """One page of the member list with the cursors of the pages after and before it."""

    items: list[Member]
    next_cursor: str | None
    previous_cursor: str | None


def member_keyset_page(
    rows: QuerySet[Member],
    *,
    after: str | None = None,
    before: str | None = None,
    limit: int = MEMBERS_PER_PAGE,
) -> MemberPage:
    """The ``limit`` rows after the cursor ``after`` (or just before ``before``: the previous
    page) in ``(union_path, id)`` order. The condition is the row value
    ``(union_path, id) > (path, id)``, which PostgreSQL answers with one range scan of the
    index ``member_union_path_id`` starting at the cursor: no OFFSET, however deep."""
    key = Tuple(F("union_path"), F("id"))
    if before:
        found = list(
            rows.filter(TupleLessThan(key, parse_member_cursor(before))).order_by(
                "-union_path", "-id"
            )[: limit + 1]
        )
        items = list(reversed(found[:limit]))
        earlier = len(found) > limit
        return MemberPage(
            items=items,
            next_cursor=member_cursor(items[-1]) if items else None,
            previous_cursor=member_cursor(items[0]) if earlier and items else None,
        )
    if after:
        rows = rows.filter(TupleGreaterThan(key, parse_member_cursor(after)))
    found = list(rows.order_by("union_path", "id")[: limit + 1])
    items = found[:limit]
    return MemberPage(
        items=items,
        next_cursor=member_cursor(items[-1]) if len(found) > limit else None,
        previous_cursor=member_cursor(items[0]) if after and items else None,
    )


@dataclass(frozen=True)
class RowCount:
    total: int
    capped: bool  # True: there are more than ``total`` rows
    exact: bool


def capped_count(queryset: QuerySet[Any], *, cap: int = COUNT_CAP, exact: bool = False) -> RowCount:
    """How many rows ``queryset`` has, reading at most ``cap + 1`` of them unless ``exact``."""
    if exact:
        return RowCount(total=queryset.order_by().count(), capped=False, exact=True)
    counted = queryset.order_by()[: cap + 1].count()
    return RowCount(total=min(counted, cap), capped=counted > cap, exact=False)


@dataclass(frozen=True)
class MemberRecord:
    """Beside the member on its detail page: the history (all of it, it goes with the
    membership) and the applications and transfers the user may see."""

    events: list[MemberEvent]
    applications: list[JoinApplication]
    transfers: list[Transfer]


def member_record(*, user: Any, member: Member) -> MemberRecord:
    events = (
        MemberEvent.objects.restrict(user, Action.VIEW)
        .filter(member=member)
        .select_related("union", "actor")
        .order_by("date", "created_at", "id")
    )
    applications = (
        JoinApplication.objects.restrict(user, Action.VIEW)
        .filter(member=member)
        .select_related("union", "decided_by")
        .order_by("-submitted_at", "-id")
    )
    transfers = transfer_list(user=user).filter(member=member)
    return MemberRecord(
        events=list(events), applications=list(applications), transfers=list(transfers)
    )


def application_counts(*, user: Any, cap: int = COUNT_CAP) -> dict[str, RowCount]:
    """Pending and overdue applications in the user's scope, each counted up to ``cap``."""
    pending = JoinApplication.objects.restrict(user, Action.VIEW).filter(
        status=ApplicationStatus.SUBMITTED
    )
    return {
        "pending": capped_count(pending, cap=cap),
        "overdue": capped_count(pending.filter(due_date__lt=timezone.localdate()), cap=cap),
    }


def transfer_targets(*, q: str = "") -> QuerySet[Union]:
    """Every active union in the country that takes members (grassroots and joint unions,
    county and township federations). Transfers go anywhere, so this is deliberately not
    scoped: callers show names and regions only."""
    from niangjia.members.services import accepting_unions_q

    unions = Union.objects.filter(accepting_unions_q())
    q = q.strip()
    if q:
        unions = unions.filter(name__contains=q)
    return unions.select_related("region__parent__parent__parent")


# --- Ceremony venues by QR token (public: the worker pages)

# A mass ceremony reads the same few venues thousands of times a minute; each process keeps a
# venue for settings.JOIN_CACHE_SECONDS, so a change to the ceremony (its times, auto-approval,
# SMS) reaches every worker page within that time.
VENUE_CACHE_SIZE = 1_000
_venues: dict[str, tuple[float, CeremonyVenue]] = {}


def venue_by_token(token: str) -> CeremonyVenue | None:
    """The venue a QR token names, with its ceremony, union and the union's region; None for
    an unknown token (never cached, so guessing cannot fill the cache). The instance may be
    shared between requests of this process: read it, never change it."""
    seconds = settings.JOIN_CACHE_SECONDS
    now = time.monotonic()
    hit = _venues.get(token) if seconds else None
    if hit is not None and hit[0] > now:
        return hit[1]
    venue = (
        CeremonyVenue.objects.select_related("ceremony", "union", "union__region")
        .filter(token=token)
        .first()
    )
    if venue is not None and seconds:
        if len(_venues) >= VENUE_CACHE_SIZE:
            _venues.clear()
        _venues[token] = (now + seconds, venue)
    else:
        _venues.pop(token, None)
    return venue


def forget_venues() -> None:
    """Drop this process's cached venues (after a ceremony or venue changed here)."""
    _venues.clear()
