"""The statistics issue's acceptance, in Chromium:

a provincial cadre opens the statistics page of 湖北省总工会, sees the province map drawn with
its prefectures' boundaries and coloured by members, clicks 武汉市 on the map, then 江岸区 on
Wuhan's map of districts (and the sibling district through the child list), goes back up the
path by the breadcrumb, and downloads the annual statistical return. The figures on every page
and in the spreadsheet equal a direct recount from the tables. Then the 1920×1080 big screen
takes a new member within seconds, without reloading.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from niangjia.members.choices import EmploymentForm, GigOccupation, Household, MemberStatus
from niangjia.members.models import Member
from niangjia.orgs.models import Union
from niangjia.stats import dashboard, fold
from niangjia.utilities.testing.members import make_member
from niangjia.utilities.testing.personas import PERSONA_PASSWORD, Tree

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # The live server serves static files itself; WhiteNoise misses a collectstatic it needs not.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

SCREEN = {"width": 1920, "height": 1080}
HOLDING = (MemberStatus.ACTIVE, MemberStatus.TRANSFERRING, MemberStatus.RESERVED)


@pytest.fixture(autouse=True)
def maps_installed() -> None:
    assert dashboard.geo_url("420000") is not None, (
        "the boundary maps are not installed: run make venv (npm ci + scripts/vendor_static.py)"
    )


def recount(union: Union, **filters: Any) -> int:
    """Members holding a membership under ``union``, straight from the members table."""
    union.refresh_from_db()
    return Member.objects.filter(
        union__in=union.counted_subtree(), status__in=HOLDING, **filters
    ).count()


def shown(page: Page, code: str) -> int:
    """The key figure ``code`` as the page shows it."""
    text = page.locator(f'[data-figure="{code}"] [data-value]').first.inner_text()
    return int(text.replace(",", ""))


def child_cell(page: Page, union: Union, column: int) -> int:
    row = page.locator(f'tr[data-child="{union.pk}"] td')
    return int(row.nth(column).inner_text().replace(",", ""))


def chart_regions(page: Page) -> str:
    return str(page.evaluate("() => window.niangjiaStats.state().map.regions.length"))


def click_region(page: Page, code: str) -> None:
    """Click region ``code`` on the map's canvas, well inside its boundary."""
    chart = page.locator('[data-chart="map"]')
    expect(chart).to_have_attribute("data-map-ready", chart_regions(page))
    chart.scroll_into_view_if_needed()
    x, y = page.evaluate(
        """(code) => {
            const el = document.querySelector('[data-chart="map"]');
            const chart = echarts.getInstanceByDom(el);
            const name = chart.getOption().series[0].map;
            const geo = echarts.getMap(name).geoJSON || echarts.getMap(name).geoJson;
            const feature = geo.features.find((f) => f.properties.adcode === code);
            const polygons = feature.geometry.type === 'Polygon'
                ? [feature.geometry.coordinates] : feature.geometry.coordinates;
            // The point of the region's largest polygon farthest from its boundary (on a grid).
            const ring = polygons.map((p) => p[0]).sort((a, b) => b.length - a.length)[0];
            const inside = (x, y) => {
                let hit = false;
                for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
                    const [xi, yi] = ring[i], [xj, yj] = ring[j];
                    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
                }
                return hit;
            };
            const xs = ring.map((p) => p[0]), ys = ring.map((p) => p[1]);
            const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
            let best = null, bestDistance = -1;
            for (let i = 1; i < 40; i++) {
                for (let j = 1; j < 40; j++) {
                    const x = x0 + ((x1 - x0) * i) / 40, y = y0 + ((y1 - y0) * j) / 40;
                    if (!inside(x, y)) continue;
                    const d = Math.min(...ring.map(([px, py]) => (px - x) ** 2 + (py - y) ** 2));
                    if (d > bestDistance) { bestDistance = d; best = [x, y]; }
                }
            }
            return chart.convertToPixel({ seriesIndex: 0 }, best);
        }""",
        code,
    )
    box = chart.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)


def map_has_boundaries(page: Page) -> None:
    """The map canvas holds drawn boundaries, not a blank box: many distinct colours."""
    colours = page.evaluate(
        """() => {
            const canvas = document.querySelector('[data-chart="map"] canvas');
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            const seen = new Set();
            for (let i = 0; i < data.length; i += 4 * 97) seen.add(data[i] + ',' + data[i + 1] + ',' + data[i + 2]);
            return seen.size;
        }"""
    )
    assert colours > 20, f"the map canvas has only {colours} colours: nothing was drawn"


@pytest.fixture
def people(tree: Tree) -> dict[str, Any]:
    """Members in both districts of Wuhan, brought into the figures by the folder."""
    made = [
        make_member(tree.jiangan_grassroots),
        make_member(tree.jiangan_grassroots, household=Household.RURAL),
        make_member(tree.jiangan_grassroots, household=Household.RURAL),
        make_member(
            tree.jianghan_grassroots,
            employment_form=EmploymentForm.GIG,
            gig_occupation=GigOccupation.COURIER,
        ),
        make_member(tree.jianghan_grassroots),
    ]
    fold.fold_once()
    return {"members": made}


