"""The indicator definitions page (指标说明) in Chromium: a provincial cadre follows the link
from the statistics page and finds every indicator of the registry with its unit, definition
and computation, grouped as the registry groups them."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from niangjia.stats import registry
from niangjia.utilities.testing.personas import PERSONA_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def test_a_cadre_reads_what_every_figure_means(
    page: Page, login: Any, provincial_cadre: Any, snap: Any
) -> None:
    login(provincial_cadre, PERSONA_PASSWORD)
    page.goto("/stats/")
    page.get_by_role("link", name="指标说明").first.click()
    expect(page.get_by_role("heading", name="指标说明", exact=True)).to_be_visible()
    for group, indicators in registry.groups():
        section = page.locator("section").filter(has=page.get_by_role("heading", name=group))
        expect(section).to_be_visible()
        for indicator in indicators:
            row = section.locator(f"#indicator-{indicator.code}")
            expect(row).to_contain_text(indicator.name)
            expect(row).to_contain_text(indicator.definition[:20])
    rate = page.locator("#indicator-formation_rate")
    expect(rate).to_contain_text("25 人以上已建会单位数 ÷ 25 人以上单位数")
    expect(page.locator("#indicator-members")).to_contain_text("会籍状态、户籍类型")
    expect(page.get_by_text("统计年度（上年 10 月 1 日至当年 9 月 30 日）")).to_be_visible()
    snap("stats-indicators")
