"""The verification issue's acceptance, in Chromium: a county cadre starts a verification of the
employers of 江岸区 at the desk, splits it between two staff and opens it; one of the staff marks
employers on a phone, each mark saved without reloading the page; the campaign's progress shows
it; the cadre closes the campaign, and the employer registry shows the new status with its
history.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from niangjia.orgs.choices import EmployerStatus
from niangjia.orgs.models import Employer
from niangjia.tests.browser.conftest import PHONE
from niangjia.utilities.testing.factories import EmployerFactory
from niangjia.utilities.testing.personas import PERSONA_PASSWORD, Tree
from niangjia.verification.models import VerificationCampaign
from niangjia.verification.tests.conftest import make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # The live server serves static files itself; WhiteNoise misses a collectstatic it needs not.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

CAMPAIGN = "江岸区2026年用人单位核查"


def fits_the_screen(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (
        f"{page.url}: page is {widths[0]}px wide on a {widths[1]}px screen"
    )


def row(page: Page, name: str) -> Any:
    return page.locator("[data-item]", has_text=name)


def test_cadre_splits_a_campaign_staff_mark_on_a_phone_and_closing_updates_the_registry(
    page: Page,
    new_page: Any,
    login: Any,
    tree: Tree,
    county_cadre: Any,
    snap: Any,
) -> None:
    staff = make_staff(tree.jiangan, "county_staff", "刘芳")
    for i in range(1, 12):
        EmployerFactory(
            owner=tree.jiangan, name=f"武汉江岸核查{i:02d}有限公司", address=f"解放大道{i}号"
        )

    # --- The county cadre starts the campaign at the desk.
    login(county_cadre, PERSONA_PASSWORD)
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="单位核查").click()
    expect(page.get_by_role("heading", name="用人单位核查")).to_be_visible()
    page.get_by_role("link", name="发起核查").click()
    page.get_by_label("核查名称").fill(CAMPAIGN)
    page.get_by_label("登记状态").select_option("")
    # The count follows the filters as they change (the page asks the server in place).
    expect(page.locator("[data-preview]")).to_have_text("符合条件的用人单位：12 家")
    page.get_by_label("职工人数不少于").fill("100")
    page.get_by_label("职工人数不少于").blur()
    expect(page.locator("[data-preview]")).to_have_text("符合条件的用人单位：1 家")
    page.get_by_label("职工人数不少于").fill("")
    page.get_by_label("职工人数不少于").blur()
    expect(page.locator("[data-preview]")).to_have_text("符合条件的用人单位：12 家")
    snap("verification-01-create")
    page.get_by_role("button", name="发起核查").click()
    expect(page.get_by_role("heading", name=CAMPAIGN)).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("共 12 家单位")

    # --- Split between the two county cadres in the dialog, then open the campaign.
    page.get_by_role("link", name="分配核查任务").click()
    dialog = page.get_by_role("dialog", name="分配核查任务")
    expect(dialog).to_be_visible()
    dialog.get_by_label("江岸区总干部").check()
    dialog.get_by_label("刘芳").check()
    snap("verification-02-split-dialog")
    dialog.get_by_role("button", name="确定分配").click()
    expect(page.locator(".messages")).to_contain_text("已分配 12 家单位")
    page.get_by_role("button", name="开始核查").click()
    expect(page.locator(".messages")).to_contain_text("核查已开始")
    people = page.locator(".people-table")
    expect(people.get_by_role("row", name="刘芳")).to_contain_text("6")
    campaign = VerificationCampaign.objects.get(name=CAMPAIGN)
    mine = set(campaign.items.filter(assignee=staff).values_list("employer__name", flat=True))
    assert len(mine) == 6

    # --- 刘芳 marks on site, on a phone: each mark is saved in place.
    phone = new_page(viewport=PHONE)
    login(staff, PERSONA_PASSWORD, target=phone)
    phone.get_by_role("button", name="菜单").click()
    phone.get_by_role("navigation", name="主菜单").get_by_role("link", name="单位核查").click()
    phone.get_by_role("link", name="我的核查任务").click()
    expect(phone.get_by_role("heading", name="我的核查任务")).to_be_visible()
    expect(phone.locator(".vmine-counts")).to_contain_text("待核查 6 家")
    fits_the_screen(phone)
    phone.evaluate("() => { window.__sameDocument = true; }")
    first, second, *_ = sorted(mine)
    target = row(phone, first)
    target.get_by_label(f"{first}的备注").fill("已迁往汉阳区")
    target.get_by_role("button", name="迁出").click()
    expect(row(phone, first).locator("[data-mark-msg]")).to_have_text(f"已将“{first}”标记为“迁出”")
    expect(row(phone, first).get_by_role("button", name="迁出")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(phone.locator(".vmine-counts")).to_contain_text("待核查 5 家")
    row(phone, second).get_by_role("button", name="注销").click()
    expect(row(phone, second).locator(".vresult")).to_have_text("注销")
    expect(phone.locator(".vmine-counts")).to_contain_text("已核查 2 家")
    assert phone.evaluate("() => window.__sameDocument === true"), "the page reloaded"
    fits_the_screen(phone)
    snap("verification-03-phone-marking", target=phone)
    # The campaign's own pages fit the phone too.
    phone.get_by_role("link", name="核查列表").click()
    phone.get_by_role("link", name=CAMPAIGN).click()
    expect(phone.locator("[data-count='done']")).to_have_text("2")
    fits_the_screen(phone)
    snap("verification-03b-phone-campaign", target=phone)
    phone.get_by_role("link", name="查看和标记核查单位").click()
    expect(row(phone, first).locator(".vresult")).to_have_text("迁出")
    fits_the_screen(phone)
    snap("verification-03c-phone-items", target=phone)

    # --- The cadre sees the progress, overall and per person.
    page.reload()
    expect(page.locator("[data-count='done']")).to_have_text("2")
    expect(people.get_by_role("row", name="刘芳")).to_contain_text("33%")
    snap("verification-04-progress")

    # --- At the desk, the cadre marks one of their own from the list; the counts follow.
    page.get_by_role("link", name="查看和标记核查单位").click()
    own = sorted(
        campaign.items.filter(assignee=county_cadre).values_list("employer__name", flat=True)
    )[0]
    row(page, own).get_by_role("button", name="存续").click()
    expect(row(page, own).locator(".vresult")).to_have_text("存续")
    expect(page.locator("[data-count='done']")).to_have_text("3")
    expect(page.locator("[data-count='active']")).to_have_text("1")
    fits_the_screen(page)
    snap("verification-05-item-list")
    page.get_by_role("link", name=CAMPAIGN).click()

    # --- Closing shows what will change, then writes it to the registry.
    page.get_by_role("link", name="结束核查并更新登记").click()
    expect(page.get_by_text("2 家单位的登记状态将按核查结果更新")).to_be_visible()
    expect(page.locator(".vtransitions")).to_contain_text("迁出")
    snap("verification-06-close")
    page.get_by_label("我已核对以上变更").check()
    page.get_by_role("button", name="结束核查并更新登记").click()
    expect(page.locator(".messages")).to_contain_text("2 家单位的登记状态已更新")
    expect(page.locator(".messages")).to_contain_text("1 家维持原状态")
    moved = Employer.objects.get(name=first)
    assert moved.status == EmployerStatus.MOVED_AWAY
    assert Employer.objects.get(name=second).status == EmployerStatus.DEREGISTERED

    # --- The employer registry: the new status, and the change in its history.
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="用人单位").click()
    page.get_by_role("link", name=first).click()
    expect(page.locator("dl.props")).to_contain_text("迁出")
    history = page.locator("#history")
    latest = history.locator("tbody tr").first
    expect(latest).to_contain_text("修改")
    expect(latest).to_contain_text("登记状态")
    expect(latest).to_contain_text("江岸区总干部")
    snap("verification-07-employer-history")

    # --- The item's page tells the same story, with the checker's note.
    page.goto(f"/verification/{campaign.pk}/items/?q={first}")
    page.get_by_role("link", name=first).click()
    expect(page.locator("#history-title + .vhistory")).to_contain_text(
        "登记状态：存续 → 迁出（核查“江岸区2026年用人单位核查”，刘芳核查：已迁往汉阳区）"
    )
    snap("verification-08-item")
