"""The roster import in Chromium, as the county cadre (江岸区总干部) does it:

the member template is downloaded from the import page and filled in (openpyxl) with good rows
and bad ones (a wrong ID check character, a short phone number, a union that does not exist,
the same ID number twice); uploaded, the proposed columns confirmed, the dry run's summary and
first problems read on the page; the good rows committed; the error report downloaded, its
rows fixed in that very file and uploaded again; the commit followed on its progress bar (the
jobs run in a real worker thread); the same file imported again changes nothing; the member
list exported masked. Then the import pages at phone width.
"""

from __future__ import annotations

import datetime
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from niangjia.imports import engine, services
from niangjia.imports.choices import ImportState
from niangjia.imports.models import ImportRun
from niangjia.members.exports import HEADERS as EXPORT_HEADERS
from niangjia.members.models import Member, id_hash_of
from niangjia.tests.browser.conftest import PHONE
from niangjia.utilities.testing.members import make_id_number
from niangjia.utilities.testing.personas import PERSONA_PASSWORD, Tree
from niangjia.utilities.xlsx import write_xlsx

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # The live server serves static files itself; WhiteNoise misses a collectstatic it needs not.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

UNION = "武汉长江机械有限公司工会"
EMPLOYER = "武汉长江机械有限公司"


def id_number(serial: int) -> str:
    return make_id_number(birth="19880512", serial=serial)


def wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


# (name, ID number, phone, union) as the cadre types them; the last four rows are wrong.
GOOD = [
    ("王芳", id_number(101), "13971230001", UNION),
    ("李强", id_number(102), "13971230002", UNION),
    ("张敏", id_number(103), "13971230003", UNION),
    ("陈静", id_number(104), "13971230004", UNION),
]
BAD = [
    ("刘洋", wrong_check(id_number(105)), "13971230005", UNION),
    ("赵磊", id_number(106), "1397123", UNION),
    ("孙丽", id_number(107), "13971230007", "长江机械工会"),
    ("周杰", id_number(101), "13971230008", UNION),  # 王芳's number typed by mistake
]
# What the bad rows should have said.
FIXED = {
    "刘洋": {"身份证号码": id_number(105)},
    "赵磊": {"手机号码": "13971230006"},
    "孙丽": {"所在工会": UNION},
    "周杰": {"身份证号码": id_number(108)},
}


def fits_the_screen(page: Page) -> None:
    """Nothing wider than the phone (a phone's browser would otherwise widen its layout
    viewport to the page, so the window's own width proves nothing)."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url}: page is {width}px wide on {PHONE['width']}px"


def header_columns(sheet: Any, row: int = 1) -> dict[str, int]:
    """Column number by header text (the template marks required columns with ``*``)."""
    return {
        str(cell.value).lstrip("*"): cell.column
        for cell in sheet[row]
        if cell.value not in (None, "")
    }


def fill_template(template: Path, target: Path) -> Path:
    """The downloaded template with the rows below its example row (left in place)."""
    workbook = load_workbook(template)
    sheet = workbook.worksheets[0]
    columns = header_columns(sheet)
    for offset, (name, number, phone, union) in enumerate([*GOOD, *BAD]):
        row = 3 + offset
        values = {
            "姓名": name,
            "身份证号码": number,
            "手机号码": phone,
            "民族": "汉族",
            "学历": "本科",
            "户籍类型": "农村户籍",
            "工作单位": EMPLOYER,
            "所在工会": union,
            "入会日期": datetime.date(2024, 3, 1),
        }
        for header, value in values.items():
            sheet.cell(row=row, column=columns[header], value=value)
    workbook.save(target)
    return target


def person(n: int, *, phone: str = "", union: str = UNION) -> list[Any]:
    return [f"会员{n}", id_number(n), phone or f"1397123{n:04d}", "汉族", "本科", EMPLOYER, union]


def roster_file(rows: list[list[Any]]) -> io.BytesIO:
    """A roster as many cadres keep it: their own headers, a title line above them."""
    headers = ["姓名", "公民身份号码", "联系电话", "民族", "文化程度", "工作单位", "所属工会"]
    result = write_xlsx(title="名册", headers=["江岸区会员名册"], rows=[headers, *rows])
    data = io.BytesIO(result.file.read())
    result.file.close()
    return data


def read_sheet(path: Path) -> list[list[Any]]:
    workbook = load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def upload(page: Page, tree: Tree, path: Path) -> None:
    page.goto("/imports/")
    page.locator('[data-field="union"] select').select_option(str(tree.jiangan.pk))
    page.get_by_label("名册文件").set_input_files(str(path))
    page.get_by_role("button", name="上传并识别表头").click()
    expect(page.get_by_role("heading", name="确认各列的含义")).to_be_visible()


def mapping_of(page: Page) -> dict[str, str]:
    """The column mapping the page proposes: header of the file → chosen field's value."""
    return page.locator("table.mapping-table tbody tr").evaluate_all(
        """rows => Object.fromEntries(rows.map(r => [
            r.querySelector('label').textContent.trim(), r.querySelector('select').value]))"""
    )


