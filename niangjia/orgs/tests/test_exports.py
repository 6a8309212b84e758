"""Spreadsheet exports: content, scope, permission, formula-injection guard and audit row."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.orgs.exports import EMPLOYER_HEADERS, UNION_HEADERS
from niangjia.orgs.models import Union
from niangjia.utilities.testing.factories import (
    EmployerFactory,
    UnionFactory,
    make_uscc,
    wrong_check_character,
)
from niangjia.utilities.xlsx import safe_cell, write_xlsx

pytestmark = pytest.mark.django_db


def url(name: str, *args: Any) -> str:
    return reverse(f"orgs:{name}", args=args)


def content(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def sheet_rows(data: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def exports_of(user: Any) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditAction.EXPORT, actor=user))


# --- The shared writer


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_text_that_a_spreadsheet_would_evaluate_is_kept_as_text(prefix):
    assert safe_cell(f'{prefix}HYPERLINK("http://x")') == f'\'{prefix}HYPERLINK("http://x")'


def test_plain_values_pass_unchanged_and_control_characters_are_dropped():
    assert safe_cell("武汉长江机械有限公司") == "武汉长江机械有限公司"
    assert safe_cell(-12) == -12 and safe_cell(3.5) == 3.5 and safe_cell(None) is None
    assert safe_cell(True) == "是" and safe_cell(False) == "否"
    assert safe_cell("a\x00b\x1fc") == "abc"


def test_writer_streams_rows_from_a_generator_and_hashes_the_file():
    rows = ((f"=cmd{n}", n) for n in range(1000))
    xfile = write_xlsx(title="测试", headers=["名称", "序号"], rows=rows)
    data = xfile.file.read()
    assert xfile.rows == 1000
    assert xfile.sha256 == hashlib.sha256(data).hexdigest() and xfile.size == len(data)
    table = sheet_rows(data)
    assert table[0] == ["名称", "序号"]
    assert table[1] == ["'=cmd0", 0] and len(table) == 1001


# --- Union export


def test_county_cadre_exports_their_subtree_with_an_audit_row_carrying_the_hash(
    tree, county_cadre, client_for
):
    response = client_for(county_cadre).get(url("union_export", tree.jiangan.pk))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    data = content(response)
    table = sheet_rows(data)
    assert tuple(table[0]) == UNION_HEADERS
    assert [row[0] for row in table[1:]] == ["江岸区总工会", "武汉长江机械有限公司工会"]
    county = dict(zip(UNION_HEADERS, table[1], strict=True))
    assert county["层级"] == "县级" and county["上级工会"] == "武汉市总工会"
    assert county["所在行政区划"] == "湖北省武汉市江岸区" and county["行政区划代码"] == "420102"
    assert county["下级工会数"] == 1
    [entry] = exports_of(county_cadre)
    assert entry.object_type == "orgs.union" and entry.object_id == str(tree.jiangan.pk)
    assert entry.union_path == tree.jiangan.path
    assert entry.detail["rows"] == 2
    assert entry.detail["filters"] == {"union": tree.jiangan.pk}
    assert entry.detail["sha256"] == hashlib.sha256(data).hexdigest()


def test_union_names_that_look_like_formulas_are_neutralised(tree, county_cadre, client_for):
    UnionFactory(parent=tree.jiangan, name='=HYPERLINK("http://evil.example","点我")')
    Union.objects.filter(pk=tree.jiangan.pk).update(contact_phone="+86 27 1234 5678")
    data = content(client_for(county_cadre).get(url("union_export", tree.jiangan.pk)))
    cells = [cell for row in sheet_rows(data)[1:] for cell in row if isinstance(cell, str)]
    assert '\'=HYPERLINK("http://evil.example","点我")' in cells
    assert "'+86 27 1234 5678" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_industry_union_export_includes_grassroots_unions_linked_to_it(
    tree, provincial_cadre, client_for
):
    data = content(
        client_for(provincial_cadre).get(url("union_export", tree.transport_industry.pk))
    )
    names = [row[0] for row in sheet_rows(data)[1:]]
    assert names == ["湖北省交通运输产业工会", "武汉汉江物流有限公司工会"]


def test_union_export_is_refused_out_of_scope_without_permission_or_login(
    tree, sibling_cadre, auditor, client_for
):
    address = url("union_export", tree.jiangan.pk)
    assert client_for(sibling_cadre).get(address).status_code == 404
    assert client_for(auditor).get(address).status_code == 403
    anonymous = client_for(None).get(address)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_union_export_query_count_does_not_grow_with_rows(
    tree, county_cadre, client_for, django_assert_max_num_queries
):
    client = client_for(county_cadre)
    content(client.get(url("union_export", tree.jiangan.pk)))
    with django_assert_max_num_queries(20) as few:
        content(client.get(url("union_export", tree.jiangan.pk)))
    for _ in range(40):
        UnionFactory(parent=tree.jiangan)
    with django_assert_max_num_queries(len(few.captured_queries)):
        data = content(client.get(url("union_export", tree.jiangan.pk)))
    assert len(sheet_rows(data)) == 1 + 42


# --- Employer export


def test_employer_export_applies_the_list_filters_and_records_them(
    tree, provincial_cadre, client_for
):
    EmployerFactory(owner=tree.jiangan, name="江岸未建会商贸有限公司")
    response = client_for(provincial_cadre).get(
        url("employer_export"), {"organised": "no", "region": "4201"}
    )
    assert response.status_code == 200
    data = content(response)
    table = sheet_rows(data)
    assert tuple(table[0]) == EMPLOYER_HEADERS
    assert [row[0] for row in table[1:]] == ["江岸未建会商贸有限公司"]
    row = dict(zip(EMPLOYER_HEADERS, table[1], strict=True))
    assert row["是否建会"] == "否" and row["管理工会"] == "江岸区总工会"
    assert row["所在行政区划"] == "湖北省武汉市江岸区"
    [entry] = exports_of(provincial_cadre)
    assert entry.object_type == "orgs.employer"
    assert entry.union_path == tree.hubei.path
    assert entry.detail["filters"] == {"region": "4201", "organised": "no"}
    assert entry.detail["rows"] == 1
    assert entry.detail["sha256"] == hashlib.sha256(data).hexdigest()


def test_employer_export_stays_within_the_scope(tree, county_cadre, client_for):
    data = content(client_for(county_cadre).get(url("employer_export")))
    assert [row[0] for row in sheet_rows(data)[1:]] == ["武汉长江机械有限公司"]


def test_employer_export_marks_legacy_codes_and_neutralises_formulas(
    tree, county_cadre, client_for
):
    legacy = wrong_check_character(make_uscc(region_code="420102", serial=55))
    EmployerFactory(
        owner=tree.jiangan,
        name="@SUM(A1:A9) 商行",
        uscc=legacy,
        uscc_override=True,
        uscc_override_reason="-旧代码",
        address="=1+1",
    )
    data = content(client_for(county_cadre).get(url("employer_export"), {"q": "SUM"}))
    row = dict(zip(EMPLOYER_HEADERS, sheet_rows(data)[1], strict=True))
    assert row["单位名称"] == "'@SUM(A1:A9) 商行"
    assert row["历史代码例外"] == "是" and row["例外原因"] == "'-旧代码"
    assert row["地址"] == "'=1+1"
    assert row["统一社会信用代码"] == legacy


def test_auditor_may_not_export_employers(tree, auditor, client_for):
    response = client_for(auditor).get(url("employer_export"))
    assert response.status_code == 403
    assert not exports_of(auditor)


def test_employer_export_with_a_bad_filter_exports_nothing(tree, county_cadre, client_for):
    client = client_for(county_cadre)
    response = client.get(url("employer_export"), {"within": tree.jianghan.pk})
    assert response.status_code == 400
    assert "“工会及其下级”的选择无效" in response.content.decode()
    assert not exports_of(county_cadre)


def test_employer_export_query_count_does_not_grow_with_rows(
    tree, county_cadre, client_for, django_assert_max_num_queries
):
    client = client_for(county_cadre)
    content(client.get(url("employer_export")))
    with django_assert_max_num_queries(20) as few:
        content(client.get(url("employer_export")))
    for _ in range(60):
        EmployerFactory(owner=tree.jiangan, covering_union=tree.jiangan_grassroots)
    with django_assert_max_num_queries(len(few.captured_queries)):
        data = content(client.get(url("employer_export")))
    assert len(sheet_rows(data)) == 1 + 61
