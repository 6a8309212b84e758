"""Intake of uploaded rosters: what is refused and why, and reading rows back."""

from __future__ import annotations

import codecs
import datetime
import struct
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from niangjia.imports import files
from niangjia.imports.files import (
    MSG_BINARY,
    MSG_CORRUPT,
    MSG_ENCODING,
    MSG_MACRO,
    MSG_PASSWORD,
    MSG_UNSAFE_XML,
    MSG_XLS,
    MSG_XLSB,
    RejectedFile,
    csv_encoding,
    format_size,
    inspect_upload,
    read_rows,
    sheet_names,
)
from niangjia.imports.tests.builders import (
    BILLION_LAUGHS,
    CONTENT_TYPES,
    ELF_HEADER,
    MACHO_HEADER,
    MACRO_WORKBOOK_TYPE,
    PE_HEADER,
    WORKBOOK,
    XXE,
    ole2_file,
    shared_strings,
    workbook_parts,
    write_workbook,
    write_xlsx,
    write_zip,
)


def refusal(path: Path, name: str | None = None) -> str:
    with pytest.raises(RejectedFile) as caught:
        inspect_upload(path, original_name=name or path.name)
    return caught.value.message


# --- Accepted files ---------------------------------------------------------------------------


def test_a_workbook_written_by_openpyxl_is_taken_as_xlsx(tmp_path):
    path = write_xlsx(
        tmp_path / "名册.xlsx", [["姓名", "身份证号码"], ["张三", "11010519491231002X"]]
    )
    assert inspect_upload(path, original_name="名册.xlsx") == "xlsx"


def test_a_minimal_hand_made_workbook_is_taken_and_read(tmp_path):
    path = write_workbook(tmp_path / "a.xlsx")
    assert inspect_upload(path, original_name="a.xlsx") == "xlsx"
    assert list(read_rows(path, "xlsx")) == [["姓名", "身份证号码"], ["张三", "11010519491231002X"]]


def test_the_kind_follows_the_content_not_the_name(tmp_path):
    workbook = write_workbook(tmp_path / "roster.csv")
    assert inspect_upload(workbook, original_name="roster.csv") == "xlsx"
    text = tmp_path / "roster.xlsx"
    text.write_text("姓名,身份证号码\n张三,11010519491231002X\n", encoding="utf-8")
    assert inspect_upload(text, original_name="roster.xlsx") == "csv"


def test_a_workbook_with_pictures_and_printer_settings_is_taken(tmp_path):
    parts = workbook_parts()
    parts["xl/media/image1.png"] = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    parts["xl/printerSettings/printerSettings1.bin"] = b"\x00\x01<!ENTITY" * 10
    path = write_zip(tmp_path / "a.xlsx", parts)
    assert inspect_upload(path, original_name="a.xlsx") == "xlsx"


def test_a_stored_uncompressed_workbook_is_taken(tmp_path):
    path = write_zip(tmp_path / "a.xlsx", workbook_parts(), compression=zipfile.ZIP_STORED)
    assert inspect_upload(path, original_name="a.xlsx") == "xlsx"


def test_a_zip64_workbook_is_counted_from_its_zip64_record(tmp_path, monkeypatch):
    # zipfile writes ZIP64 end records once it has more entries than its limit: lowered here.
    parts = workbook_parts()
    for n in range(5):
        parts[f"docProps/custom{n}.xml"] = "<a/>"
    with monkeypatch.context() as patched:
        patched.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 4)
        path = write_zip(tmp_path / "a.xlsx", parts)
    tail = path.read_bytes()[-200:]
    assert b"PK\x06\x06" in tail and b"PK\x06\x07" in tail
    assert inspect_upload(path, original_name="a.xlsx") == "xlsx"
    monkeypatch.setattr(files, "MAX_MEMBERS", len(parts) - 1)
    assert f"由 {len(parts)} 个部件组成" in refusal(path)


# --- Size --------------------------------------------------------------------------------------


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert refusal(path) == files.MSG_EMPTY