def summary(page: Page) -> dict[str, str]:
    return page.locator("[data-summary] dd").evaluate_all(
        "dds => Object.fromEntries(dds.map(d => [d.dataset.count, d.textContent.trim()]))"
    )


class Held:
    """The importer's jobs wait at the start of a dry run and before each of a commit's first
    two chunks until the test lets them pass, one point per ``release()``: the page is seen
    while the job runs (it would otherwise be done in a blink), and the page's own reads of
    the run do not meet the job's writes (the test database is SQLite's shared in-memory one,
    where a writer meeting a reader fails at once instead of waiting)."""

    def __init__(self) -> None:
        self.points = threading.Semaphore(0)
        self.chunks: dict[int, int] = {}

    def point(self) -> None:
        assert self.points.acquire(timeout=60), "the test never let the job go on"

    def release(self, points: int = 1) -> None:
        self.points.release(points)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[Held]:
    hold = Held()
    dry_run, commit_one = engine.member_dry_run, engine._commit_one

    def held_dry_run(*args: Any, **kwargs: Any) -> Any:
        hold.point()
        return dry_run(*args, **kwargs)

    def held_commit_one(run: ImportRun, *args: Any) -> None:
        hold.chunks[run.pk] = hold.chunks.get(run.pk, 0) + 1
        if hold.chunks[run.pk] <= 2:
            hold.point()
        commit_one(run, *args)

    monkeypatch.setattr(engine, "member_dry_run", held_dry_run)
    monkeypatch.setattr(engine, "_commit_one", held_commit_one)
    yield hold
    hold.release(100)  # a failed test leaves no job waiting


def confirm_and_dry_run(page: Page, held: Held) -> None:
    page.get_by_role("button", name="确认并试导入").click()
    expect(page.get_by_role("heading", name="正在试导入")).to_be_visible()
    expect(page.locator("[data-job-progress]")).to_be_visible()
    held.release()
    expect(page.get_by_role("heading", name="试导入结果")).to_be_visible(timeout=30_000)


