"""Exports in Chromium: the member list's export button, the export page and the file it
downloads (masked); a big export built by a real worker with its progress bar; an unmasked
export that needs approval, requested by a county admin, approved by the national admin in
another browser, then downloaded once."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from niangjia.accounts.choices import Role
from niangjia.accounts.models import RoleAssignment
from niangjia.members.exports import HEADERS
from niangjia.tests.browser.conftest import PHONE
from niangjia.utilities.testing.members import make_member
from niangjia.utilities.testing.personas import PERSONA_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def sheet(path: str | Path) -> list[dict[str, Any]]:
    workbook = load_workbook(io.BytesIO(Path(path).read_bytes()), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    return [dict(zip(HEADERS, row, strict=True)) for row in rows[1:]]


@pytest.fixture
def jiangan_members(tree) -> list[Any]:
    with transaction.atomic():  # joining locks rows: PostgreSQL wants a transaction
        return [
            make_member(tree.jiangan_grassroots, name=name, phone=f"1391234000{i}")
            for i, name in enumerate(("导出甲", "导出乙", "导出丙"))
        ]


def test_a_masked_export_from_the_member_list(
    page: Page, login, county_cadre, tree, jiangan_members, snap
) -> None:
    login(county_cadre, PERSONA_PASSWORD)
    page.goto("/members/?status=active")
    page.get_by_role("link", name="导出 Excel").click()

    expect(page.get_by_role("heading", name="导出会员名册")).to_be_visible()
    expect(page.locator("[data-export-count]")).to_have_text("3 行")
    expect(page.get_by_text("会籍状态")).to_be_visible()
    # A cadre may not reveal: no choice of numbers in clear.
    expect(page.get_by_text("完整号码（明文）")).to_have_count(0)
    snap("export-page-masked")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 Excel").click()
    assert download.value.suggested_filename.startswith("会员名册-")
    rows = sheet(download.value.path())
    assert sorted(row["姓名"] for row in rows) == ["导出丙", "导出乙", "导出甲"]
    numbers = {member.reveal_id_number() for member in jiangan_members}
    for row in rows:
        assert "*" in row["证件号码"] and row["证件号码"] not in numbers
        assert row["手机号码"].startswith("139****")


def test_a_big_export_runs_in_the_background_and_downloads_when_done(
    page: Page, login, county_cadre, tree, jiangan_members, job_worker, settings, snap
) -> None:
    settings.EXPORT_INLINE_ROWS = 2
    login(county_cadre, PERSONA_PASSWORD)
    page.goto("/exports/new/members/")
    page.get_by_role("button", name="导出 Excel").click()

    expect(page.get_by_text("文件较大，已在后台生成")).to_be_visible()
    expect(page.locator("[data-job-state]")).to_have_text("已完成", timeout=30_000)
    link = page.get_by_role("link", name="下载 会员名册-")
    expect(link).to_be_visible()
    expect(page.get_by_text("SHA-256")).to_be_visible()
    snap("export-file-ready")
    with page.expect_download() as download:
        link.click()
    assert len(sheet(download.value.path())) == 3


def test_an_unmasked_export_is_requested_approved_and_downloaded_once(
    page: Page, new_page, login, county_cadre, national_admin, tree, jiangan_members, settings, snap
) -> None:
    settings.EXPORT_UNMASKED_APPROVAL_ROWS = 2
    RoleAssignment.objects.create(user=county_cadre, union=tree.jiangan, role=Role.ADMIN)

    # The county admin asks for the numbers in clear: three rows are above the limit.
    login(county_cadre, PERSONA_PASSWORD)
    page.goto(f"/exports/new/members/?within={tree.jiangan.pk}")
    page.get_by_label("完整号码（明文）").check()
    page.get_by_role("button", name="导出 Excel").click()
    expect(page.get_by_text("请填写导出明文的理由（至少 4 个字）")).to_be_visible()
    page.get_by_label("完整号码（明文）").check()
    page.get_by_label("导出明文的理由").fill("办理会员互助保障理赔核对")
    page.get_by_role("button", name="导出 Excel").click()
    expect(page.get_by_text("明文导出申请已提交")).to_be_visible()
    expect(page.get_by_text("待审批", exact=True)).to_be_visible()
    request_url = page.url
    snap("export-request-pending")

    # The national admin, at another computer, finds it in the queue and approves it.
    admin_page = new_page()
    login(national_admin, PERSONA_PASSWORD, target=admin_page)
    admin_page.get_by_role("link", name="导出审批").click()
    expect(admin_page.get_by_role("heading", name="待审批的导出")).to_be_visible()
    snap("export-request-queue", target=admin_page)
    admin_page.get_by_role("link", name="会员名册（明文）").first.click()
    expect(admin_page.get_by_text("办理会员互助保障理赔核对")).to_be_visible()
    admin_page.get_by_label("批准").check()
    admin_page.get_by_label("审批意见").fill("同意，仅用于理赔核对")
    snap("export-request-decide", target=admin_page)
    admin_page.get_by_role("button", name="提交审批结果").click()
    expect(admin_page.get_by_text("已提交审批结果")).to_be_visible()
    expect(admin_page.get_by_text("已批准", exact=True).first).to_be_visible()

    # Back to the requester: the approval is used once.
    page.goto(request_url)
    expect(page.get_by_text("已批准", exact=True).first).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="导出明文 Excel").click()
    rows = sheet(download.value.path())
    assert {row["证件号码"] for row in rows} == {m.reveal_id_number() for m in jiangan_members}
    page.goto(request_url)
    expect(page.get_by_text("已导出", exact=True).first).to_be_visible()
    expect(page.get_by_role("button", name="导出明文 Excel")).to_have_count(0)
    snap("export-request-done")


def test_the_export_page_fits_a_phone(
    new_page, login, county_cadre, tree, jiangan_members, snap
) -> None:
    phone = new_page(viewport=PHONE)
    login(county_cadre, PERSONA_PASSWORD, target=phone)
    phone.goto(f"/exports/new/members/?within={tree.jiangan.pk}&status=active")
    expect(phone.get_by_role("button", name="导出 Excel")).to_be_visible()
    widths = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1]
    snap("export-page-phone", target=phone)
