"""The statistics pages: dashboard, big screen, exports, annual return, indicator definitions.

The tree and personas come from ``niangjia/conftest.py``: the provincial cadre holds 湖北省总工会,
the county cadre 江岸区总工会, the sibling cadre 江汉区总工会, the auditor views Hubei read-only.
Figures are brought up to date by the folder (``fold.fold_once``), as the running folder does
within a second of each write; the tests compare what the pages show with a direct recount.
"""

from __future__ import annotations

import io
import json
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from niangjia.audit.choices import AuditAction
from niangjia.audit.models import AuditEntry
from niangjia.members.choices import EmploymentForm, GigOccupation, Household, MemberStatus
from niangjia.members.models import Member
from niangjia.orgs.models import Union
from niangjia.stats import annual_return, dashboard, fold
from niangjia.stats.models import StatValue
from niangjia.stats.periods import STAT_YEAR, Period
from niangjia.utilities.testing.factories import UnionFactory
from niangjia.utilities.testing.members import make_member
from niangjia.utilities.testing.permissions import ScopedCase, ScopedViewCases

pytestmark = pytest.mark.django_db


def url(name: str, *args: Any) -> str:
    return reverse(f"stats:{name}", args=args)


def text(response: Any) -> str:
    return response.content.decode("utf-8")


def workbook_rows(response: Any) -> list[tuple[Any, ...]]:
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    return [tuple(row) or (None,) for row in sheet.iter_rows(values_only=True)]


def payload_of(response: Any) -> dict[str, Any]:
    page = text(response)
    start = page.index('<script id="stats-data" type="application/json">') + len(
        '<script id="stats-data" type="application/json">'
    )
    return json.loads(page[start : page.index("</script>", start)])


@pytest.fixture
def members(tree):
    """Members in both counties (one migrant, one gig courier in 江汉, one who left)."""
    made = [
        make_member(tree.jiangan_grassroots),
        make_member(tree.jiangan_grassroots, household=Household.RURAL),
        make_member(
            tree.jianghan_grassroots,
            employment_form=EmploymentForm.GIG,
            gig_occupation=GigOccupation.COURIER,
        ),
    ]
    fold.fold_once()
    return made


def recount_members(union: Union) -> int:
    """Members holding a membership under ``union``, counted straight from the table."""
    return (
        Member.objects.filter(union__in=union.counted_subtree())
        .filter(status__in=(MemberStatus.ACTIVE, MemberStatus.TRANSFERRING, MemberStatus.RESERVED))
        .count()
    )


