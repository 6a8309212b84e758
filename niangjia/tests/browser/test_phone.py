"""At phone width (390×844) the pages are usable: the menu folds behind a toggle and nothing
is wider than the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from niangjia.tests.browser.conftest import PHONE
from niangjia.utilities.testing.personas import PERSONA_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # The live server serves static files itself; WhiteNoise misses a collectstatic it needs not.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


@pytest.fixture
def viewport() -> dict[str, int]:
    return PHONE


def assert_fits_the_screen(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (
        f"{page.url}: page is {widths[0]}px wide on a {widths[1]}px screen"
    )


def test_login_home_and_tree_are_usable_on_a_phone(
    page: Page, login, county_cadre, tree, snap
) -> None:
    page.goto("/accounts/login/")
    expect(page.get_by_role("button", name="登录")).to_be_in_viewport()
    assert_fits_the_screen(page)
    snap("phone-login")

    login(county_cadre, PERSONA_PASSWORD)
    expect(page.get_by_role("heading", name="您好，江岸区总干部")).to_be_visible()
    menu = page.get_by_role("button", name="菜单")
    nav = page.get_by_role("navigation", name="主菜单")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="组织机构")).to_be_hidden()
    assert_fits_the_screen(page)
    snap("phone-home")

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="组织机构")).to_be_visible()
    expect(nav.get_by_role("button", name="退出")).to_be_visible()
    # The opened menu is a full-width panel under the bar, not a squeezed column beside it.
    bar = page.locator("header.topbar .brand").bounding_box()
    panel = nav.bounding_box()
    assert bar is not None and panel is not None
    assert panel["y"] >= bar["y"] + bar["height"], (bar, panel)
    assert panel["width"] >= PHONE["width"] * 0.8, panel
    assert_fits_the_screen(page)
    snap("phone-menu-open")
    menu.click()
    expect(nav.get_by_role("link", name="组织机构")).to_be_hidden()

    menu.click()
    nav.get_by_role("link", name="组织机构").click()
    expect(page.get_by_role("heading", name="组织机构", exact=True)).to_be_visible()
    expect(
        page.locator("li.tree-node a.tree-name", has_text="武汉长江机械有限公司工会")
    ).to_be_visible()
    assert_fits_the_screen(page)
    snap("phone-tree")

    page.get_by_role("link", name="武汉长江机械有限公司工会").click()
    expect(page.get_by_role("heading", name="武汉长江机械有限公司工会", level=1)).to_be_visible()
    assert_fits_the_screen(page)
    snap("phone-union-detail")


def test_registry_pages_fit_a_phone_screen(page: Page, login, county_cadre, tree) -> None:
    login(county_cadre, PERSONA_PASSWORD)
    for url in [
        "/orgs/employers/",
        "/orgs/employers/add/",
        f"/orgs/employers/{tree.jiangan_employer.pk}/",
        f"/orgs/unions/{tree.jiangan.pk}/",
        f"/orgs/unions/{tree.jiangan.pk}/add/",
        f"/orgs/unions/{tree.jiangan.pk}/edit/",
        "/accounts/password/",
    ]:
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")  # the region cascade has filled in
        assert_fits_the_screen(page)