def test_a_file_over_the_size_limit_is_refused_naming_the_limit(tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 1024
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" * 600)
    message = refusal(path)
    assert "超过了 1 KB 的上限" in message
    assert "2.3 KB" in message


def test_the_default_size_limit_is_200_mb():
    from niangjia import settings as project_settings

    assert project_settings.IMPORT_MAX_BYTES == 200 * 1024 * 1024
    assert project_settings.IMPORT_MAX_UNCOMPRESSED == 2 * 1024**3


def test_sizes_are_written_as_people_read_them():
    assert format_size(200 * 1024 * 1024) == "200 MB"
    assert format_size(int(1.5 * 1024**3)) == "1.5 GB"
    assert format_size(2048) == "2 KB"
    assert format_size(12) == "12 字节"


# --- Not spreadsheets --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "what"),
    [
        (PE_HEADER, "可执行程序"),
        (ELF_HEADER, "可执行程序"),
        (MACHO_HEADER, "可执行程序"),
        (b"#!/bin/sh\nrm -rf /\n", "脚本程序"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF 文档"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "图片"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "压缩文件"),
        (b"Rar!\x1a\x07\x01\x00", "压缩文件"),
    ],
)
def test_renamed_programs_documents_and_archives_are_not_spreadsheets(tmp_path, head, what):
    path = tmp_path / "名册.xlsx"
    path.write_bytes(head + b"\x00" * 200)
    message = refusal(path)
    assert message.startswith("文件内容不是电子表格")
    assert f"（是{what}）" in message


def test_a_csv_line_that_starts_like_an_exe_header_is_still_text(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("MZ,BM\n1,2\n", encoding="utf-8")
    assert inspect_upload(path, original_name="a.csv") == "csv"


@pytest.mark.parametrize(
    ("parts", "what"),
    [
        ({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"}, "Word 文档"),
        ({"[Content_Types].xml": "<Types/>", "ppt/presentation.xml": "<p/>"}, "PowerPoint"),
        ({"AndroidManifest.xml": b"\x03\x00\x08\x00", "classes.dex": b"dex\n035"}, "安装包"),
        ({"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n", "a/B.class": b"\xca\xfe"}, "Java"),
        ({"readme.txt": "hello"}, "其他内容的压缩文件"),
    ],
)
def test_other_zip_packages_renamed_xlsx_are_not_spreadsheets(tmp_path, parts, what):
    path = write_zip(tmp_path / "名册.xlsx", parts)
    message = refusal(path)
    assert message.startswith("文件内容不是电子表格")
    assert what in message


def test_an_opendocument_spreadsheet_is_refused_with_advice_to_save_as_xlsx(tmp_path):
    parts = {
        "mimetype": "application/vnd.oasis.opendocument.spreadsheet",
        "content.xml": "<office:document-content/>",
    }
    assert ".ods" in refusal(write_zip(tmp_path / "a.ods", parts))


def test_a_web_page_saved_as_xls_or_csv_is_refused(tmp_path):
    path = tmp_path / "导出.csv"
    path.write_text("<html><body><table><tr><td>姓名</td></tr></table></body></html>", "utf-8")
    assert "网页或 XML" in refusal(path)


def test_a_workbook_whose_main_part_has_another_content_type_is_refused(tmp_path):
    parts = workbook_parts(
        workbook_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    )
    assert refusal(write_zip(tmp_path / "a.xlsx", parts)).startswith("文件内容不是电子表格")


def test_a_workbook_without_sheets_is_refused(tmp_path):
    empty = WORKBOOK.replace('<sheet name="会员" sheetId="1" r:id="rId1"/>', "")
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/workbook.xml": empty})
    assert "没有任何工作表" in refusal(path)


# --- Old and macro workbooks ---------------------------------------------------------------------


def test_an_old_binary_xls_is_refused_with_advice_to_save_as_xlsx(tmp_path):
    path = ole2_file(tmp_path / "名册.xls", "Root Entry", "Workbook", "SummaryInformation")
    message = refusal(path)
    assert message == MSG_XLS
    assert "另存为 .xlsx" in message


def test_an_old_xls_renamed_xlsx_is_refused_all_the_same(tmp_path):
    path = ole2_file(tmp_path / "名册.xlsx", "Root Entry", "Book")
    assert refusal(path) == MSG_XLS


def test_a_password_protected_workbook_is_refused_with_advice(tmp_path):
    path = ole2_file(tmp_path / "名册.xlsx", "Root Entry", "EncryptionInfo", "EncryptedPackage")
    assert refusal(path) == MSG_PASSWORD


def test_an_old_word_document_is_not_a_spreadsheet(tmp_path):
    path = ole2_file(tmp_path / "名册.xls", "Root Entry", "WordDocument")
    assert "Word 文档" in refusal(path)


def test_a_workbook_with_a_vba_project_is_refused_as_a_macro_workbook(tmp_path):
    path = write_workbook(tmp_path / "名册.xlsx", **{"xl/vbaProject.bin": b"\xcc\x61" * 100})
    assert refusal(path) == MSG_MACRO


def test_a_macro_enabled_content_type_is_refused_even_without_the_vba_part(tmp_path):
    parts = workbook_parts(workbook_type=MACRO_WORKBOOK_TYPE)
    assert refusal(write_zip(tmp_path / "a.xlsx", parts)) == MSG_MACRO


def test_excel_4_macro_sheets_are_refused(tmp_path):
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/macrosheets/sheet1.xml": "<xm:macrosheet/>"})
    assert refusal(path) == MSG_MACRO


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("名册.xlsm", MSG_MACRO),
        ("名册.XLTM", MSG_MACRO),
        ("名册.xls", MSG_XLS),
        ("a.xlsb", MSG_XLSB),
    ],
)
def test_macro_and_binary_workbook_names_are_refused_whatever_the_content(tmp_path, name, message):
    path = write_workbook(tmp_path / "upload")
    assert refusal(path, name) == message
    text = tmp_path / "text"
    text.write_text("姓名\n张三\n", encoding="utf-8")
    assert refusal(text, name) == message


def test_a_binary_xlsb_workbook_is_refused(tmp_path):
    parts = {"[Content_Types].xml": "<Types/>", "xl/workbook.bin": b"\x83\x01\x00"}
    assert refusal(write_zip(tmp_path / "a.xlsx", parts)) == MSG_XLSB


# --- Zip bombs and odd archives ---------------------------------------------------------------


def test_a_highly_compressible_big_member_is_refused_as_a_zip_bomb(tmp_path):
    bomb = b"<row/>" * (3 * 1024 * 1024)  # 18 MB of one repeated tag, packs to a few KB
    path = write_workbook(tmp_path / "bomb.xlsx", **{"xl/worksheets/sheet2.xml": bomb})
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet2.xml")
    assert info.file_size > 200 * info.compress_size
    message = refusal(path)
    assert "压缩比异常" in message
    assert "xl/worksheets/sheet2.xml" in message


def test_a_small_but_highly_compressible_member_is_fine(tmp_path):
    filler = b"<row/>" * (100 * 1024)  # 600 KB at a ratio far above 200:1, but small
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/worksheets/sheet2.xml": filler})
    assert inspect_upload(path, original_name="a.xlsx") == "xlsx"


def test_a_workbook_unpacking_beyond_the_ceiling_is_refused(tmp_path, settings):
    settings.IMPORT_MAX_UNCOMPRESSED = 4096
    path = write_workbook(tmp_path / "a.xlsx", **{"docProps/app.xml": "<a>" + "x" * 5000 + "</a>"})
    assert "解压后超过 4 KB" in refusal(path)


def test_an_archive_of_more_than_ten_thousand_parts_is_refused_before_it_is_opened(
    tmp_path, monkeypatch
):
    parts = list(workbook_parts().items())
    parts += [(f"xl/p/{n}.xml", b"") for n in range(10_001 - len(parts))]
    path = write_zip(tmp_path / "many.xlsx", parts, compression=zipfile.ZIP_STORED)

    def never(*args, **kwargs):
        raise AssertionError("the archive was opened")

    monkeypatch.setattr(zipfile, "ZipFile", never)
    assert "由 10001 个部件组成" in refusal(path)


def test_a_nested_archive_is_refused(tmp_path):
    inner = write_workbook(tmp_path / "inner.xlsx").read_bytes()
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/embeddings/Worksheet1.xlsx": inner})
    assert "嵌套了另一个压缩文件" in refusal(path)


def test_an_encrypted_member_is_refused(tmp_path):
    # zipfile writes no encrypted entries: set the "encrypted" flag of one in its headers.
    path = write_workbook(tmp_path / "a.xlsx")
    data = bytearray(path.read_bytes())
    name = b"xl/sharedStrings.xml"
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.find(b"PK\x01\x02", central + 4)
    data[central + 8] |= 0x1
    (offset,) = struct.unpack("<L", data[central + 42 : central + 46])
    data[offset + 6] |= 0x1
    path.write_bytes(bytes(data))
    assert "被加密" in refusal(path)


def test_a_member_compressed_with_an_unusual_method_is_refused(tmp_path):
    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in workbook_parts().items():
            method = zipfile.ZIP_BZIP2 if name.endswith("sheet1.xml") else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    assert "不常见的压缩方式" in refusal(path)


def test_a_part_present_twice_is_refused(tmp_path):
    parts = [*workbook_parts().items(), ("xl/workbook.xml", BILLION_LAUGHS)]
    assert "出现了两次" in refusal(write_zip(tmp_path / "a.xlsx", parts))


def test_a_corrupt_or_truncated_archive_is_refused(tmp_path):
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"PK\x03\x04" + b"\x17" * 500)
    assert refusal(garbage) == MSG_CORRUPT
    whole = write_xlsx(tmp_path / "whole.xlsx", [["姓名"]]).read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole[: len(whole) // 2])
    assert refusal(cut) == MSG_CORRUPT


def test_a_part_whose_data_does_not_match_its_checksum_is_refused(tmp_path):
    path = write_zip(tmp_path / "a.xlsx", workbook_parts(), compression=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    at = data.find("张三".encode())
    data[at : at + 6] = "李四".encode()  # same length: only the CRC-32 tells
    path.write_bytes(bytes(data))
    assert refusal(path) == MSG_CORRUPT


# --- XML attacks --------------------------------------------------------------------------------


def test_an_external_entity_in_shared_strings_is_refused(tmp_path):
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/sharedStrings.xml": XXE})
    assert refusal(path) == MSG_UNSAFE_XML


def test_a_billion_laughs_workbook_part_is_refused(tmp_path):
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/workbook.xml": BILLION_LAUGHS})
    assert refusal(path) == MSG_UNSAFE_XML


def test_a_doctype_deep_inside_a_big_sheet_is_found(tmp_path):
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 60_000))
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows}</sheetData></worksheet><!DOCTYPE x>"
    )
    assert len(sheet) > 2 * files.CHUNK
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/worksheets/sheet1.xml": sheet})
    assert refusal(path) == MSG_UNSAFE_XML


