"""The member list as a spreadsheet: masked by default, in clear only with the right and a
reason, audited with the row count, the filters and the file's SHA-256."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.members import exports
from niangjia.members.exports import HEADERS, export_members
from niangjia.members.models import Member, phone_hash_of
from niangjia.members.selectors import MemberFilters
from niangjia.utilities.testing.members import make_id_number, make_member

pytestmark = pytest.mark.django_db


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return list(workbook.active.iter_rows(values_only=True))


def download(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def export_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditAction.EXPORT).order_by("id"))


def test_masked_export_of_the_current_filter(tree, county_cadre, client_for):
    number, phone = make_id_number(), "13912345678"
    make_member(tree.jiangan_grassroots, name="导出甲", id_number=number, phone=phone)
    make_member(tree.jiangan_grassroots, name="导出乙")
    Member.objects.filter(name="导出乙").update(status="reserved")
    make_member(tree.jianghan_grassroots, name="江汉的人")
    response = client_for(county_cadre).get(reverse("members:member_export") + "?status=active")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Cache-Control"] == "no-store"
    content = download(response)
    rows = sheet_rows(content)
    assert rows[0] == HEADERS
    assert [r[1] for r in rows[1:]] == ["导出甲"]
    row = dict(zip(HEADERS, rows[1], strict=True))
    assert row["证件号码"] == number[:4] + "*" * 10 + number[-4:]
    assert row["手机号码"] == "139****5678"
    assert row["所在工会"] == "武汉长江机械有限公司工会"
    assert row["会籍状态"] == "在会" and row["就业形态"] == "标准劳动关系"
    assert number.encode() not in content and phone.encode() not in content
    (entry,) = export_entries()
    assert entry.actor == county_cadre
    assert entry.object_type == "members.member"
    assert entry.union_path == tree.jiangan.path
    assert entry.detail["rows"] == 1
    assert entry.detail["masked"] is True
    assert entry.detail["filters"] == {"status": "active"}
    assert entry.detail["sha256"] == hashlib.sha256(content).hexdigest()
    assert "reason" not in entry.detail


def test_clear_export_needs_the_right_and_a_reason_and_is_audited(tree, national_admin, client_for):
    number, phone = make_id_number(), "13912345679"
    make_member(tree.jiangan_grassroots, name="明文甲", id_number=number, phone=phone)
    client = client_for(national_admin)
    export_url = reverse("members:member_export") + f"?within={tree.jiangan.pk}"
    response = client.post(export_url, {"reason": "看"}, follow=True)
    assert "请填写导出明文的理由（至少 4 个字）" in response.content.decode()
    assert not export_entries()
    response = client.post(export_url, {"reason": "互助保障理赔核对"})
    assert response.status_code == 200
    content = download(response)
    row = dict(zip(HEADERS, sheet_rows(content)[1], strict=True))
    assert row["证件号码"] == number and row["手机号码"] == phone
    (entry,) = export_entries()
    assert entry.detail["masked"] is False
    assert entry.detail["reason"] == "互助保障理赔核对"
    assert entry.detail["filters"] == {"within": str(tree.jiangan.pk)}
    assert entry.detail["sha256"] == hashlib.sha256(content).hexdigest()
    assert entry.object_repr == "会员名册（明文）"
    assert number not in str(entry.detail)


def test_a_search_by_phone_is_exported_and_audited_by_its_hash_only(tree, county_cadre, client_for):
    phone = "13900002222"
    make_member(tree.jiangan_grassroots, name="按手机导出", phone=phone)
    make_member(tree.jiangan_grassroots, name="别人")
    response = client_for(county_cadre).get(
        reverse("members:member_export") + f"?phone_hash={phone_hash_of(phone)}"
    )
    rows = sheet_rows(download(response))
    assert [r[1] for r in rows[1:]] == ["按手机导出"]
    (entry,) = export_entries()
    assert entry.detail["filters"] == {"phone_hash": phone_hash_of(phone)}
    assert phone not in str(entry.detail)


def test_cells_that_look_like_formulas_stay_text(tree, county_cadre):
    make_member(
        tree.jiangan_grassroots,
        name='=HYPERLINK("http://x")',
        employer_name="+SUM(A1:A2)",
        occupation="@cmd",
    )
    xfile, _ = export_members(acting_user=county_cadre, filters=MemberFilters())
    row = dict(zip(HEADERS, sheet_rows(xfile.file.read())[1], strict=True))
    assert row["姓名"] == '\'=HYPERLINK("http://x")'
    assert row["工作单位"] == "'+SUM(A1:A2)"
    assert row["职业/岗位"] == "'@cmd"


def test_export_needs_the_export_right(tree, auditor, county_cadre):
    make_member(tree.jiangan_grassroots)
    with pytest.raises(PermissionDenied):
        export_members(acting_user=auditor, filters=MemberFilters())
    with pytest.raises(PermissionDenied):
        export_members(
            acting_user=county_cadre, filters=MemberFilters(), unmasked=True, reason="理赔核对"
        )
    assert not export_entries()


def test_clear_export_keeps_to_the_members_the_user_may_reveal(tree, county_cadre, personas):
    from niangjia.accounts.choices import Role
    from niangjia.accounts.models import RoleAssignment

    # Admin of 长江机械's union only, cadre of all 江岸: exports 江岸, reveals one union.
    RoleAssignment.objects.create(user=county_cadre, union=tree.jiangan_grassroots, role=Role.ADMIN)
    county_cadre.forget_roles()
    make_member(tree.jiangan_grassroots, name="可明文")
    make_member(tree.jiangan, name="仅隐去")
    masked, _ = export_members(acting_user=county_cadre, filters=MemberFilters())
    assert {r[1] for r in sheet_rows(masked.file.read())[1:]} == {"可明文", "仅隐去"}
    clear, _ = export_members(
        acting_user=county_cadre, filters=MemberFilters(), unmasked=True, reason="理赔核对"
    )
    assert [r[1] for r in sheet_rows(clear.file.read())[1:]] == ["可明文"]


def test_more_rows_than_a_sheet_holds_are_refused_in_chinese(tree, county_cadre, monkeypatch):
    monkeypatch.setattr(exports, "MAX_ROWS", 2)
    for _ in range(3):
        make_member(tree.jiangan_grassroots)
    with pytest.raises(ValidationError) as exc:
        export_members(acting_user=county_cadre, filters=MemberFilters())
    assert "超出表格的容量，请缩小筛选范围后分批导出" in exc.value.messages[0]
    assert not export_entries()


def test_export_reads_in_chunks_with_a_flat_number_of_queries(tree, county_cadre, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 5)
    for _ in range(3):
        make_member(tree.jiangan_grassroots)
    export_members(acting_user=county_cadre, filters=MemberFilters())  # the roles are read once
    with CaptureQueriesContext(connection) as few:
        export_members(acting_user=county_cadre, filters=MemberFilters())
    for _ in range(20):
        make_member(tree.jiangan_grassroots, employer=tree.jiangan_employer)
    with CaptureQueriesContext(connection) as many:
        xfile, _ = export_members(acting_user=county_cadre, filters=MemberFilters())
    assert xfile.rows == 23
    member_reads = [q for q in many.captured_queries if 'FROM "members_member"' in q["sql"]]
    assert len(member_reads) == 2  # the capped count, then the rows in chunks of one query
    assert len(many) == len(few)
