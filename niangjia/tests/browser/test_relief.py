"""Hardship relief's acceptance, in Chromium: a household from the worker's application to
a relapse.

The worker checks eligibility and applies on a phone (390×844) with a texted code; the
grassroots union's cadre does the first check and the survey with the signed consent; the
county cadre reviews, runs the publicity (its period set to none for the test), files the
household and makes its plan with a measure; two payments are recorded, approved by a
second county cadre, the larger one also by the finance officer, and paid from the county's
fund; monthly income checks lead the system to propose 解困, which the cadre confirms; a
re-check six months on finds the household below the threshold and reopens it as a new file
linked to the old one. The worker then sees the state of both files on the phone.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from niangjia.relief import services
from niangjia.relief.choices import (
    AssistanceState,
    BatchState,
    FileChannel,
    FileState,
    LedgerKind,
    PaymentState,
)
from niangjia.relief.models import (
    Assistance,
    BatchPayment,
    DisbursementBatch,
    Fund,
    HardshipFile,
    LedgerEntry,
    LivingThreshold,
)
from niangjia.relief.services import files as file_services
from niangjia.tests.browser.conftest import PHONE
from niangjia.utilities.sms import LocmemBackend
from niangjia.utilities.testing.members import make_id_number
from niangjia.utilities.testing.personas import PERSONA_PASSWORD, Tree
from niangjia.utilities.testing.relief import (
    make_cadre,
    make_file,
    make_finance_officer,
    make_fund,
    set_threshold,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

WORKER = "何立新"
WORKER_ID = make_id_number(region="420102", birth="19780512", serial=31)
WORKER_PHONE = "13871230456"
MASKED_ID = WORKER_ID[:4] + "*" * 10 + WORKER_ID[-4:]


@pytest.fixture(autouse=True)
def outbox(settings: Any) -> Iterator[list[tuple[str, str]]]:
    settings.SMS_BACKEND = "niangjia.utilities.sms.LocmemBackend"
    settings.SMS_RESEND_SECONDS = 0
    LocmemBackend.outbox.clear()
    yield LocmemBackend.outbox
    LocmemBackend.outbox.clear()


@pytest.fixture
def short_publicity(monkeypatch: pytest.MonkeyPatch) -> None:
    """The publicity period may be 0 days in this test, so the household is filed today."""
    monkeypatch.setattr(file_services, "PUBLICITY_DAYS", (0, 30))


def field(page: Page | Locator, name: str) -> Locator:
    return page.locator(f'[data-field="{name}"]')


def fits_the_screen(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url}: page is {widths[0]}px wide on {widths[1]}px"


def request_code(page: Page, outbox: list[tuple[str, str]], phone: str) -> str:
    before = len(outbox)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("[data-code-status]")).to_contain_text("验证码已发送至")
    texts = [text for to, text in outbox[before:] if to == phone]
    assert len(texts) == 1, outbox
    match = re.search(r"验证码是 (\d{6})", texts[0])
    assert match is not None
    return match.group(1)


def step(page: Page, slug: str) -> Locator:
    """The form of one workflow step on a file's page (unfolded if it was folded)."""
    box = page.locator(f'details[data-step="{slug}"]')
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    return box


def success(page: Page, text: str) -> None:
    expect(page.locator(".messages")).to_contain_text(text)


def png(name: str) -> dict[str, Any]:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (250, 250, 250)).save(out, format="PNG")
    return {"name": name, "mimeType": "image/png", "buffer": out.getvalue()}