@pytest.mark.parametrize("offset", range(12))
def test_a_declaration_cut_by_a_chunk_boundary_is_found(tmp_path, monkeypatch, offset):
    monkeypatch.setattr(files, "CHUNK", 16)
    text = "<sst>" + "x" * offset + "<!ENTITY a 'b'>" + "</sst>"
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/sharedStrings.xml": text})
    assert refusal(path) == MSG_UNSAFE_XML


def test_lower_case_declarations_are_refused_too(tmp_path):
    text = '<!doctype sst [<!entity a "b">]><sst/>'
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/sharedStrings.xml": text})
    assert refusal(path) == MSG_UNSAFE_XML


def test_comments_and_cdata_are_not_declarations(tmp_path):
    strings = shared_strings(["姓名", "身份证号码", "张三"]).replace(
        "<sst ", "<!-- made by hand --><sst "
    )
    strings = strings.replace("<t>张三</t>", "<t><![CDATA[张三]]></t>")
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/sharedStrings.xml": strings})
    assert inspect_upload(path, original_name="a.xlsx") == "xlsx"


def test_a_utf16_part_is_refused_as_it_could_hide_its_declarations(tmp_path):
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x><sst/>'.encode("utf-16")
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/sharedStrings.xml": text})
    assert refusal(path) == MSG_UNSAFE_XML


