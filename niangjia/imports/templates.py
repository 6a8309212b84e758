"""Downloadable roster templates (.xlsx) for members and employers.

Each template has:

* the data sheet: the headers (required ones marked with ``*`` and in red), one example row
  in grey, a drop-down list on every coded column (the lists live on a hidden sheet, so that
  long ones such as the 56 ethnic groups and labels containing commas work in Excel and WPS),
  a hint shown when a cell is selected, and text format on ID number, phone and code columns
  so that Excel keeps all 18 digits instead of showing 4.20102E+17;
* "填写说明": every column with whether it is required, how to fill it, the values it takes
  and an example;
* "选项" (hidden): the drop-down lists.

The example row is the template's own ``Column.example`` values; ``is_example_row`` tells the
importer a row that was left as it is.
"""

from __future__ import annotations

import datetime
import io
import math
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from niangjia.imports.columns import (
    EMPLOYER_COLUMNS,
    MEMBER_COLUMNS,
    Column,
    ColumnKind,
    column_letter,
    header_text,
    normalize_label,
)

NOTES_SHEET = "填写说明"
LISTS_SHEET = "选项"
# The data sheet's formats and lists reach this far down (Excel's last row).
LAST_ROW = 1_048_576
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"

TEMPLATES = {
    "members": ("会员名册", MEMBER_COLUMNS, "会员名册导入模板.xlsx"),
    "employers": ("用人单位名册", EMPLOYER_COLUMNS, "用人单位名册导入模板.xlsx"),
}

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED_FONT = Font(bold=True, color="C00000")
_HEADER_FONT = Font(bold=True)
_EXAMPLE_FONT = Font(italic=True, color="808080")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")


def _general_notes(title: str) -> list[str]:
    return [
        f"1. 请在“{title}”工作表中从第 3 行起逐行填写，一行一{'人' if title == '会员名册' else '个单位'}；"
        "第 2 行是灰色的填写示例，请删除或直接改写。",
        "2. 请不要修改、删除第 1 行的表头；带 * 的列必须填写，其他列可以不填。不需要的列可以留空，"
        "也可以在右侧增加自己的列（导入时不读取）。",
        "3. 带下拉箭头的列请从下拉列表中选择；证件号码、手机号码、代码类的列已设为“文本”格式，"
        "请直接输入或以“只粘贴值”的方式粘贴，不要改成数字格式。",
        "4. 日期写成 2024-05-01 的形式（也可写 2024年5月1日、2024/5/1）。",
        "5. 填好后保存为 .xlsx 文件上传；也可以另存为 CSV（UTF-8）文件上传。"
        "上传后系统先试导入并列出有问题的行，确认无误后再正式导入。",
    ]


def _requirement(column: Column) -> str:
    return "必填" if column.required else "选填"


def _allowed(column: Column) -> str:
    if column.choices:
        return "、".join(column.labels)
    return {
        ColumnKind.DATE: "日期",
        ColumnKind.INTEGER: "整数",
        ColumnKind.CODE: "文本（数字和字母）",
    }.get(column.kind, "文本")


def build_template(*, title: str, columns: Sequence[Column]) -> bytes:
    """The template for ``columns`` as the bytes of an .xlsx file."""
    workbook = Workbook()
    data = workbook.active
    assert data is not None
    data.title = title
    notes = workbook.create_sheet(NOTES_SHEET)
    lists = workbook.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    workbook.properties.creator = "娘家"
    workbook.properties.title = f"{title}导入模板"

    _fill_data_sheet(data, columns, lists)
    _fill_notes_sheet(notes, title, columns)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fill_data_sheet(sheet: Worksheet, columns: Sequence[Column], lists: Worksheet) -> None:
    sheet.freeze_panes = "A2"
    list_column = 0
    for index, column in enumerate(columns):
        letter = column_letter(index)
        dimension = sheet.column_dimensions[letter]
        dimension.width = column.width
        if column.kind == ColumnKind.CODE:
            dimension.number_format = TEXT_FORMAT
        elif column.kind == ColumnKind.DATE:
            dimension.number_format = DATE_FORMAT
        elif column.kind == ColumnKind.INTEGER:
            dimension.number_format = "0"

        header = sheet.cell(row=1, column=index + 1, value=column.header)
        header.font = _REQUIRED_FONT if column.required else _HEADER_FONT
        header.fill = _HEADER_FILL
        header.border = _BORDER
        header.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

        example = sheet.cell(row=2, column=index + 1, value=_example_value(column))
        example.font = _EXAMPLE_FONT
        if column.kind == ColumnKind.CODE:
            example.number_format = TEXT_FORMAT
        elif column.kind == ColumnKind.DATE:
            example.number_format = DATE_FORMAT

        cells = f"{letter}2:{letter}{LAST_ROW}"
        validation = _validation(column, lists, list_column)
        if column.choices:
            list_column += 1
        validation.add(cells)
        sheet.add_data_validation(validation)
    first = sheet.cell(row=2, column=1)
    first.comment = Comment("这一行是填写示例，请删除或改写。", "娘家")
    sheet.row_dimensions[1].height = 30