def open_file(page: Page, name: str) -> None:
    page.goto("/relief/")
    page.locator("table.file-table").get_by_role("link", name=name).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def test_a_household_from_the_phone_application_to_a_relapse(
    page: Page,
    new_page: Any,
    login: Any,
    tree: Tree,
    personas: Any,
    outbox: list[tuple[str, str]],
    short_publicity: None,
    snap: Any,
) -> None:
    set_threshold(tree, "1000")
    fund = make_fund(tree, personas, amount="50000")  # 江岸区's fund
    services.assistance_rule_set(
        province=None,
        year=fund.year,
        assistance_type="medical",
        cap_per_year=Decimal("10000"),
        cycle="year",
        second_approval_above=Decimal("2000"),
        acting_user=personas["national_admin"],
    )
    grassroots = personas["grassroots_cadre"]
    county = personas["county_cadre"]
    approver = make_cadre(tree.jiangan, "jiangan_head")
    finance = make_finance_officer(tree.jiangan)

    # --- The worker scans the union's poster on a phone: the self-check first.
    phone = new_page(viewport=PHONE)
    phone.goto(f"/r/u/{tree.jiangan_grassroots.pk}/")
    expect(phone.get_by_role("heading", name="先自测，看看是否符合条件")).to_be_visible()
    field(phone, "monthly_wage").get_by_role("textbox").fill("1500")
    field(phone, "other_income_year").get_by_role("textbox").fill("1200")
    field(phone, "household_size").get_by_role("spinbutton").fill("3")
    phone.get_by_role("button", name="测算").click()
    result = phone.locator("[data-check-result]")
    expect(result).to_have_attribute("data-check-result", "eligible")
    expect(result).to_contain_text("可能符合“深度困难”条件")
    expect(result).to_contain_text("约 533.33 元")
    fits_the_screen(phone)
    snap("relief-phone-self-check", target=phone)

    # --- …then the application, with the self-check's figures already filled in.
    phone.get_by_role("link", name="提交建档申请").click()
    expect(phone.get_by_role("heading", name="向武汉长江机械有限公司工会申请帮扶")).to_be_visible()
    expect(field(phone, "monthly_wage").get_by_role("textbox")).to_have_value("1500")
    field(phone, "name").get_by_role("textbox").fill(WORKER)
    field(phone, "id_number").get_by_role("textbox").fill(WORKER_ID)
    field(phone, "phone").get_by_role("textbox").fill(WORKER_PHONE)
    code = request_code(phone, outbox, WORKER_PHONE)
    field(phone, "code").get_by_role("textbox").fill(code)
    field(phone, "employer_name").get_by_role("textbox").fill("武汉长江机械有限公司")
    field(phone, "work_status").get_by_role("combobox").select_option(label="在岗")
    field(phone, "health").get_by_role("combobox").select_option(label="患慢性病")
    field(phone, "housing_type").get_by_role("combobox").select_option(label="租住私房")
    field(phone, "address").get_by_role("textbox").fill("武汉市江岸区解放大道 1100 号")
    field(phone, "main_cause").get_by_role("combobox").select_option(label="因病")
    phone.get_by_role("button", name="提交申请").click()
    expect(field(phone, "agree").get_by_role("alert")).to_have_text(
        "请阅读并勾选承诺，方可提交申请"
    )
    phone.get_by_label("本人承诺所填情况属实").check()
    phone.get_by_role("button", name="提交申请").click()
    expect(phone.get_by_role("heading", name="申请已提交")).to_be_visible()
    file = HardshipFile.objects.get()
    assert file.state == FileState.APPLIED and file.channel == FileChannel.WORKER
    assert file.income_per_head == Decimal("533.33")
    expect(phone.locator("dl.facts")).to_contain_text(file.file_number)
    expect(phone.locator("dl.facts")).to_contain_text("何**")
    assert WORKER_ID not in phone.content()
    fits_the_screen(phone)
    snap("relief-phone-applied", target=phone)

    # --- The grassroots union's cadre: first check, then the survey with the consent.
    login(grassroots, PERSONA_PASSWORD)
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="困难帮扶").click()
    expect(page.get_by_role("heading", name="困难职工档案", level=1)).to_be_visible()
    row = page.locator("table.file-table tbody tr", has_text=WORKER)
    expect(row).to_contain_text(MASKED_ID)
    expect(row).to_contain_text("已申请")
    snap("relief-workbench")
    row.get_by_role("link", name=WORKER).click()
    first = step(page, "first-check")
    first.get_by_label("意见").fill("经核实，该职工家庭收入偏低，妻子长期患病")
    first.get_by_role("button", name="初审通过").click()
    success(page, "基层工会初审已通过")

    survey = step(page, "survey")
    survey.get_by_role("button", name="完成入户调查").click()
    expect(survey.get_by_role("alert")).to_contain_text("未取得职工签署的家庭经济状况核对授权书")
    survey.get_by_label("职工已签署家庭经济状况核对授权书").check()
    survey.get_by_label("调查情况").fill("家中三口人，租房居住，妻子患病无收入")
    survey.get_by_role("button", name="完成入户调查").click()
    success(page, "入户调查已完成，核对授权已记录")
    page.locator("#attachment-kind").select_option(label="家庭经济状况核对授权书")
    page.locator("#attachment-upload").set_input_files(png("核对授权书.png"))
    page.locator("#attachments").get_by_role("button", name="上传").click()
    success(page, "已上传家庭经济状况核对授权书“核对授权书.png”")
    # The county centre's steps are not offered to a grassroots union.
    expect(page.locator('details[data-step="review"]')).to_have_count(0)

    # --- The county cadre reviews, publicises and files; a stale page is refused.
    county_page = new_page()
    login(county, PERSONA_PASSWORD, target=county_page)
    open_file(county_page, WORKER)
    review = step(county_page, "review")
    expect(review).to_contain_text("建议：深度困难")
    stale = new_page()
    login(approver, PERSONA_PASSWORD, target=stale)
    stale.goto(county_page.url)
    review.get_by_label("审核意见").fill("同意认定为深度困难")
    review.get_by_role("button", name="审核通过").click()
    success(county_page, "县级审核已通过，认定为深度困难")
    # The second county cadre's page was opened before the review: its review is refused.
    step(stale, "review").get_by_role("button", name="审核通过").click()
    expect(stale.locator(".conflict")).to_contain_text("档案已被他人更新")
    expect(stale.locator('details[data-step="review"]')).to_have_count(0)
    snap("relief-conflict", target=stale)

    publicity = step(county_page, "publicity")
    publicity.get_by_label("公示天数").fill("0")
    publicity.get_by_role("button", name="开始公示").click()
    success(county_page, "已开始公示")
    step(county_page, "file").get_by_role("button", name="建档").click()
    success(county_page, "已建档立卡（县级）")
    file.refresh_from_db()
    assert file.state == FileState.FILED and file.category == "deep"
    expect(county_page.locator("#timeline")).to_contain_text("建档立卡")
    snap("relief-file-filed", target=county_page)

    # --- The household plan with a measure.
    county_page.get_by_role("link", name="制定帮扶计划").first.click()
    county_page.get_by_role("textbox", name="帮扶目标").fill(
        "妻子病情稳定，年内家庭月人均收入达到当地低保标准"
    )
    county_page.get_by_role("button", name="保存帮扶目标").click()
    success(county_page, "帮扶计划已制定")
    add = county_page.locator("form", has=county_page.locator("input[value=measure]"))
    field(add, "assistance_type").get_by_role("combobox").select_option(label="医疗救助")
    field(add, "description").get_by_role("textbox").fill("协助申请大病医疗救助")
    field(add, "deadline").locator("input").fill("2099-12-31")
    add.get_by_role("button", name="添加措施").click()
    success(county_page, "已添加帮扶措施")
    expect(county_page.locator("#measures")).to_contain_text("协助申请大病医疗救助")
    county_page.get_by_role("navigation", name="困难帮扶").get_by_role(
        "link", name="一户一策"
    ).click()
    expect(county_page.locator(".board-planned")).to_contain_text("协助申请大病医疗救助")
    snap("relief-plan-board", target=county_page)

    # --- Two payments: living relief (800), and medical relief (3000, above 2000).
    def record(kind: str, amount: str) -> Assistance:
        open_file(county_page, WORKER)
        county_page.get_by_role("link", name="记录帮扶").click()
        field(county_page, "assistance_type").get_by_role("combobox").select_option(label=kind)
        field(county_page, "amount").locator("input").fill(amount)
        field(county_page, "fund").get_by_role("combobox").select_option(value=str(fund.pk))
        county_page.get_by_role("button", name="登记，提交审批").click()
        success(county_page, f"已登记{kind}")
        return Assistance.objects.order_by("-id").first()

    living = record("生活救助", "800")
    medical = record("医疗救助", "3000")
    expect(county_page.locator("#decide")).to_contain_text("这条帮扶由您登记，须由其他干部审批")

    stale.goto("/relief/assistance/")
    waiting = stale.locator("table").first
    expect(waiting).to_contain_text("生活救助")
    expect(waiting).to_contain_text("医疗救助")
    for record_ in (living, medical):
        stale.goto(f"/relief/assistance/{record_.pk}/")
        stale.get_by_role("button", name="审批通过").click()
    success(stale, "等待财务人员复核")
    living.refresh_from_db()
    medical.refresh_from_db()
    assert living.state == AssistanceState.APPROVED
    assert medical.state == AssistanceState.SECOND_PENDING

    finance_page = new_page()
    login(finance, PERSONA_PASSWORD, target=finance_page)
    finance_page.goto("/relief/assistance/")
    queue = finance_page.locator("table").first
    expect(queue).to_contain_text("待财务复核")
    queue.get_by_role("link", name=WORKER).click()
    snap("relief-second-approval", target=finance_page)
    finance_page.get_by_role("button", name="财务复核通过").click()
    success(finance_page, "财务复核已通过")

    for record_ in (living, medical):
        county_page.goto(f"/relief/assistance/{record_.pk}/")
        county_page.get_by_role("button", name="确认发放").click()
        success(county_page, "资金台账已记账")
    fund.refresh_from_db()
    assert fund.balance == Decimal("46200.00")
    assert LedgerEntry.objects.filter(fund=fund, kind=LedgerKind.PAYMENT).count() == 2
    county_page.goto(f"/relief/funds/{fund.pk}/")
    expect(county_page.locator("#ledger")).to_contain_text("-3,000.00")
    expect(county_page.locator(".figures")).to_contain_text("46,200.00")
    snap("relief-fund-ledger", target=county_page)

    # --- Income checks: with public support and union aid the household reaches the
    # threshold; the system proposes 解困 and the cadre confirms it.
    open_file(county_page, WORKER)
    income = step(county_page, "income")
    income.get_by_label("家庭月人均收入（元）").fill("600")
    income.get_by_label("人均政府救助（元）").fill("300")
    income.get_by_label("人均工会常态化帮扶（元）").fill("200")
    income.get_by_role("button", name="登记收入").click()
    success(county_page, "系统建议：解困")
    expect(county_page.locator(".alert.ok")).to_contain_text("系统建议：解困")
    step(county_page, "exit").get_by_role("button", name="确认").click()
    success(county_page, "已确认解困，纳入返困监测")
    file.refresh_from_db()
    assert file.state == FileState.EXITED
    expect(county_page.locator("#relapse")).to_contain_text("监测中")

    # --- A re-check finds the household below the threshold: relapse, a new linked file.
    relapse = step(county_page, "relapse-check")
    relapse.get_by_label("家庭月人均收入（元）").fill("450")
    relapse.get_by_label("回访情况").fill("妻子病情加重，本人停工")
    relapse.get_by_role("button", name="登记回访").click()
    success(county_page, "已返困并重新建档")
    reopened = HardshipFile.objects.get(relapse_of=file)
    assert reopened.state == FileState.APPLIED and reopened.channel == FileChannel.RELAPSE
    county_page.locator(".alert.warn").get_by_role("link", name=reopened.file_number).click()
    expect(county_page.get_by_role("heading", level=1)).to_contain_text(reopened.file_number)
    expect(county_page.locator(".alert.warn")).to_contain_text(file.file_number)
    expect(county_page.locator('details[data-step="first-check"]')).to_have_count(1)
    snap("relief-relapse-file", target=county_page)

    # --- The printable form is a PDF.
    pdf = county_page.request.get(f"/relief/files/{file.pk}/form.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF-")

    # --- The worker looks up both files on the phone.
    phone.goto("/r/status/")
    expect(phone.get_by_role("heading", name="查询帮扶申请进度")).to_be_visible()
    rows = phone.locator(".app-list > li")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("已申请")
    expect(rows.nth(1)).to_contain_text("已解困脱困")
    fits_the_screen(phone)
    snap("relief-phone-status", target=phone)
    assert Fund.objects.get(pk=fund.pk).balance == Decimal("46200.00")