def test_the_structural_parts_are_parsed_without_dtds_even_if_the_scan_missed_one(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(files, "_scan_xml", lambda archive, info: None)
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/workbook.xml": BILLION_LAUGHS})
    assert refusal(path) == MSG_UNSAFE_XML
    types = CONTENT_TYPES.replace("<Types", '<!DOCTYPE t SYSTEM "http://evil/t.dtd"><Types')
    path = write_workbook(tmp_path / "b.xlsx", **{"[Content_Types].xml": types})
    assert refusal(path) == MSG_UNSAFE_XML


def test_broken_xml_in_a_structural_part_is_a_corrupt_file(tmp_path):
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/workbook.xml": "<workbook><sheets>"})
    assert refusal(path) == MSG_CORRUPT


# --- CSV -----------------------------------------------------------------------------------------

ROSTER = (
    "姓名,身份证号码,民族\n张三,11010519491231002X,汉族\n买买提·艾力,650102199001011234,维吾尔族\n"
)
EXPECTED = [
    ["姓名", "身份证号码", "民族"],
    ["张三", "11010519491231002X", "汉族"],
    ["买买提·艾力", "650102199001011234", "维吾尔族"],
]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (ROSTER.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + ROSTER.encode("utf-8"), "utf-8-sig"),
        (ROSTER.encode("gb18030"), "gb18030"),
        (ROSTER.encode("utf-16"), "utf-16"),
        (codecs.BOM_UTF16_BE + ROSTER.encode("utf-16-be"), "utf-16"),
    ],
)
def test_csv_in_utf8_gb18030_or_utf16_is_taken_and_read(tmp_path, data, encoding):
    path = tmp_path / "名册.csv"
    path.write_bytes(data)
    assert inspect_upload(path, original_name="名册.csv") == "csv"
    assert csv_encoding(path) == encoding
    assert list(read_rows(path, "csv")) == EXPECTED


def test_a_gb18030_csv_whose_first_megabyte_is_ascii_is_still_recognised(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"name,number\n" + b"a,1\n" * 300_000 + "张三,2\n".encode("gb18030"))
    assert csv_encoding(path) == "gb18030"
    assert list(read_rows(path, "csv"))[-1] == ["张三", "2"]


def test_a_csv_in_no_known_encoding_is_refused(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"name\n\x80\x81\xff\xff\n")
    assert refusal(path) == MSG_ENCODING


def test_a_csv_with_nul_bytes_is_refused(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"name,number\nzhang\x00san,1\n")
    assert refusal(path) == MSG_BINARY
    late = tmp_path / "late.csv"
    late.write_bytes(b"a,b\n" * 300_000 + b"\x00")
    assert refusal(late) == MSG_BINARY