def test_provincial_cadre_drills_down_the_map_goes_back_up_and_exports_the_annual_return(
    page: Page, login: Any, tree: Tree, provincial_cadre: Any, people: Any, snap: Any
) -> None:
    login(provincial_cadre, PERSONA_PASSWORD)
    page.goto("/stats/")
    expect(page.get_by_role("heading", name="湖北省总工会 · 统计")).to_be_visible()

    # --- The province: figures equal a direct recount, the map shows its prefectures.
    assert shown(page, "members") == recount(tree.hubei) == 5
    assert shown(page, "migrant_members") == recount(tree.hubei, household=Household.RURAL) == 2
    assert shown(page, "gig_members") == recount(tree.hubei, employment_form=EmploymentForm.GIG)
    assert child_cell(page, tree.wuhan, 2) == recount(tree.wuhan)
    expect(page.locator('[data-chart="map"] canvas').first).to_be_visible()
    map_has_boundaries(page)
    snap("stats-province")

    # --- Click 武汉市 on the map: Wuhan's dashboard, with its districts on the map.
    click_region(page, "420100")
    expect(page.get_by_role("heading", name="武汉市总工会 · 统计")).to_be_visible()
    assert shown(page, "members") == recount(tree.wuhan) == 5
    assert child_cell(page, tree.jiangan, 2) == recount(tree.jiangan) == 3
    assert child_cell(page, tree.jianghan, 2) == recount(tree.jianghan) == 2
    map_has_boundaries(page)
    snap("stats-city")

    # --- Click 江岸区 on Wuhan's map: the county, its grassroots union in the child list.
    click_region(page, "420102")
    expect(page.get_by_role("heading", name="江岸区总工会 · 统计")).to_be_visible()
    assert shown(page, "members") == recount(tree.jiangan) == 3
    assert shown(page, "migrant_members") == 2
    assert child_cell(page, tree.jiangan_grassroots, 2) == 3
    expect(page.locator('[data-chart="trend"] canvas').first).to_be_visible()
    snap("stats-county")

    # --- Back up the path by the breadcrumb, then down to the sibling district by the list.
    page.get_by_role("navigation", name="所在位置").get_by_role("link", name="武汉市总工会").click()
    expect(page.get_by_role("heading", name="武汉市总工会 · 统计")).to_be_visible()
    page.locator("#children").get_by_role("link", name="江汉区总工会").click()
    expect(page.get_by_role("heading", name="江汉区总工会 · 统计")).to_be_visible()
    assert shown(page, "members") == recount(tree.jianghan) == 2
    assert shown(page, "gig_members") == 1
    page.get_by_role("navigation", name="所在位置").get_by_role("link", name="湖北省总工会").click()
    expect(page.get_by_role("heading", name="湖北省总工会 · 统计")).to_be_visible()

    # --- A quarter instead of the month: the picker reloads the page for it.
    page.get_by_label("期间类型").select_option("quarter")
    expect(page.locator("[data-period-label]")).to_contain_text("季度")
    assert shown(page, "joins") == 5

    # --- The annual return: both tables, checks passed, the spreadsheet equals a recount.
    page.get_by_role("link", name="统计年报").click()
    expect(page.get_by_role("heading", name="工会统计年报")).to_be_visible()
    expect(page.locator('[data-checks="passed"]')).to_be_visible()
    expect(page.get_by_role("heading", name="表一 基层工会情况")).to_be_visible()
    expect(page.get_by_role("heading", name="表二 基层以上工会情况")).to_be_visible()
    snap("stats-annual-return")
    with page.expect_download() as download_info:
        page.locator("[data-return-xlsx]").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    content = Path(download.path()).read_bytes()
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    rows = [tuple(r) for r in sheet.iter_rows(values_only=True) if r and r[0]]
    header = rows[0]
    members_col = header.index("会员数（人）")
    migrant_col = header.index("其中农民工会员（人）")
    table_two = next(i for i, row in enumerate(rows) if row[0] == "表二 基层以上工会情况")
    by_name = {row[0]: row for row in rows[1:table_two]}
    assert by_name["湖北省总工会（合计）"][members_col] == recount(tree.hubei)
    assert by_name["武汉市总工会"][members_col] == recount(tree.wuhan)
    assert by_name["武汉市总工会"][migrant_col] == recount(tree.wuhan, household=Household.RURAL)
    check = next(row for row in rows if row[0] == "逐级校验")
    assert "全部通过" in check[1]


def test_big_screen_takes_a_new_member_without_reloading(
    new_page: Any, login: Any, tree: Tree, provincial_cadre: Any, people: Any, snap: Any
) -> None:
    screen = new_page(viewport=SCREEN)
    login(provincial_cadre, PERSONA_PASSWORD, target=screen)
    screen.goto(f"/stats/{tree.hubei.pk}/screen/")
    members = screen.locator('[data-figure="members"] [data-value]')
    expect(members).to_have_text("5")
    expect(screen.locator('[data-chart="map"] canvas').first).to_be_visible()
    screen.evaluate("() => { window.__sameDocument = true; }")
    snap("stats-screen", target=screen)

    make_member(tree.jianghan_grassroots)
    fold.fold_once()
    # Refreshed in place within its 5-second cycle (the wait allows a loaded machine).
    expect(members).to_have_text("6", timeout=20_000)
    assert screen.evaluate("() => window.__sameDocument === true"), "the screen reloaded"
    assert recount(tree.hubei) == 6
    screen.wait_for_timeout(1500)  # the charts' move to the new figures, for the picture
    snap("stats-screen-updated", target=screen)
