"""The separated administrators at work: the security administrator grants a role, the audit
administrator finds that grant in the audit trail."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from niangjia.utilities.testing.personas import PERSONA_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # The live server serves static files itself; WhiteNoise misses a collectstatic it needs not.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def test_security_admin_grants_a_role_and_the_audit_admin_sees_the_grant(
    page: Page, new_page, login, security_admin, audit_admin, county_cadre, snap
) -> None:
    login(security_admin, PERSONA_PASSWORD)
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="账号管理").click()
    expect(page.get_by_role("heading", name="账号管理")).to_be_visible()
    page.locator(f'tr[data-user="{county_cadre.username}"]').get_by_role(
        "link", name=county_cadre.username
    ).click()
    expect(page.get_by_role("heading", name=re.compile("江岸区总干部"))).to_be_visible()
    page.get_by_role("link", name="授予角色").click()
    expect(page.get_by_role("heading", name=re.compile("授予角色：江岸区总干部"))).to_be_visible()

    # Sent without a role: the form says so, next to the field.
    page.get_by_role("searchbox", name="查找工会").fill("武汉市")
    union_select = page.get_by_label("在哪个工会任职")
    expect(union_select.locator("option", has_text="武汉市总工会")).to_have_count(1)
    union_select.select_option(label="武汉市总工会（市级）")
    page.get_by_role("button", name="授予角色").click()
    role_field = page.locator('[data-field="role"]')
    expect(role_field.get_by_role("alert")).to_have_text("请选择角色")
    snap("role-grant-error")

    page.get_by_label("角色").select_option(label="只读审计员")
    expect(page.get_by_label("在哪个工会任职")).to_have_value(re.compile(r"\d+"))
    page.get_by_role("button", name="授予角色").click()

    expect(page.locator(".messages")).to_contain_text(
        "已授予“江岸区总干部”在“武汉市总工会（市级）”的“只读审计员”角色。"
    )
    granted = page.locator('tr[data-role="auditor"]')
    expect(granted).to_contain_text("武汉市总工会")
    expect(granted).to_contain_text("安全保密管理员")
    snap("user-detail")

    # The audit administrator, at another computer.
    auditor_page = new_page()
    login(audit_admin, PERSONA_PASSWORD, target=auditor_page)
    auditor_page.get_by_role("navigation", name="主菜单").get_by_role(
        "link", name="审计记录"
    ).click()
    expect(auditor_page.get_by_role("heading", name="审计记录")).to_be_visible()
    auditor_page.get_by_label("动作").select_option(label="授予角色")
    auditor_page.get_by_role("button", name="筛选").click()

    rows = auditor_page.locator("table.audit-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("安全保密管理员")
    expect(rows.first).to_contain_text("授予角色")
    expect(rows.first).to_contain_text("江岸区总干部")
    snap("audit-list", target=auditor_page)

    rows.first.get_by_role("link").first.click()
    expect(auditor_page.get_by_role("heading", name=re.compile("授予角色"))).to_be_visible()
    expect(auditor_page.locator("dl.props")).to_contain_text("武汉市总工会")
    changes = auditor_page.locator("table.changes")
    expect(changes).to_contain_text("auditor")
    expect(changes).to_contain_text("武汉市总工会")
    snap("audit-detail", target=auditor_page)


def test_county_cadre_has_no_account_admin_or_audit_pages(page: Page, login, county_cadre) -> None:
    login(county_cadre, PERSONA_PASSWORD)
    nav = page.get_by_role("navigation", name="主菜单")
    expect(nav.get_by_role("link", name="账号管理")).to_have_count(0)
    expect(nav.get_by_role("link", name="审计记录")).to_have_count(0)

    page.goto("/audit/")
    expect(page.get_by_role("heading", name="无权操作")).to_be_visible()
    page.goto("/accounts/users/")
    expect(page.get_by_role("heading", name="无权操作")).to_be_visible()