def test_a_utf16_csv_with_a_nul_character_is_refused(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("姓名\n张\x00三\n".encode("utf-16"))
    assert refusal(path) == MSG_BINARY


def test_a_tab_separated_file_is_split_on_tabs(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("姓名\t身份证号码\n张三\t11010519491231002X\n", encoding="utf-8")
    assert list(read_rows(path, "csv")) == [["姓名", "身份证号码"], ["张三", "11010519491231002X"]]


def test_quoted_csv_fields_keep_commas_and_line_breaks_and_short_rows_stay_short(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('姓名,备注\n张三,"一,二\n三"\n李四\n', encoding="utf-8")
    assert list(read_rows(path, "csv")) == [["姓名", "备注"], ["张三", "一,二\n三"], ["李四"]]


def test_a_csv_field_beyond_the_field_limit_is_a_clear_error(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('a\n"' + "x" * 200_000 + '"\n', encoding="utf-8")
    with pytest.raises(RejectedFile, match=r"第 \d+ 行格式有误"):
        list(read_rows(path, "csv"))


# --- Reading workbooks ---------------------------------------------------------------------------


def test_rows_are_numbered_from_the_sheets_first_row_and_column(tmp_path):
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [["会员名册"], [], ["姓名", "民族"], ["张三", "汉族"]],
        origin=(2, 3),
        merge=["C2:D2"],
    )
    rows = list(read_rows(path, "xlsx"))
    assert len(rows) == 5
    assert rows[0] == ["", "", "", ""]
    assert rows[1] == ["", "", "会员名册", ""]
    assert rows[3] == ["", "", "姓名", "民族"]
    assert rows[4] == ["", "", "张三", "汉族"]


def test_cells_come_back_as_calamine_types(tmp_path):
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [
            [
                "张三",
                3,
                1.5,
                True,
                datetime.date(2024, 5, 1),
                datetime.datetime(2024, 5, 1, 8, 30),
                None,
                420102199001011234,
            ]
        ],
    )
    (row,) = read_rows(path, "xlsx")
    assert row[:7] == [
        "张三",
        3.0,
        1.5,
        True,
        datetime.date(2024, 5, 1),
        datetime.datetime(2024, 5, 1, 8, 30),
        "",
    ]
    assert isinstance(row[7], float)  # an ID number typed as a number has lost its last digits
    assert row[7] != 420102199001011234


def test_read_rows_is_lazy(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [["a"], ["b"]])
    rows = read_rows(path, "xlsx")
    assert next(iter(rows)) == ["a"]


def test_sheets_are_chosen_by_name_or_by_position_among_the_visible_ones(tmp_path):
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [["first"]],
        title="说明",
        more_sheets={"选项": [["hidden"]], "会员": [["members"]]},
        hidden=["选项"],
    )
    assert sheet_names(path, "xlsx") == ["说明", "会员"]
    assert list(read_rows(path, "xlsx", sheet=1)) == [["members"]]
    assert list(read_rows(path, "xlsx", sheet="会员")) == [["members"]]
    assert list(read_rows(path, "xlsx", sheet="选项")) == [["hidden"]]
    with pytest.raises(RejectedFile, match="没有名为“名单”的工作表"):
        list(read_rows(path, "xlsx", sheet="名单"))
    with pytest.raises(RejectedFile, match="没有第 3 个工作表"):
        list(read_rows(path, "xlsx", sheet=2))


def test_an_empty_sheet_has_no_rows(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [])
    assert list(read_rows(path, "xlsx")) == []


def test_a_csv_has_one_sheet(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a\n", encoding="utf-8")
    assert sheet_names(path, "csv") == ["CSV"]


def test_an_unknown_kind_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError):
        read_rows(tmp_path / "a", "xls")


def test_an_unreadable_workbook_is_a_rejected_file_when_read(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(RejectedFile):
        list(read_rows(path, "xlsx"))


# --- Big sheets, read in slices ------------------------------------------------------------------


@pytest.fixture
def small_slices(monkeypatch):
    """Slices of a few kilobytes, so that a test sheet of a few thousand rows is cut often."""
    monkeypatch.setattr(files, "SLICE_BYTES", 4096)
    monkeypatch.setattr(files, "HEAD_SLICE_FROM", 2048)


def whole(path: Path, **kwargs) -> list[list]:
    return list(
        files._whole_sheet_rows(path, files._sheet_layout(path, kwargs.get("sheet", 0)).name)
    )


def roster_rows(count: int) -> list[list]:
    rows: list[list] = [
        ["某某公司会员花名册"],
        [],
        ["序号", "姓名", "身份证号码", "入会日期", "备注"],
    ]
    for n in range(count):
        row = [n + 1, f"会员{n}", f"4201021990{n:08d}", datetime.date(2020, 1, 1 + n % 28)]
        if n % 7 == 0:
            row.append("备注" * (n % 5))
        if n % 50 == 0:
            row = []  # an empty row in the middle
        rows.append(row)
    return rows


def test_a_big_sheet_read_in_slices_gives_the_same_rows_as_read_whole(tmp_path, small_slices):
    path = write_xlsx(tmp_path / "a.xlsx", roster_rows(3000), origin=(2, 2), merge=["B2:F2"])
    layout = files._sheet_layout(path, 0)
    assert layout.size > 20 * layout.slice_bytes  # really cut into many slices
    sliced = list(read_rows(path, "xlsx"))
    expected = whole(path)
    assert len(sliced) == len(expected) == 3004
    for got, want in zip(sliced, expected, strict=True):
        assert got[: len(want)] == want
        assert all(cell == "" for cell in got[len(want) :])
    assert sliced[3] == ["", "序号", "姓名", "身份证号码", "入会日期", "备注"]
    assert sliced[4][:5] == ["", "", "", "", ""]  # row n % 50 == 0 is empty
    assert sliced[5][1:5] == [2.0, "会员1", "420102199000000001", datetime.date(2020, 1, 2)]


def test_slices_leave_no_temporary_files_behind(tmp_path, small_slices):
    path = write_xlsx(tmp_path / "a.xlsx", roster_rows(1000))
    rows = read_rows(path, "xlsx")
    next(rows)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".slice-")]
    rows.close()
    list(read_rows(path, "xlsx"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx"]


def test_a_sheet_of_shared_strings_is_read_in_slices(tmp_path, small_slices, monkeypatch):
    strings = ["姓名", "身份证号码"] + [f"会员{n}" for n in range(2000)]
    rows = "".join(
        f'<row r="{n + 2}"><c r="A{n + 2}" t="s"><v>{n + 2}</v></c>'
        f'<c r="B{n + 2}"><v>{n}</v></c></row>'
        for n in range(2000)
    )
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<dimension ref="A1:B2001"/><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        f"{rows}</sheetData><mergeCells/></worksheet>"
    )
    path = write_workbook(
        tmp_path / "a.xlsx",
        **{"xl/worksheets/sheet1.xml": sheet, "xl/sharedStrings.xml": shared_strings(strings)},
    )
    monkeypatch.setattr(files, "SLICE_BYTES", 2048)
    layout = files._sheet_layout(path, 0)
    monkeypatch.setattr(type(layout), "slice_bytes", property(lambda self: 2048))
    got = list(read_rows(path, "xlsx"))
    assert got == whole(path)
    assert got[0] == ["姓名", "身份证号码"]
    assert got[-1] == ["会员1999", 1999.0]


def test_a_sheet_with_prefixed_tags_is_read_in_slices(tmp_path, small_slices):
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rows = "".join(
        f'<x:row r="{n}"><x:c r="A{n}" t="inlineStr"><x:is><x:t>第{n}行</x:t></x:is></x:c></x:row>'
        for n in range(1, 1500)
    )
    sheet = f'<x:worksheet xmlns:x="{ns}"><x:sheetData>{rows}</x:sheetData></x:worksheet>'
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/worksheets/sheet1.xml": sheet})
    got = list(read_rows(path, "xlsx"))
    assert len(got) == 1499
    assert got[0] == ["第1行"]
    assert got[-1] == ["第1499行"]


def sheet_of(rows: list[tuple[int | None, list]], *, cell_refs: bool = False) -> str:
    """A worksheet of ``(r, values)`` rows as streaming writers lay it out: ``r`` None writes
    the row without its number; a value None is an empty ``<c/>``; no values, an empty row
    (``<row/>`` and ``<row></row>`` in turn). ``cell_refs`` gives each cell its reference."""
    parts = []
    position = 0
    for r, values in rows:
        position = r if r is not None else position + 1
        number = f' r="{r}"' if r is not None else ""
        if not values:
            parts.append(f"<row{number}/>" if position % 2 else f"<row{number}></row>")
            continue
        cells = []
        for column, value in enumerate(values):
            ref = f' r="{chr(65 + column)}{position}"' if cell_refs else ""
            if value is None:
                cells.append(f"<c{ref}/>")
            elif isinstance(value, str):
                cells.append(f'<c{ref} t="inlineStr"><is><t>{escape(value)}</t></is></c>')
            else:
                cells.append(f"<c{ref}><v>{value}</v></c>")
        parts.append(f"<row{number}>{''.join(cells)}</row>")
    return (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(parts)}</sheetData></worksheet>"
    )


