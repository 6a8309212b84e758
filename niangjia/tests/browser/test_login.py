"""Signing in and out through the real pages: errors, lockout, the administrators' TOTP step."""

from __future__ import annotations

import base64
import re

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from niangjia.tests.browser.conftest import current_totp, submit_login
from niangjia.utilities.testing.personas import PERSONA_PASSWORD, confirmed_device

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # The live server serves static files itself; WhiteNoise misses a collectstatic it needs not.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

WRONG_PASSWORD = "Wrong-Password-123"


def test_login_page_renders_in_chinese(page: Page, snap) -> None:
    page.goto("/")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page).to_have_title("登录 · 娘家工会平台")
    expect(page.get_by_role("heading", name="登录娘家工会平台")).to_be_visible()
    expect(page.get_by_label("用户名", exact=True)).to_be_focused()
    expect(page.get_by_label("密码", exact=True)).to_have_attribute("type", "password")
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    snap("login")


def test_wrong_password_shows_chinese_error_and_keeps_the_username(
    page: Page, county_cadre
) -> None:
    submit_login(page, county_cadre.username, WRONG_PASSWORD)

    expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    expect(page.get_by_role("alert")).to_contain_text("连续失败 5 次后")
    expect(page.get_by_label("用户名", exact=True)).to_have_value(county_cadre.username)
    expect(page.get_by_label("密码", exact=True)).to_have_value("")
    expect(page.get_by_role("button", name="退出")).to_have_count(0)


def test_five_failures_lock_the_account_even_for_the_right_password(
    page: Page, county_cadre, snap
) -> None:
    for _ in range(4):
        submit_login(page, county_cadre.username, WRONG_PASSWORD)
        expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")

    submit_login(page, county_cadre.username, WRONG_PASSWORD)
    expect(page.get_by_role("heading", name="登录已被暂时锁定")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("已被锁定 30 分钟。")
    snap("login-locked")

    page.get_by_role("link", name="返回登录页").click()
    submit_login(page, county_cadre.username, PERSONA_PASSWORD)
    expect(page.get_by_role("heading", name="登录已被暂时锁定")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_county_cadre_lands_on_home_with_their_union_card(
    page: Page, login, county_cadre, snap
) -> None:
    login(county_cadre, PERSONA_PASSWORD)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="您好，江岸区总干部")).to_be_visible()
    card = page.locator("[data-role-card]")
    expect(card).to_have_count(1)
    expect(card.get_by_role("link", name="江岸区总工会")).to_be_visible()
    expect(card).to_contain_text("工会干部")
    # Its subtree: one grassroots union, one employer, and that employer is organised.
    expect(card).to_contain_text("100.0%")
    expect(
        page.get_by_role("navigation", name="主菜单").get_by_role("link", name="组织机构")
    ).to_be_visible()
    snap("home")


def test_administrator_must_pass_the_totp_code(page: Page, national_admin, settings, snap) -> None:
    # Throttling after a wrong code has its own tests; here the right code follows at once.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    confirmed_device(national_admin)

    submit_login(page, national_admin.username, PERSONA_PASSWORD)
    expect(page.get_by_role("heading", name="动态口令验证")).to_be_visible()
    # The second factor guards every page until it is passed.
    page.goto("/")
    expect(page.get_by_role("heading", name="动态口令验证")).to_be_visible()

    right = current_totp(national_admin)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    page.get_by_label("动态口令", exact=True).fill(wrong)
    page.get_by_role("button", name="验证").click()
    expect(page.get_by_role("alert")).to_contain_text("动态口令不正确或已过期")
    snap("login-totp-error")

    page.get_by_label("动态口令", exact=True).fill("12ab")
    page.get_by_role("button", name="验证").click()
    expect(page.get_by_role("alert")).to_contain_text("动态口令应为 6 位数字")

    page.get_by_label("动态口令", exact=True).fill(current_totp(national_admin))
    page.get_by_role("button", name="验证").click()
    expect(page.get_by_role("heading", name="您好，全总管理员")).to_be_visible()
    expect(page.locator("[data-role-card]")).to_contain_text("中华全国总工会")


def test_administrator_without_authenticator_enrols_one_first(page: Page, security_admin) -> None:
    submit_login(page, security_admin.username, PERSONA_PASSWORD)

    expect(page.get_by_role("heading", name="绑定动态口令")).to_be_visible()
    expect(page.get_by_role("img", name="动态口令二维码")).to_be_visible()
    secret = page.locator("[data-secret]").inner_text()
    key = base64.b32decode(secret)
    page.get_by_label("动态口令", exact=True).fill(f"{totp(key):06d}")
    page.get_by_role("button", name="完成绑定").click()

    expect(page.get_by_role("heading", name="您好，安全保密管理员")).to_be_visible()


def test_logout_returns_to_the_login_page_and_closes_the_session(
    page: Page, login, county_cadre
) -> None:
    login(county_cadre, PERSONA_PASSWORD)

    page.get_by_role("button", name="退出").click()

    expect(page.get_by_role("heading", name="登录娘家工会平台")).to_be_visible()
    page.goto("/orgs/unions/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/orgs/unions/$"))