def test_a_county_cadre_imports_a_roster_fixes_its_errors_and_exports_it_masked(
    page: Page,
    login: Any,
    county_cadre: Any,
    tree: Tree,
    job_worker: Any,
    settings: Any,
    tmp_path: Path,
    held: Held,
    snap: Any,
) -> None:
    settings.IMPORT_COMMIT_CHUNK = 1  # four rows, four chunks: the bar has steps
    login(county_cadre, PERSONA_PASSWORD)
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="名册导入").click()
    expect(page.get_by_role("heading", name="名册导入", exact=True)).to_be_visible()

    # --- The template, filled in.
    with page.expect_download() as download:
        page.get_by_role("link", name="下载会员名册模板").click()
    assert download.value.suggested_filename == "会员名册导入模板.xlsx"
    template = tmp_path / "模板.xlsx"
    download.value.save_as(template)
    roster = fill_template(template, tmp_path / "江岸区会员名册.xlsx")

    # --- Uploaded: the header found, the columns proposed and confirmed.
    upload(page, tree, roster)
    proposed = mapping_of(page)
    assert proposed["*姓名"] == "name"
    assert proposed["*身份证号码"] == "id_number"
    assert proposed["*手机号码"] == "phone"
    assert proposed["所在工会"] == "union"
    assert proposed["入会日期"] == "join_date"
    snap("imports-mapping")
    confirm_and_dry_run(page, held)

    # --- The dry run: four new, four wrong, each reason naming its column.
    assert summary(page) == {
        "total": "8",
        "new": "4",
        "updated": "0",
        "unchanged": "0",
        "errors": "4",
        "conflicts": "0",
    }
    problems = page.locator("table.problem-table tbody tr")
    expect(problems).to_have_count(4)
    expect(problems.nth(0)).to_contain_text("「身份证号码」身份证号码校验位不正确")
    expect(problems.nth(1)).to_contain_text("「手机号码」应为 11 位")
    expect(problems.nth(2)).to_contain_text("「所在工会」“长江机械工会”不是本次导入范围内")
    expect(problems.nth(3)).to_contain_text("「身份证号码」与第 3 行是同一人")
    assert not Member.objects.exists()  # a dry run writes nothing
    snap("imports-dry-run")

    # --- The error report: the original rows and the reason, fixed in place.
    with page.expect_download() as download:
        page.locator("[data-report]").click()
    report = tmp_path / "问题行.xlsx"
    download.value.save_as(report)
    lines = read_sheet(report)
    head = [str(h) for h in lines[0]]
    assert head[0] == "原文件行号" and head[-2:] == ["问题类别", "原因"]
    at = {h.lstrip("*"): i for i, h in enumerate(head)}
    rows = lines[1:]
    assert [r[0] for r in rows] == [7, 8, 9, 10]  # the rows' numbers in the uploaded file
    assert [r[at["姓名"]] for r in rows] == [name for name, *_ in BAD]
    assert all(r[at["问题类别"]] == "有误" for r in rows)
    reasons = [r[at["原因"]] for r in rows]
    assert "身份证号码" in reasons[0] and "校验位" in reasons[0]
    assert "手机号码" in reasons[1]
    assert "所在工会" in reasons[2]
    assert "同一人" in reasons[3]

    # --- The good rows go in first.
    page.get_by_role("button", name="正式导入").click()
    expect(page.get_by_role("heading", name="正在正式导入")).to_be_visible()
    held.release(2)
    expect(page.locator("[data-committed]")).to_contain_text("新增 4", timeout=30_000)
    assert Member.objects.count() == 4

    workbook = load_workbook(report)
    sheet = workbook.worksheets[0]
    columns = header_columns(sheet)
    for row in range(2, sheet.max_row + 1):
        name = sheet.cell(row=row, column=columns["姓名"]).value
        for header, value in FIXED[name].items():
            sheet.cell(row=row, column=columns[header], value=value)
    fixed = tmp_path / "问题行-已改正.xlsx"
    workbook.save(fixed)

    # --- The fixed rows: all new now; the commit watched on its progress bar.
    upload(page, tree, fixed)
    mapped = mapping_of(page)
    assert mapped["原文件行号"] == mapped["问题类别"] == mapped["原因"] == ""  # not imported
    confirm_and_dry_run(page, held)
    assert summary(page)["new"] == "4" and summary(page)["errors"] == "0"
    expect(page.locator("table.problem-table")).to_have_count(0)
    page.get_by_role("button", name="正式导入").click()
    progress = page.locator("[data-job-progress]")
    expect(progress).to_be_visible()
    expect(page.get_by_role("heading", name="正在正式导入")).to_be_visible()
    expect(progress.locator("[data-job-state]")).to_have_text("进行中")
    held.release()  # the first chunk
    expect(progress.locator("[data-job-count]")).to_have_text("1 / 4 行")
    expect(progress.locator("[data-job-percent]")).to_have_text("25%")
    snap("imports-committing")
    held.release()  # the second, and the others after it
    expect(page.locator("[data-committed]")).to_contain_text("新增 4", timeout=30_000)
    expect(page.locator("[data-run-state]")).to_have_text("已导入")
    snap("imports-committed")
    assert Member.objects.count() == 8
    for name, number in [("刘洋", id_number(105)), ("周杰", id_number(108))]:
        assert Member.objects.get(id_hash=id_hash_of(number)).name == name
    assert Member.objects.get(name="赵磊").reveal_phone() == "13971230006"
    assert Member.objects.get(name="孙丽").union == tree.jiangan_grassroots
    before = list(Member.objects.order_by("pk").values_list("pk", "updated_at"))

    # --- The same file again: every row unchanged, nothing to write.
    upload(page, tree, fixed)
    confirm_and_dry_run(page, held)
    assert summary(page) == {
        "total": "4",
        "new": "0",
        "updated": "0",
        "unchanged": "4",
        "errors": "0",
        "conflicts": "0",
    }
    expect(page.get_by_text("没有需要写入的行：文件中的会员与会员库一致")).to_be_visible()
    expect(page.get_by_role("button", name="正式导入")).to_have_count(0)
    assert list(Member.objects.order_by("pk").values_list("pk", "updated_at")) == before
    snap("imports-unchanged")

    # --- The member list, exported masked.
    page.goto("/members/")
    page.get_by_role("link", name="导出 Excel").click()
    expect(page.get_by_role("heading", name="导出会员名册")).to_be_visible()
    expect(page.locator("[data-export-count]")).to_have_text("8 行")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 Excel").click()
    exported = tmp_path / "会员名册.xlsx"
    download.value.save_as(exported)
    lines = read_sheet(exported)
    assert tuple(lines[0]) == EXPORT_HEADERS
    people = [dict(zip(EXPORT_HEADERS, row, strict=True)) for row in lines[1:]]
    assert sorted(p["姓名"] for p in people) == sorted(
        ["王芳", "李强", "张敏", "陈静", "刘洋", "赵磊", "孙丽", "周杰"]
    )
    numbers = {m.reveal_id_number() for m in Member.objects.all()}
    for person in people:
        masked = person["证件号码"]
        assert re.fullmatch(r"\d{4}\*{10}[\dX]{4}", masked), masked
        assert masked not in numbers
        assert re.fullmatch(r"139\*{4}\d{4}", person["手机号码"]), person["手机号码"]


