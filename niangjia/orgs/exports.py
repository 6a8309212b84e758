"""Spreadsheet exports of the organisation registry.

Each export checks ``Action.EXPORT``, reads only through ``restrict(user, "export")``,
streams its rows into an xlsx file (``niangjia.utilities.xlsx``) and writes one audit row
with the row count, the filters and the file's SHA-256, in the same transaction as the read.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, OuterRef, Subquery, When
from django.db.models.functions import Substr
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.orgs.models import Employer, EmployerQuerySet, Region, Union
from niangjia.utilities.scoping import require
from niangjia.utilities.xlsx import XlsxFile, write_xlsx

_CHUNK = 2000

UNION_HEADERS = (
    "名称",
    "层级",
    "类型",
    "状态",
    "上级工会",
    "所在行政区划",
    "行政区划代码",
    "所属产业工会",
    "统一社会信用代码",
    "成立日期",
    "撤销/合并日期",
    "并入工会",
    "地址",
    "联系电话",
    "下级工会数",
)
UNION_WIDTHS = (36, 10, 14, 8, 30, 30, 12, 30, 22, 12, 14, 30, 40, 16, 10)

EMPLOYER_HEADERS = (
    "单位名称",
    "统一社会信用代码",
    "历史代码例外",
    "例外原因",
    "所在行政区划",
    "行政区划代码",
    "行业门类",
    "经济类型",
    "职工人数",
    "登记状态",
    "是否建会",
    "所属基层工会",
    "管理工会",
    "地址",
)
EMPLOYER_WIDTHS = (40, 22, 12, 24, 30, 12, 30, 16, 10, 10, 10, 36, 30, 40)


def _region_name(region: Region | None) -> str:
    return region.full_name if region is not None else ""


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M%S")


def _union_rows(unions: Any) -> Any:
    for union in unions.iterator(chunk_size=_CHUNK):
        yield (
            union.name,
            union.get_level_display(),
            union.get_kind_display(),
            union.get_status_display(),
            union.parent_name or "",
            _region_name(union.region),
            union.region.code if union.region else "",
            union.industry_union.name if union.industry_union else "",
            union.uscc or "",
            union.established_on,
            union.closed_on,
            union.merged_into.name if union.merged_into else "",
            union.address,
            union.contact_phone,
            union.numchild,
        )


@transaction.atomic
def export_unions(*, acting_user: Any, union: Union) -> tuple[XlsxFile, str]:
    """The unions counted under ``union`` (its subtree, and for an industry union the
    grassroots unions linked to it) that ``acting_user`` may export, in tree order."""
    require(acting_user, Action.EXPORT, union)
    parent = Union.objects.filter(
        path=Substr(OuterRef("path"), 1, (OuterRef("depth") - 1) * Union.steplen)
    ).order_by()
    unions = (
        union.counted_subtree()
        .restrict(acting_user, Action.EXPORT)
        .select_related("region__parent__parent__parent", "industry_union", "merged_into")
        .annotate(
            parent_name=Subquery(parent.values("name")[:1]),
            # Its own subtree first, then the grassroots unions linked from elsewhere.
            linked=Case(When(path__startswith=union.path, then=0), default=1),
        )
        .order_by("linked", "path")
    )
    xfile = write_xlsx(
        title="工会名册", headers=UNION_HEADERS, rows=_union_rows(unions), widths=UNION_WIDTHS
    )
    filename = f"{union.name}-工会名册-{_stamp()}.xlsx"
    record(
        action=AuditAction.EXPORT,
        actor=acting_user,
        obj=union,
        detail={
            "export": "unions",
            "rows": xfile.rows,
            "filters": {"union": union.pk},
            "sha256": xfile.sha256,
            "bytes": xfile.size,
            "filename": filename,
        },
    )
    return xfile, filename


def _employer_rows(employers: EmployerQuerySet) -> Any:
    for e in employers.iterator(chunk_size=_CHUNK):
        yield (
            e.name,
            e.uscc or "",
            e.uscc_override,
            e.uscc_override_reason,
            _region_name(e.region),
            e.region.code,
            e.get_industry_section_display(),
            e.get_ownership_display(),
            e.headcount,
            e.get_status_display(),
            e.is_organised,
            e.covering_union.name if e.covering_union else "",
            e.owner.name,
            e.address,
        )


@transaction.atomic
def export_employers(
    *, acting_user: Any, employers: EmployerQuerySet, filters: dict[str, str], union_path: str = ""
) -> tuple[XlsxFile, str]:
    """Export ``employers`` — a queryset built from ``restrict(acting_user, "export")`` by the
    employer filters — and record the filters used."""
    export_paths = paths_for(acting_user, Action.EXPORT)
    if not export_paths:
        raise PermissionDenied("您没有导出用人单位的权限")
    # Whatever the caller built, only rows the user may export leave the building.
    rows = (
        employers.restrict(acting_user, Action.EXPORT)
        .select_related("region__parent__parent__parent", "owner", "covering_union")
        .order_by("name", "id")
    )
    xfile = write_xlsx(
        title="用人单位",
        headers=EMPLOYER_HEADERS,
        rows=_employer_rows(rows),
        widths=EMPLOYER_WIDTHS,
    )
    filename = f"用人单位-{_stamp()}.xlsx"
    record(
        action=AuditAction.EXPORT,
        actor=acting_user,
        object_type=Employer._meta.label_lower,
        object_repr="用人单位名册",
        union_path=union_path or (export_paths[0] if len(export_paths) == 1 else ""),
        detail={
            "export": "employers",
            "rows": xfile.rows,
            "filters": filters,
            "sha256": xfile.sha256,
            "bytes": xfile.size,
            "filename": filename,
        },
    )
    return xfile, filename
