"""The members issue's acceptance, in Chromium at phone size (390×844):

a worker opens a union's QR join page by its URL, gets the ID number wrong once (the form says
why, in Chinese), proves the phone with the texted code and sees the application pending; the
county cadre approves it in the queue and releases the new member to the sibling county's
grassroots union, whose cadre accepts it; the worker opens the member card with phone and
code and the QR shows. Then a mass joining ceremony: the 1920×1080 big screen counts up while
workers join through the venues' pages in other browsers, without reloading.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from niangjia.members import services
from niangjia.members.choices import ApplicationStatus, MemberStatus, TransferStatus
from niangjia.members.models import JoinApplication, JoinCeremony, Member, Transfer
from niangjia.tests.browser.conftest import PHONE
from niangjia.utilities.sms import LocmemBackend
from niangjia.utilities.testing.members import make_id_number
from niangjia.utilities.testing.personas import PERSONA_PASSWORD, Tree

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # The live server serves static files itself; WhiteNoise misses a collectstatic it needs not.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

SCREEN = {"width": 1920, "height": 1080}

WORKER = "黄晓明"
WORKER_ID = make_id_number(region="420102", birth="19950315", serial=27)
WORKER_PHONE = "13971234567"
MASKED_PHONE = "139****4567"
MASKED_ID = WORKER_ID[:4] + "*" * 10 + WORKER_ID[-4:]


@pytest.fixture
def viewport() -> dict[str, int]:
    return PHONE


@pytest.fixture(autouse=True)
def outbox(settings: Any) -> Iterator[list[tuple[str, str]]]:
    """Texts go to memory (the live server runs in this process); a code may be asked for
    again at once, so the card step needs no wait after the joining's code."""
    settings.SMS_BACKEND = "niangjia.utilities.sms.LocmemBackend"
    settings.SMS_RESEND_SECONDS = 0
    LocmemBackend.outbox.clear()
    yield LocmemBackend.outbox
    LocmemBackend.outbox.clear()


def field(page: Page, name: str) -> Locator:
    """The form row of field ``name``: its label, input, help and errors."""
    return page.locator(f'[data-field="{name}"]')


def fits_the_screen(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (
        f"{page.url}: page is {widths[0]}px wide on a {widths[1]}px screen"
    )


def request_code(page: Page, outbox: list[tuple[str, str]], phone: str) -> str:
    """Press “获取验证码” (join.js sends it in place) and read the code the phone received."""
    before = len(outbox)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("[data-code-status]")).to_have_text(
        f"验证码已发送至 {phone[:3]}****{phone[-4:]}，请查看短信并填写。"
    )
    texts = [text for to, text in outbox[before:] if to == phone]
    assert len(texts) == 1, outbox
    match = re.search(r"验证码是 (\d{6})", texts[0])
    assert match is not None, texts[0]
    return match.group(1)


def fill_join_form(page: Page, *, name: str, id_number: str, phone: str, employer: str) -> None:
    field(page, "name").get_by_role("textbox").fill(name)
    field(page, "id_number").get_by_role("textbox").fill(id_number)
    field(page, "phone").get_by_role("textbox").fill(phone)
    field(page, "employer_name").get_by_role("combobox").fill(employer)
    field(page, "occupation").get_by_role("textbox").fill("装配工")


def open_menu_link(page: Page, name: str) -> None:
    """At phone width the main menu folds behind its toggle."""
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name=name).click()