def counted_rows(count: int) -> list[list]:
    """A roster beginning in column B (column A holds empty cells), with empty rows, rows of
    different widths, and a run of empty rows longer than a slice."""
    rows: list[list] = [
        [None, "某某公司会员花名册"],
        [],
        [None, "序号", "姓名", "身份证号码", "备注"],
    ]
    for n in range(count):
        row = [None, n + 1, f"会员{n}", f"4201021990{n:08d}"]
        if n % 7 == 0:
            row.append("备注" * (n % 5 + 1))
        if n % 50 == 0:
            row = []
        rows.append(row)
        if n == count // 2:
            rows.extend([] for _ in range(1000))
    rows.extend([] for _ in range(5))  # empty rows at the end: not rows of the sheet's area
    return rows


def trimmed(rows: list[list]) -> list[list]:
    """Rows without their trailing empty cells (a slice's rows are as wide as the slice)."""
    out = []
    for row in rows:
        end = len(row)
        while end and row[end - 1] == "":
            end -= 1
        out.append(row[:end])
    return out


def parsed_slices(monkeypatch) -> list[str]:
    """The slices calamine is given from now on (their temporary files), in order."""
    read: list[str] = []
    original = files._SlicedSheet._slice_rows

    def counting(self, slice_path, done, **placing):
        read.append(slice_path)
        return original(self, slice_path, done, **placing)

    monkeypatch.setattr(files._SlicedSheet, "_slice_rows", counting)
    return read


