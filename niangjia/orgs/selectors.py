"""Reads of the organisation registry, always through the scope choke point.

Used by the web pages and the API alike. Every function taking ``user`` starts from
``Model.objects.restrict(user, action)``; filters that name another object (a parent, an
owner) can only narrow what the user already sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet

from niangjia.accounts.choices import Action
from niangjia.orgs.choices import RegionLevel
from niangjia.orgs.models import Employer, Region, Union, UnionQuerySet
from niangjia.orgs.validators import normalize_uscc

T = TypeVar("T")

# Length of the region code prefix shared by a region and everything under it (GB/T 2260).
_REGION_PREFIX = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
}
_PATH_STEP_RE = re.compile(rf"^[{re.escape(Union.alphabet)}]{{{Union.steplen}}}$")


@dataclass(frozen=True)
class CursorPage(Generic[T]):
    """One page of a keyset listing; ``next_cursor`` is None on the last page."""

    items: list[T]
    next_cursor: str | None
    total: int = 0


# --- Regions (public reference data: no scope)


def region_list(
    *, parent: Region | None = None, level: str | None = None, q: str | None = None
) -> QuerySet[Region]:
    """Children of ``parent``; without a parent, the regions of ``level`` (provinces when no
    level is given either). ``q`` narrows by name or code prefix."""
    regions = Region.objects.select_related("parent")
    if parent is not None:
        regions = regions.filter(parent=parent)
    elif level is None and not q:
        regions = regions.filter(parent__isnull=True)
    if level is not None:
        regions = regions.filter(level=level)
    if q:
        q = q.strip()
        regions = regions.filter(Q(name__icontains=q) | Q(code__startswith=q))
    return regions.order_by("code")


def region_code_prefix(region: Region) -> str:
    """The code prefix shared by ``region`` and all regions inside it."""
    return region.code[: _REGION_PREFIX.get(RegionLevel(region.level), len(region.code))]


# --- Unions


def union_list(
    *,
    user: Any,
    action: str = Action.VIEW,
    q: str | None = None,
    level: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    parent: Union | None = None,
    within: Union | None = None,
) -> UnionQuerySet:
    """Unions ``user`` may ``action``, ordered by tree path.

    ``q`` matches the name (substring) or the credit code (prefix); ``parent`` keeps its
    direct children; ``within`` keeps its whole subtree (the union itself included)."""
    unions = Union.objects.restrict(user, action).select_related(
        "region", "industry_union", "merged_into"
    )
    if q:
        q = q.strip()
        condition = Q(name__icontains=q)
        code = normalize_uscc(q)
        if code:
            condition |= Q(uscc__startswith=code)
        unions = unions.filter(condition)
    if level:
        unions = unions.filter(level=level)
    if kind:
        unions = unions.filter(kind=kind)
    if status:
        unions = unions.filter(status=status)
    if parent is not None:
        unions = unions.filter(path__startswith=parent.path, depth=parent.depth + 1)
    if within is not None:
        unions = unions.filter(path__startswith=within.path)
    return unions.order_by("path")


def union_search(*, user: Any, q: str, limit: int = 20, active_only: bool = True) -> list[Union]:
    """Quick look-up for pickers: at most ``limit`` unions matching ``q`` in the user's scope."""
    if not q or not q.strip():
        return []
    unions = union_list(user=user, q=q)
    if active_only:
        unions = unions.active()
    # Shallow (higher-level) unions first, then by name, so federations lead the list.
    return list(unions.order_by("depth", "name", "path")[:limit])


def _check_cursor(parent: Union, cursor: str) -> None:
    if not (
        len(cursor) == len(parent.path) + Union.steplen
        and cursor.startswith(parent.path)
        and _PATH_STEP_RE.match(cursor[len(parent.path) :])
    ):
        raise ValidationError({"cursor": "翻页游标无效，请从第一页重新开始"})


def union_children(
    *, user: Any, parent: Union, cursor: str | None = None, limit: int | None = None
) -> CursorPage[Union]:
    """Direct children of ``parent`` in tree order, one page at a time (keyset paging).

    ``cursor`` is the ``next_cursor`` of the previous page. The query uses the path index
    only, so a federation with tens of thousands of grassroots unions pages as fast as one
    with ten."""
    size = limit or settings.ORG_CHILDREN_PAGE_SIZE
    children = union_list(user=user, parent=parent)
    if cursor:
        _check_cursor(parent, cursor)
        children = children.filter(path__gt=cursor)
    rows = list(children[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return CursorPage(
        items=rows,
        next_cursor=rows[-1].path if more and rows else None,
        total=parent.numchild,
    )


def union_child_counts(union: Union) -> dict[str, Any]:
    """Figures shown with a union: its direct children by level, kind and status, and the
    employers it keeps the registry of (``registered``) and covers as a grassroots union."""
    children = Union.objects.filter(path__startswith=union.path, depth=union.depth + 1)
    by_level: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    by_status: dict[str, int] = {}
    total = 0
    for row in children.order_by().values("level", "kind", "status").annotate(n=Count("pk")):
        n = row["n"]
        total += n
        by_level[row["level"]] = by_level.get(row["level"], 0) + n
        by_kind[row["kind"]] = by_kind.get(row["kind"], 0) + n
        by_status[row["status"]] = by_status.get(row["status"], 0) + n
    return {
        "children": total,
        "children_by_level": by_level,
        "children_by_kind": by_kind,
        "children_by_status": by_status,
        "employers_registered": Employer.objects.filter(owner=union).count(),
        "employers_covered": Employer.objects.filter(covering_union=union).count(),
    }


# --- Employers


def employer_list(
    *,
    user: Any,
    action: str = Action.VIEW,
    q: str | None = None,
    region: Region | None = None,
    status: str | None = None,
    organised: bool | None = None,
    owner: Union | None = None,
    covering_union: Union | None = None,
    within: Union | None = None,
) -> QuerySet[Employer]:
    """Employers ``user`` may ``action``, ordered by name.

    ``region`` includes the regions inside it; ``organised`` keeps employers with (True) or
    without (False) a covering union; ``within`` keeps those registered or covered anywhere
    in that union's subtree."""
    employers = Employer.objects.restrict(user, action).select_related(
        "region", "owner", "covering_union"
    )
    if q:
        q = q.strip()
        condition = Q(name__icontains=q)
        code = normalize_uscc(q)
        if code:
            condition |= Q(uscc__startswith=code)
        employers = employers.filter(condition)
    if region is not None:
        employers = employers.filter(region__code__startswith=region_code_prefix(region))
    if status:
        employers = employers.filter(status=status)
    if organised is not None:
        employers = employers.filter(covering_union__isnull=not organised)
    if owner is not None:
        employers = employers.filter(owner=owner)
    if covering_union is not None:
        employers = employers.filter(covering_union=covering_union)
    if within is not None:
        employers = employers.filter(
            Q(owner__path__startswith=within.path) | Q(covering_union__path__startswith=within.path)
        )
    return employers.order_by("name", "id")