class TestStatsPagesScopedAccess(ScopedViewCases):
    CASES = [
        ScopedCase(
            name="stats-home",
            url=lambda t: url("dashboard_home"),
            allowed=("county_cadre", "provincial_cadre", "grassroots_cadre", "auditor"),
            forbidden=("worker", "system_admin"),
        ),
        ScopedCase(
            name="stats-dashboard",
            url=lambda t: url("dashboard", t.jiangan.pk),
            model=StatValue,
            allowed=("county_cadre", "provincial_cadre", "auditor", "national_admin"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker", "system_admin"),
            contains=lambda t: ["江岸区总工会 · 统计", "武汉长江机械有限公司工会"],
            excludes=lambda t: ["武汉汉江物流有限公司工会"],
        ),
        ScopedCase(
            name="stats-dashboard-data",
            url=lambda t: url("dashboard_data", t.jiangan.pk),
            model=StatValue,
            allowed=("county_cadre", "provincial_cadre", "auditor"),
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker"),
            contains=lambda t: ["武汉长江机械有限公司工会"],
            excludes=lambda t: ["武汉汉江物流有限公司工会"],
        ),
        ScopedCase(
            name="stats-screen",
            url=lambda t: url("screen", t.hubei.pk),
            model=StatValue,
            allowed=("provincial_cadre", "auditor"),
            out_of_scope=("county_cadre", "sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="stats-export",
            url=lambda t: url("export", t.jiangan.pk, "children"),
            model=StatValue,
            action="export",
            allowed=("county_cadre", "provincial_cadre"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "grassroots_cadre", "worker"),
        ),
        ScopedCase(
            name="stats-annual-return",
            url=lambda t: url("annual_return", t.wuhan.pk),
            model=StatValue,
            allowed=("provincial_cadre", "auditor"),
            out_of_scope=("county_cadre", "sibling_cadre", "worker"),
            contains=lambda t: ["江岸区总工会", "江汉区总工会"],
        ),
        ScopedCase(
            name="stats-annual-return-xlsx",
            url=lambda t: url("annual_return_xlsx", t.jiangan.pk),
            model=StatValue,
            action="export",
            allowed=("county_cadre", "provincial_cadre"),
            forbidden="auditor",
            out_of_scope=("sibling_cadre", "worker"),
        ),
        ScopedCase(
            name="stats-indicator-list",
            url=lambda t: url("indicator_list"),
            allowed=("county_cadre", "auditor", "grassroots_cadre"),
            forbidden=("worker", "system_admin"),
            contains=lambda t: ["入会率", "建会率", "统计年度"],
        ),
    ]


# --- Dashboard


def test_county_cadre_cannot_open_the_sibling_countys_dashboard(tree, county_cadre, client_for):
    client = client_for(county_cadre)
    assert client.get(url("dashboard", tree.jianghan.pk)).status_code == 404
    assert client.get(url("screen", tree.jianghan.pk)).status_code == 404
    assert client.get(url("dashboard_data", tree.jianghan.pk)).status_code == 404
    assert client.get(url("annual_return", tree.jianghan.pk)).status_code == 404


def test_stats_home_opens_the_dashboard_of_the_cadres_own_union(tree, county_cadre, client_for):
    response = client_for(county_cadre).get(url("dashboard_home") + "?kind=quarter")
    assert response.status_code == 302
    assert response["Location"] == url("dashboard", tree.jiangan.pk) + "?kind=quarter"


def test_dashboard_figures_equal_a_direct_recount(tree, members, provincial_cadre, client_for):
    response = client_for(provincial_cadre).get(url("dashboard", tree.hubei.pk))
    data = payload_of(response)
    figures = {f["code"]: f for f in data["figures"]}
    assert figures["members"]["value"] == recount_members(tree.hubei) == 3
    assert figures["migrant_members"]["value"] == 1
    assert figures["gig_members"]["value"] == 1
    assert figures["joins"]["value"] == 3
    page = text(response)
    assert 'data-figure="members"' in page
    # The children table: 武汉 holds all three, the transport industry union the courier.
    children = {c["name"]: c for c in data["children"]}
    assert children["武汉市总工会"]["cells"]["members"] == str(recount_members(tree.wuhan))
    assert children["湖北省交通运输产业工会"]["cells"]["members"] == "1"


def test_dashboard_shows_its_figures_as_tables_without_scripts(
    tree, members, county_cadre, client_for
):
    page = text(client_for(county_cadre).get(url("dashboard", tree.jiangan.pk)))
    # Key figures, the trend table, the breakdown tables and the child list are plain HTML.
    assert "<span data-value>2</span>" in page
    assert "<summary>数据表</summary>" in page
    assert "农村户籍" in page
    assert f'<tr data-child="{tree.jiangan_grassroots.pk}">' in page


def test_dashboard_breakdowns_cut_members_by_gig_occupation_and_employment_form(
    tree, members, provincial_cadre, client_for
):
    data = payload_of(client_for(provincial_cadre).get(url("dashboard", tree.hubei.pk)))
    parts = {b["code"]: {i["key"]: i["value"] for i in b["items"]} for b in data["breakdowns"]}
    assert parts["gig_members.gig_occupation"][GigOccupation.COURIER] == 1
    assert parts["members.employment_form"] == {EmploymentForm.STANDARD: 2, EmploymentForm.GIG: 1}
    assert parts["members.household"][Household.RURAL] == 1


def test_province_map_colours_its_cities_and_links_each_to_its_dashboard(
    tree, members, provincial_cadre, client_for
):
    data = payload_of(client_for(provincial_cadre).get(url("dashboard", tree.hubei.pk)))
    assert data["map"]["area"] == "420000"
    assert data["map"]["geo"] is not None and data["map"]["geo"].endswith("420000.json")
    regions = {r["code"]: r for r in data["map"]["regions"]}
    # The industry union sits on no prefecture of its own: it is in the table, not on the map.
    assert set(regions) == {"420100"}
    assert regions["420100"]["value"] == 3
    assert regions["420100"]["url"].startswith(url("dashboard", tree.wuhan.pk))


def test_national_dashboard_maps_provinces_and_county_dashboard_has_no_map(
    tree, members, national_admin, county_cadre, client_for
):
    national = payload_of(client_for(national_admin).get(url("dashboard", tree.root.pk)))
    assert national["map"]["area"] == "100000"
    assert [r["code"] for r in national["map"]["regions"]] == ["420000"]
    county = payload_of(client_for(county_cadre).get(url("dashboard", tree.jiangan.pk)))
    assert county["map"] is None


def test_map_boundaries_are_installed_for_china_every_province_and_their_cities():
    # Installed by `make venv` (npm ci + scripts/vendor_static.py); skipped when not set up.
    if dashboard.geo_url("100000") is None:
        pytest.skip("front-end assets not installed: run make venv")
    from niangjia.orgs.models import Region

    provinces = Region.objects.filter(level="province").exclude(code="710000")
    # Prefectures divided into counties (东莞, 中山 have none; 省直辖县级行政区划 is no area).
    cities = (
        Region.objects.filter(level="city", parent__code__in=["420000", "440000"])
        .filter(children__isnull=False)
        .exclude(code="429000")
        .distinct()
    )
    missing = [r.code for r in [*provinces, *cities] if dashboard.geo_url(r.code) is None]
    assert provinces.count() == 33
    assert not missing


def test_breadcrumbs_lead_up_to_the_cadres_own_union_only(
    tree, county_cadre, provincial_cadre, client_for
):
    county_page = text(client_for(county_cadre).get(url("dashboard", tree.jiangan_grassroots.pk)))
    assert f'href="{url("dashboard", tree.jiangan.pk)}?' in county_page
    assert f'href="{url("dashboard", tree.wuhan.pk)}?' not in county_page
    province_page = text(client_for(provincial_cadre).get(url("dashboard", tree.jiangan.pk)))
    assert f'href="{url("dashboard", tree.hubei.pk)}?' in province_page
    assert f'href="{url("dashboard", tree.wuhan.pk)}?' in province_page


def test_period_picker_takes_a_quarter_and_keeps_it_when_drilling_down(
    tree, members, provincial_cadre, client_for
):
    quarter = Period.current("quarter")
    response = client_for(provincial_cadre).get(
        url("dashboard", tree.hubei.pk), {"kind": "quarter", "period": quarter.code}
    )
    data = payload_of(response)
    assert data["period"]["code"] == quarter.code
    assert f"{url('dashboard', tree.wuhan.pk)}?kind=quarter&amp;period={quarter.code}" in text(
        response
    )
    assert len(data["trend"]["labels"]) == 8


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "2024-13"}, "月份应在 01 到 12 之间"),
        ({"period": "下个月"}, "格式不正确"),
        ({"period": "2999"}, "年份应在"),
        ({"kind": "week"}, "期间类型不正确"),
    ],
)
def test_a_bad_period_is_named_in_chinese_and_the_current_one_shown(
    tree, county_cadre, client_for, params, message
):
    response = client_for(county_cadre).get(url("dashboard", tree.jiangan.pk), params)
    assert response.status_code == 200
    assert message in text(response)


