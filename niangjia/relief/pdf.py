"""The printable household file (困难职工家庭档案登记表): one A4 table in the layout of the
national form, followed by the household's members, the steps with their dates and signature
boxes, and the assistance received.

Chinese text is set in STSong-Light, one of the CID fonts every PDF reader carries for
Simplified Chinese (Adobe-GB1): reportlab writes it without a font file, so the PDF is built
offline and stays small. Personal numbers are printed masked (the page that offers the PDF
says so); the bank account shows its last four digits only.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from niangjia.members.choices import ETHNIC_GROUPS
from niangjia.relief.models import Assistance, HardshipFile, HouseholdMember

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 14 * mm
WIDTH = PAGE_WIDTH - 2 * MARGIN
# The form is a grid of eight equal columns: label, value, label, value …
COLUMNS = 8
COL = WIDTH / COLUMNS
LABEL_BG = colors.HexColor("#f1f1f1")
LINE = colors.HexColor("#333333")

TEXT = ParagraphStyle("text", fontName=FONT, fontSize=9, leading=11.5, wordWrap="CJK")
LABEL = ParagraphStyle("label", parent=TEXT, alignment=TA_CENTER)
TITLE = ParagraphStyle("title", parent=TEXT, fontSize=17, leading=22, alignment=TA_CENTER)
SUB = ParagraphStyle("sub", parent=TEXT, fontSize=9, leading=12)
SECTION = ParagraphStyle("section", parent=TEXT, fontSize=10.5, leading=14)
SIGNED = ParagraphStyle("signed", parent=TEXT, alignment=TA_RIGHT)

ETHNIC = dict(ETHNIC_GROUPS)
BLANK = "—"


@dataclass(frozen=True)
class Opinion:
    """An opinion cell: the note at the top, the seal and date at the bottom right."""

    note: str
    signed: str


def _p(value: Any, style: ParagraphStyle = TEXT) -> Any:
    if isinstance(value, Opinion):
        return [
            Paragraph(_escape(value.note or "　"), TEXT),
            Spacer(1, 5 * mm),
            Paragraph(_escape(value.signed), SIGNED),
        ]
    text = BLANK if value in (None, "") else str(value)
    return Paragraph(_escape(text), style)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _yuan(value: Decimal | None) -> str:
    return BLANK if value is None else f"{value:,.2f} 元"


def _date(value: Any) -> str:
    return f"{value:%Y年%m月%d日}" if value else "    年   月   日"


def _yes(value: bool) -> str:
    return "是" if value else "否"


@dataclass(frozen=True)
class Cell:
    """A cell of the grid: a label (shaded) or a value, spanning ``span`` columns."""

    text: Any
    span: int = 1
    label: bool = False


def L(text: str, span: int = 1) -> Cell:
    return Cell(text, span, label=True)


def V(text: Any, span: int = 1) -> Cell:
    return Cell(text, span)


class Grid:
    """Rows of ``Cell`` laid out on the eight-column grid, with spans and shaded labels."""

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
        self.style: list[tuple[Any, ...]] = []

    def row(self, *cells: Cell, height: float | None = None) -> None:
        used = sum(c.span for c in cells)
        if used != COLUMNS:
            raise ValueError(f"a form row spans {COLUMNS} columns, not {used}")
        y = len(self.rows)
        line: list[Any] = []
        x = 0
        for cell in cells:
            line.append(_p(cell.text, LABEL if cell.label else TEXT))
            line.extend([""] * (cell.span - 1))
            if cell.span > 1:
                self.style.append(("SPAN", (x, y), (x + cell.span - 1, y)))
            if cell.label:
                self.style.append(("BACKGROUND", (x, y), (x + cell.span - 1, y), LABEL_BG))
            x += cell.span
        self.rows.append(line)
        if height is not None:
            self.style.append(("ROWHEIGHT", y, height))

    def table(self) -> Table:
        table = Table(self.rows, colWidths=[COL] * COLUMNS)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.6, LINE),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                    ("LEFTPADDING", (0, 0), (-1, -1), 3),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                    *[s for s in self.style if s[0] != "ROWHEIGHT"],
                ]
            )
        )
        heights = {s[1]: s[2] for s in self.style if s[0] == "ROWHEIGHT"}
        if heights:
            table._argH = [heights.get(i) for i in range(len(self.rows))]
        return table


def _list_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[float]
) -> Table:
    """A plain table with a shaded head row (household members, assistance)."""
    data = [[_p(h, LABEL) for h in headers]]
    data += [[_p(v) for v in row] for row in rows]
    if len(data) == 1:
        data.append([_p("无")] + [""] * (len(headers) - 1))
        span = [("SPAN", (0, 1), (-1, 1))]
    else:
        span = []
    scale = WIDTH / sum(widths)
    table = Table(data, colWidths=[w * scale for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, LINE),
                ("BACKGROUND", (0, 0), (-1, 0), LABEL_BG),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                *span,
            ]
        )
    )
    return table


def _causes(file: HardshipFile) -> str:
    secondary = [
        file.get_cause_2_display(),
        file.get_cause_3_display(),
        file.get_cause_4_display(),
    ]
    return "、".join(c for c in secondary if c) or "无"


def _disability(file: HardshipFile) -> str:
    if not file.disability_category:
        return "无"
    grade = file.get_disability_grade_display()
    return f"{file.get_disability_category_display()}{f'（{grade}）' if grade else ''}"


def _main_grid(file: HardshipFile, threshold: Decimal | None) -> Table:
    g = Grid()
    g.row(
        L("姓名"),
        V(file.name),
        L("性别"),
        V(file.get_sex_display()),
        L("民族"),
        V(ETHNIC.get(file.ethnic_group, "")),
        L("出生日期"),
        V(f"{file.birth_date:%Y-%m-%d}" if file.birth_date else ""),
    )
    g.row(
        L("身份证号"),
        V(file.id_masked, 3),
        L("政治面貌"),
        V(file.get_political_status_display()),
        L("联系电话"),
        V(file.phone_masked),
    )
    g.row(
        L("工作单位"),
        V(file.employer_display, 3),
        L("单位类型"),
        V(file.get_employer_type_display()),
        L("单位状况"),
        V(file.get_employer_state_display()),
    )
    g.row(
        L("所属行业"),
        V(file.get_industry_display(), 3),
        L("工作状况"),
        V(file.get_work_status_display()),
        L("户籍类型"),
        V(file.get_household_display()),
    )
    g.row(
        L("健康状况"),
        V(file.get_health_display()),
        L("残疾类别等级"),
        V(_disability(file)),
        L("婚姻状况"),
        V(file.get_marital_status_display()),
        L("劳模类型"),
        V(file.get_model_worker_display()),
    )
    g.row(
        L("单亲家庭"),
        V(_yes(file.single_parent)),
        L("零就业家庭"),
        V(_yes(file.zero_employment)),
        L("医疗保险"),
        V(file.get_medical_insurance_display(), 3),
    )
    g.row(
        L("家庭住址"),
        V(file.address, 3),
        L("住房类型"),
        V(file.get_housing_type_display()),
        L("人均住房面积"),
        V(file.get_floor_area_band_display()),
    )
    g.row(
        L("本人月工资"),
        V(_yuan(file.monthly_wage)),
        L("家庭其他年收入"),
        V(_yuan(file.other_income_year)),
        L("家庭年总收入"),
        V(_yuan(file.household_income_year)),
        L("家庭人口"),
        V(f"{file.household_size} 人"),
    )
    g.row(
        L("家庭月人均收入"),
        V(_yuan(file.income_per_head)),
        L("当地低保标准"),
        V(f"{threshold:,.2f} 元/人/月" if threshold is not None else "未设置"),
        L("本年度意外损失"),
        V(_yuan(file.accident_loss_year) if file.accident_loss_year else "无"),
        L("档案级别"),
        V(file.get_archive_level_display()),
    )
    proposed = file.get_category_proposed_display() or "不符合"
    chosen = file.get_category_display() or "待认定"
    category = (
        chosen
        if not file.category or file.category == file.category_proposed
        else (f"{chosen}（系统建议：{proposed}；调整理由：{file.category_reason}）")
    )
    g.row(L("困难类别"), V(category, 3), L("主要致困原因"), V(file.get_main_cause_display(), 3))
    g.row(L("次要致困原因"), V(_causes(file), 3), L("开户银行及账号"), V(_bank(file), 3))
    return g.table()


def _bank(file: HardshipFile) -> str:
    if not file.bank_name and not file.bank_account_masked:
        return "未登记"
    return f"{file.bank_name} {file.bank_account_masked}".strip()


def _members_table(members: Sequence[HouseholdMember]) -> Table:
    return _list_table(
        ("姓名", "与职工关系", "身份证号", "月收入", "健康状况", "医疗保险", "就读学校或工作单位"),
        (
            (
                m.name,
                m.get_relation_display(),
                m.id_masked,
                _yuan(m.monthly_income),
                m.get_health_display(),
                m.get_medical_insurance_display(),
                m.school_or_employer,
            )
            for m in members
        ),
        (14, 12, 26, 16, 14, 20, 30),
    )


def _steps_grid(file: HardshipFile) -> Table:
    """The opinions of each level with their dates, and room for the signature and seal."""
    g = Grid()

    def opinion(label: str, done: Any, note: str) -> None:
        g.row(L(label, 2), V(Opinion(note, f"（盖章）　{_date(done)}"), 6))

    opinion(
        "基层工会初审意见",
        file.first_checked_on,
        "经初审，情况属实。" if file.first_checked_on else "",
    )
    consent = (
        f"职工已签署家庭经济状况核对授权书（{_date(file.consent_on)}）。" if file.consent_on else ""
    )
    opinion("入户调查情况", file.surveyed_on, consent)
    opinion(
        "县级职工服务中心审核意见",
        file.reviewed_on,
        f"同意认定为{file.get_category_display()}。" if file.reviewed_on and file.category else "",
    )
    publicity = (
        f"{file.publicity_starts_on:%Y-%m-%d} 至 {file.publicity_ends_on:%Y-%m-%d}"
        if file.publicity_starts_on and file.publicity_ends_on
        else ""
    )
    g.row(L("公示期", 2), V(publicity, 2), L("建档日期", 2), V(_date(file.filed_on), 2))
    g.row(
        L("年度复核", 2),
        V(_date(file.last_reviewed_on) if file.last_reviewed_on else "未复核", 2),
        L("下次复核期限", 2),
        V(_date(file.review_due_on) if file.review_due_on else "", 2),
    )
    if file.exited_on:
        g.row(
            L("解困脱困", 2),
            V(f"{file.get_exit_kind_display()}　{_date(file.exited_on)}", 6),
        )
    return g.table()


def _assistance_table(records: Sequence[Assistance]) -> Table:
    return _list_table(
        ("日期", "帮扶类型", "金额", "实物", "资金来源", "状态"),
        (
            (
                f"{a.date:%Y-%m-%d}",
                a.get_assistance_type_display(),
                _yuan(a.amount) if a.amount else "",
                f"{a.goods}（折价 {a.in_kind_value:,.2f} 元）" if a.in_kind_value else "",
                str(a.fund) if a.fund_id else "",
                a.get_state_display(),
            )
            for a in records
        ),
        (14, 14, 16, 30, 30, 12),
    )


def file_form_pdf(
    file: HardshipFile,
    *,
    threshold: Decimal | None,
    members: Sequence[HouseholdMember],
    assistance: Sequence[Assistance],
    printed_by: str = "",
) -> bytes:
    """The household file as a PDF (bytes), in the national form's layout."""
    buffer = io.BytesIO()
    printed_at = timezone.localtime()

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        who = f"　打印人：{printed_by}" if printed_by else ""
        canvas.drawString(
            MARGIN,
            9 * mm,
            f"档案编号 {file.file_number}　打印时间 {printed_at:%Y-%m-%d %H:%M}{who}",
        )
        canvas.drawRightString(PAGE_WIDTH - MARGIN, 9 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=16 * mm,
        title=f"困难职工家庭档案登记表 {file.file_number}",
        author="娘家工会工作平台",
        subject="困难职工家庭档案登记表",
    )
    head = Table(
        [
            [
                _p(f"档案编号：{file.file_number}", SUB),
                _p(f"所在工会：{file.union.name}", SUB),
                _p(f"档案状态：{file.get_state_display()}", SUB),
            ]
        ],
        colWidths=[WIDTH * 0.28, WIDTH * 0.5, WIDTH * 0.22],
    )
    head.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story: list[Any] = [
        Paragraph("困难职工家庭档案登记表", TITLE),
        Spacer(1, 3 * mm),
        head,
        Spacer(1, 2 * mm),
        _main_grid(file, threshold),
        Spacer(1, 4 * mm),
        KeepTogether(
            [
                Paragraph("家庭成员情况（不含职工本人）", SECTION),
                Spacer(1, 1.5 * mm),
                _members_table(members),
            ]
        ),
        Spacer(1, 4 * mm),
        KeepTogether([Paragraph("审核认定", SECTION), Spacer(1, 1.5 * mm), _steps_grid(file)]),
        Spacer(1, 4 * mm),
        Paragraph("帮扶救助记录", SECTION),
        Spacer(1, 1.5 * mm),
        _assistance_table(assistance),
        Spacer(1, 3 * mm),
        Paragraph(
            "注：身份证号、联系电话和银行账号按个人信息保护要求隐去部分号码；完整号码以系统内经授权查看为准。",
            SUB,
        ),
    ]
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