def no_whole_sheet(monkeypatch) -> None:
    def refuse(path, name):
        raise AssertionError("the whole sheet was parsed")

    monkeypatch.setattr(files, "_whole_sheet_rows", refuse)


def test_a_big_sheet_whose_rows_carry_no_numbers_is_read_in_slices(
    tmp_path, small_slices, monkeypatch
):
    sheet = sheet_of([(None, row) for row in counted_rows(2000)])
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/worksheets/sheet1.xml": sheet})
    layout = files._sheet_layout(path, 0)
    assert layout.size > 20 * layout.slice_bytes  # really cut into many slices
    expected = whole(path)
    assert len(expected) == 3 + 2000 + 1000
    no_whole_sheet(monkeypatch)
    sliced = list(read_rows(path, "xlsx"))
    assert len(sliced) == len(expected)
    assert trimmed(sliced) == trimmed(expected)
    assert sliced[0][:2] == ["", "某某公司会员花名册"]  # column A kept, empty
    assert sliced[2][:5] == ["", "序号", "姓名", "身份证号码", "备注"]
    assert sliced[4][:4] == ["", 2.0, "会员1", "420102199000000001"]
    assert trimmed(sliced[3:4]) == [[]]  # an empty row keeps its place
    assert sliced[-1][:4] == ["", 2000.0, "会员1999", "420102199000001999"]
    # The run of a thousand empty rows, longer than a slice, is handed out as empty rows.
    middle = 3 + 1001
    assert trimmed(sliced[middle : middle + 1000]) == [[]] * 1000
    assert sliced[middle + 1000][:3] == ["", 1002.0, "会员1001"]


def test_head_rows_of_a_big_sheet_without_row_numbers_reads_only_its_top(
    tmp_path, small_slices, monkeypatch
):
    sheet = sheet_of([(None, row) for row in counted_rows(2000)])
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/worksheets/sheet1.xml": sheet})
    expected = whole(path)[: files.HEAD_ROWS]
    no_whole_sheet(monkeypatch)
    read = parsed_slices(monkeypatch)
    head = files.head_rows(path, "xlsx")
    assert len(head) == files.HEAD_ROWS
    assert trimmed(head) == trimmed(expected)
    assert len(read) == 1


def mixed_rows() -> list[tuple[int | None, list]]:
    """Rows without numbers, then numbered ones from row 500 on (a gap), then without again."""
    rows: list[tuple[int | None, list]] = []
    for n in range(1500):
        values = [f"第{n}项", n] if n % 9 else []
        if 400 <= n < 900:
            rows.append((n + 100, values))
        else:
            rows.append((None, values))
    return rows


@pytest.mark.parametrize(
    ("rows", "cell_refs"),
    [
        pytest.param(mixed_rows(), False, id="numbered-and-not"),
        pytest.param(mixed_rows(), True, id="cell-references"),
        pytest.param(
            [(None, [f'第{n}项 r="{n}"', n]) for n in range(1500)], False, id="text-like-a-number"
        ),
    ],
)
def test_rows_numbered_or_not_are_placed_as_the_format_says(
    tmp_path, small_slices, monkeypatch, rows, cell_refs
):
    sheet = sheet_of(rows, cell_refs=cell_refs)
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/worksheets/sheet1.xml": sheet})
    expected = whole(path)
    no_whole_sheet(monkeypatch)
    sliced = list(read_rows(path, "xlsx"))
    assert sliced == expected
    if rows[400][0] == 500:  # the mixed sheet: an unnumbered row follows the previous one
        assert sliced[1] == ["第1项", 1.0]
        assert sliced[499] == ["第400项", 400.0]  # r="500"
        assert sliced[998] == ["第899项", 899.0]  # r="999"
        assert sliced[999] == ["", ""]  # no number: row 1000, empty
        assert sliced[1000] == ["第901项", 901.0]
        assert len(sliced) == 1599  # the last row, 第1499项, is row 1599
    else:
        assert len(sliced) == 1500
        assert sliced[1499] == ['第1499项 r="1499"', 1499.0]


def test_a_cell_placed_outside_its_rows_is_refused(tmp_path, small_slices):
    rows = "".join(
        f'<row r="{n}"><c r="A{2000 if n == 5 else n}"><v>{n}</v></c></row>' for n in range(1, 1500)
    )
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    )
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/worksheets/sheet1.xml": sheet})
    with pytest.raises(RejectedFile, match="没有按顺序排列"):
        list(read_rows(path, "xlsx"))


