"""The member list as a spreadsheet: the current filters, masked by default, audited.

The rows come from ``selectors.member_search`` acting with ``Action.EXPORT`` (and, unmasked,
only the members the user may also reveal), read as plain values in chunks and streamed into a
write-only workbook (``niangjia.utilities.xlsx``): memory stays flat however many members.
One audit row records the row count, the filters (searches only by their keyed hash), whether
the file is masked, the reason of an unmasked export and the file's SHA-256, in the same
transaction as the read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from niangjia.accounts.choices import Action
from niangjia.accounts.scope import paths_for
from niangjia.audit.choices import AuditAction
from niangjia.audit.services import record
from niangjia.members.choices import (
    ETHNIC_GROUPS,
    Education,
    EmploymentForm,
    GigOccupation,
    Household,
    IdType,
    MemberStatus,
    Sex,
)
from niangjia.members.models import ID_PURPOSE, PHONE_PURPOSE, Member, format_member_number
from niangjia.members.selectors import MemberFilters, capped_count, member_search
from niangjia.utilities import crypto
from niangjia.utilities.xlsx import XlsxFile, write_xlsx

CHUNK = 2000
# A worksheet holds 1,048,576 rows; a bigger export must be split by its filters.
MAX_ROWS = 1_000_000

HEADERS = (
    "会员编号",
    "姓名",
    "性别",
    "出生日期",
    "证件类型",
    "证件号码",
    "手机号码",
    "民族",
    "学历",
    "户籍类型",
    "就业形态",
    "新就业形态职业",
    "职业/岗位",
    "工作单位",
    "所在工会",
    "入会日期",
    "会籍状态",
    "状态变更日期",
)
WIDTHS = (14, 10, 6, 12, 14, 22, 14, 8, 14, 10, 14, 14, 14, 36, 36, 12, 10, 12)

_FIELDS = (
    "pk",
    "legacy_number",
    "name",
    "sex",
    "birth_date",
    "id_type",
    "employment_form",
    "gig_occupation",
    "ethnic_group",
    "education",
    "household",
    "occupation",
    "employer__name",
    "employer_name",
    "union__name",
    "join_date",
    "status",
    "status_changed_on",
)
_LABELS: dict[str, dict[str, str]] = {
    "sex": dict(Sex.choices),
    "id_type": dict(IdType.choices),
    "ethnic_group": dict(ETHNIC_GROUPS),
    "education": dict(Education.choices),
    "household": dict(Household.choices),
    "employment_form": dict(EmploymentForm.choices),
    "gig_occupation": dict(GigOccupation.choices),
    "status": dict(MemberStatus.choices),
}


def _label(field: str, value: str) -> str:
    return _LABELS[field].get(value, value) if value else ""


def _rows(members: Any, *, unmasked: bool) -> Iterator[tuple[Any, ...]]:
    personal = ("id_number_enc", "phone_enc") if unmasked else ("id_masked", "phone_masked")
    values = members.order_by("union_path", "id").values(*_FIELDS, *personal)
    for row in values.iterator(chunk_size=CHUNK):
        if unmasked:
            id_number = crypto.decrypt(row["id_number_enc"], purpose=ID_PURPOSE)
            phone = crypto.decrypt(row["phone_enc"], purpose=PHONE_PURPOSE)
        else:
            id_number, phone = row["id_masked"], row["phone_masked"]
        yield (
            row["legacy_number"] or format_member_number(row["pk"]),
            row["name"],
            _label("sex", row["sex"]),
            row["birth_date"],
            _label("id_type", row["id_type"]),
            id_number,
            phone,
            _label("ethnic_group", row["ethnic_group"]),
            _label("education", row["education"]),
            _label("household", row["household"]),
            _label("employment_form", row["employment_form"]),
            _label("gig_occupation", row["gig_occupation"]),
            row["occupation"],
            row["employer__name"] or row["employer_name"],
            row["union__name"],
            row["join_date"],
            _label("status", row["status"]),
            row["status_changed_on"],
        )


def export_members(
    *, acting_user: Any, filters: MemberFilters, unmasked: bool = False, reason: str = ""
) -> tuple[XlsxFile, str]:
    """The members ``acting_user`` may export under ``filters``, as an xlsx file.

    Masked unless ``unmasked``, which needs ``Action.REVEAL`` on the rows and a reason (at
    least 4 characters); only members the user may both export and reveal are then written.
    Raises PermissionDenied without the rights, ValidationError (``reason`` or ``filters``)
    for a missing reason or more rows than a worksheet holds."""
    export_paths = paths_for(acting_user, Action.EXPORT)
    if not export_paths:
        raise PermissionDenied("您没有导出会员名册的权限")
    reason = reason.strip()
    if unmasked:
        if not paths_for(acting_user, Action.REVEAL):
            raise PermissionDenied("导出明文须有查看明文个人信息的权限")
        if len(reason) < 4:
            raise ValidationError({"reason": "请填写导出明文的理由（至少 4 个字）"})
    members = member_search(user=acting_user, filters=filters, action=Action.EXPORT)
    if unmasked:
        members = members & Member.objects.restrict(acting_user, Action.REVEAL)
    with transaction.atomic():
        if capped_count(members, cap=MAX_ROWS).capped:
            raise ValidationError(
                {
                    "filters": f"符合条件的会员超过 {MAX_ROWS:,} 人，超出表格的容量，请缩小筛选范围后分批导出"
                }
            )
        xfile = write_xlsx(
            title="会员名册", headers=HEADERS, rows=_rows(members, unmasked=unmasked), widths=WIDTHS
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        filename = f"会员名册{'-明文' if unmasked else ''}-{stamp}.xlsx"
        within = filters.within
        detail: dict[str, Any] = {
            "export": "members",
            "rows": xfile.rows,
            "filters": filters.describe(),
            "masked": not unmasked,
            "sha256": xfile.sha256,
            "bytes": xfile.size,
            "filename": filename,
        }
        if unmasked:
            detail["reason"] = reason[:200]
        record(
            action=AuditAction.EXPORT,
            actor=acting_user,
            object_type=Member._meta.label_lower,
            object_repr="会员名册（明文）" if unmasked else "会员名册",
            union_path=within.path
            if within is not None
            else (export_paths[0] if len(export_paths) == 1 else ""),
            detail=detail,
        )
    return xfile, filename
