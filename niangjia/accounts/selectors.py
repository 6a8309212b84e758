"""Reads for account administration, always through ``User.objects.restrict``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.models import ApiToken, RoleAssignment, User
from niangjia.accounts.scope import paths_for
from niangjia.orgs.models import Union, UnionQuerySet

ACCOUNT_POWERS = (Action.MANAGE_ACCOUNTS, Action.GRANT_ROLES)


class UserStatus:
    ACTIVE = "active"
    INACTIVE = "inactive"
    LOCKED = "locked"
    CHOICES = [(ACTIVE, "启用"), (INACTIVE, "已停用"), (LOCKED, "登录锁定中")]


def account_admin_users(viewer: Any) -> QuerySet[User]:
    """Accounts ``viewer`` sees as a system or security administrator (either power)."""
    visible = [
        User.objects.restrict(viewer, action).values("pk")
        for action in ACCOUNT_POWERS
        if paths_for(viewer, action)
    ]
    if not visible:
        return User.objects.none()
    return User.objects.filter(reduce(or_, [Q(pk__in=v) for v in visible]))


def _lockout_threshold() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)


def _locking_attempts() -> QuerySet[AccessAttempt]:
    return AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=_lockout_threshold(),
    )


def user_list(*, viewer: Any, q: str = "", role: str = "", status: str = "") -> QuerySet[User]:
    users = account_admin_users(viewer)
    q = q.strip()
    if q:
        users = users.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    if role:
        users = users.filter(Exists(RoleAssignment.objects.filter(user=OuterRef("pk"), role=role)))
    if status == UserStatus.ACTIVE:
        users = users.filter(is_active=True)
    elif status == UserStatus.INACTIVE:
        users = users.filter(is_active=False)
    elif status == UserStatus.LOCKED:
        users = users.filter(username__in=_locking_attempts().values("username"))
    return (
        users.select_related("created_under")
        .prefetch_related(
            Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.select_related("union").order_by(
                    "granted_at", "id"
                ),
            )
        )
        .order_by("username")
    )


@dataclass(frozen=True)
class Lockout:
    ip_address: str | None
    failures: int
    last_attempt: datetime.datetime
    until: datetime.datetime


def lockouts(user: User) -> list[Lockout]:
    """Where ``user``'s sign-in is locked now (django-axes locks per username and address)."""
    cooloff = datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)
    return [
        Lockout(
            ip_address=a.ip_address,
            failures=a.failures_since_start,
            last_attempt=a.attempt_time,
            until=a.attempt_time + cooloff,
        )
        for a in _locking_attempts().filter(username=user.username).order_by("-attempt_time")
    ]


def failed_attempts(user: User) -> int:
    """Failed sign-ins of ``user`` still counting towards a lockout."""
    return sum(
        AccessAttempt.objects.filter(
            username=user.username, attempt_time__gte=_lockout_threshold()
        ).values_list("failures_since_start", flat=True)
    )


def unions_for_power(viewer: Any, action: str) -> UnionQuerySet:
    """Active unions on which ``viewer`` exercises ``action`` (by tree path: where they may
    open accounts or grant roles), nearest the top first."""
    paths = paths_for(viewer, action)
    if not paths:
        return Union.objects.none()
    subtree = reduce(or_, [Q(path__startswith=p) for p in paths])
    return Union.objects.restrict(viewer, action).active().filter(subtree).order_by("depth", "path")


def union_search(viewer: Any, action: str, q: str, limit: int = 20) -> list[Union]:
    unions = unions_for_power(viewer, action)
    q = q.strip()
    if q:
        unions = unions.filter(name__icontains=q)
    return list(unions.select_related("region")[:limit])


def my_tokens(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
