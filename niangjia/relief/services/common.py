"""Pieces the relief services share: the timeline line, the version check, the locked re-read
and the checks of who may act at county level."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone

from niangjia.accounts.models import User
from niangjia.accounts.scope import paths_for
from niangjia.orgs.choices import UnionLevel
from niangjia.orgs.models import Union
from niangjia.relief.models import Assistance, FileEvent, HardshipFile
from niangjia.utilities.masking import mask_name

M = TypeVar("M", bound=models.Model)

CENT = Decimal("0.01")

# Federations that may review, publicise and file (the county worker service centre or above).
REVIEW_LEVELS = frozenset(
    {UnionLevel.NATIONAL, UnionLevel.PROVINCE, UnionLevel.CITY, UnionLevel.COUNTY}
)


class Conflict(ValidationError):
    """A stale edit: someone else saved the object after the form was opened."""

    def __init__(self, obj: models.Model, current: int, given: int) -> None:
        label = obj._meta.verbose_name
        super().__init__(
            f"该{label}已被他人修改（您打开的是第 {given} 版，当前已是第 {current} 版），"
            "为避免覆盖他人的修改，本次未保存。请刷新页面查看最新内容后重新修改。",
            code="conflict",
        )


def money(value: Decimal | int | float | str) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def locked(obj: M) -> M:
    """``obj`` re-read with its row locked until the transaction ends."""
    manager: Any = type(obj)._default_manager
    fresh: M = manager.select_for_update().get(pk=obj.pk)
    return fresh


def check_version(obj: Any, version: int | None) -> None:
    """Refuse a stale edit: ``version`` is the one the editor started from (None: no check,
    for steps that check the state instead)."""
    if version is not None and obj.version != version:
        raise Conflict(obj, obj.version, version)


def bump(obj: Any) -> None:
    obj.version = obj.version + 1


def event(
    file: HardshipFile,
    kind: str,
    *,
    actor: User | None,
    text: str = "",
    from_state: str = "",
    to_state: str = "",
    amount: Decimal | None = None,
    assistance: Assistance | None = None,
    date: datetime.date | None = None,
    actor_name: str = "",
) -> FileEvent:
    """One line of the file's timeline."""
    return FileEvent.objects.create(
        file=file,
        kind=kind,
        date=date or timezone.localdate(),
        text=text[:500],
        from_state=from_state,
        to_state=to_state,
        amount=amount,
        assistance=assistance,
        actor=actor,
        actor_name=(
            actor.display_name if actor is not None else actor_name or mask_name(file.name)
        )[:150],
    )


def require_review_level(user: User, file: HardshipFile, what: str) -> None:
    """The county worker service centre's steps (review, publicity, filing): the user must
    hold the change right on a county or higher federation above the file's union."""
    paths = [p for p in paths_for(user, "change") if file.union_path.startswith(p)]
    if not paths:
        raise PermissionDenied(f"您没有办理“{file}”的权限")
    levels = set(Union.objects.filter(path__in=paths).values_list("level", flat=True))
    if not levels & REVIEW_LEVELS:
        exc = PermissionDenied(f"{what}须由县级及以上总工会（职工服务中心）办理")
        exc.obj = file  # type: ignore[attr-defined]
        raise exc


def today() -> datetime.date:
    return timezone.localdate()


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")
