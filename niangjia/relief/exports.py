"""Spreadsheets of hardship relief: the workbench's file list (numbers masked) and the usage
of the funds per subtree. Rows are read as plain values in chunks and streamed into the
workbook (``niangjia.utilities.xlsx``); one audit row records the count, the filters, the
file's SHA-256, in the same transaction as the read.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.orgs.models import Union
from niangjia.relief.choices import (
    ArchiveLevel,
    AssistanceState,
    AssistanceType,
    Category,
    FileState,
    HardshipCause,
    WorkStatus,
)
from niangjia.relief.models import Assistance, Fund, HardshipFile
from niangjia.relief.selectors_pages import FileFilters, file_rows
from niangjia.utilities.paging import offset_page
from niangjia.utilities.xlsx import XlsxFile, write_xlsx

CHUNK = 2000
MAX_ROWS = 1_000_000

FILE_HEADERS = (
    "档案编号",
    "姓名",
    "证件号码",
    "手机号码",
    "所在工会",
    "档案状态",
    "困难类别",
    "档案级别",
    "主要致困原因",
    "次要致困原因",
    "工作状况",
    "家庭人口",
    "家庭年总收入（元）",
    "家庭月人均收入（元）",
    "申请日期",
    "建档日期",
    "年度复核期限",
    "返困重新建档",
)
FILE_WIDTHS = (14, 10, 22, 14, 36, 10, 10, 8, 14, 24, 10, 8, 16, 16, 12, 12, 12, 10)
_LABELS: dict[str, dict[str, str]] = {
    "state": dict(FileState.choices),
    "category": dict(Category.choices),
    "archive_level": dict(ArchiveLevel.choices),
    "cause": dict(HardshipCause.choices),
    "work_status": dict(WorkStatus.choices),
}


def _label(kind: str, value: str) -> str:
    return _LABELS[kind].get(value, value) if value else ""


def _file_rows(files: Any) -> Iterator[tuple[Any, ...]]:
    values = files.order_by("union_path", "id").values(
        "pk",
        "name",
        "id_masked",
        "phone_masked",
        "union__name",
        "state",
        "category",
        "archive_level",
        "main_cause",
        "cause_2",
        "cause_3",
        "cause_4",
        "work_status",
        "household_size",
        "household_income_year",
        "income_per_head",
        "applied_on",
        "filed_on",
        "review_due_on",
        "relapse_of_id",
    )
    for row in values.iterator(chunk_size=CHUNK):
        secondary = [row["cause_2"], row["cause_3"], row["cause_4"]]
        yield (
            f"KN{row['pk']:010d}",
            row["name"],
            row["id_masked"],
            row["phone_masked"],
            row["union__name"],
            _label("state", row["state"]),
            _label("category", row["category"]),
            _label("archive_level", row["archive_level"]),
            _label("cause", row["main_cause"]),
            "、".join(_label("cause", c) for c in secondary if c),
            _label("work_status", row["work_status"]),
            row["household_size"],
            row["household_income_year"],
            row["income_per_head"],
            row["applied_on"],
            row["filed_on"],
            row["review_due_on"],
            row["relapse_of_id"] is not None,
        )


def _describe(filters: FileFilters) -> dict[str, Any]:
    described = {
        key: value
        for key, value in (
            ("state", filters.state),
            ("category", filters.category),
            ("cause", filters.cause),
            ("level", filters.level),
            ("review", filters.review),
            ("relapse", filters.relapse),
            ("name", filters.name),
            ("id_hash", filters.id_hash[:12]),
        )
        if value
    }
    if filters.within is not None:
        described["within"] = filters.within.pk
    return described


def export_files(
    *, acting_user: Any, filters: FileFilters, today: datetime.date
) -> tuple[XlsxFile, str]:
    """The files ``acting_user`` may export under ``filters``, numbers masked, as xlsx."""
    export_paths = paths_for(acting_user, Action.EXPORT)
    if not export_paths:
        raise PermissionDenied("您没有导出困难职工档案的权限")
    files = file_rows(user=acting_user, filters=filters, today=today, action=Action.EXPORT)
    with transaction.atomic():
        if offset_page(files, page=1, per_page=1, cap=MAX_ROWS).capped:
            raise ValidationError(
                {"filters": f"符合条件的档案超过 {MAX_ROWS:,} 份，请缩小筛选范围后分批导出"}
            )
        xfile = write_xlsx(
            title="困难职工档案", headers=FILE_HEADERS, rows=_file_rows(files), widths=FILE_WIDTHS
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        filename = f"困难职工档案-{stamp}.xlsx"
        within = filters.within
        record(
            action=AuditAction.EXPORT,
            actor=acting_user,
            object_type=HardshipFile._meta.label_lower,
            object_repr="困难职工档案",
            union_path=within.path
            if within is not None
            else (export_paths[0] if len(export_paths) == 1 else ""),
            detail={
                "export": "relief_files",
                "rows": xfile.rows,
                "filters": _describe(filters),
                "masked": True,
                "sha256": xfile.sha256,
                "bytes": xfile.size,
                "filename": filename,
            },
        )
    return xfile, filename


# --- Fund usage per subtree

USAGE_HEADERS = (
    "工会",
    "资金",
    "资金来源",
    "年度",
    "帮扶类型",
    "帮扶人次",
    "帮扶户数",
    "发放金额（元）",
    "实物折价（元）",
)
USAGE_WIDTHS = (36, 30, 16, 8, 12, 10, 10, 16, 16)


def usage_rows(
    *, user: Any, root: Union, year: int | None = None, fund: Fund | None = None
) -> list[dict[str, Any]]:
    """Paid assistance under ``root`` (the subtree), per child union of ``root`` (or ``root``
    itself for what it pays directly), fund and type: person-times, households, amounts."""
    paid = Assistance.objects.restrict(user, Action.VIEW).filter(
        state=AssistanceState.PAID, union_path__startswith=root.path
    )
    if year is not None:
        paid = paid.filter(year=year)
    if fund is not None:
        paid = paid.filter(fund=fund)
    children = list(Union.objects.get_children(root).only("pk", "name", "path"))
    groups = [(child, Q(union_path__startswith=child.path)) for child in children]
    own = Q(union_path=root.path)
    for child in children:
        own &= ~Q(union_path__startswith=child.path)
    groups.append((root, own))
    rows = []
    types = dict(AssistanceType.choices)
    for union, condition in groups:
        figures = (
            paid.filter(condition)
            .values("fund_id", "fund__name", "fund__source", "fund__year", "assistance_type")
            .annotate(
                times=Count("id"),
                households=Count("file_id", distinct=True),
                amount=Sum("amount"),
                in_kind=Sum("in_kind_value"),
            )
            .order_by("fund__year", "fund_id", "assistance_type")
        )
        for f in figures:
            rows.append(
                {
                    "union": union,
                    "fund_name": f["fund__name"] or "（实物，未动用资金）",
                    "fund_source": f["fund__source"] or "",
                    "fund_year": f["fund__year"],
                    "type": types.get(f["assistance_type"], f["assistance_type"]),
                    "times": f["times"],
                    "households": f["households"],
                    "amount": f["amount"] or Decimal(0),
                    "in_kind": f["in_kind"] or Decimal(0),
                }
            )
    return rows


def export_usage(
    *, acting_user: Any, root: Union, year: int | None, fund: Fund | None = None
) -> tuple[XlsxFile, str]:
    from niangjia.relief.choices import FundSource

    if not paths_for(acting_user, Action.EXPORT):
        raise PermissionDenied("您没有导出资金使用情况的权限")
    sources = dict(FundSource.choices)
    rows = usage_rows(user=acting_user, root=root, year=year, fund=fund)
    with transaction.atomic():
        xfile = write_xlsx(
            title="帮扶资金使用情况",
            headers=USAGE_HEADERS,
            rows=(
                (
                    r["union"].name,
                    r["fund_name"],
                    sources.get(r["fund_source"], ""),
                    r["fund_year"],
                    r["type"],
                    r["times"],
                    r["households"],
                    r["amount"],
                    r["in_kind"],
                )
                for r in rows
            ),
            widths=USAGE_WIDTHS,
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        filename = f"帮扶资金使用情况-{root.name}-{stamp}.xlsx"
        record(
            action=AuditAction.EXPORT,
            actor=acting_user,
            object_type=Fund._meta.label_lower,
            object_repr="帮扶资金使用情况",
            union_path=root.path,
            detail={
                "export": "relief_fund_usage",
                "rows": xfile.rows,
                "root": root.pk,
                "year": year,
                "fund": fund.pk if fund is not None else None,
                "sha256": xfile.sha256,
                "filename": filename,
            },
        )
    return xfile, filename