def test_a_future_period_is_refused_with_its_name(tree, county_cadre, client_for):
    future = Period.current("month").shifted(2)
    page = text(
        client_for(county_cadre).get(url("dashboard", tree.jiangan.pk), {"period": future.code})
    )
    assert f"期间“{future.label}”尚未开始" in page


def test_dashboard_queries_do_not_grow_with_the_number_of_children(
    tree, provincial_cadre, client_for
):
    client = client_for(provincial_cadre)
    client.get(url("dashboard", tree.jiangan.pk))  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        client.get(url("dashboard", tree.jiangan.pk))
    for _ in range(6):
        UnionFactory(parent=tree.jiangan)
    with CaptureQueriesContext(connection) as many:
        client.get(url("dashboard", tree.jiangan.pk))
    assert len(many) == len(few)


def test_child_list_pages_through_many_children(tree, provincial_cadre, client_for, monkeypatch):
    monkeypatch.setattr(dashboard, "CHILDREN_PER_PAGE", 2)
    for _ in range(3):
        UnionFactory(parent=tree.jiangan)
    client = client_for(provincial_cadre)
    first = text(client.get(url("dashboard", tree.jiangan.pk)))
    second = text(client.get(url("dashboard", tree.jiangan.pk), {"page": "2"}))
    assert "共 4 个" in first
    assert first.count("<tr data-child=") == 2 and second.count("<tr data-child=") == 2
    assert 'aria-label="下级工会分页"' in first


