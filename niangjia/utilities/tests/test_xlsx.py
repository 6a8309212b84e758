"""The streaming xlsx writer: what a spreadsheet reads back, the injection guard, and memory."""

from __future__ import annotations

import datetime
import decimal
import io
import re
import tracemalloc
import zipfile
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from niangjia.utilities import xlsx
from niangjia.utilities.xlsx import render_rows, safe_cell, sheet_title, write_xlsx


def read_back(xfile: xlsx.XlsxFile) -> list[tuple[Any, ...]]:
    data = xfile.file.read()
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return list(sheet.iter_rows(values_only=True))


def write(rows: list[tuple[Any, ...]], headers: tuple[str, ...] = ("甲", "乙")) -> xlsx.XlsxFile:
    return write_xlsx(title="测试", headers=headers, rows=rows)


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_a_value_a_spreadsheet_would_evaluate_is_written_as_text(prefix):
    value = f'{prefix}HYPERLINK("http://x","y")'
    # Alone in its column (cell by cell), and among plain values (the column's template).
    rows = read_back(write([(value, "普通"), ("普通", "普通")] * 3))
    assert rows[1][0] == "'" + value
    assert rows[2][0] == "普通"


def test_a_formula_prefix_after_a_dropped_control_character_is_still_guarded():
    assert safe_cell("\x01=1+1") == "'=1+1"
    assert read_back(write([("\x01=1+1", "x")]))[1][0] == "'=1+1"


def test_characters_xml_cannot_carry_are_dropped_and_markup_is_escaped():
    rows = read_back(
        write([("a\x00b\x08c\x1fd", "<b>&amp;</b> 'q' \"d\""), ("\ufffe正常\uffff", "x>y")])
    )
    assert rows[1] == ("abcd", "<b>&amp;</b> 'q' \"d\"")
    assert rows[2] == ("正常", "x>y")


def test_spaces_at_either_end_and_line_breaks_are_kept():
    rows = read_back(write([("  前后空格 ", "第一行\n第二行"), ("　全角空格", "x")]))
    assert rows[1] == ("  前后空格 ", "第一行\n第二行")
    assert rows[2][0] == "　全角空格"


def test_values_keep_their_types():
    tz = ZoneInfo("Asia/Shanghai")
    aware = datetime.datetime(2024, 5, 1, 1, 30, tzinfo=datetime.UTC)
    row = (
        7,
        -3.25,
        decimal.Decimal("12.50"),
        True,
        False,
        datetime.date(2024, 2, 29),
        aware,
        datetime.datetime(2024, 5, 1, 8, 0, 15),
        None,
        "",
    )
    back = read_back(write([row], headers=tuple(str(i) for i in range(len(row)))))[1]
    assert back[:5] == (7, -3.25, 12.5, "是", "否")
    assert back[5] == datetime.datetime(2024, 2, 29)
    # Aware times are written in local time (Asia/Shanghai), without a zone.
    assert back[6] == aware.astimezone(tz).replace(tzinfo=None)
    assert back[7] == datetime.datetime(2024, 5, 1, 8, 0, 15)
    assert back[8] is None and back[9] is None


def test_dates_are_numbers_with_a_date_format_and_dates_excel_cannot_count_are_text():
    xfile = write([(datetime.date(1990, 1, 2), datetime.date(1899, 1, 1))] * 2)
    data = xfile.file.read()
    workbook = load_workbook(io.BytesIO(data))
    cell = workbook.active["A2"]
    assert cell.value == datetime.datetime(1990, 1, 2) and cell.number_format == "yyyy\\-mm\\-dd"
    assert workbook.active["B2"].value == "1899-01-01"


def test_the_header_is_bold_frozen_and_the_columns_have_their_widths():
    xfile = write_xlsx(title="会员名册", headers=["姓名", "证件号码"], rows=[], widths=[10, 22])
    workbook = load_workbook(io.BytesIO(xfile.file.read()))
    sheet = workbook.active
    assert sheet.title == "会员名册"
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].value == "姓名" and sheet["A1"].font.b and sheet["B1"].font.b
    assert sheet.column_dimensions["A"].width == 10 and sheet.column_dimensions["B"].width == 22
    assert xfile.rows == 0


