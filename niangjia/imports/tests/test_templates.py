"""Import templates, read back as a spreadsheet program and as the importer would."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from niangjia.imports.columns import (
    EMPLOYER_COLUMNS,
    MEMBER_COLUMNS,
    ColumnKind,
    column_letter,
    detect_header,
    row_extractor,
)
from niangjia.imports.files import inspect_upload, read_rows
from niangjia.imports.templates import (
    LAST_ROW,
    LISTS_SHEET,
    NOTES_SHEET,
    build_template,
    employer_template,
    is_example_row,
    member_template,
    template_for,
)

KINDS = [("members", "会员名册", MEMBER_COLUMNS), ("employers", "用人单位名册", EMPLOYER_COLUMNS)]


@pytest.fixture(scope="module")
def templates() -> dict[str, bytes]:
    return {kind: template_for(kind)[1] for kind, _title, _columns in KINDS}


def opened(data: bytes):
    return load_workbook(io.BytesIO(data))


@pytest.mark.parametrize(("kind", "title", "columns"), KINDS)
def test_the_template_has_the_data_sheet_first_then_the_notes_and_a_hidden_list_sheet(
    templates, kind, title, columns
):
    workbook = opened(templates[kind])
    assert workbook.sheetnames == [title, NOTES_SHEET, LISTS_SHEET]
    assert workbook[title].sheet_state == "visible"
    assert workbook[NOTES_SHEET].sheet_state == "visible"
    assert workbook[LISTS_SHEET].sheet_state == "hidden"


@pytest.mark.parametrize(("kind", "title", "columns"), KINDS)
def test_headers_are_chinese_with_required_ones_marked_in_red(templates, kind, title, columns):
    sheet = opened(templates[kind])[title]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [column.header for column in columns]
    for cell, column in zip(sheet[1], columns, strict=True):
        assert cell.value.startswith("*") == column.required
        assert cell.font.bold
        assert (
            cell.font.color is not None and cell.font.color.rgb == "00C00000"
        ) == column.required
    assert sheet.freeze_panes == "A2"


def test_the_member_template_header_reads_as_expected():
    sheet = opened(member_template())["会员名册"]
    assert [cell.value for cell in sheet[1]][:4] == [
        "*姓名",
        "证件类型",
        "*身份证号码",
        "*手机号码",
    ]


@pytest.mark.parametrize(("kind", "title", "columns"), KINDS)
def test_the_example_row_holds_each_columns_example(templates, kind, title, columns):
    sheet = opened(templates[kind])[title]
    for cell, column in zip(sheet[2], columns, strict=True):
        if not column.example:
            assert cell.value is None
        elif column.kind == ColumnKind.DATE:
            assert cell.value == datetime.datetime.fromisoformat(column.example)
        elif column.kind == ColumnKind.INTEGER:
            assert cell.value == int(column.example)
        else:
            assert cell.value == column.example
        assert cell.font.italic
    assert sheet.max_row == 2
    assert "示例" in sheet["A2"].comment.text


@pytest.mark.parametrize(("kind", "title", "columns"), KINDS)
def test_every_coded_column_has_a_drop_down_list_from_the_hidden_sheet(
    templates, kind, title, columns
):
    workbook = opened(templates[kind])
    sheet = workbook[title]
    lists = workbook[LISTS_SHEET]
    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    for index, column in enumerate(columns):
        letter = column_letter(index)
        validation = validations[f"{letter}2:{letter}{LAST_ROW}"]
        if not column.choices:
            assert validation.type != "list"
            continue
        assert validation.type == "list"
        assert validation.showErrorMessage
        assert validation.allow_blank
        sheet_name, cells = validation.formula1.split("!")
        assert sheet_name == f"'{LISTS_SHEET}'"
        first, last = cells.replace("$", "").split(":")
        values = [cell.value for (cell,) in lists[first:last]]
        assert values == column.labels


def test_the_ethnic_group_list_holds_all_58_entries():
    workbook = opened(member_template())
    sheet = workbook["会员名册"]
    index = [c.key for c in MEMBER_COLUMNS].index("ethnic_group")
    letter = column_letter(index)
    (validation,) = [
        v for v in sheet.data_validations.dataValidation if str(v.sqref).startswith(f"{letter}2:")
    ]
    assert validation.formula1.endswith("$59")
    _sheet, cells = validation.formula1.split("!")
    first, last = cells.replace("$", "").split(":")
    values = [cell.value for (cell,) in workbook[LISTS_SHEET][first:last]]
    assert values[0] == "汉族"
    assert "维吾尔族" in values
    assert len(values) == 58


@pytest.mark.parametrize(("kind", "title", "columns"), KINDS)
def test_every_column_shows_its_note_when_a_cell_is_selected(templates, kind, title, columns):
    sheet = opened(templates[kind])[title]
    prompts = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    for index, column in enumerate(columns):
        letter = column_letter(index)
        validation = prompts[f"{letter}2:{letter}{LAST_ROW}"]
        assert validation.showInputMessage
        assert validation.promptTitle == column.label
        assert validation.prompt == column.note


def test_date_and_number_columns_are_checked_by_the_spreadsheet():
    workbook = opened(employer_template())
    sheet = workbook["用人单位名册"]
    index = [c.key for c in EMPLOYER_COLUMNS].index("headcount")
    letter = column_letter(index)
    (headcount,) = [
        v for v in sheet.data_validations.dataValidation if str(v.sqref).startswith(f"{letter}2:")
    ]
    assert headcount.type == "whole"
    assert headcount.operator == "greaterThanOrEqual"
    assert headcount.formula1 == "0"

    members = opened(member_template())["会员名册"]
    index = [c.key for c in MEMBER_COLUMNS].index("join_date")
    letter = column_letter(index)
    (join_date,) = [
        v for v in members.data_validations.dataValidation if str(v.sqref).startswith(f"{letter}2:")
    ]
    assert join_date.type == "date"
    assert join_date.errorStyle == "warning"
    assert members.column_dimensions[letter].number_format == "yyyy-mm-dd"


@pytest.mark.parametrize(("kind", "title", "columns"), KINDS)
def test_id_phone_and_code_columns_are_formatted_as_text(templates, kind, title, columns):
    sheet = opened(templates[kind])[title]
    code_columns = [i for i, c in enumerate(columns) if c.kind == ColumnKind.CODE]
    assert code_columns
    for index in code_columns:
        letter = column_letter(index)
        assert sheet.column_dimensions[letter].number_format == "@"
        assert sheet[f"{letter}2"].number_format == "@"
    for index, column in enumerate(columns):
        if column.kind == ColumnKind.TEXT:
            assert sheet.column_dimensions[column_letter(index)].number_format == "General"


def test_the_id_number_and_phone_columns_of_the_member_template_are_text():
    sheet = opened(member_template())["会员名册"]
    assert sheet["C1"].value == "*身份证号码"
    assert sheet.column_dimensions["C"].number_format == "@"
    assert sheet["D1"].value == "*手机号码"
    assert sheet.column_dimensions["D"].number_format == "@"
    assert sheet["C2"].value == "11010519491231002X"


@pytest.mark.parametrize(("kind", "title", "columns"), KINDS)
def test_the_notes_sheet_explains_every_column(templates, kind, title, columns):
    sheet = opened(templates[kind])[NOTES_SHEET]
    rows = [tuple(cell.value for cell in row) for row in sheet.iter_rows()]
    assert rows[0][0] == f"{title}导入模板填写说明"
    table_head = rows.index(("列名", "是否必填", "填写要求", "可填的值", "示例"))
    table = rows[table_head + 1 :]
    assert [row[0] for row in table] == [column.label for column in columns]
    for row, column in zip(table, columns, strict=True):
        assert row[1] == ("必填" if column.required else "选填")
        assert row[2] == column.note
        if column.choices:
            assert row[3] == "、".join(column.labels)
        assert (row[4] or "") == column.example
    general = " ".join(str(row[0]) for row in rows[1:table_head] if row[0])
    assert "带 * 的列必须填写" in general
    assert "文本" in general


def test_the_member_notes_list_every_ethnic_group_and_the_id_number_advice():
    sheet = opened(member_template())[NOTES_SHEET]
    rows = {row[0].value: row for row in sheet.iter_rows() if row[0].value}
    assert "维吾尔族" in rows["民族"][3].value
    assert "科学计数法" in rows["身份证号码"][2].value
    assert rows["身份证号码"][1].value == "必填"


# --- The template through the importer's own path --------------------------------------------------


@pytest.mark.parametrize(("kind", "title", "columns"), KINDS)
def test_the_template_passes_intake_and_its_header_and_example_row_are_recognised(
    tmp_path: Path, templates, kind, title, columns
):
    path = tmp_path / template_for(kind)[0]
    path.write_bytes(templates[kind])
    assert inspect_upload(path, original_name=path.name) == "xlsx"
    rows = list(read_rows(path, "xlsx"))
    assert len(rows) == 2
    guess = detect_header(rows, columns)
    assert guess.row == 0
    assert guess.mapping == {index: column.key for index, column in enumerate(columns)}
    assert guess.missing == ()
    assert guess.duplicates == ()
    assert guess.unmapped == {}
    values = row_extractor(guess.mapping)(rows[1])
    for column in columns:
        if column.kind == ColumnKind.DATE:
            assert values[column.key] == datetime.date.fromisoformat(column.example)
        elif column.kind == ColumnKind.INTEGER:
            assert values[column.key] == float(column.example)
        else:
            assert values[column.key] == column.example
    assert is_example_row(values, columns)


def test_a_row_changed_from_the_example_is_not_the_example():
    values = {c.key: c.example for c in MEMBER_COLUMNS}
    assert is_example_row(values, MEMBER_COLUMNS)
    assert not is_example_row({**values, "name": "李四"}, MEMBER_COLUMNS)
    assert not is_example_row({**values, "id_number": "420102199001011234"}, MEMBER_COLUMNS)
    assert not is_example_row({}, MEMBER_COLUMNS)
    assert is_example_row({**values, "phone": 13800138000.0}, MEMBER_COLUMNS)


def test_a_template_can_be_built_for_any_column_set():
    data = build_template(title="测试", columns=MEMBER_COLUMNS[:2])
    workbook = opened(data)
    assert [cell.value for cell in workbook["测试"][1]] == ["*姓名", "证件类型"]


def test_template_file_names_are_chinese():
    assert template_for("members")[0] == "会员名册导入模板.xlsx"
    assert template_for("employers")[0] == "用人单位名册导入模板.xlsx"
    assert employer_template()[:4] == b"PK\x03\x04"
