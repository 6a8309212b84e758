"""The member list as a spreadsheet: the current filters, masked by default, in clear only
with the right and a reason, audited with the row count, the filters and the file's SHA-256.
(Approval, background files and the export pages: niangjia/exports/tests.)"""

from __future__ import annotations

import datetime
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
from niangjia.exports import services
from niangjia.members import exports
from niangjia.members.exports import HEADERS, _member_numbers
from niangjia.members.models import Member, format_member_number, phone_hash_of
from niangjia.utilities.testing.members import make_id_number, make_member

pytestmark = pytest.mark.django_db


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return list(workbook.active.iter_rows(values_only=True))


def download(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def export_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditAction.EXPORT).order_by("id"))


def export(user: Any, filters: dict[str, str] | None = None, **kwargs: Any) -> bytes:
    outcome = services.export_start(
        acting_user=user, kind="members", filters=filters or {}, **kwargs
    )
    assert outcome.file is not None
    return outcome.file.file.read()


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
    assert "reason" not in entry.detail and "approval" not in entry.detail


def test_every_column_is_written_with_its_label_and_dates_stay_dates(tree, county_cadre):
    member = make_member(
        tree.jiangan_grassroots,
        name="全列",
        employer=tree.jiangan_employer,
        employment_form="gig",
        gig_occupation="courier",
        household="rural",
        education="college",
        occupation="快递员",
    )
    Member.objects.filter(pk=member.pk).update(
        legacy_number="GH-0001", birth_date=datetime.date(1990, 1, 2)
    )
    row = dict(zip(HEADERS, sheet_rows(export(county_cadre))[1], strict=True))
    assert row["会员编号"] == "GH-0001"
    assert row["出生日期"] == datetime.datetime(1990, 1, 2)
    assert row["就业形态"] == "新就业形态" and row["新就业形态职业"] == "快递员"
    assert row["户籍类型"] == "农村户籍" and row["学历"] == "大专"
    assert row["工作单位"] == "武汉长江机械有限公司"
    assert row["证件类型"] == "居民身份证" and row["民族"] == "汉族"
    assert row["入会日期"] == datetime.datetime.combine(member.join_date, datetime.time())


def test_member_numbers_are_those_of_the_registry():
    pks = [1, 7, 999, 1000, 1001, 123456789, 99_999_999_999]
    assert list(_member_numbers(pks, {})) == [format_member_number(pk) for pk in pks]


def test_clear_export_has_the_numbers_and_is_audited_with_its_reason(tree, national_admin):
    number, phone = make_id_number(), "13912345679"
    make_member(tree.jiangan_grassroots, name="明文甲", id_number=number, phone=phone)
    with pytest.raises(ValidationError) as exc:
        export(national_admin, {"within": str(tree.jiangan.pk)}, unmasked=True, reason="看")
    assert exc.value.message_dict["reason"] == ["请填写导出明文的理由（至少 4 个字）"]
    assert not export_entries()
    content = export(
        national_admin, {"within": str(tree.jiangan.pk)}, unmasked=True, reason="互助保障理赔核对"
    )
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
    row = dict(zip(HEADERS, sheet_rows(export(county_cadre))[1], strict=True))
    assert row["姓名"] == '\'=HYPERLINK("http://x")'
    assert row["工作单位"] == "'+SUM(A1:A2)"
    assert row["职业/岗位"] == "'@cmd"


def test_export_needs_the_export_right(tree, auditor, county_cadre):
    make_member(tree.jiangan_grassroots)
    with pytest.raises(PermissionDenied):
        export(auditor)
    with pytest.raises(PermissionDenied):
        export(county_cadre, unmasked=True, reason="理赔核对")
    assert not export_entries()


def test_clear_export_keeps_to_the_members_the_user_may_reveal(tree, county_cadre):
    from niangjia.accounts.choices import Role
    from niangjia.accounts.models import RoleAssignment

    # Admin of 长江机械's union only, cadre of all 江岸: exports 江岸, reveals one union.
    RoleAssignment.objects.create(user=county_cadre, union=tree.jiangan_grassroots, role=Role.ADMIN)
    county_cadre.forget_roles()
    make_member(tree.jiangan_grassroots, name="可明文")
    make_member(tree.jiangan, name="仅隐去")
    assert {r[1] for r in sheet_rows(export(county_cadre))[1:]} == {"可明文", "仅隐去"}
    clear = export(county_cadre, unmasked=True, reason="理赔核对")
    assert [r[1] for r in sheet_rows(clear)[1:]] == ["可明文"]


def test_more_rows_than_a_sheet_holds_are_refused_in_chinese(tree, county_cadre, monkeypatch):
    monkeypatch.setattr(services, "MAX_ROWS", 2)
    for _ in range(3):
        make_member(tree.jiangan_grassroots)
    with pytest.raises(ValidationError) as exc:
        export(county_cadre)
    assert "超出表格的容量，请缩小筛选范围后分批导出" in exc.value.messages[0]
    assert not export_entries()


def test_export_reads_in_chunks_with_a_flat_number_of_queries(tree, county_cadre, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 5)

    def add_members() -> None:
        for _ in range(10):
            make_member(tree.jiangan_grassroots, employer=tree.jiangan_employer)
            make_member(tree.jiangan, employer_name="未登记的单位")

    add_members()
    export(county_cadre)  # the roles are read once
    with CaptureQueriesContext(connection) as fewer:
        export(county_cadre)
    add_members()
    add_members()
    with CaptureQueriesContext(connection) as more:
        content = export(county_cadre)
    assert len(sheet_rows(content)) == 1 + 60
    member_reads = [q for q in more.captured_queries if 'FROM "members_member"' in q["sql"]]
    assert len(member_reads) == 2  # the capped count, then the rows in chunks of one query
    # A union's or employer's name is read once, in the first chunk that needs it.
    assert len(more) == len(fewer)