def test_rows_of_different_lengths_and_mixed_columns_are_written_cell_by_cell():
    rows = [("a", 1, datetime.date(2024, 1, 1)), ("b",), (None, "二", 3)]
    assert read_back(write(rows, headers=("x", "y", "z")))[1:] == [
        ("a", 1, datetime.datetime(2024, 1, 1)),
        ("b",),
        (None, "二", 3),
    ]


def test_a_uniform_chunk_is_written_by_the_column_templates():
    chunk = [("张三", datetime.date(2024, 1, 1), 5, None, "")] * 2
    cells = (
        '<c t="inlineStr"><is><t>张三</t></is></c><c s="1"><v>45292</v></c>'
        "<c><v>5</v></c><c/><c/></row>"
    )
    assert render_rows(chunk, first=7) == f'<row r="7">{cells}<row r="8">{cells}'
    assert render_rows([(None,), ("",)], first=2) == '<row r="2"><c/></row><row r="3"><c/></row>'


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([(n, f"名{n}") for n in range(25)], id="column-templates"),
        pytest.param([(n,) * (1 + n % 3) for n in range(25)], id="cell-by-cell"),
    ],
)
def test_every_row_carries_its_number(monkeypatch, rows):
    monkeypatch.setattr(xlsx, "CHUNK_ROWS", 10)  # numbers continue from chunk to chunk
    xfile = write_xlsx(title="t", headers=["a", "b", "c"], rows=rows)
    data = xfile.file.read()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        sheet = package.read("xl/worksheets/sheet1.xml").decode()
    assert re.findall(r"<row\b[^>]*>", sheet) == [f'<row r="{n}">' for n in range(1, 27)]
    assert read_back(xlsx.XlsxFile(io.BytesIO(data), 25, "", len(data)))[1:] == rows


def test_the_sheet_name_is_made_valid():
    assert sheet_title("会员/名册:2024[1]") == "会员_名册_2024_1_"
    assert len(sheet_title("很长" * 40)) == 31 and sheet_title("") == "Sheet1"


def test_the_package_is_a_valid_xlsx_with_the_hash_and_size_of_the_file(tmp_path):
    with open(tmp_path / "x.xlsx", "w+b") as target:
        xfile = write_xlsx(title="t", headers=["a"], rows=[("x",)], into=target)
        assert xfile.file is target
    data = (tmp_path / "x.xlsx").read_bytes()
    import hashlib

    assert xfile.sha256 == hashlib.sha256(data).hexdigest() and xfile.size == len(data)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names[0] == "[Content_Types].xml" and "xl/worksheets/sheet1.xml" in names


def test_progress_is_reported_per_chunk_and_can_stop_the_writing(monkeypatch):
    monkeypatch.setattr(xlsx, "CHUNK_ROWS", 10)
    seen: list[int] = []
    write_xlsx(title="t", headers=["a"], rows=((n,) for n in range(25)), on_chunk=seen.append)
    assert seen == [10, 20, 25]

    class Stop(Exception):
        pass

    def stop(done: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        write_xlsx(title="t", headers=["a"], rows=((n,) for n in range(25)), on_chunk=stop)


def test_more_rows_than_a_worksheet_holds_are_refused(monkeypatch):
    monkeypatch.setattr(xlsx, "SHEET_MAX_ROWS", 11)
    write_xlsx(title="t", headers=["a"], rows=((n,) for n in range(10)))
    with pytest.raises(xlsx.TooManyRows):
        write_xlsx(title="t", headers=["a"], rows=((n,) for n in range(11)))


def test_memory_stays_flat_however_many_rows():
    def rows(count: int) -> Any:
        for n in range(count):
            yield (f"{n:012d}", f"姓名{n}", "男", datetime.date(1990, 1, 1), "4201**********1234")

    def peak(count: int) -> int:
        tracemalloc.start()
        try:
            xfile = write_xlsx(title="t", headers=["a", "b", "c", "d", "e"], rows=rows(count))
            xfile.file.close()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(20_000), peak(200_000)
    # Ten times the rows, about the same memory (a chunk of rows and a few buffers).
    assert large < small * 1.5 + 2_000_000