def test_the_import_pages_fit_a_phone(
    new_page: Any, login: Any, county_cadre: Any, tree: Tree, snap: Any
) -> None:
    phone = new_page(viewport=PHONE)
    login(county_cadre, PERSONA_PASSWORD, target=phone)
    # A run waiting for its columns (the widest table), and one with problems after its dry run.
    waiting = services.import_upload(
        acting_user=county_cadre,
        union=tree.jiangan,
        kind="members",
        file=roster_file([person(1), person(2)]),
        original_name="江岸区2024年会员实名制采集表（第一批）.xlsx",
    )
    checked = services.import_upload(
        acting_user=county_cadre,
        union=tree.jiangan,
        kind="members",
        file=roster_file([person(3), person(4, phone="1381234"), person(5, union="不存在的工会")]),
        original_name="江岸区2024年会员实名制采集表（第二批）.xlsx",
    )
    ImportRun.objects.filter(pk=checked.pk).update(state=ImportState.VALIDATING)
    checked.refresh_from_db()
    services.mark_validated(checked, engine.member_dry_run(checked))

    phone.goto("/")
    phone.get_by_role("button", name="菜单").click()
    phone.get_by_role("navigation", name="主菜单").get_by_role("link", name="名册导入").click()
    expect(phone.get_by_role("heading", name="名册导入", exact=True)).to_be_visible()
    expect(phone.get_by_role("link", name=waiting.original_name)).to_be_visible()
    fits_the_screen(phone)
    snap("imports-list-phone", target=phone)

    phone.get_by_role("link", name=waiting.original_name).click()
    expect(phone.get_by_role("heading", name="确认各列的含义")).to_be_visible()
    fits_the_screen(phone)
    snap("imports-mapping-phone", target=phone)

    phone.goto(f"/imports/{checked.pk}/")
    expect(phone.get_by_role("heading", name="试导入结果")).to_be_visible()
    expect(phone.locator("table.problem-table tbody tr")).to_have_count(2)
    fits_the_screen(phone)
    snap("imports-detail-phone", target=phone)
