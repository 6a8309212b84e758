"""Spreadsheet exports of the organisation registry.

Each export checks ``Action.EXPORT`` and reads only through ``restrict(user, "export")``.
The union export is written here (one file, small) with its audit row in the same
transaction as the read. The employer export gives its rows to the export service
(``niangjia.exports.services``), which writes the file (while the page waits, or as a
background job when it is big) and the audit row with the row count, the filters and the
file's SHA-256.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, OuterRef, Subquery, When
from django.db.models.functions import Substr
from django.http import QueryDict
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.orgs.choices import EmployerStatus, IndustrySection, OwnershipType
from niangjia.orgs.filtersets import EmployerFilterForm
from niangjia.orgs.models import EmployerQuerySet, Region, Union
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


# --- Employers: the employer list's filters, read as plain values (``employer_rows``)

_EMPLOYER_FIELDS = (
    "name",
    "uscc",
    "uscc_override",
    "uscc_override_reason",
    "region_id",
    "industry_section",
    "ownership",
    "headcount",
    "status",
    "covering_union_id",
    "owner_id",
    "address",
)


def employer_filter_form(*, acting_user: Any, query: QueryDict) -> EmployerFilterForm:
    """The employer list's filter form, valid, or ValidationError naming what is wrong."""
    form = EmployerFilterForm(query, user=acting_user)
    if not form.is_valid():
        errors = "；".join(e for errs in form.errors.values() for e in errs)
        raise ValidationError({"filters": f"筛选条件有误：{errors}"})
    return form


def employer_export_queryset(*, acting_user: Any, form: EmployerFilterForm) -> EmployerQuerySet:
    """The employers ``acting_user`` may export under the form's filters."""
    if not paths_for(acting_user, Action.EXPORT):
        raise PermissionDenied("您没有导出用人单位的权限")
    # Whatever the filters, only rows the user may export leave the building.
    return form.employers(Action.EXPORT).restrict(acting_user, Action.EXPORT)


class _Regions:
    """Full names and codes of the regions met so far."""

    def __init__(self) -> None:
        self.known: dict[int, tuple[str, str]] = {}

    def fill(self, ids: Any) -> dict[int, tuple[str, str]]:
        missing = set(ids).difference(self.known)
        if missing:
            for region in Region.objects.filter(pk__in=missing).select_related(
                "parent__parent__parent"
            ):
                self.known[region.pk] = (region.full_name, region.code)
        return self.known


def employer_rows(
    employers: EmployerQuerySet,
    *,
    stream: Callable[[Any], Iterator[tuple[Any, ...]]] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``EMPLOYER_HEADERS``, by name; union and region names come from
    per-export caches. ``stream`` reads the value rows (default: ``iterator()``)."""
    values = employers.order_by("name", "id").values_list(*_EMPLOYER_FIELDS)
    rows = stream(values) if stream is not None else values.iterator(chunk_size=_CHUNK)
    regions = _Regions()
    union_names: dict[int | None, str] = {None: ""}
    sections = dict(IndustrySection.choices)
    ownerships = dict(OwnershipType.choices)
    statuses = dict(EmployerStatus.choices)
    while chunk := list(islice(rows, _CHUNK)):
        known = regions.fill(row[4] for row in chunk)
        missing = {row[9] for row in chunk} | {row[10] for row in chunk}
        missing.difference_update(union_names)
        if missing:
            union_names.update(Union._base_manager.filter(pk__in=missing).values_list("pk", "name"))
        for row in chunk:
            region_name, region_code = known.get(row[4], ("", ""))
            yield (
                row[0],
                row[1] or "",
                row[2],
                row[3],
                region_name,
                region_code,
                sections.get(row[5], row[5]),
                ownerships.get(row[6], row[6]),
                row[7],
                statuses.get(row[8], row[8]),
                row[9] is not None,
                union_names.get(row[9], ""),
                union_names.get(row[10], ""),
                row[11],
            )