def test_cadres_enter_a_household_set_a_threshold_allocate_money_and_pay_a_batch(
    page: Page,
    new_page: Any,
    login: Any,
    tree: Tree,
    personas: Any,
    snap: Any,
) -> None:
    set_threshold(tree, "1000")
    make_file(tree, personas, name="郭春兰")
    make_file(tree, personas, name="冯志刚")
    city_fund = make_fund(tree, personas, union=tree.wuhan, amount="200000")
    county = personas["county_cadre"]
    province = personas["provincial_cadre"]

    # --- The county cadre enters an application on a worker's behalf, with the household.
    login(county, PERSONA_PASSWORD)
    page.goto("/relief/")
    page.get_by_role("link", name="录入建档申请").click()
    expect(page.get_by_role("heading", name="录入建档申请")).to_be_visible()

    def group(name: str) -> Locator:
        return page.get_by_role("group", name=name, exact=True)

    field(group("所在工会"), "union").get_by_role("combobox").select_option(
        value=str(tree.jiangan_grassroots.pk)
    )
    worker = group("职工本人")
    field(worker, "name").get_by_role("textbox").fill("邓秀珍")
    field(worker, "id_number").get_by_role("textbox").fill(
        make_id_number(region="420102", birth="19820305", serial=44)
    )
    field(worker, "phone").get_by_role("textbox").fill("13607161234")
    work = group("工作与健康")
    field(work, "work_status").get_by_role("combobox").select_option(label="失业")
    field(work, "health").get_by_role("combobox").select_option(label="健康")
    home = group("家庭与住房")
    field(home, "household_size").get_by_role("spinbutton").fill("2")
    field(home, "single_parent").get_by_role("checkbox").check()
    field(home, "housing_type").get_by_role("combobox").select_option(label="公租房（廉租房）")
    income = group("收入")
    field(income, "monthly_wage").get_by_role("spinbutton").fill("0")
    field(income, "other_income_year").get_by_role("spinbutton").fill("9600")
    causes = group("致困原因")
    field(causes, "main_cause").get_by_role("combobox").select_option(label="因下岗失业")
    causes.get_by_role("checkbox", name="因单亲").check()
    household = page.locator("[data-household-row]")
    expect(household).to_have_count(1)
    page.get_by_role("button", name="添加一位家庭成员").click()
    expect(household).to_have_count(2)
    first = household.first
    field(first, "name").get_by_role("textbox").fill("邓小雨")
    field(first, "relation").get_by_role("combobox").select_option(label="子女")
    field(first, "school_or_employer").get_by_role("textbox").fill("武汉市育才小学")
    snap("relief-file-form")
    page.get_by_role("button", name="提交申请").click()
    success(page, "申请已录入")
    expect(page.get_by_role("heading", level=1)).to_contain_text("邓秀珍")
    expect(page.locator("#members")).to_contain_text("邓小雨")
    created = HardshipFile.objects.get(name="邓秀珍")
    assert created.single_parent and created.cause_2 == "08"
    assert created.income_per_head == Decimal("400.00")
    assert created.household_members.count() == 1

    # --- The provincial federation sets 武汉市's threshold for next year.
    province_page = new_page()
    login(province, PERSONA_PASSWORD, target=province_page)
    province_page.goto("/relief/rules/")
    province_page.get_by_text("设置城市的年度标准").click()
    form = province_page.locator("#thresholds form")
    field(form, "region").get_by_role("combobox").select_option(value="420100")
    field(form, "year").get_by_role("spinbutton").fill(str(city_fund.year + 1))
    field(form, "monthly_amount").get_by_role("spinbutton").fill("1080")
    form.get_by_role("button", name="保存标准").click()
    success(province_page, f"已设置武汉市{city_fund.year + 1}年最低生活保障标准")
    assert LivingThreshold.objects.get(year=city_fund.year + 1).monthly_amount == Decimal("1080")
    snap("relief-rules", target=province_page)

    # --- …and allocates money of the city's fund down to 江岸区.
    province_page.goto(f"/relief/funds/{city_fund.pk}/")
    province_page.get_by_text("下拨下级工会").click()
    allocate = province_page.locator("#allocate form")
    field(allocate, "union").get_by_role("combobox").select_option(value=str(tree.jiangan.pk))
    field(allocate, "amount").get_by_role("spinbutton").fill("30000")
    allocate.get_by_role("button", name="下拨").click()
    success(province_page, "已向江岸区总工会下拨 30,000.00 元")
    expect(province_page.locator("#allocations")).to_contain_text("江岸区总工会")
    county_fund = Fund.objects.get(parent=city_fund)
    assert county_fund.balance == Decimal("30000.00")
    snap("relief-fund-allocated", target=province_page)

    # --- The county cadre draws a batch from the allocated money; another cadre approves.
    page.goto("/relief/batches/new/")
    field(page, "fund").get_by_role("combobox").select_option(value=str(county_fund.pk))
    field(page, "name").get_by_role("textbox").fill("春节送温暖")
    field(page, "assistance_type").get_by_role("combobox").select_option(label="送温暖")
    field(page, "amount").get_by_role("spinbutton").fill("600")
    page.get_by_role("checkbox", name="深度困难").check()
    page.get_by_role("button", name="选取家庭，生成批次").click()
    success(page, "已生成批次草稿：2 户，合计 1,200.00 元")
    batch = DisbursementBatch.objects.get()
    expect(page.locator("#decide")).not_to_contain_text("审批批次")  # not by its maker

    approver = new_page()
    login(make_cadre(tree.jiangan, "jiangan_head"), PERSONA_PASSWORD, target=approver)
    approver.goto(f"/relief/batches/{batch.pk}/")
    approver.get_by_role("button", name="审批批次").click()
    success(approver, "批次已审批")

    page.reload()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="确认发放并记账").click()
    success(page, "已发放 2 户，合计 1,200.00 元，资金余额 28,800.00 元")
    row = page.locator("#payments tbody tr", has_text="冯志刚")
    row.get_by_text("登记发放失败").click()
    row.get_by_placeholder("如：账户已销户").fill("户名与账号不符")
    row.get_by_role("button", name="退回").click()
    success(page, "已登记发放失败，资金已退回")
    expect(page.locator("#payments")).to_contain_text("户名与账号不符")
    snap("relief-batch", target=page)
    page.locator("#payments tbody tr", has_text="冯志刚").get_by_role(
        "button", name="更正后重新提交"
    ).click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="发放重新提交的明细").click()
    success(page, "已发放 1 户")
    page.get_by_role("button", name="对账完成").click()
    success(page, "批次已对账")
    batch.refresh_from_db()
    assert batch.state == BatchState.RECONCILED
    assert set(BatchPayment.objects.values_list("state", flat=True)) == {PaymentState.PAID}
    county_fund.refresh_from_db()
    assert county_fund.balance == Decimal("28800.00")

    # --- At phone size the workbench and a file's page fit the screen.
    mobile = new_page(viewport=PHONE)
    login(county, PERSONA_PASSWORD, target=mobile)
    mobile.goto("/relief/")
    expect(mobile.locator("table.file-table")).to_contain_text("邓秀珍")
    fits_the_screen(mobile)
    snap("relief-phone-workbench", target=mobile)
    mobile.locator("table.file-table").get_by_role("link", name="邓秀珍").click()
    expect(mobile.get_by_role("heading", level=1)).to_contain_text("邓秀珍")
    fits_the_screen(mobile)
    snap("relief-phone-file", target=mobile)
    mobile.goto("/relief/plans/")
    fits_the_screen(mobile)
    mobile.goto(f"/relief/batches/{batch.pk}/")
    fits_the_screen(mobile)
    snap("relief-phone-batch", target=mobile)

    # --- The poster with the QR code of the union's application page, to print.
    page.goto("/relief/")
    page.get_by_role("link", name="职工申请二维码").click()
    field(page, "union").get_by_role("combobox").select_option(
        value=str(tree.jiangan_grassroots.pk)
    )
    page.get_by_role("button", name="显示").click()
    qr = page.get_by_role("img", name="武汉长江机械有限公司工会困难职工帮扶申请二维码")
    expect(qr.locator("svg")).to_be_visible()
    expect(page.locator(".poster-url")).to_contain_text(f"/r/u/{tree.jiangan_grassroots.pk}/")
    snap("relief-poster")
