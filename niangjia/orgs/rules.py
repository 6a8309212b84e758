"""The rules of the union tree, as checks that raise ValidationError with Chinese messages."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError

from niangjia.orgs.choices import (
    KIND_LEVELS,
    LEVEL_RANK,
    REGION_LEVEL_FOR_UNION,
    UnionKind,
    UnionLevel,
    UnionStatus,
)
from niangjia.orgs.models import Region, Union


def check_placement(
    *,
    parent: Union | None,
    level: str,
    kind: str,
    region: Region | None,
    industry_union: Union | None,
    union: Union | None = None,
) -> None:
    """Does a union of ``level`` and ``kind`` fit under ``parent``? Raises with field keys."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    level_label = UnionLevel(level).label if level in UnionLevel.values else level
    kind_label = UnionKind(kind).label if kind in UnionKind.values else kind
    if level not in KIND_LEVELS.get(kind, set()):
        add("level", f"{kind_label}不能设在{level_label}层级")

    if parent is None:
        if level != UnionLevel.NATIONAL:
            add("parent", "只有全国总工会可以没有上级工会")
    else:
        if parent.status != UnionStatus.ACTIVE:
            add("parent", f"上级工会“{parent.name}”{parent.get_status_display()}，不能再设下级")
        # An industry union may stand at its federation's own level (湖北省总工会 > 湖北省…产业工会).
        beside_federation = (
            kind == UnionKind.INDUSTRY
            and parent.kind == UnionKind.FEDERATION
            and level == parent.level
        )
        if LEVEL_RANK.get(level, 99) <= LEVEL_RANK[parent.level] and not beside_federation:
            add(
                "level",
                f"{level_label}工会不能设在{parent.get_level_display()}工会“{parent.name}”之下",
            )
        if level == UnionLevel.GRASSROOTS and parent.level == UnionLevel.NATIONAL:
            add("level", "基层工会不能直接隶属全国总工会，请设在省级及以下工会之下")
        if parent.kind in (UnionKind.GRASSROOTS,):
            add("parent", "基层工会之下不能再设工会")
        if parent.kind == UnionKind.INDUSTRY and kind == UnionKind.FEDERATION:
            add("kind", "产业工会之下不能设地方总工会")
        if union is not None and parent.path.startswith(union.path):
            add("parent", "不能把工会移到它自己或它的下级之下")

    if kind == UnionKind.FEDERATION and level != UnionLevel.NATIONAL:
        wanted = REGION_LEVEL_FOR_UNION.get(UnionLevel(level))
        if region is None:
            add("region", "地方总工会必须对应一个行政区划")
        elif wanted and region.level != wanted:
            add(
                "region",
                f"{level_label}总工会应对应{wanted.label}行政区划，“{region.name}”是{region.get_level_display()}",
            )

    # Any union placed on a region stays inside its parent's region.
    if (
        region is not None
        and "region" not in errors
        and parent is not None
        and parent.region is not None
        and not parent.region.contains(region)
    ):
        add("region", f"“{region.name}”不在上级工会所在的“{parent.region.name}”范围内")

    if industry_union is not None:
        if level != UnionLevel.GRASSROOTS:
            add("industry_union", "只有基层工会可以另属一个产业工会")
        elif industry_union.kind != UnionKind.INDUSTRY:
            add("industry_union", f"“{industry_union.name}”不是产业工会")
        elif industry_union.status != UnionStatus.ACTIVE:
            add(
                "industry_union",
                f"产业工会“{industry_union.name}”{industry_union.get_status_display()}",
            )
        elif parent is not None and parent.path.startswith(industry_union.path):
            add("industry_union", "该产业工会已是其上级，无需再次隶属")

    if errors:
        raise ValidationError(errors)


def deletion_blockers(union: Union) -> list[str]:
    """Reasons why ``union`` may not be deleted outright (it can still be merged or dissolved)."""
    reasons: list[str] = []
    children = Union.objects.get_children_count(union)
    if children:
        reasons.append(f"有 {children} 个下级工会")
    covered = union.covered_employers.count()
    if covered:
        reasons.append(f"覆盖 {covered} 家用人单位")
    owned = union.registered_employers.count()
    if owned:
        reasons.append(f"管理 {owned} 家用人单位的登记")
    if union.industry_members.exists():
        reasons.append("有基层工会隶属于该产业工会")
    if union.merged_from.exists():
        reasons.append("有其他工会并入该工会，需保留历史")
    for extra in DELETION_CHECKS:
        reason = extra(union)
        if reason:
            reasons.append(reason)
    return reasons


# Later modules (members, relief …) register checks that return a reason or None.
DELETION_CHECKS: list[Callable[[Union], str | None]] = []