def _example_value(column: Column) -> Any:
    if not column.example:
        return None
    if column.kind == ColumnKind.DATE:
        return datetime.date.fromisoformat(column.example)
    if column.kind == ColumnKind.INTEGER:
        return int(column.example)
    return column.example


def _validation(column: Column, lists: Worksheet, list_column: int) -> DataValidation:
    prompt = column.note[:255]
    title = column.label[:32]
    if column.choices:
        letter = column_letter(list_column)
        lists.cell(row=1, column=list_column + 1, value=column.label)
        for row, label in enumerate(column.labels, start=2):
            lists.cell(row=row, column=list_column + 1, value=label)
        source = f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(column.choices) + 1}"
        return DataValidation(
            type="list",
            formula1=source,
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=title,
            error=f"请从下拉列表中选择“{column.label}”。",
            showInputMessage=bool(prompt),
            promptTitle=title,
            prompt=prompt,
        )
    if column.kind == ColumnKind.DATE:
        return DataValidation(
            type="date",
            operator="between",
            formula1="DATE(1900,1,1)",
            formula2="DATE(2100,12,31)",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle=title,
            error="请填写日期，如 2024-05-01。",
            showInputMessage=bool(prompt),
            promptTitle=title,
            prompt=prompt,
        )
    if column.kind == ColumnKind.INTEGER:
        return DataValidation(
            type="whole",
            operator="greaterThanOrEqual",
            formula1="0",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=title,
            error="请填写不小于 0 的整数。",
            showInputMessage=bool(prompt),
            promptTitle=title,
            prompt=prompt,
        )
    # Any value: the validation only carries the hint shown when a cell is selected.
    return DataValidation(
        allow_blank=True, showInputMessage=bool(prompt), promptTitle=title, prompt=prompt
    )


_NOTES_WIDTHS = (18, 10, 56, 50, 22)
_LINE_HEIGHT = 15


def _lines(text: str, width: int) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide (a Chinese
    character takes two), so that rows can be given their height: spreadsheet programs do not
    grow rows for wrapped text written by a library."""
    units = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return max(1, math.ceil(units / max(width - 1, 1)))


def _fill_notes_sheet(sheet: Worksheet, title: str, columns: Sequence[Column]) -> None:
    for index, width in enumerate(_NOTES_WIDTHS):
        sheet.column_dimensions[column_letter(index)].width = width
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    heading = sheet.cell(row=1, column=1, value=f"{title}导入模板填写说明")
    heading.font = Font(bold=True, size=14)
    sheet.row_dimensions[1].height = 24
    row = 2
    for line in _general_notes(title):
        cell = sheet.cell(row=row, column=1, value=line)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=5)
        cell.alignment = _WRAP
        sheet.row_dimensions[row].height = _LINE_HEIGHT * _lines(line, sum(_NOTES_WIDTHS)) + 3
        row += 1
    row += 1
    for index, text in enumerate(("列名", "是否必填", "填写要求", "可填的值", "示例"), start=1):
        cell = sheet.cell(row=row, column=index, value=text)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
    sheet.freeze_panes = sheet.cell(row=row + 1, column=1)
    for column in columns:
        row += 1
        values = (column.label, _requirement(column), column.note, _allowed(column), column.example)
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=index, value=value or None)
            cell.alignment = _WRAP
            cell.border = _BORDER
            if index == 2 and column.required:
                cell.font = _REQUIRED_FONT
        lines = max(_lines(str(v), w) for v, w in zip(values, _NOTES_WIDTHS, strict=True))
        sheet.row_dimensions[row].height = _LINE_HEIGHT * lines + 3


def template_for(kind: str) -> tuple[str, bytes]:
    """(download file name, bytes) of the template for an import kind ("members"/"employers")."""
    title, columns, filename = TEMPLATES[kind]
    return filename, build_template(title=title, columns=columns)


def member_template() -> bytes:
    return template_for("members")[1]


def employer_template() -> bytes:
    return template_for("employers")[1]


def is_example_row(values: Mapping[str, Any], columns: Sequence[Column]) -> bool:
    """Whether a row (field key → raw value) is the template's example left in place: its
    required fields all hold the example values."""
    checked = [column for column in columns if column.required and column.example]
    if not checked:
        return False
    for column in checked:
        value = header_text(values.get(column.key))
        if normalize_label(value) != normalize_label(column.example):
            return False
    return True
