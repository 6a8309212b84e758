"""The issue's acceptance scenario, start to end, as a county cadre of 江岸区总工会 lives it:
browse the tree, read a union, register a grassroots union and an employer (each after a
mistake the form explains in Chinese), find both in the lists, and fail to reach the sibling
county 江汉区 by page, by API and by export."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from niangjia.orgs.choices import UnionKind, UnionLevel
from niangjia.utilities.testing.factories import UnionFactory, make_uscc, wrong_check_character
from niangjia.utilities.testing.personas import PERSONA_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # The live server serves static files itself; WhiteNoise misses a collectstatic it needs not.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

NEW_UNION = "武汉江滩文旅有限公司工会"
NEW_EMPLOYER = "武汉江滩文旅有限公司"


def field(page: Page, name: str) -> Locator:
    """The form row of field ``name``: its label, input, help and errors."""
    return page.locator(f'[data-field="{name}"]')


def tree_node(page: Page, name: str) -> Locator:
    return page.locator("li.tree-node").filter(
        has=page.locator(":scope > .tree-row > a.tree-name", has_text=re.compile(f"^{name}$"))
    )


def test_county_cadre_registers_a_union_and_an_employer_and_cannot_reach_the_sibling_county(
    page: Page, login, tree, county_cadre, settings, snap
) -> None:
    # A joint union of couriers' stations with more children than one page of the tree holds.
    settings.ORG_CHILDREN_PAGE_SIZE = 10
    joint = UnionFactory(
        parent=tree.jiangan,
        name="江岸区快递行业联合工会",
        level=UnionLevel.TOWNSHIP,
        kind=UnionKind.JOINT,
    )
    for n in range(1, 12):
        UnionFactory(parent=joint, name=f"江岸区第{n:02d}快递网点工会")

    login(county_cadre, PERSONA_PASSWORD)

    # --- The union tree: the cadre's own county opens by itself; deeper nodes load on demand.
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="组织机构").click()
    expect(page.get_by_role("heading", name="组织机构", exact=True)).to_be_visible()
    expect(tree_node(page, "江岸区总工会")).to_be_visible()
    expect(tree_node(page, "武汉长江机械有限公司工会")).to_be_visible()
    expect(page.locator("li.tree-node", has_text="江汉区总工会")).to_have_count(0)
    joint_node = tree_node(page, "江岸区快递行业联合工会")
    expect(tree_node(page, "江岸区第01快递网点工会")).to_have_count(0)

    joint_node.locator(":scope > .tree-row > .tree-toggle").click()
    expect(tree_node(page, "江岸区第01快递网点工会")).to_be_visible()
    expect(tree_node(page, "江岸区第10快递网点工会")).to_be_visible()
    expect(tree_node(page, "江岸区第11快递网点工会")).to_have_count(0)
    joint_node.get_by_role("link", name="加载更多").click()
    expect(tree_node(page, "江岸区第11快递网点工会")).to_be_visible()
    expect(joint_node.get_by_role("link", name="加载更多")).to_have_count(0)
    snap("tree")

    # --- A union's detail page.
    tree_node(page, "武汉长江机械有限公司工会").locator(":scope > .tree-row > a.tree-name").click()
    expect(page.get_by_role("heading", name="武汉长江机械有限公司工会", level=1)).to_be_visible()
    expect(page.locator("dl.props")).to_contain_text("湖北省武汉市江岸区")
    expect(page.locator("#employers")).to_contain_text("武汉长江机械有限公司")
    snap("union-detail")

    # --- A new grassroots union under the county, first with a region code that cannot be.
    page.get_by_role("navigation", name="所在位置").get_by_role("link", name="江岸区总工会").click()
    expect(page.get_by_role("heading", name="江岸区总工会", level=1)).to_be_visible()
    page.get_by_role("link", name="新建下级工会").click()
    expect(page.get_by_role("heading", name="在“江岸区总工会”下新建工会")).to_be_visible()
    field(page, "name").get_by_role("textbox").fill(NEW_UNION)
    field(page, "kind").get_by_role("combobox").select_option(label="基层工会")
    field(page, "level").get_by_role("combobox").select_option(label="基层")
    region_code = field(page, "region").get_by_role("textbox", name="行政区划代码")
    expect(region_code).to_have_value("420102")
    region_code.fill("42010")
    page.get_by_role("button", name="新建", exact=True).click()

    expect(field(page, "region").get_by_role("alert")).to_have_text(
        "“所在行政区划”应为 6 位或 9 位数字的行政区划代码，“42010”不是"
    )
    expect(field(page, "name").get_by_role("textbox")).to_have_value(NEW_UNION)
    snap("union-form-error")

    # The cascade of selects puts the right code back.
    field(page, "region").get_by_label("选择省（自治区、直辖市）").select_option(label="湖北省")
    field(page, "region").get_by_label("选择市（地区、州）").select_option(label="武汉市")
    field(page, "region").get_by_label("选择县（区、市）").select_option(label="江岸区")
    expect(region_code).to_have_value("420102")
    page.get_by_role("button", name="新建", exact=True).click()

    expect(page.locator(".messages")).to_contain_text(f"已新建“{NEW_UNION}”")
    expect(page.get_by_role("heading", name=NEW_UNION, level=1)).to_be_visible()
    expect(page.locator("dl.props")).to_contain_text("湖北省武汉市江岸区")

    # --- An employer covered by the new union, first with a wrong check character.
    page.get_by_role("link", name="登记用人单位").click()
    expect(page.get_by_role("heading", name="登记用人单位")).to_be_visible()
    right_code = make_uscc(region_code="420102", serial=880_001)
    wrong_code = wrong_check_character(right_code)
    field(page, "name").get_by_role("textbox").fill(NEW_EMPLOYER)
    field(page, "uscc").get_by_role("textbox").fill(wrong_code)
    field(page, "industry_section").get_by_role("combobox").select_option(
        label="R 文化、体育和娱乐业"
    )
    field(page, "ownership").get_by_role("combobox").select_option(label="私营企业")
    field(page, "headcount").get_by_role("spinbutton").fill("85")
    expect(field(page, "owner").get_by_role("combobox")).to_have_value(str(tree.jiangan.pk))
    expect(field(page, "covering_union").get_by_role("combobox")).to_contain_text(NEW_UNION)
    page.get_by_role("button", name="登记", exact=True).click()

    expect(field(page, "uscc").get_by_role("alert")).to_have_text(
        f"统一社会信用代码校验位不正确（第 18 位应为 {right_code[-1]}）"
    )
    # The region cascade shows the chain of the code kept from the first attempt.
    expect(field(page, "region").get_by_label("选择县（区、市）")).to_have_value("420102")
    snap("employer-form-error")
    field(page, "uscc").get_by_role("textbox").fill(right_code)
    page.get_by_role("button", name="登记", exact=True).click()

    expect(page.locator(".messages")).to_contain_text(f"已登记“{NEW_EMPLOYER}”")
    expect(page.get_by_role("heading", name=NEW_EMPLOYER, level=1)).to_be_visible()

    # --- Both are in the lists; nothing of the sibling county is.
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="用人单位").click()
    employers = page.locator("table.employer-table tbody")
    expect(employers.get_by_role("link", name=NEW_EMPLOYER)).to_be_visible()
    expect(employers.locator("tr", has_text=NEW_EMPLOYER)).to_contain_text(NEW_UNION)
    expect(employers.get_by_role("link", name="武汉长江机械有限公司")).to_be_visible()
    expect(employers).not_to_contain_text("武汉汉江物流有限公司")
    snap("employer-list")

    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="组织机构").click()
    expect(tree_node(page, NEW_UNION)).to_be_visible()

    # --- The sibling county, by URL: a Chinese 404 page.
    response = page.goto(f"/orgs/unions/{tree.jianghan.pk}/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("不在您的管辖范围内")
    expect(page.get_by_text("江汉区总工会")).to_have_count(0)
    snap("not-found")

    # --- By the API, with the same browser session: the own union answers, the sibling 404s.
    mine = page.request.get(f"/api/v1/unions/{tree.jiangan.pk}")
    assert mine.status == 200, mine.text()
    assert mine.json()["name"] == "江岸区总工会"
    sibling = page.request.get(f"/api/v1/unions/{tree.jianghan.pk}")
    assert sibling.status == 404
    assert "不在您的管辖范围内" in sibling.json()["detail"]
    assert "江汉区" not in sibling.text()

    # --- By the export: the own roster downloads, the sibling's 404s.
    own_export = page.request.get(f"/orgs/unions/{tree.jiangan.pk}/export.xlsx")
    assert own_export.status == 200
    assert own_export.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sibling_export = page.request.get(f"/orgs/unions/{tree.jianghan.pk}/export.xlsx")
    assert sibling_export.status == 404
    assert "spreadsheetml" not in sibling_export.headers.get("content-type", "")