def test_rows_out_of_order_across_slices_are_refused(tmp_path, small_slices):
    numbers = [*range(1, 1500), 3]
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>第{n}行</t></is></c></row>' for n in numbers
    )
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    )
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/worksheets/sheet1.xml": sheet})
    with pytest.raises(RejectedFile, match="没有按顺序排列"):
        list(read_rows(path, "xlsx"))


def test_an_empty_big_sheet_has_no_rows(tmp_path, small_slices):
    columns = '<col min="1" max="1" width="9"/>' * 400
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<cols>{columns}</cols><sheetData/></worksheet>"
    )
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/worksheets/sheet1.xml": sheet})
    assert files._sheet_layout(path, 0).size > 4096
    assert list(read_rows(path, "xlsx")) == []


def test_a_row_longer_than_a_slice_is_read_whole(tmp_path, small_slices):
    long_text = "长" * 5000
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{long_text if n == 700 else n}</t></is></c></row>'
        for n in range(1, 1500)
    )
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    )
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/worksheets/sheet1.xml": sheet})
    got = list(read_rows(path, "xlsx"))
    assert len(got) == 1499
    assert got[699] == [long_text]
    assert got[700] == ["701"]


def test_head_rows_reads_only_the_top_of_a_big_sheet(tmp_path, small_slices, monkeypatch):
    path = write_xlsx(tmp_path / "a.xlsx", roster_rows(3000))
    read = parsed_slices(monkeypatch)
    head = files.head_rows(path, "xlsx")
    assert len(head) == files.HEAD_ROWS
    assert head == whole(path)[: files.HEAD_ROWS]
    assert len(read) == 1


def test_head_rows_of_a_small_sheet_and_of_a_csv(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [["姓名"], ["张三"]])
    assert files.head_rows(path, "xlsx") == [["姓名"], ["张三"]]
    text = tmp_path / "a.csv"
    text.write_text("".join(f"{n}\n" for n in range(100)), encoding="utf-8")
    assert files.head_rows(text, "csv", limit=3) == [["0"], ["1"], ["2"]]


def test_a_corrupt_slice_of_a_big_sheet_is_refused(tmp_path, small_slices):
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 1500))
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetData>{rows}<row r="1500"><c r="A1500"><v>1</v><c></row></sheetData></worksheet>'
    )
    path = write_workbook(tmp_path / "a.xlsx", **{"xl/worksheets/sheet1.xml": sheet})
    with pytest.raises(RejectedFile):
        list(read_rows(path, "xlsx"))


# --- A big sheet in parts, for several processes ---------------------------------------------


def rows_from_parts(path: Path, workers: int) -> tuple[dict[int, list], set[int], int]:
    """Every row the workers were given, by its row number; the parts each worker parsed."""
    from niangjia.imports.parts import read_row_parts

    placed: dict[int, list] = {}
    parts: dict[int, int] = {}
    for worker in range(workers):
        for part_no, first_row_no, rows in read_row_parts(
            path, "xlsx", worker=worker, workers=workers
        ):
            assert part_no not in parts
            parts[part_no] = worker
            for offset, row in enumerate(rows):
                assert first_row_no + offset not in placed
                placed[first_row_no + offset] = row
    assert all(worker == part_no % workers for part_no, worker in parts.items())
    return placed, set(parts), len(parts)


@pytest.mark.parametrize("numbered", [True, False])
def test_workers_given_a_big_sheet_in_parts_see_every_row_once_in_its_place(
    tmp_path, small_slices, monkeypatch, numbered
):
    if numbered:
        path = write_xlsx(tmp_path / "a.xlsx", roster_rows(3000), origin=(2, 2))
    else:
        sheet = sheet_of([(None, row) for row in counted_rows(2000)])
        path = write_workbook(tmp_path / "a.xlsx", **{"xl/worksheets/sheet1.xml": sheet})
    expected = whole(path)
    parsed = parsed_slices(monkeypatch)
    no_whole_sheet(monkeypatch)
    placed, parts, count = rows_from_parts(path, 2)
    assert count > 10 and parts == set(range(count))
    assert len(parsed) == count  # each part parsed once, by one worker
    assert trimmed([placed.get(n, []) for n in range(1, len(expected) + 1)]) == trimmed(expected)
    assert max(placed) <= len(expected)


def test_a_small_sheet_in_parts_is_read_whole_by_each_worker_and_checked_by_one(tmp_path):
    from niangjia.imports import parts as parts_module

    path = write_xlsx(tmp_path / "a.xlsx", roster_rows(120))
    assert files.sheet_parts(path, 0) is None
    expected = whole(path)
    original = parts_module.CSV_PART_ROWS
    try:
        parts_module.CSV_PART_ROWS = 25
        placed, parts, count = rows_from_parts(path, 2)
    finally:
        parts_module.CSV_PART_ROWS = original
    assert count == 5 and parts == {0, 1, 2, 3, 4}
    assert trimmed([placed[n] for n in range(1, len(expected) + 1)]) == trimmed(expected)
