"""Background jobs in Chromium, with a real worker thread beside the live server: the job page's
bar moves (percent, rows per second, time left) and ends "已完成" without a reload by hand; a
running job is cancelled from its page and ends "已取消"; 我的任务 lists it, at phone size too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from niangjia.jobs import services
from niangjia.jobs.models import Job
from niangjia.tests.browser.conftest import PHONE
from niangjia.utilities.testing.personas import PERSONA_PASSWORD, Tree

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # The live server serves static files itself; WhiteNoise misses a collectstatic it needs not.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def start_import(owner: Any, tree: Tree, *, steps: int, delay: float, title: str) -> Job:
    return services.job_enqueue(
        kind="jobs.test.steps",
        params={"steps": steps, "delay": delay},
        owner=owner,
        union=tree.jiangan,
        title=title,
        return_url="/members/",
    )


def bar_value(page: Page) -> float:
    return float(page.locator("[data-job-bar]").evaluate("el => el.position >= 0 ? el.value : -1"))


def fits_the_screen(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url}: page is {widths[0]}px wide on {widths[1]}px"


def test_the_bar_moves_and_the_job_ends_completed(
    page: Page, login, county_cadre, tree, job_worker, snap
) -> None:
    login(county_cadre, PERSONA_PASSWORD)
    job = start_import(county_cadre, tree, steps=40, delay=0.1, title="江岸区会员名册导入")

    page.goto(f"/jobs/{job.pk}/")
    expect(page.get_by_role("heading", name="江岸区会员名册导入")).to_be_visible()
    expect(page.locator("[data-job-state]")).to_have_text("进行中")
    # The refresh link is for pages without the script.
    expect(page.locator("[data-job-refresh]")).to_be_hidden()
    expect(page.locator("[data-job-rate]")).to_contain_text("行/秒")
    expect(page.locator("[data-job-eta]")).to_contain_text("预计剩余")
    first = bar_value(page)
    expect(page.locator("[data-job-count]")).not_to_have_text(
        page.locator("[data-job-count]").inner_text()
    )
    assert bar_value(page) > first  # the bar moved without a reload
    assert 0 < bar_value(page) < 100
    expect(page.locator("[data-job-percent]")).to_have_text(re.compile(r"^\d+%$"))
    snap("job-running")

    # The page reloads when the job ends and shows the outcome.
    expect(page.locator("[data-job-state]")).to_have_text("已完成", timeout=30_000)
    expect(page.locator("[data-job-percent]")).to_have_text("100%")
    expect(page.locator("[data-job-count]")).to_have_text("40 / 40 行")
    expect(page.get_by_role("button", name="取消任务")).to_have_count(0)
    expect(page.get_by_role("link", name="返回")).to_have_attribute("href", "/members/")
    assert bar_value(page) == 100
    snap("job-succeeded")


def test_a_running_job_is_cancelled_from_its_page(
    page: Page, login, county_cadre, tree, job_worker, snap
) -> None:
    login(county_cadre, PERSONA_PASSWORD)
    job = start_import(county_cadre, tree, steps=600, delay=0.1, title="大批量导出")

    page.goto(f"/jobs/{job.pk}/")
    expect(page.locator("[data-job-state]")).to_have_text("进行中")
    expect(page.locator("[data-job-percent]")).not_to_have_text("0%")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="取消任务").click()

    expect(page.get_by_text("正在取消“大批量导出”：处理完当前一批后停止")).to_be_visible()
    expect(page.locator("[data-job-state]")).to_have_text("已取消", timeout=30_000)
    expect(page.locator("[data-job-cancelling]")).to_be_hidden()
    expect(page.get_by_role("button", name="取消任务")).to_have_count(0)
    job.refresh_from_db()
    assert job.state == "cancelled"
    assert 0 < job.progress_done < 600
    snap("job-cancelled")


def test_my_jobs_at_phone_size(new_page: Any, login, county_cadre, tree, job_worker, snap) -> None:
    phone = new_page(viewport=PHONE)
    login(county_cadre, PERSONA_PASSWORD, target=phone)
    done = start_import(county_cadre, tree, steps=3, delay=0, title="已导入的名册")
    waiting = Job.objects.create(
        kind="jobs.test.steps", title="已取消的导出", owner=county_cadre, state="cancelled"
    )

    phone.goto("/")
    phone.get_by_role("button", name="菜单").click()
    phone.get_by_role("link", name="我的任务").click()
    expect(phone.get_by_role("heading", name="我的任务")).to_be_visible()
    expect(phone.get_by_role("link", name="已导入的名册")).to_be_visible()
    expect(phone.get_by_role("link", name="已取消的导出")).to_be_visible()
    fits_the_screen(phone)
    snap("job-list-phone", target=phone)

    phone.get_by_role("link", name="已导入的名册").click()
    expect(phone).to_have_url(re.compile(rf"/jobs/{done.pk}/$"))
    expect(phone.locator("[data-job-state]")).to_have_text("已完成", timeout=30_000)
    fits_the_screen(phone)
    snap("job-succeeded-phone", target=phone)
    assert waiting.pk
