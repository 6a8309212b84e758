"""A campaign's results as a spreadsheet, streamed (``niangjia.utilities.xlsx``) and audited:
one row per employer checked, the audit row carrying the row count and the file's SHA-256."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import transaction

from niangjia.accounts.choices import Action
from niangjia.accounts.models import User
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.orgs.choices import EmployerStatus
from niangjia.utilities.scoping import require
from niangjia.utilities.xlsx import XlsxFile, write_xlsx
from niangjia.verification.choices import VerificationResult
from niangjia.verification.models import VerificationCampaign, VerificationItem

HEADERS = (
    "单位名称",
    "统一社会信用代码",
    "所在行政区划",
    "地址",
    "管理工会",
    "所属基层工会",
    "核查前登记状态",
    "当前登记状态",
    "核查结果",
    "备注",
    "核查人",
    "标记人",
    "标记时间",
    "已更新登记",
)
WIDTHS = (36, 22, 14, 36, 24, 30, 14, 12, 10, 40, 12, 12, 18, 10)

_FIELDS = (
    "employer__name",
    "employer__uscc",
    "employer__region__name",
    "employer__address",
    "employer__owner__name",
    "employer__covering_union__name",
    "status_before",
    "employer__status",
    "result",
    "note",
    "assignee__full_name",
    "assignee__username",
    "checked_by__full_name",
    "checked_by__username",
    "checked_at",
    "applied",
)


def _rows(campaign: VerificationCampaign) -> Iterator[tuple[Any, ...]]:
    statuses = dict(EmployerStatus.choices)
    results = dict(VerificationResult.choices)
    items = (
        VerificationItem.objects.filter(campaign=campaign)
        .order_by("employer__name", "id")
        .values_list(*_FIELDS)
    )
    for row in items.iterator(chunk_size=2000):
        (
            name,
            uscc,
            region,
            address,
            owner,
            cover,
            before,
            current,
            result,
            note,
            assignee_name,
            assignee_username,
            checker_name,
            checker_username,
            checked_at,
            applied,
        ) = row
        yield (
            name,
            uscc or "",
            region,
            address,
            owner,
            cover or "未建会",
            statuses.get(before, before),
            statuses.get(current, current),
            results.get(result, result),
            note,
            assignee_name or assignee_username or "",
            checker_name or checker_username or "",
            checked_at,
            applied,
        )


def campaign_export(*, acting_user: User, campaign: VerificationCampaign) -> XlsxFile:
    require(acting_user, Action.EXPORT, campaign)
    with transaction.atomic():
        sheet = write_xlsx(title="核查结果", headers=HEADERS, rows=_rows(campaign), widths=WIDTHS)
        record(
            action=AuditAction.EXPORT,
            actor=acting_user,
            obj=campaign,
            detail={"rows": sheet.rows, "sha256": sheet.sha256},
        )
    return sheet