# --- Big screen


def test_screen_data_is_the_dashboards_figures_as_json(tree, members, provincial_cadre, client_for):
    response = client_for(provincial_cadre).get(url("dashboard_data", tree.hubei.pk))
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert {f["code"]: f["value"] for f in data["figures"]}["members"] == 3
    assert data["children"][0]["name"] == "武汉市总工会"  # the largest first


def test_screen_page_refreshes_itself_from_the_data_address(tree, provincial_cadre, client_for):
    page = text(client_for(provincial_cadre).get(url("screen", tree.hubei.pk)))
    assert f'data-source="{url("dashboard_data", tree.hubei.pk)}?' in page
    assert 'data-refresh="5"' in page
    assert '<body class="screen" data-screen>' in page


def test_a_new_member_shows_on_the_screen_data_after_the_next_fold(
    tree, members, provincial_cadre, client_for
):
    client = client_for(provincial_cadre)
    make_member(tree.jianghan_grassroots)
    fold.fold_once()
    data = client.get(url("dashboard_data", tree.hubei.pk)).json()
    assert (
        {f["code"]: f["value"] for f in data["figures"]}["members"]
        == 4
        == recount_members(tree.hubei)
    )


# --- Exports


@pytest.mark.parametrize("table", ["figures", "trend", "breakdowns", "children", "map"])
def test_every_table_exports_to_xlsx_with_an_audit_row(
    tree, members, provincial_cadre, client_for, table
):
    response = client_for(provincial_cadre).get(url("export", tree.hubei.pk, table))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = workbook_rows(response)
    assert len(rows) >= 2
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT).latest("pk")
    assert entry.detail["export"] == f"stats_{table}"
    assert entry.detail["rows"] == len(rows) - 1
    assert len(entry.detail["sha256"]) == 64


def test_children_export_holds_every_child_and_the_total(
    tree, members, provincial_cadre, client_for
):
    rows = workbook_rows(client_for(provincial_cadre).get(url("export", tree.hubei.pk, "children")))
    header, *body = rows
    members_col = header.index("会员数（人）")
    by_name = {row[0]: row for row in body}
    assert by_name["武汉市总工会"][members_col] == 3
    assert by_name["湖北省总工会（合计）"][members_col] == 3


def test_an_unknown_table_is_not_found(tree, provincial_cadre, client_for):
    response = client_for(provincial_cadre).get(url("export", tree.hubei.pk, "salaries"))
    assert response.status_code == 404


# --- Annual return


def test_annual_return_has_both_tables_with_a_row_per_child_and_the_total(
    tree, members, provincial_cadre, client_for
):
    year = annual_return.current_stat_year().year
    page = text(
        client_for(provincial_cadre).get(url("annual_return", tree.hubei.pk), {"year": year})
    )
    assert "表一 基层工会情况" in page and "表二 基层以上工会情况" in page
    assert "湖北省总工会（合计）" in page
    assert 'data-checks="passed"' in page
    result = annual_return.build(node=tree.hubei, period=annual_return.stat_year(year))
    one, two = result.tables
    assert [r.name for r in one.rows] == ["武汉市总工会", "湖北省交通运输产业工会"]
    assert one.total.values["members"] == recount_members(tree.hubei)
    assert one.total.values["migrant_members"] == 1
    # Above grassroots: Hubei, Wuhan, the transport union and the two counties.
    assert two.total.values["unions-grassroots_unions"] == 5
    assert two.total.values["unions[level=county]"] == 2
    assert two.total.values["unions[kind=industry]"] == 1


def test_annual_return_shows_a_child_exceeding_its_parent_as_a_failed_check(
    tree, members, provincial_cadre, client_for
):
    # Stored figures that do not add up (as after a bad bulk load): the check must say so.
    StatValue.objects.filter(node=tree.wuhan, measure="members", dims="", period="").update(
        value=99
    )
    client = client_for(provincial_cadre)
    page = text(client.get(url("annual_return", tree.hubei.pk)))
    assert 'data-checks="failed"' in page
    assert "武汉市总工会的“会员数（人）”为 99，超过湖北省总工会合计 3" in page
    assert 'class="num failed"' in page
    rows = workbook_rows(client.get(url("annual_return_xlsx", tree.hubei.pk)))
    assert any(row[0] == "逐级校验" and "未通过" in str(row[1]) for row in rows)
    assert (
        AuditEntry.objects.filter(action=AuditAction.EXPORT).latest("pk").detail["checks_failed"]
        >= 1
    )