def test_worker_joins_by_qr_is_approved_transferred_accepted_and_shows_the_card(
    page: Page,
    new_page: Any,
    login: Any,
    tree: Tree,
    county_cadre: Any,
    sibling_cadre: Any,
    outbox: list[tuple[str, str]],
    snap: Any,
) -> None:
    # --- The worker scans the poster of 武汉长江机械有限公司工会: the QR code holds this URL.
    page.goto(f"/j/u/{tree.jiangan_grassroots.pk}/")
    expect(page.get_by_role("heading", name="申请加入武汉长江机械有限公司工会")).to_be_visible()
    fits_the_screen(page)

    wrong_digit = "0" if WORKER_ID[-1] != "0" else "1"
    fill_join_form(
        page,
        name=WORKER,
        id_number=WORKER_ID[:17] + wrong_digit,
        phone=WORKER_PHONE,
        employer="长江机械",
    )
    # join.js offers the registered employers of the union's area.
    page.get_by_role("button", name="武汉长江机械有限公司", exact=True).click()
    expect(field(page, "employer_name").get_by_role("combobox")).to_have_value(
        "武汉长江机械有限公司"
    )
    code = request_code(page, outbox, WORKER_PHONE)
    field(page, "code").get_by_role("textbox").fill(code)
    page.get_by_role("button", name="提交入会申请").click()

    expect(field(page, "id_number").get_by_role("alert")).to_have_text(
        f"身份证号码校验位不正确（最后一位应为 {WORKER_ID[-1]}），请核对是否抄错"
    )
    expect(field(page, "name").get_by_role("textbox")).to_have_value(WORKER)
    assert not JoinApplication.objects.exists()
    fits_the_screen(page)
    snap("members-join-bad-id")

    field(page, "id_number").get_by_role("textbox").fill(WORKER_ID)
    page.get_by_role("button", name="提交入会申请").click()

    expect(page.get_by_role("heading", name="申请已提交")).to_be_visible()
    expect(page.locator("[data-result]")).to_contain_text(
        "黄**，您加入“武汉长江机械有限公司工会”的申请已收到。"
    )
    application = JoinApplication.objects.get()
    expect(page.locator("dl.facts")).to_contain_text(f"{application.due_date:%Y年%-m月%-d日} 前")
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.phone_verified and application.employer == tree.jiangan_employer
    for secret in (WORKER_ID, WORKER_PHONE):
        assert secret not in page.url
        assert secret not in page.content()
    fits_the_screen(page)
    snap("members-join-pending")

    # --- The county cadre approves it in the queue, on a phone as well.
    cadre = new_page()
    login(county_cadre, PERSONA_PASSWORD, target=cadre)
    open_menu_link(cadre, "会员")
    cadre.get_by_role("navigation", name="会员工作").get_by_role("link", name="入会审批").click()
    expect(cadre.get_by_role("heading", name="入会审批", level=1)).to_be_visible()
    row = cadre.locator("table.application-table tbody tr", has_text=WORKER)
    expect(row).to_contain_text(MASKED_ID)
    expect(row).to_contain_text(MASKED_PHONE)
    expect(row).to_contain_text("扫码入会")
    assert WORKER_ID not in cadre.content()
    row.get_by_role("checkbox", name=f"选择 {WORKER}").check()
    cadre.get_by_role("radio", name="批准入会").check()
    cadre.locator(".bulk-bar").get_by_role("button", name="提交").click()

    expect(cadre.get_by_role("heading", name="批量批准的结果")).to_be_visible()
    expect(cadre.locator(".result-done")).to_contain_text(WORKER)
    member = Member.objects.get()
    assert member.union == tree.jiangan_grassroots and member.status == MemberStatus.ACTIVE
    fits_the_screen(cadre)
    snap("members-approved", target=cadre)

    # --- …and releases the new member to the sibling county's grassroots union.
    open_menu_link(cadre, "会员")
    expect(cadre.get_by_role("heading", name="会员名册", level=1)).to_be_visible()
    cadre.locator("table.member-table").get_by_role("link", name=WORKER).click()
    expect(cadre.get_by_role("heading", level=1)).to_contain_text(member.member_number)
    cadre.get_by_role("link", name="办理转出").click()
    expect(cadre.get_by_role("heading", name=f"将“{WORKER}”转出")).to_be_visible()
    field(cadre, "to_union").get_by_role("combobox").select_option(
        value=str(tree.jianghan_grassroots.pk)
    )
    field(cadre, "new_employer_name").get_by_role("textbox").fill("武汉汉江物流有限公司")
    field(cadre, "reason").get_by_role("textbox").fill("调往武汉汉江物流有限公司工作")
    cadre.get_by_role("button", name="转出", exact=True).click()

    expect(cadre.locator(".messages")).to_contain_text(
        f"已将“{WORKER}”转出至“武汉汉江物流有限公司工会”，等待对方接收"
    )
    transfer = Transfer.objects.get()
    assert transfer.status == TransferStatus.RELEASED
    assert Member.objects.get().status == MemberStatus.TRANSFERRING
    fits_the_screen(cadre)

    # --- The sibling county's cadre accepts it.
    sibling = new_page()
    login(sibling_cadre, PERSONA_PASSWORD, target=sibling)
    open_menu_link(sibling, "会员")
    sibling.get_by_role("navigation", name="会员工作").get_by_role("link", name="会籍转接").click()
    incoming = sibling.locator("#incoming tbody tr", has_text=WORKER)
    expect(incoming).to_contain_text("武汉长江机械有限公司工会")
    expect(incoming).to_contain_text(MASKED_ID)
    sibling.once("dialog", lambda dialog: dialog.accept())
    incoming.get_by_role("button", name="接收").click()

    expect(sibling.locator(".messages")).to_contain_text(
        f"已接收“{WORKER}”转入“武汉汉江物流有限公司工会”"
    )
    member.refresh_from_db()
    assert member.union == tree.jianghan_grassroots and member.status == MemberStatus.ACTIVE
    fits_the_screen(sibling)
    snap("members-transfer-accepted", target=sibling)

    # --- On another day the worker opens the member card: phone, texted code, QR.
    phone = new_page()
    phone.goto("/j/card/")
    expect(phone.get_by_role("heading", name="我的会员卡")).to_be_visible()
    field(phone, "phone").get_by_role("textbox").fill(WORKER_PHONE)
    card_code = request_code(phone, outbox, WORKER_PHONE)
    field(phone, "code").get_by_role("textbox").fill(card_code)
    phone.get_by_role("button", name="查看会员卡").click()

    card = phone.locator("section.member-card")
    expect(card).to_have_count(1)
    expect(card.get_by_label("会员编号")).to_have_text(member.member_number)
    expect(card).to_contain_text("武汉汉江物流有限公司工会")
    expect(card).to_contain_text("在会")
    qr = card.get_by_role("img", name="会员卡二维码，供工会扫码核验").locator("svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 120, box
    for secret in (WORKER_ID, WORKER_PHONE):
        assert secret not in phone.url and secret not in phone.content()
    fits_the_screen(phone)
    snap("members-card", target=phone)

    # The card's QR holds a signed token and no personal data; the new union's scan page
    # verifies it and leads its cadre to the record.
    sibling.goto(f"/j/card/verify/{services.card_token(member)}/")
    expect(sibling.get_by_role("heading", name="有效会员")).to_be_visible()
    facts = sibling.locator("dl.facts")
    expect(facts).to_contain_text(member.member_number)
    expect(facts).to_contain_text("黄**")
    expect(facts).to_contain_text("武汉汉江物流有限公司工会")
    sibling.get_by_role("link", name="查看会员档案").click()
    expect(sibling.get_by_role("heading", level=1)).to_contain_text(WORKER)


def test_ceremony_screen_counts_up_as_workers_join_at_the_venues(
    page: Page,
    new_page: Any,
    login: Any,
    tree: Tree,
    county_cadre: Any,
    snap: Any,
) -> None:
    now = timezone.now()
    ceremony = services.ceremony_create(
        acting_user=county_cadre,
        union=tree.jiangan,
        name="江岸区新就业形态劳动者集中入会仪式",
        starts_at=now - datetime.timedelta(minutes=5),
        ends_at=now + datetime.timedelta(hours=2),
        auto_approve=True,
    )
    main_hall = services.venue_add(
        ceremony=ceremony,
        acting_user=county_cadre,
        name="长江机械主会场",
        union=tree.jiangan_grassroots,
    )
    square = services.venue_add(
        ceremony=ceremony, acting_user=county_cadre, name="江岸区快递驿站分会场", union=tree.jiangan
    )

    screen = new_page(viewport=SCREEN)
    login(county_cadre, PERSONA_PASSWORD, target=screen)
    screen.goto(f"/members/ceremonies/{ceremony.pk}/screen/")
    expect(screen.get_by_role("heading", name="江岸区新就业形态劳动者集中入会仪式")).to_be_visible()
    total = screen.locator("[data-total]")
    expect(total).to_have_text("0")
    # A page reload would lose this mark.
    screen.evaluate("() => { window.__sameScreen = true; }")

    joiners = [
        ("周大海", main_hall, "武汉长江机械有限公司"),
        ("吴小燕", square, "江岸区顺风快递网点"),
        ("郑国强", main_hall, "武汉长江机械有限公司"),
    ]
    for n, (name, venue, employer) in enumerate(joiners, start=1):
        # Each worker scans the venue's QR with their own phone.
        phone = page if n == 1 else new_page()
        phone.goto(f"/j/v/{venue.token}/")
        expect(phone.get_by_role("heading", name=f"申请加入{venue.union.name}")).to_be_visible()
        expect(phone.locator(".join-head")).to_contain_text("现场提交即入会")
        fill_join_form(
            phone,
            name=name,
            id_number=make_id_number(region="420102", birth="19930601", serial=400 + n),
            phone=f"1367100{n:04d}",
            employer=employer,
        )
        phone.get_by_role("button", name="提交入会申请").click()
        expect(phone.get_by_role("heading", name="入会成功")).to_be_visible()
        fits_the_screen(phone)

        expect(total).to_have_text(str(n))

    venues = screen.locator("[data-venues]")
    expect(venues.locator(f'li[data-id="{main_hall.pk}"] .vb-count')).to_have_text("2")
    expect(venues.locator(f'li[data-id="{square.pk}"] .vb-count')).to_have_text("1")
    latest = screen.locator("[data-latest] li .lt-name")
    expect(latest).to_have_text(["郑**", "吴**", "周**"])
    assert screen.evaluate("() => window.__sameScreen === true"), "the screen was reloaded"
    assert JoinCeremony.objects.get().joined_count == 3
    for name, _, _ in joiners:
        assert name not in screen.content()
    snap("members-ceremony-screen", target=screen)