def test_annual_return_xlsx_holds_both_tables_and_the_checks(
    tree, members, county_cadre, client_for
):
    rows = workbook_rows(client_for(county_cadre).get(url("annual_return_xlsx", tree.jiangan.pk)))
    assert rows[0][0].startswith("表一 基层工会情况")
    names = [row[0] for row in rows]
    assert "武汉长江机械有限公司工会" in names
    assert "表二 基层以上工会情况" in names
    assert "江岸区总工会（合计）" in names
    check = next(row for row in rows if row[0] == "逐级校验")
    assert "全部通过" in check[1]


@pytest.mark.parametrize(("year", "message"), [("20x4", "请填写四位年份"), ("2999", "尚未开始")])
def test_annual_return_names_a_bad_year(tree, county_cadre, client_for, year, message):
    page = text(client_for(county_cadre).get(url("annual_return", tree.jiangan.pk), {"year": year}))
    assert message in page


def test_a_past_statistical_year_counts_the_flows_of_its_months(tree, members):
    current = annual_return.current_stat_year()
    past = Period(STAT_YEAR, current.year - 1)
    result = annual_return.build(node=tree.jiangan, period=past)
    assert result.tables[0].total.values["joins"] == 0
    assert (
        annual_return.build(node=tree.jiangan, period=current).tables[0].total.values["joins"] == 2
    )


# --- Indicator definitions


def test_indicator_page_lists_every_indicator_of_the_registry(tree, county_cadre, client_for):
    from niangjia.stats import registry

    page = text(client_for(county_cadre).get(url("indicator_list")))
    for indicator in registry.INDICATORS:
        assert f'id="indicator-{indicator.code}"' in page


def test_indicators_other_modules_register_join_the_key_figures_and_breakdowns(
    tree, county_cadre, client_for, monkeypatch
):
    from niangjia.stats import registry

    monkeypatch.setattr(dashboard, "EXTRA_KEY_FIGURES", 100)
    monkeypatch.setattr(registry, "INDICATORS", list(registry.INDICATORS))
    monkeypatch.setattr(registry, "BY_CODE", dict(registry.BY_CODE))
    monkeypatch.setattr(registry, "DIMENSIONS", dict(registry.DIMENSIONS))
    registry.register(
        registry.Indicator(
            code="test_hardship_files",
            name="在档困难职工户数",
            unit="户",
            group="测试模块",
            kind=registry.STOCK,
            definition="测试用指标",
            computation="测试用指标",
            dimensions=("test_category",),
            measure="test_hardship_files",
        ),
        dimensions=(
            registry.Dimension(
                "test_category", "困难类别", {"deep": "深度困难", "relative": "相对困难"}
            ),
        ),
    )
    data = payload_of(client_for(county_cadre).get(url("dashboard", tree.jiangan.pk)))
    assert "test_hardship_files" in {f["code"] for f in data["figures"]}
    parts = {b["code"]: b for b in data["breakdowns"]}
    assert parts["test_hardship_files.test_category"]["title"] == "在档困难职工户数（按困难类别）"
    assert [i["name"] for i in parts["test_hardship_files.test_category"]["items"]] == [
        "深度困难",
        "相对困难",
    ]


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (None, "人", "—"),
        (1234567, "人", "1,234,567"),
        (12.34, "%", "12.3%"),
        (1234.5, "元", "1,234.50"),
        (3, "元", "3.00"),
    ],
)
def test_figures_are_printed_with_separators_rates_and_yuan(value, unit, shown):
    assert dashboard.display(value, unit) == shown


def test_changes_are_signed_and_rates_change_in_points():
    assert dashboard.change_text(12, 25.0, "人") == "+12（+25.0%）"
    assert dashboard.change_text(-1.5, None, "%") == "-1.5 个百分点"
    assert dashboard.change_text(-20.5, -10.0, "元") == "-20.50（-10.0%）"
    assert dashboard.change_text(None, None, "人") == "—"
